"""The committed serving/k8s manifests are what `tfxp canary --k8s-dir` writes for the sample
state (census stable 1700000000, canary 1700086400 at 10%), and their routes split as stated."""
import pathlib

import yaml

from serving import canary, configs, manifests, router

K8S_DIR = pathlib.Path(__file__).resolve().parent / "k8s"
STABLE_V, CANARY_V = 1700000000, 1700086400


def sample_state(root: pathlib.Path, weight=10) -> pathlib.Path:
    """Version folders need only a saved_model.pb to count as pushed for the config writers."""
    for version in (STABLE_V, CANARY_V):
        (root / "census" / str(version)).mkdir(parents=True)
        (root / "census" / str(version) / "saved_model.pb").write_bytes(b"")
    config = configs.build_models_config(root)
    configs.set_served_versions(configs.model_entry(config, "census"), STABLE_V)
    configs.write_models_config(root, config)
    canary.start(root, "census", CANARY_V, weight=weight)
    return root


def test_committed_manifests_match_the_generator(tmp_path):
    root = sample_state(tmp_path / "models")
    written = manifests.write_manifests(root, tmp_path / "k8s")
    for name, path in written.items():
        assert (K8S_DIR / name).read_text() == path.read_text(), (
            f"serving/k8s/{name} is stale: run `python -m serving.manifests "
            f"{root} serving/k8s` on the sample state")


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
        == [CANARY_V]
    canary.promote(root, "census")
    docs = list(yaml.safe_load_all(manifests.write_manifests(root, tmp_path / "k8s")
                                   ["routes.yaml"].read_text()))
    assert all(len(r["backendRefs"]) == 1 for d in docs for r in d["spec"]["rules"])
    assert router.read_weights(root) == {}


def test_cli_drives_weights_and_manifests_and_refuses_bad_input(tmp_path, capsys):
    from pipelines import cli
    root = sample_state(tmp_path / "models")
    k8s = tmp_path / "k8s"
    base = ["canary", "--models_root", str(root), "--k8s-dir", str(k8s)]
    assert cli.main(base + ["set-weight", "census", "30"]) == 0
    assert router.read_weights(root) == {"census": 30}
    assert "weight: 7000" in (k8s / "routes.yaml").read_text()
    before = (k8s / "routes.yaml").read_text()
    assert cli.main(base + ["set-weight", "census", "150"]) == 1
    assert "percentage from 0 to 100" in capsys.readouterr().err
    assert cli.main(base + ["watch", "census", "--steps", "50,10"]) == 1
    assert "increasing weights" in capsys.readouterr().err
    assert (k8s / "routes.yaml").read_text() == before and router.read_weights(root) == {
        "census": 30}
    assert cli.main(base + ["rollback", "census"]) == 0
    assert "tfserving-canary\n      port: 8501\n      weight" not in (k8s / "routes.yaml").read_text()
