"""The layering and documentation rules of the tree, checked on its source.

Layers, bottom to top: `serving` and `data`; `components` and `models`; `pipelines`, `kubeflow`
and `bench`. A module (and the test beside it) imports only its own layer's peers and what lies
below, so the serving container and the data preparers stay usable without the pipeline code.
"""
import ast
import pathlib
from typing import Dict, Iterator, List, Set, Tuple

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

# What each top-level package may import from the project besides itself.
ALLOWED_IMPORTS: Dict[str, Set[str]] = {
    "data": set(),
    "serving": {"data.settings"},
    "components": {"data", "serving"},
    "models": {"data", "serving"},
    "pipelines": {"data", "serving", "components", "models"},
    "kubeflow": {"data", "serving", "components", "models", "pipelines"},
    "bench": {"data", "serving", "components", "models", "pipelines"},
}
GENERATED = ("data/prepared", "data/downloads", "data/samples")


def _sources(package: str, with_tests: bool = True) -> Iterator[pathlib.Path]:
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(GENERATED) or "__pycache__" in relative:
            continue
        if not with_tests and _is_test(path):
            continue
        yield path


def _is_test(path: pathlib.Path) -> bool:
    return path.name.endswith("_test.py") or path.name.startswith("test_") \
        or path.name == "conftest.py"


def _project_imports(path: pathlib.Path) -> Iterator[Tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] in ALLOWED_IMPORTS:
                yield node.lineno, name


def _allowed(package: str, imported: str) -> bool:
    top = imported.split(".")[0]
    if top == package:
        return True
    return any(imported == allowed or imported.startswith(allowed + ".")
               or (top == allowed.split(".")[0] and allowed.startswith(imported + "."))
               for allowed in ALLOWED_IMPORTS[package])


@pytest.mark.parametrize("package", sorted(ALLOWED_IMPORTS))
def test_no_module_imports_a_higher_layer(package):
    upward = [f"{path.relative_to(ROOT)}:{line} imports {name}"
              for path in _sources(package)
              for line, name in _project_imports(path)
              if not _allowed(package, name)]
    assert not upward, "imports against the layers:\n" + "\n".join(upward)


def test_the_layer_check_sees_an_upward_import(tmp_path):
    module = tmp_path / "upward.py"
    module.write_text("from pipelines import runner\nimport data.settings\n")
    found = [name for _, name in _project_imports(module)]
    assert not _allowed("serving", "pipelines") and "pipelines" in found
    assert _allowed("serving", "data.settings") and not _allowed("serving", "data.validation")
    assert _allowed("serving", "data") is True  # `from data import settings` names data first


# Inside serving/: what each subpackage may import from serving besides itself. config/ is the
# models root on disk (read by `tfxp canary` without TensorFlow), server/ the tensorflow_model_server
# stand-in (it must run without the rollout tools), rollout/ the canary and router tools on top.
SERVING_LAYERS: Dict[str, Set[str]] = {
    "config": set(),
    "server": {"serving.config"},
    "rollout": {"serving.config", "serving.server"},
}
# config/protos.py registers descriptors that depend on tensorflow/core/protobuf/config.proto;
# configs.py imports it lazily, only for the batching and monitoring parsers.
TENSORFLOW_IN_CONFIG = {"serving/config/protos.py", "serving/config/configs_test.py"}


def _serving_imports(path: pathlib.Path) -> Iterator[Tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [f"{node.module}.{alias.name}" if node.module == "serving" else node.module
                     for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] in ("serving", "tensorflow"):
                yield node.lineno, name


def _serving_violations(path: pathlib.Path, layer: str) -> List[str]:
    where = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
    found = []
    for line, name in _serving_imports(path):
        if name.split(".")[0] == "tensorflow":
            if layer == "config" and where not in TENSORFLOW_IN_CONFIG:
                found.append(f"{where}:{line} imports {name} (config/ reads files without TensorFlow)")
            continue
        parts = name.split(".")
        inner = ".".join(parts[:2])
        if inner == f"serving.{layer}":
            continue
        if inner not in SERVING_LAYERS[layer]:
            found.append(f"{where}:{line} imports {name}")
    return found


@pytest.mark.parametrize("layer", sorted(SERVING_LAYERS))
def test_serving_subpackages_import_only_what_lies_below(layer):
    wrong = [entry for path in sorted((ROOT / "serving" / layer).rglob("*.py"))
             for entry in _serving_violations(path, layer)]
    assert not wrong, f"serving/{layer} imports against its layer:\n" + "\n".join(wrong)


def test_the_serving_layer_check_sees_a_rollout_import_and_tensorflow(tmp_path):
    module = tmp_path / "upward.py"
    module.write_text("from serving.rollout import router\nfrom serving import cli\n"
                      "import tensorflow as tf\nfrom serving.config import configs\n")
    assert _serving_violations(module, "server") == [
        "upward.py:1 imports serving.rollout", "upward.py:2 imports serving.cli"]
    assert _serving_violations(module, "config") == [
        "upward.py:1 imports serving.rollout", "upward.py:2 imports serving.cli",
        "upward.py:3 imports tensorflow (config/ reads files without TensorFlow)"]
    assert _serving_violations(module, "rollout") == ["upward.py:2 imports serving.cli"]


def _test_module_imports(path: pathlib.Path) -> Iterator[Tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [(node.lineno, node.module)]
        else:
            continue
        for line, name in names:
            if name.split(".")[0] in (*ALLOWED_IMPORTS, "tests") and any(part.endswith("_test") or part.startswith("test_")
                    for part in name.split(".")):
                yield line, name


def test_no_module_imports_a_test_module():
    """Shared fakes live in testing modules (serving/*/testing.py, pipelines/testing.py,
    tests/serving/helpers.py), so no test module is imported by another."""
    found = [f"{path.relative_to(ROOT)}:{line} imports {name}"
             for package in [*ALLOWED_IMPORTS, "tests"]
             for path in _sources(package)
             for line, name in _test_module_imports(path)]
    assert not found, "imports of test modules:\n" + "\n".join(found)


def test_the_test_import_check_sees_a_test_module(tmp_path):
    module = tmp_path / "uses_a_fake.py"
    module.write_text("from serving.config.configs_test import fake_versions\n"
                      "from serving.config.testing import fake_versions\n"
                      "from tests.serving.test_rest_api import http\nimport numpy.testing\n")
    assert [name for _, name in _test_module_imports(module)] == [
        "serving.config.configs_test", "tests.serving.test_rest_api"]


def _undocumented(tree: ast.AST, where: str) -> List[str]:
    missing = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if child.name.startswith("_"):
                    continue
                if ast.get_docstring(child) is None:
                    missing.append(f"{where}:{child.lineno} {prefix}{child.name}")
                if isinstance(child, ast.ClassDef):
                    visit(child, f"{prefix}{child.name}.")

    visit(tree, "")
    return missing


@pytest.mark.parametrize("package", sorted(ALLOWED_IMPORTS))
def test_every_public_function_and_class_has_a_docstring(package):
    missing = [entry
               for path in _sources(package, with_tests=False)
               for entry in _undocumented(ast.parse(path.read_text()), str(path.relative_to(ROOT)))]
    assert not missing, "public names without a docstring:\n" + "\n".join(missing)


def test_the_docstring_check_sees_a_bare_method():
    tree = ast.parse("class Served:\n    '''Why.'''\n    def predict(self):\n        pass\n"
                     "    def _private(self):\n        pass\n")
    assert _undocumented(tree, "m.py") == ["m.py:3 Served.predict"]
