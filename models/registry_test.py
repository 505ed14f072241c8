"""Where models come from: built-in, entry points, the search path, packages recorded by
`tfxp model new --out`; each plug-in found through Python's own import and metadata machinery."""
import os
import sys
import textwrap

import pytest

from data import settings
from models import registry
from models.spec import ModelSpec

SPEC_SOURCE = textwrap.dedent('''\
    """A toy plug-in model."""
    import pathlib

    from models.spec import ModelSpec

    SPEC = ModelSpec(
        name={name!r}, example_format="csv", prepare_data=lambda out_dir: {{}},
        sample_dir=pathlib.Path(__file__).parent, schema_path=None,
        preprocessing_fn="{package}.spec.preprocessing_fn", run_fn="{package}.spec.run_fn",
        eval_config=lambda thresholds: None, thresholds={{}}, sample_thresholds={{}},
        key_metric="auc", train_steps=1, eval_steps=1, sample_train_steps=1,
        sample_eval_steps=1)
    ''')


def _package(root, package, name=None):
    folder = root / package
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("from .spec import SPEC  # noqa: F401\n")
    (folder / "spec.py").write_text(SPEC_SOURCE.format(name=name or package, package=package))
    return folder


@pytest.fixture
def plugin_dirs(tmp_path, monkeypatch):
    """An empty search path and index; imported plug-in modules are forgotten afterwards."""
    search = tmp_path / "search"
    search.mkdir()
    monkeypatch.setattr(settings, "USER_MODELS_PATH", [search])
    monkeypatch.setattr(settings, "USER_MODELS_INDEX", tmp_path / "home" / "user_models.json")
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv("PYTHONPATH", "")
    before = set(sys.modules)
    yield search
    for module in set(sys.modules) - before:
        del sys.modules[module]


def test_built_in_models_come_first_and_say_so(plugin_dirs):
    assert registry.names()[:5] == registry.built_in_names()
    assert registry.sources()["census"].origin == "built-in"


def test_a_package_on_the_search_path_is_a_model(plugin_dirs):
    _package(plugin_dirs, "toy_search")
    assert "toy_search" in registry.names()
    assert registry.sources()["toy_search"].origin.startswith("search path ")
    spec = registry.get("toy_search")
    assert isinstance(spec, ModelSpec) and spec.name == "toy_search"
    assert str(plugin_dirs.resolve()) in os.environ["PYTHONPATH"].split(os.pathsep)


def test_a_package_written_elsewhere_is_found_once_recorded(plugin_dirs, tmp_path):
    folder = _package(tmp_path / "elsewhere", "toy_elsewhere")
    assert "toy_elsewhere" not in registry.names()
    registry.record_package("toy_elsewhere", folder)
    assert registry.get("toy_elsewhere").name == "toy_elsewhere"
    assert "written by tfxp model new" in registry.sources()["toy_elsewhere"].origin


def test_an_entry_point_of_an_installed_distribution_is_a_model(plugin_dirs, tmp_path):
    site = tmp_path / "site"
    _package(site, "toy_installed")
    info = site / "toy_installed-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-installed\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[tfxp.models]\ntoy_installed = toy_installed\n")
    sys.path.insert(0, str(site))
    assert registry.sources()["toy_installed"].origin == \
        "entry point tfxp.models (toy-installed 1.0)"
    assert registry.get("toy_installed").name == "toy_installed"


def test_a_plug_in_cannot_take_a_built_in_name(plugin_dirs):
    _package(plugin_dirs, "census")
    assert registry.sources()["census"].origin == "built-in"
    assert [s.origin.split()[0] for s in registry.shadowed()] == ["search"]


def test_a_spec_named_unlike_its_package_is_refused(plugin_dirs):
    _package(plugin_dirs, "toy_misnamed", name="other")
    with pytest.raises(ValueError, match="its SPEC is named 'other'"):
        registry.get("toy_misnamed")


def test_an_unknown_model_lists_the_known_ones(plugin_dirs):
    with pytest.raises(KeyError, match="unknown model 'nope'; registered models: census"):
        registry.get("nope")
