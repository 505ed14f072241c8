"""serving/rollout/k8s and its overlays as a cluster's tools read them: the real kustomize, then every
object decoded strictly with the Kubernetes, Gateway API and Flagger Go types
(kubeflow/manifests_check)."""
import pathlib
import re
import shutil

import pytest

from data import settings
from kubeflow import manifests_check


@pytest.fixture(scope="module")
def tools():
    return manifests_check.ensure_tools()


@pytest.fixture
def base_copy(tmp_path) -> pathlib.Path:
    copy = tmp_path / "k8s"
    shutil.copytree(settings.K8S_MANIFESTS_DIR, copy)
    return copy


def test_base_and_every_overlay_build_and_decode_strictly(tools):
    targets = manifests_check.kustomize_targets()
    assert settings.K8S_OVERLAYS_DIR / "production" in targets
    assert settings.K8S_MANIFESTS_DIR / "alternatives" / "flagger-canary.yaml" in targets
    results = [manifests_check.check_target(target, tools) for target in targets]
    assert {str(r.target): r.problems for r in results} == {str(t): [] for t in targets}
    # 2 Deployments, 2 Services, 2 PodDisruptionBudgets, a NetworkPolicy, the ConfigMap, the Gateway,
    # the HTTPRoute and the GRPCRoute, in the base and in the production overlay.
    assert [r.objects for r in results if r.target.is_dir()] == [11, 11]


@pytest.mark.parametrize("file, right, wrong, message", [
    ("groups.yaml", "replicas:", "replica:", r'unknown field "spec\.replica"'),
    ("routes.yaml", "backendRefs:", "backendRef:", r'unknown field "spec\.rules\[0\]\.backendRef"'),
    ("configmap.yaml", "\ndata:", "\ndatas:", r'unknown field "datas"'),
])
def test_misspelled_field_fails_with_the_api_types_message(tools, base_copy, file, right, wrong,
                                                           message):
    path = base_copy / file
    assert right in path.read_text()
    path.write_text(path.read_text().replace(right, wrong, 1))
    problems = manifests_check.check_target(base_copy, tools).problems
    assert any(re.search(message, problem) for problem in problems), problems


def test_overlay_inside_its_base_is_refused_by_kustomize(tools, base_copy):
    overlay = base_copy / "overlays" / "production"
    overlay.mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text("resources:\n  - ../..\n")
    problems = manifests_check.check_target(overlay, tools).problems
    assert len(problems) == 1 and "cycle detected" in problems[0], problems


def test_a_misspelled_flagger_canary_field_fails(tools, tmp_path):
    canary = tmp_path / "flagger-canary.yaml"
    text = (settings.K8S_MANIFESTS_DIR / "alternatives" / "flagger-canary.yaml").read_text()
    canary.write_text(text.replace("threshold:", "treshold:", 1))
    problems = manifests_check.check_target(canary, tools).problems
    assert any('unknown field "spec.analysis.treshold"' in p for p in problems), problems


def test_a_kind_outside_the_known_api_groups_fails(tools, tmp_path):
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - job.yaml\n")
    (tmp_path / "job.yaml").write_text("apiVersion: flink.apache.org/v1beta1\n"
                                       "kind: FlinkDeployment\nmetadata:\n  name: f\n")
    problems = manifests_check.check_target(tmp_path, tools).problems
    assert any('no kind "FlinkDeployment" is registered' in p for p in problems), problems
