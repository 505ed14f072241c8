"""`tfxp kubeflow image build`: the component image, built here from kubeflow/Containerfile with
buildah (no Docker engine, no registry).

Nothing can be pulled, so the Containerfile's `FROM debian:bookworm-slim` resolves to a local base:
a `debootstrap --variant=minbase bookworm` root filesystem imported as
localhost/debian:bookworm-slim, with the apt sources of the official image. The root filesystem
tarball, debootstrap's .debs, a wheelhouse of the lock and pip's built wheels are kept under
`.cache/image/`, and buildah keeps its layers, so a rebuild only redoes the layers whose inputs
changed, and a cold build on a machine that has built before downloads nothing.
"""
import dataclasses
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
from typing import List, Optional, Sequence, TextIO

from data import settings

CONTAINERFILE = settings.PROJECT_ROOT / "kubeflow" / "Containerfile"
IGNORE_FILE = settings.PROJECT_ROOT / "kubeflow" / "Containerfile.dockerignore"
CACHE_DIR = settings.PROJECT_ROOT / ".cache" / "image"
DEFAULT_TAG = "localhost/tfxp-component:latest"
BASE_IMAGE = "localhost/debian:bookworm-slim"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
PIP_CACHE_MOUNT = "/var/cache/tfxp-pip"
WHEELHOUSE_MOUNT = "/var/cache/tfxp-wheels"
CONSTRAINTS = settings.PROJECT_ROOT / "requirements" / "constraints.txt"
# The sandbox refuses raising these rlimits, and crun refuses its hybrid cgroups (env README).
RUNTIME_OPTIONS = ("--runtime", "runc")
ULIMITS = ("--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")
TOOLS = ("buildah", "podman", "runc", "debootstrap")
# What the official debian:bookworm-slim image lists in /etc/apt/sources.list.d/debian.sources;
# debootstrap writes only `bookworm main`, and the image's apt layer must see the same suites.
APT_SOURCES = """Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


class ImageError(RuntimeError):
    """The image cannot be built; the message says which step failed and what it printed."""


@dataclasses.dataclass
class BuildResult:
    """A finished build: the tag, its size in bytes and the seconds each step took."""

    tag: str
    size_bytes: int
    seconds: float
    base_seconds: float
    download_seconds: float


def missing_tools() -> List[str]:
    """The container tools not on PATH (`make image` installs them from Debian's packages)."""
    return [tool for tool in TOOLS if shutil.which(tool) is None
            and not pathlib.Path("/usr/sbin", tool).exists()]


def _run(command: Sequence[str], what: str, stream: Optional[TextIO] = None, **kwargs) -> str:
    """Runs `command`; ImageError with its last output lines when it fails. With `stream`, the
    output goes there as it comes (a build's steps), otherwise it is returned."""
    if stream is None:
        done = subprocess.run(list(command), capture_output=True, text=True, check=False, **kwargs)
        output = done.stdout + done.stderr
    else:
        lines = []
        with subprocess.Popen(list(command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, **kwargs) as process:
            for line in process.stdout:
                lines.append(line)
                stream.write(line)
                stream.flush()
        done, output = process, "".join(lines)
    if done.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-25:])
        raise ImageError(f"{what} failed (exit code {done.returncode}):\n{tail}")
    return output


def image_exists(tag: str) -> bool:
    """Whether `tag` is in the local container storage."""
    return subprocess.run(["podman", "image", "exists", tag], check=False).returncode == 0


def ensure_base(cache_dir: pathlib.Path = CACHE_DIR, stream: TextIO = sys.stdout) -> float:
    """Makes localhost/debian:bookworm-slim from a debootstrap minbase root filesystem unless it
    is already stored; the rootfs tarball is cached, so only the first machine-wide build runs
    debootstrap. Returns the seconds spent."""
    started = time.monotonic()
    if image_exists(BASE_IMAGE):
        return 0.0
    tarball = cache_dir / "bookworm-minbase.tar"
    if not tarball.exists():
        debs = cache_dir / "debootstrap-debs"
        debs.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache_dir) as rootfs:
            stream.write(f"debootstrap --variant=minbase bookworm (debs cached in {debs})\n")
            stream.flush()
            _run(["debootstrap", "--variant=minbase", f"--cache-dir={debs}", "bookworm", rootfs,
                  DEBIAN_MIRROR], "debootstrap")
            _slim_like(pathlib.Path(rootfs))
            partial = tarball.with_suffix(".partial")
            _run(["tar", "--numeric-owner", "-C", rootfs, "-cf", str(partial), "."], "tar")
            partial.replace(tarball)
    _run(["podman", "import", "--change", "CMD=/bin/bash", str(tarball), BASE_IMAGE],
         "podman import of the base")
    return time.monotonic() - started


