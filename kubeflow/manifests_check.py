"""The Kubernetes manifests read by the real tools: `kustomize build` (kustomize built from its Go
module) of the base and of every overlay, then each object decoded strictly with the Kubernetes
API's Go types, the Gateway API types and Flagger's (kubeflow/oss/cmd/manifestcheck). Manifests
kept beside the kustomization (serving/rollout/k8s/alternatives/*.yaml) are decoded as they are.

A misspelled field (`replica:`, `backendRef:`) or an overlay kustomize refuses fails here, with
the tool's own message, instead of on a cluster. `make go-tools` builds both binaries once into
.cache/go/bin; `python -m kubeflow.manifests_check [DIR ...]` (or `make check-k8s`) runs the check.
"""
import dataclasses
import os
import pathlib
import subprocess
import sys
from typing import Dict, List, Optional, Sequence

from data import settings

GO_BIN_DIR = settings.GO_CACHE_DIR / "bin"
TOOLS = ("kustomize", "manifestcheck")


class ManifestToolError(RuntimeError):
    """The Go tools could not be built or run (not a problem of the manifests themselves)."""


def go_environment() -> Dict[str, str]:
    """The environment `go` runs in: module, build and path caches under .cache/go (git-ignored)
    and the machine's own toolchain (no download of another Go)."""
    cache = settings.GO_CACHE_DIR
    return {**os.environ, "GOPATH": str(cache / "path"), "GOMODCACHE": str(cache / "mod"),
            "GOCACHE": str(cache / "build"), "GOTOOLCHAIN": "local", "GOFLAGS": "-modcacherw"}


def ensure_tools(project_root: pathlib.Path = settings.PROJECT_ROOT) -> Dict[str, pathlib.Path]:
    """Builds kustomize and manifestcheck with `make go-tools` (a stamp: only when kubeflow/oss
    changed) and returns their paths. ManifestToolError naming the fix when that fails."""
    try:
        built = subprocess.run(["make", "-s", "-C", str(project_root), "go-tools"],
                               capture_output=True, text=True, env=go_environment(), check=False)
    except FileNotFoundError as error:
        raise ManifestToolError(f"cannot run make ({error}); install make and Go (go1.26), then "
                                "run `make go-tools`") from None
    if built.returncode != 0:
        raise ManifestToolError("`make go-tools` failed (needs `go` on PATH and the Go module "
                                f"proxy):\n{(built.stdout + built.stderr).strip()[-2000:]}")
    return {name: GO_BIN_DIR / name for name in TOOLS}


def kustomize_targets(base: pathlib.Path = settings.K8S_MANIFESTS_DIR,
                      overlays: Optional[pathlib.Path] = settings.K8S_OVERLAYS_DIR
                      ) -> List[pathlib.Path]:
    """The base, every overlay folder (each holds a kustomization.yaml) and the alternative
    manifests kept beside the base (plain YAML files, decoded without kustomize)."""
    targets = [base] + sorted((base / "alternatives").glob("*.yaml"))
    if overlays is not None and overlays.is_dir():
        targets += sorted(path.parent for path in overlays.rglob("kustomization.yaml"))
    return targets


@dataclasses.dataclass
class TargetResult:
    """What the tools said about one kustomization: `problems` empty when every object decoded."""

    target: pathlib.Path
    objects: int
    problems: List[str]


def check_target(target: pathlib.Path, tools: Dict[str, pathlib.Path]) -> TargetResult:
    """`kustomize build TARGET | manifestcheck -` for a folder (kustomize's error, or one line
    per object that the API types refuse); a YAML file is decoded as it is."""
    if target.is_file():
        manifests = target.read_text()
    else:
        built = subprocess.run([str(tools["kustomize"]), "build", str(target)],
                               capture_output=True, text=True, check=False)
        if built.returncode != 0:
            return TargetResult(target, 0, [f"kustomize build: {built.stderr.strip()}"])
        manifests = built.stdout
    checked = subprocess.run([str(tools["manifestcheck"]), "-"], input=manifests,
                             capture_output=True, text=True, check=False)
    problems = [line.removeprefix("-: ") for line in checked.stderr.splitlines() if line.strip()]
    if checked.returncode not in (0, 1) or (checked.returncode == 1 and not problems):
        raise ManifestToolError(f"manifestcheck exited {checked.returncode}: {checked.stderr}")
    summary = checked.stdout.strip().rsplit(": ", 1)[-1]
    return TargetResult(target, int(summary.split()[0]), problems)


def check(targets: Sequence[pathlib.Path]) -> List[TargetResult]:
    """Every target checked with the real kustomize and the API types (built when needed)."""
    tools = ensure_tools()
    return [check_target(pathlib.Path(target), tools) for target in targets]


def main(argv: Sequence[str] = ()) -> int:
    """Prints one line per kustomization (and one per problem); exit code 1 when any has one."""
    targets = [pathlib.Path(a) for a in argv] or kustomize_targets()
    try:
        results = check(targets)
    except ManifestToolError as error:
        print(f"manifests check: error: {error}", file=sys.stderr)
        return 1
    for result in results:
        state = "ok" if not result.problems else f"{len(result.problems)} problem(s)"
        print(f"{result.target}: {result.objects} objects, {state}")
        for problem in result.problems:
            print(f"  {problem}")
    return 1 if any(r.problems for r in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
