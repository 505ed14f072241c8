"""`tfxp model new` refuses what cannot become a model before writing anything, and sets the
blessing thresholds above what guessing scores."""
import numpy as np
import pandas as pd
import pytest

from data import settings
from models.scaffold import profile, writer


@pytest.fixture
def out(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "USER_MODELS_PATH", [tmp_path / "models"])
    monkeypatch.setattr(settings, "USER_MODELS_INDEX", tmp_path / "home" / "user_models.json")
    return tmp_path / "models"


def _csv(tmp_path, **columns):
    path = tmp_path / "data.csv"
    pd.DataFrame(columns).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("name, problem", [
    ("Bad-Name", "lower-case Python identifier"),
    ("class", "lower-case Python identifier"),
    ("census", "is a built-in model"),
    ("json", "already an importable module"),
])
def test_a_name_that_cannot_be_a_package_is_refused(out, name, problem):
    with pytest.raises(profile.ScaffoldError, match=problem):
        writer.check_name(name, out / name, force=False)


def test_an_existing_package_needs_force(out):
    (out / "mine").mkdir(parents=True)
    with pytest.raises(profile.ScaffoldError, match="already exists; pass --force"):
        writer.check_name("mine", out / "mine", force=False)
    writer.check_name("mine", out / "mine", force=True)


def test_a_one_class_label_is_refused_and_nothing_is_written(out, tmp_path):
    csv = _csv(tmp_path, x=np.arange(50) % 7, y=["yes"] * 50)
    with pytest.raises(profile.ScaffoldError, match="the label has only 'yes'"):
        writer.new_model("one_class", csv, "y", out=out)
    assert not (out / "one_class").exists()


def test_a_leaking_column_is_refused_with_the_exclude_to_use(out, tmp_path):
    rng = np.random.default_rng(0)
    label = rng.choice(["a", "b"], size=200)
    csv = _csv(tmp_path, x=rng.normal(size=200), copy=label, y=label)
    with pytest.raises(profile.ScaffoldError, match="rerun with --exclude copy"):
        writer.new_model("leaky", csv, "y", out=out)
    assert not (out / "leaky").exists()


def test_an_unknown_label_column_names_the_columns(out, tmp_path):
    csv = _csv(tmp_path, x=[1, 2], y=[0, 1])
    with pytest.raises(profile.ScaffoldError, match="--label z: no such column; the columns "
                                                    "are x, y"):
        writer.new_model("nolabel", csv, "z", out=out)


def test_thresholds_demand_better_than_guessing():
    binary = writer.thresholds_for("binary", {"accuracy": 0.6, "auc": 0.5})
    assert binary["binary_accuracy"] == pytest.approx(0.64) and binary["auc"] == 0.55
    multiclass = writer.thresholds_for("multiclass", {"accuracy": 0.4})
    assert multiclass["sparse_categorical_accuracy"] == pytest.approx(0.46)
    regression = writer.thresholds_for("regression", {"mean_squared_error": 100.0})
    assert regression["mean_squared_error"] == pytest.approx(90.0)


def test_the_default_name_comes_from_the_file_name():
    assert writer.default_name("/data/Breast Cancer.v2.csv") == "breast_cancer"