def _slim_like(rootfs: pathlib.Path) -> None:
    """The official slim image's apt sources, and no apt lists or downloaded .debs left behind."""
    (rootfs / "etc/apt/sources.list").unlink(missing_ok=True)
    (rootfs / "etc/apt/sources.list.d/debian.sources").write_text(APT_SOURCES)
    for leftover in ("var/lib/apt/lists", "var/cache/apt/archives"):
        for path in (rootfs / leftover).glob("*"):
            if path.is_file():
                path.unlink()


def fill_wheelhouse(wheelhouse: pathlib.Path, stream: TextIO = sys.stdout) -> float:
    """Downloads every pin of the lock (wheels, and the sources of the few pins without one)
    into `wheelhouse`, once per lock: the image then installs with `--no-index` from it. Every
    pin, without resolving: this machine's Python is not the image's (3.11.7 here, Debian's
    3.11.2 there), and markers such as redis' `python_full_version < "3.11.3"` pull packages
    only the image needs. pip's HTTP cache cannot do this here (the proxy's responses are not
    cacheable). Returns the seconds spent."""
    started = time.monotonic()
    wanted = hashlib.sha256(CONSTRAINTS.read_bytes()).hexdigest()
    stamp = wheelhouse / ".filled-for"
    if stamp.exists() and stamp.read_text() == wanted:
        return 0.0
    wheelhouse.mkdir(parents=True, exist_ok=True)
    stream.write(f"pip download of the lock into {wheelhouse}\n")
    stream.flush()
    _run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--ignore-requires-python",
          "-d", str(wheelhouse), "-r", str(CONSTRAINTS)], "pip download")
    stamp.write_text(wanted)
    return time.monotonic() - started


def build_command(tag: str, context: pathlib.Path, containerfile: pathlib.Path,
                  ignore_file: pathlib.Path, cache_dir: pathlib.Path) -> List[str]:
    """The buildah command: layers kept, no working container left by a failed step, never a
    pull, chroot isolation, and the wheelhouse and pip's cache (built wheels) mounted for the
    install step only, so neither is in the image."""
    pip_options = (f"--no-index --find-links={WHEELHOUSE_MOUNT} "
                   f"--cache-dir={PIP_CACHE_MOUNT}")
    volumes = ["--volume", f"{cache_dir / 'wheels'}:{WHEELHOUSE_MOUNT}:ro",
               "--volume", f"{cache_dir / 'pip'}:{PIP_CACHE_MOUNT}"]
    return ["buildah", "bud", "--layers", "--force-rm", "--pull=never", "--isolation", "chroot",
            *RUNTIME_OPTIONS, *ULIMITS, "--ignorefile", str(ignore_file), *volumes,
            "--build-arg", f"TFXP_PIP_OPTIONS={pip_options}",
            "-f", str(containerfile), "-t", tag, str(context)]


def image_size(tag: str) -> int:
    """The image's size in bytes as podman reports it (all layers, uncompressed)."""
    return int(_run(["podman", "image", "inspect", "--format", "{{.Size}}", tag],
                    "podman image inspect").strip())


def build(tag: str = DEFAULT_TAG, context: pathlib.Path = settings.PROJECT_ROOT,
          ignore_file: pathlib.Path = IGNORE_FILE, cache_dir: pathlib.Path = CACHE_DIR,
          stream: TextIO = sys.stdout) -> BuildResult:
    """Builds the component image; ImageError naming the failed step (a failed
    `python -m kubeflow.verify` among them) with its last output lines."""
    missing = missing_tools()
    if missing:
        raise ImageError(f"missing {', '.join(missing)}: run `make image` (it installs "
                         f"{' '.join(TOOLS)} from Debian's packages)")
    started = time.monotonic()
    base_seconds = ensure_base(cache_dir, stream)
    download_seconds = fill_wheelhouse(cache_dir / "wheels", stream)
    (cache_dir / "pip").mkdir(parents=True, exist_ok=True)
    command = build_command(tag, context, CONTAINERFILE, ignore_file, cache_dir)
    stream.write(" ".join(command) + "\n")
    stream.flush()
    _run(command, "buildah bud", stream=stream, env={**os.environ, "BUILDAH_LAYERS": "true"})
    return BuildResult(tag, image_size(tag), time.monotonic() - started, base_seconds,
                       download_seconds)


def describe(result: BuildResult) -> str:
    """The line printed after a build: tag, size and time."""
    parts = [f"{what} {seconds:.0f}s" for what, seconds in
             (("base", result.base_seconds), ("pip download", result.download_seconds)) if seconds]
    detail = f" (of which {', '.join(parts)})" if parts else ""
    return (f"image {result.tag}: {result.size_bytes / 2**20:.0f} MiB, built in "
            f"{result.seconds:.0f}s{detail}")
