"""serving/k8s and its overlays as a cluster's tools read them: the real kustomize, then every
object decoded strictly with the Kubernetes and Gateway API Go types (kubeflow/manifests_check)."""
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
    results = [manifests_check.check_target(target, tools) for target in targets]
    assert {str(r.target): r.problems for r in results} == {str(t): [] for t in targets}
    assert all(r.objects >= 8 for r in results)


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


def test_kind_outside_the_known_api_groups_fails(tools, tmp_path):
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - canary.yaml\n")
    shutil.copy(settings.K8S_MANIFESTS_DIR / "alternatives" / "flagger-canary.yaml",
                tmp_path / "canary.yaml")
    problems = manifests_check.check_target(tmp_path, tools).problems
    assert any('no kind "Canary" is registered' in problem for problem in problems), problems
