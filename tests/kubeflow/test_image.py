"""The component image, built here with buildah from kubeflow/Containerfile, and the census sample
run through `run-local --container podman`: every task in the image, as the image's own user,
pushing the blessed model the in-process run of the same spec pushes (equal to float rounding). A task that exits non-zero
in the container fails the run with its last log lines, and an image whose build context lacks a
module the specs name is refused by the build's `python -m kubeflow.verify` step (`make
test-image`; the build is cached, so only a fresh machine pays for debootstrap and pip)."""
import io
import pathlib
import subprocess

import pytest

from data import settings
from kubeflow import compile as kubeflow_compile
from kubeflow import container
from kubeflow import image as kubeflow_image
from kubeflow import run_local

pytestmark = pytest.mark.image
SPEC_ROOT = "/mnt/tfxp"
IMAGE_UID = 1000  # the Containerfile's `tfxp` user


def _show(request, text: str) -> None:
    """Straight to the terminal, past output capture: CI's log keeps the build's size and time
    and the per-task seconds."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        for line in ("", *text.splitlines()):
            reporter.write_line(line)


@pytest.fixture(scope="module")
def image_tag(request):
    result = kubeflow_image.build(stream=io.StringIO())
    _show(request, kubeflow_image.describe(result))
    return result.tag


@pytest.fixture(scope="module")
def runs(image_tag, tmp_path_factory, request):
    compiled = kubeflow_compile.compile_model(
        "census", image=image_tag, pipeline_root=SPEC_ROOT, sample=True,
        out_dir=tmp_path_factory.mktemp("specs"))
    results = {}
    for how, container in (("in-process", None), ("podman", "podman")):
        root = tmp_path_factory.mktemp(how)
        results[how] = (root, run_local.run_model("census", sample=True,
                                                  spec_file=str(compiled.path),
                                                  local_root=str(root), container=container,
                                                  stream=io.StringIO()))
    _show(request, _side_by_side(results["in-process"][1], results["podman"][1]))
    return results


def _side_by_side(in_process, podman) -> str:
    lines = [f"{'task':<22} {'in-process':>10} {'podman':>8}"]
    for task in in_process.tasks:
        lines.append(f"{task.task:<22} {task.seconds:9.1f}s {podman.task(task.task).seconds:7.1f}s")
    lines.append(f"{'total':<22} {sum(t.seconds for t in in_process.tasks):9.1f}s "
                 f"{sum(t.seconds for t in podman.tasks):7.1f}s")
    return "\n".join(lines)


def _pushed_dir(result) -> pathlib.Path:
    return pathlib.Path(result.outputs["VersionedPusher"]["pushed_model"]["metadata"][
        "pushed_destination"])


def test_every_task_ran_in_the_image_on_the_specs_paths(runs):
    root, result = runs["podman"]
    assert not pathlib.Path(SPEC_ROOT).exists()  # the spec's paths exist only in the container
    assert {t.state for t in result.tasks} == {"executed"}
    for task in result.tasks:
        command = task.log_path.read_text().splitlines()[0]
        assert command.startswith("$ podman --runtime runc run --rm"), task.task
        assert "--network none" in command and f"{root}:{SPEC_ROOT}:U" in command, task.task
        assert f" {kubeflow_image.DEFAULT_TAG} python -m kubeflow.entrypoint " in command
        assert f"{SPEC_ROOT}/pipelines/" in command and str(root) not in command.split(
            kubeflow_image.DEFAULT_TAG)[1], task.task
    pushed = _pushed_dir(result)
    assert root in pushed.parents and pushed.stat().st_uid == IMAGE_UID


def test_the_image_pushes_the_model_the_in_process_run_pushes(runs):
    """Equal to float rounding, not bytes: the image's Python and BLAS threads differ, so weights
    differ in the last bits (measured: 6e-8) and the metrics agree to 1e-9."""
    import numpy as np
    import tensorflow as tf
    from pipelines import run_info

    in_process, podman = runs["in-process"][1], runs["podman"][1]
    for result in (in_process, podman):
        assert result.outputs["Evaluator"]["blessing"]["metadata"]["blessed"] == 1
        assert run_local.push_outcome(result).version == 1
    weights = [tf.train.load_checkpoint(str(_pushed_dir(r) / "variables" / "variables"))
               for r in (in_process, podman)]
    names = weights[0].get_variable_to_shape_map()
    assert names == weights[1].get_variable_to_shape_map()
    for name in names:
        if "layer_with_weights" in name:
            np.testing.assert_allclose(weights[0].get_tensor(name), weights[1].get_tensor(name),
                                       atol=1e-6, err_msg=name)
    metrics = [run_info.evaluation_metrics(r.outputs["Evaluator"]["evaluation"]["uri"])[
        "Overall"]["candidate"] for r in (in_process, podman)]
    assert metrics[0].keys() == metrics[1].keys()
    for name in metrics[0]:
        assert metrics[1][name] == pytest.approx(metrics[0][name], abs=1e-6), name


def test_a_task_failing_in_the_container_fails_the_run_with_its_last_lines(image_tag, tmp_path):
    spec = {
        "pipelineInfo": {"name": "fails"},
        "defaultPipelineRoot": f"{SPEC_ROOT}/pipelines/fails",
        "root": {"dag": {"tasks": {"Broken": {"componentRef": {"name": "comp-broken"}}}}},
        "components": {"comp-broken": {"executorLabel": "exec-broken"}},
        "deploymentSpec": {"executors": {"exec-broken": {"container": {
            "image": image_tag, "command": ["python", "-c"],
            "args": ["import os, sys; print('uid', os.getuid(), sys.executable); sys.exit(3)"],
        }}}},
    }
    launcher = container.PodmanLauncher(SPEC_ROOT, tmp_path, settings.PROJECT_ROOT)
    with pytest.raises(run_local.RunLocalError,
                       match=r"task Broken failed \(exit code 3\)(.|\n)*uid 1000 /opt/venv/bin/python"):
        run_local.run_spec(spec, tmp_path, stream=io.StringIO(), launcher=launcher)


def test_an_image_missing_a_module_is_refused_at_build_time(image_tag, tmp_path):
    ignore = tmp_path / "broken.dockerignore"
    ignore.write_text(kubeflow_image.IGNORE_FILE.read_text() + "models/census/model.py\n")
    broken = "localhost/tfxp-component:broken-context"
    try:
        with pytest.raises(kubeflow_image.ImageError,
                           match=r"buildah bud failed(.|\n)*models\.census\.model\.run_fn"):
            kubeflow_image.build(tag=broken, ignore_file=ignore, stream=io.StringIO())
    finally:
        subprocess.run(["podman", "rmi", "--ignore", broken], capture_output=True, check=False)
    assert not kubeflow_image.image_exists(broken)
