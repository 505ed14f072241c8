"""The podman command a task runs with: the spec's paths, the sandbox's runtime options, no
network, the local root writable and the data read-only (no podman needed)."""
import pathlib

import pytest

from kubeflow import compile as kubeflow_compile
from kubeflow import container
from kubeflow.run_local import RunLocalError

PROJECT = pathlib.Path("/home/dev/tfxp")
LOCAL = PROJECT / "tfx_root" / "kubeflow-local" / "census-sample"


def launcher(**overrides):
    options = dict(spec_root="/mnt/tfxp", local_root=LOCAL, project_root=PROJECT,
                   read_only=[PROJECT / "data" / "samples" / "census"])
    options.update(overrides)
    return container.PodmanLauncher(**options)


def test_local_paths_become_the_specs_and_back():
    podman = launcher()
    local = f'{{"uri": "{LOCAL}/pipelines/census/run-1/Trainer/model", "schema": ' \
            f'"{PROJECT}/data/schemas/census.pbtxt"}}'
    inside = podman.to_container(local)
    assert inside == ('{"uri": "/mnt/tfxp/pipelines/census/run-1/Trainer/model", "schema": '
                      f'"{kubeflow_compile.IMAGE_PROJECT_DIR}/data/schemas/census.pbtxt"}}')
    assert podman.to_local(inside) == local


def test_a_path_that_only_starts_like_the_root_is_left_alone():
    assert launcher().to_container(f"{PROJECT}-old/x") == f"{PROJECT}-old/x"
    assert launcher().to_container(f"{LOCAL}-old/x") == \
        f"{kubeflow_compile.IMAGE_PROJECT_DIR}/tfx_root/kubeflow-local/census-sample-old/x"
    assert launcher().to_container(str(LOCAL)) == "/mnt/tfxp"


def test_the_command_has_the_sandbox_options_no_network_and_the_mounts():
    command = launcher().command("localhost/tfxp-component:latest",
                                 ["python", "-m", "kubeflow.entrypoint"], {"A": "1"})
    assert command[:3] == ["podman", "--runtime", "runc"]
    joined = " ".join(command)
    assert "--network none" in joined
    assert "--ulimit nofile=1024:1024 --ulimit nproc=1024:1024" in joined
    assert f"--volume {LOCAL}:/mnt/tfxp:U" in joined
    assert (f"--volume {PROJECT}/data/samples/census:"
            f"{kubeflow_compile.IMAGE_PROJECT_DIR}/data/samples/census:ro") in joined
    assert "--env A=1" in joined
    assert command[-4:] == ["localhost/tfxp-component:latest", "python", "-m",
                            "kubeflow.entrypoint"]


def test_a_data_root_under_the_local_root_is_not_mounted_twice():
    mounts = launcher(read_only=[LOCAL / "data"]).mounts()
    assert [m.container for m in mounts] == ["/mnt/tfxp"]


def test_a_bucket_root_cannot_be_mounted():
    with pytest.raises(RunLocalError, match=r"must be an absolute path; this spec's is "
                                            r"'gs://bucket/tfxp'"):
        launcher(spec_root="gs://bucket/tfxp")
