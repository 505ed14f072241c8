"""Model name -> ModelSpec: the built-in models, then plug-in packages from outside the project.

Specs are imported lazily so the CLI starts without TensorFlow. A plug-in model is a package
whose module exposes ``SPEC`` (a :class:`models.spec.ModelSpec`); it is found, in this order:

* an entry point of group ``tfxp.models`` in an installed distribution
  (``my_model = my_pkg`` or ``my_model = my_pkg.spec:SPEC``);
* a package folder (``NAME/__init__.py`` and ``NAME/spec.py``) in a folder of the search path
  ``TFXP_MODELS_PATH`` (default ``user_models/``, where ``tfxp model new`` writes);
* a package recorded by ``tfxp model new --out DIR`` in ``USER_MODELS_INDEX``.

A name that is already taken keeps its first source; the later one is listed as shadowed.
"""
import dataclasses
import importlib
import importlib.metadata
import json
import os
import pathlib
import sys
from typing import Dict, List, Optional

from data import settings
from models.spec import ModelSpec

ENTRY_POINT_GROUP = "tfxp.models"

# Registration order is the order `make run` trains them in.
_MODEL_MODULES = {
    "census": "models.census",
    "fashion_cnn": "models.fashion_cnn",
    "digits_mlp": "models.digits_mlp",
    "sentiment_rnn": "models.sentiment_rnn",
    "stock_trend": "models.stock_trend",
}


@dataclasses.dataclass(frozen=True)
class ModelSource:
    """Where one model comes from: the module (or `module:attribute`) holding its SPEC, the
    folder to put on sys.path first (plug-in folders), and a line saying where it was found."""

    name: str
    module: str
    origin: str
    folder: Optional[pathlib.Path] = None


def built_in_names() -> List[str]:
    """The five documented models, in the order `make run` trains them."""
    return list(_MODEL_MODULES)


def _entry_point_sources() -> List[ModelSource]:
    found = []
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(entry, "dist", None)
        where = f"{dist.name} {dist.version}" if dist is not None else "an installed package"
        found.append(ModelSource(entry.name, entry.value,
                                 f"entry point {ENTRY_POINT_GROUP} ({where})"))
    return found


def _is_model_package(folder: pathlib.Path) -> bool:
    return (folder / "__init__.py").is_file() and (folder / "spec.py").is_file()


def _search_path_sources() -> List[ModelSource]:
    found = []
    for root in settings.USER_MODELS_PATH:
        if not root.is_dir():
            continue
        for package in sorted(p for p in root.iterdir() if _is_model_package(p)):
            found.append(ModelSource(package.name, package.name,
                                     f"search path {root.resolve()}", root.resolve()))
    return found


def recorded_packages() -> Dict[str, str]:
    """name -> package folder for the packages `tfxp model new --out` wrote outside the search
    path (the index file under the pipeline homes)."""
    index = settings.USER_MODELS_INDEX
    return json.loads(index.read_text()) if index.is_file() else {}


def record_package(name: str, package_dir: pathlib.Path) -> None:
    """Remembers where `tfxp model new` wrote package `name`, so `tfxp run --model NAME` finds
    it with no further step, wherever `--out` put it."""
    index = settings.USER_MODELS_INDEX
    recorded = recorded_packages()
    recorded[name] = str(pathlib.Path(package_dir).resolve())
    index.parent.mkdir(parents=True, exist_ok=True)
    index.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")


def _recorded_sources() -> List[ModelSource]:
    found = []
    for name, folder in recorded_packages().items():
        package = pathlib.Path(folder)
        if _is_model_package(package):
            found.append(ModelSource(name, package.name,
                                     f"written by tfxp model new to {package}", package.parent))
    return found


def sources() -> Dict[str, ModelSource]:
    """Every model by name, built-in first; a later source of a taken name is left out (see
    `shadowed`)."""
    by_name: Dict[str, ModelSource] = {
        name: ModelSource(name, module, "built-in") for name, module in _MODEL_MODULES.items()}
    for source in _entry_point_sources() + _search_path_sources() + _recorded_sources():
        by_name.setdefault(source.name, source)
    return by_name


def shadowed() -> List[ModelSource]:
    """Plug-in sources whose name an earlier source already took (they are never used)."""
    kept = sources()
    return [s for s in _entry_point_sources() + _search_path_sources() + _recorded_sources()
            if kept[s.name] != s]


def names() -> List[str]:
    """Every model name: the built-in ones in the order `make run` trains them, then plug-ins."""
    return list(sources())


def _add_to_path(folder: pathlib.Path) -> None:
    """The plug-in folder on sys.path and PYTHONPATH: Transform and Trainer import the model's
    functions by dotted path, in this process or in Beam workers started from it."""
    folder_text = str(folder)
    if folder_text not in sys.path:
        sys.path.insert(0, folder_text)
    parts = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if folder_text not in parts:
        os.environ["PYTHONPATH"] = os.pathsep.join([folder_text] + parts)


def get(name: str) -> ModelSpec:
    """The ModelSpec of model `name`; its package is imported only now, so the CLI starts
    without TensorFlow. An unknown name is a KeyError that lists the known ones."""
    try:
        source = sources()[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; registered models: {', '.join(names())} "
                       f"(`tfxp model list` shows where each comes from)") from None
    if source.folder is not None:
        _add_to_path(source.folder)
    module_name, _, attribute = source.module.partition(":")
    loaded = importlib.import_module(module_name)
    spec = getattr(loaded, attribute or "SPEC", None)
    if not isinstance(spec, ModelSpec):
        raise ValueError(f"model {name!r} ({source.origin}): {source.module} has no ModelSpec "
                         f"{attribute or 'SPEC'}")
    if spec.name != name:
        raise ValueError(f"model {name!r} ({source.origin}): its SPEC is named {spec.name!r}; "
                         "the package name (or entry point name) and SPEC.name must agree")
    return spec
