"""The committed serving/rollout/k8s manifests are what `tfxp canary --k8s-dir` writes for the sample
state (census stable 1700000000, canary 1700086400 at 10%), and their routes split as stated; the
Dockerfile, compose file and manifests pin TF Serving 2.16.1 and carry configs that validate."""
import pathlib

import yaml

from serving.config import configs
from serving.rollout import canary, manifests, router
from serving.rollout.testing import CANARY_V, STABLE_V, sample_state

SERVING = pathlib.Path(__file__).resolve().parent
K8S_DIR = SERVING / "k8s"
def test_committed_manifests_match_the_generator(tmp_path):
    root = sample_state(tmp_path / "models")
    written = manifests.write_manifests(root, tmp_path / "k8s")
    for name, path in written.items():
        assert (K8S_DIR / name).read_text() == path.read_text(), (
            f"serving/rollout/k8s/{name} is stale: run `python -m serving.rollout.manifests "
            f"{root} serving/rollout/k8s` on the sample state")


def test_routes_follow_the_canary_weight_and_lifecycle(tmp_path):
    root = sample_state(tmp_path / "models", weight=12.5)
    docs = list(yaml.safe_load_all(manifests.write_manifests(root, tmp_path / "k8s")
                                   ["routes.yaml"].read_text()))
    http_route, grpc_route = docs
    split = [r for r in http_route["spec"]["rules"]
             if len(r["backendRefs"]) == 2][0]["backendRefs"]
    assert {b["name"]: b["weight"] for b in split} == {"tfserving-stable": 8750,
                                                       "tfserving-canary": 1250}
    grpc_split = [r for r in grpc_route["spec"]["rules"] if len(r["backendRefs"]) == 2]
    assert {b["name"]: b["weight"] for b in grpc_split[0]["backendRefs"]}["tfserving-canary"] == 1250
    configmap = yaml.safe_load((tmp_path / "k8s" / "configmap.yaml").read_text())
    canary_group = configs.parse_models_config(configmap["data"]["canary.config"])
    assert list(canary_group.model_config_list.config[0].model_version_policy.specific.versions) \
        == [STABLE_V, CANARY_V]
    canary.promote(root, "census")
    docs = list(yaml.safe_load_all(manifests.write_manifests(root, tmp_path / "k8s")
                                   ["routes.yaml"].read_text()))
    assert all(len(r["backendRefs"]) == 1 for d in docs for r in d["spec"]["rules"])
    assert router.read_weights(root) == {}


def test_production_files_pin_tf_serving_2_16_and_carry_a_valid_config():
    assert "FROM tensorflow/serving:2.16.1\n" in (SERVING / "Dockerfile").read_text()
    compose = yaml.safe_load((SERVING / "docker-compose.yml").read_text())
    assert "../models:/models:ro" in compose["services"]["tfserving"]["volumes"]
    all_docs = [d for f in sorted((SERVING / "k8s").glob("*.yaml"))
                for d in yaml.safe_load_all(f.read_text()) if d and "kind" in d]
    docs = {d["kind"]: d for d in all_docs}
    assert {"ConfigMap", "Deployment", "Service", "HTTPRoute", "GRPCRoute"} <= set(docs)
    data = docs["ConfigMap"]["data"]
    config = configs.parse_models_config(data["models.config"])
    configs.validate_models_config(config)
    assert set(configs.model_entry(config, "census").version_labels) == {"stable", "canary"}
    configs.parse_batching_config(data["batching.config"])
    configs.parse_monitoring_config(data["monitoring.config"])
    deployments = [d for d in all_docs if d["kind"] == "Deployment"]
    assert [d["metadata"]["labels"]["group"] for d in deployments] == ["stable", "canary"]
    for deployment in deployments:
        group = deployment["metadata"]["labels"]["group"]
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["image"] == "tensorflow/serving:2.16.1"
        assert f"--model_config_file=/etc/tfserving/{group}.config" in container["args"]
        group_config = configs.parse_models_config(data[f"{group}.config"])
        configs.validate_models_config(group_config)
        labels = {"stable": {"stable"}, "canary": {"stable", "canary"}}[group]
        assert set(configs.model_entry(group_config, "census").version_labels) == labels


def _committed(kind):
    return [d for f in sorted(K8S_DIR.glob("*.yaml")) for d in yaml.safe_load_all(f.read_text())
            if d and d.get("kind") == kind]


def test_every_group_runs_hardened_with_measured_resources():
    deployments = _committed("Deployment")
    assert len(deployments) == 2
    for deployment in deployments:
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        (container,) = pod["containers"]
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["readOnlyRootFilesystem"] is True
        assert context["capabilities"] == {"drop": ["ALL"]}
        mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        for path in manifests.WRITABLE_PATHS.values():
            assert "emptyDir" in volumes[mounts[path]["name"]], f"{path} must be writable"
        assert all(mounts[p]["readOnly"] for p in ("/models", "/etc/tfserving"))
        assert {"name": "TMPDIR", "value": "/tmp"} in container["env"]
        resources = container["resources"]
        assert resources["requests"] == {"cpu": manifests.CPU_REQUEST,
                                         "memory": manifests.MEMORY_REQUEST}
        assert resources["limits"] == {"memory": manifests.MEMORY_LIMIT}


def test_a_disruption_budget_per_group_selects_that_groups_pods():
    budgets = {b["metadata"]["name"]: b for b in _committed("PodDisruptionBudget")}
    for deployment in _committed("Deployment"):
        budget = budgets.pop(deployment["metadata"]["name"])
        assert budget["apiVersion"] == "policy/v1"
        assert budget["spec"]["selector"]["matchLabels"] == \
            deployment["spec"]["template"]["metadata"]["labels"]
        assert 1 <= budget["spec"]["minAvailable"] < deployment["spec"]["replicas"]
    assert budgets == {}


def test_only_the_gateway_reaches_the_serving_ports():
    (policy,) = _committed("NetworkPolicy")
    spec = policy["spec"]
    assert spec["podSelector"]["matchLabels"] == {"app": "tfserving"}
    assert spec["policyTypes"] == ["Ingress"]
    (gateway,) = _committed("Gateway")
    admitted = {}
    for rule in spec["ingress"]:
        (peer,) = rule["from"]
        labels = tuple(sorted(peer["podSelector"]["matchLabels"].items()))
        admitted[labels] = sorted(p["port"] for p in rule["ports"])
    gateway_pods = ((manifests.GATEWAY_POD_LABEL, gateway["metadata"]["name"]),)
    assert admitted == {gateway_pods: [manifests.GRPC_PORT, manifests.REST_PORT],
                        tuple(manifests.SCRAPER_POD_LABELS.items()): [manifests.REST_PORT]}
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(
        p.name for p in K8S_DIR.glob("*.yaml") if p.name != "kustomization.yaml")
