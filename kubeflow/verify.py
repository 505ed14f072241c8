"""Checks that every task of a compiled spec names code that imports where it runs.

A KFP task runs `python -m kubeflow.entrypoint --executor_class_path <class>` in the
component image, and its parameters name user functions (`run_fn`, `preprocessing_fn`, ...) by
dotted path. A wrong path only fails on the cluster, mid-run; this finds it at build time.
`python -m kubeflow.verify` runs in the image build (kubeflow/Containerfile) and in the tests.
"""
import dataclasses
import importlib
import importlib.util
import json
import pathlib
import sys
from typing import Any, Dict, Iterator, List, Optional, Sequence

from data import settings

FUNCTION_PARAMETERS = ("preprocessing_fn", "run_fn", "tuner_fn", "stats_options_updater_fn")
PROJECT_PACKAGES = ("pipelines", "components", "models", "data", "serving", "kubeflow")


@dataclasses.dataclass(frozen=True)
class EntryPoint:
    """One dotted path a task depends on, and where in the spec it was found."""

    task: str
    kind: str
    path: str


def _module_after_dash_m(command: Sequence[str]) -> List[str]:
    return [command[i + 1] for i, part in enumerate(command[:-1]) if part == "-m"]


def _flag_values(args: Sequence[str], flag: str) -> List[str]:
    return [args[i + 1] for i, part in enumerate(args[:-1]) if part == flag]


def _constant(parameter: Dict[str, Any]) -> Any:
    value = parameter.get("runtimeValue", {})
    return value.get("constant", value.get("constantValue", {}).get("stringValue"))


def entry_points(spec: Dict[str, Any]) -> Iterator[EntryPoint]:
    """Every module, executor class and user function the spec's tasks name."""
    executors = spec["deploymentSpec"]["executors"]
    for label, executor in sorted(executors.items()):
        container = executor.get("container")
        if not container:
            continue
        for module in _module_after_dash_m(container.get("command", [])):
            yield EntryPoint(label, "module", module)
        for path in _flag_values(container.get("args", []), "--executor_class_path"):
            yield EntryPoint(label, "executor class", path)
        hook = container.get("lifecycle", {}).get("preCacheCheck", {})
        for module in _module_after_dash_m(hook.get("command", [])):
            yield EntryPoint(label, "module", module)
    for task_name, task in sorted(spec["root"]["dag"]["tasks"].items()):
        parameters = task.get("inputs", {}).get("parameters", {})
        for name in FUNCTION_PARAMETERS:
            value = _constant(parameters.get(name, {}))
            if isinstance(value, str) and value:
                yield EntryPoint(task_name, name, value)


def resolve(path: str, kind: str):
    """The module (for `python -m`) or the attribute a dotted path names; raises ImportError."""
    if kind == "module":
        spec = importlib.util.find_spec(path)
        if spec is None:
            raise ImportError(f"no module {path}")
        return spec
    module_name, _, attribute = path.rpartition(".")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ImportError(f"module {module_name} has no {attribute!r}") from None


def problems(spec: Dict[str, Any], image: Optional[str] = None,
             project_root: pathlib.Path = settings.PROJECT_ROOT) -> List[str]:
    """What is wrong with the spec's tasks: a container with another image, a path that does not
    import, or project code imported from somewhere other than the installed project."""
    found = []
    for label, executor in spec["deploymentSpec"]["executors"].items():
        container = executor.get("container")
        if container and image and container.get("image") != image:
            found.append(f"{label}: image {container.get('image')!r}, expected {image!r}")
    for point in entry_points(spec):
        try:
            target = resolve(point.path, point.kind)
        except Exception as error:  # any failure to import is what this check reports
            found.append(f"{point.task}: {point.kind} {point.path}: {type(error).__name__}: {error}")
            continue
        if point.path.split(".")[0] in PROJECT_PACKAGES and point.kind != "module":
            source = pathlib.Path(sys.modules[getattr(target, "__module__", "")].__file__)
            if project_root.resolve() not in source.resolve().parents:
                found.append(f"{point.task}: {point.path} imports from {source}, not from the "
                             f"installed project at {project_root}")
    return found


def verify_models(models: Sequence[str], image: str = "verify.local/tfxp:check") -> Dict[str, List[str]]:
    """Compiles each model in memory and returns its problems (empty lists when all is well)."""
    from kubeflow import compile as kubeflow_compile
    from models import registry

    results = {}
    for model in models:
        spec = registry.get(model)
        paths = kubeflow_compile.cluster_paths(spec, "gs://verify/tfxp")
        pipeline = kubeflow_compile.build_pipeline(spec, paths)
        pipeline_spec = kubeflow_compile.pipeline_spec_dict(pipeline, image)
        results[model] = problems(pipeline_spec, image)
    return results


def main() -> int:
    """Prints one JSON line per model; exit code 1 when any model has a problem (the image
    build's last step)."""
    from models import registry

    results = verify_models(registry.names())
    for model, found in results.items():
        print(json.dumps({"model": model, "ok": not found, "problems": found}))
    return 1 if any(results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
