"""`tfxp kubeflow run-local --container podman`: each task's command and args run inside the
component image (kubeflow/Containerfile, `make image`) with podman, as a Kubeflow cluster runs
them, instead of as a subprocess of this checkout's Python.

The container sees the paths the spec names: this machine's local root is mounted at the spec's
pipeline root (the models root, ROOT/serving, lies under it), and a data root outside the image is
mounted read-only where the spec's paths put it. The task runs as the image's own unprivileged user
with the image's Python, no network (a loopback interface only), and podman's options this sandbox
needs (runc; lowered rlimits). What the executor writes to its output file is mapped back to this
machine's paths, so the run's record reads as an in-process run's does.
"""
import dataclasses
import pathlib
import re
import shlex
import subprocess
from typing import Dict, List, Sequence

from kubeflow import compile as kubeflow_compile
from kubeflow import image as kubeflow_image
from kubeflow.run_local import RunLocalError, TaskLaunch

PODMAN_OPTIONS = ("--runtime", "runc")


class ContainerError(RunLocalError):
    """The container launcher cannot run this spec (relative root, no image); says what to do."""


@dataclasses.dataclass(frozen=True)
class Mount:
    """One folder of this machine and where the task sees it."""

    host: pathlib.Path
    container: str
    writable: bool

    def option(self) -> str:
        """podman's --volume value. A writable mount is chowned to the image's user (`U`), as a
        bucket is writable by every task's service account."""
        return f"{self.host}:{self.container}:{'U' if self.writable else 'ro'}"


def _replace_prefix(value: str, old: str, new: str) -> str:
    """`value` with the path `old` (alone, or followed by `/`) replaced by `new`."""
    old = old.rstrip("/")
    return re.sub(re.escape(old) + r"(?=/|$|[\"'\s,])", lambda _: new.rstrip("/"), value)


@dataclasses.dataclass
class PodmanLauncher:
    """Runs one task's resolved command in its image with podman; paths in the command go from
    this machine's (as run_local resolves them) to the container's (as the spec names them)."""

    spec_root: str
    local_root: pathlib.Path
    project_root: pathlib.Path
    read_only: Sequence[pathlib.Path] = ()
    network: str = "none"

    def __post_init__(self):
        if not self.spec_root.startswith("/"):
            raise ContainerError(
                f"--container podman mounts the local root at the spec's pipeline root, which "
                f"must be an absolute path; this spec's is {self.spec_root!r}. Compile it with "
                f"`tfxp kubeflow compile --pipeline-root /SOME/ABSOLUTE/PATH ...`")

    def to_container(self, value: str) -> str:
        """A string of the resolved command with this machine's paths as the container sees them
        (the local root first: by default it lies inside the project)."""
        value = _replace_prefix(value, str(self.local_root), self.spec_root)
        return _replace_prefix(value, str(self.project_root), kubeflow_compile.IMAGE_PROJECT_DIR)

    def to_local(self, value: str) -> str:
        """A string the container wrote, with its paths as this machine sees them."""
        value = _replace_prefix(value, self.spec_root, str(self.local_root))
        return _replace_prefix(value, kubeflow_compile.IMAGE_PROJECT_DIR, str(self.project_root))

    def mounts(self) -> List[Mount]:
        """The local root at the spec's root, writable; each read-only folder where the command
        names it, unless the image or another mount already holds it."""
        found = [Mount(self.local_root, self.spec_root, True)]
        for folder in self.read_only:
            folder = pathlib.Path(folder).resolve()
            inside = [m for m in found if folder == m.host or m.host in folder.parents]
            if not inside:
                found.append(Mount(folder, self.to_container(str(folder)), False))
        return found

    def command(self, image: str, argv: Sequence[str], env: Dict[str, str]) -> List[str]:
        """The podman command that runs `argv` (container paths) in `image`."""
        options = ["podman", *PODMAN_OPTIONS, "run", "--rm", "--pull=never",
                   "--network", self.network, *kubeflow_image.ULIMITS]
        for mount in self.mounts():
            options += ["--volume", mount.option()]
        for name, value in sorted(env.items()):
            options += ["--env", f"{name}={value}"]
        return options + [image, *argv]

    def __call__(self, launch: TaskLaunch, log_path: pathlib.Path) -> int:
        """Runs a task (run_local.task_launch's image, command, args and env, paths of this
        machine) in its image with container paths. The podman command (to re-run the task by
        hand), the task's output and podman's own errors go to `log_path`; returns the exit code."""
        if not kubeflow_image.image_exists(launch.image):
            raise ContainerError(f"no image {launch.image!r} in the local container storage: "
                                 f"build it with `make image` (tag {kubeflow_image.DEFAULT_TAG}) "
                                 f"and compile the spec with --image {kubeflow_image.DEFAULT_TAG}")
        argv = [self.to_container(part) for part in launch.command + launch.args]
        podman = self.command(launch.image, argv, launch.env)
        with open(log_path, "wb") as log:
            log.write(("$ " + shlex.join(podman) + "\n").encode())
            log.flush()
            finished = subprocess.run(podman, stdout=log, stderr=subprocess.STDOUT, check=False)
        written = pathlib.Path(launch.output_file)
        if written.exists():
            written.write_text(self.to_local(written.read_text()))
        return finished.returncode
