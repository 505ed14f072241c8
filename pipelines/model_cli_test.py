"""`tfxp model new|list` and `tfxp run --csv` as a user types them: listings, refusals, flags."""
import pandas as pd
import pytest

from data import settings
from pipelines import cli


@pytest.fixture
def plugin_dirs(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "USER_MODELS_PATH", [tmp_path / "models"])
    monkeypatch.setattr(settings, "USER_MODELS_INDEX", tmp_path / "home" / "user_models.json")
    return tmp_path


def test_model_list_shows_every_model_and_where_it_comes_from(plugin_dirs, capsys):
    package = plugin_dirs / "models" / "toy"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "spec.py").write_text("")
    assert cli.main(["model", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["model", "from"]
    assert lines[1].split() == ["census", "built-in"]
    assert lines[-1].split()[:3] == ["toy", "search", "path"]


def test_model_new_refuses_a_one_class_label_saying_why(plugin_dirs, capsys):
    csv = plugin_dirs / "one.csv"
    pd.DataFrame({"x": range(30), "y": ["same"] * 30}).to_csv(csv, index=False)
    assert cli.main(["model", "new", "one", "--csv", str(csv), "--label", "y"]) == 1
    err = capsys.readouterr().err
    assert "tfxp model: error: the data cannot become a model as it is" in err
    assert "error: y: the label has only 'same': there is nothing to learn" in err
    assert not (plugin_dirs / "models" / "one").exists()


def test_label_without_csv_is_an_error(capsys):
    assert cli.main(["run", "--label", "y"]) == 1
    assert "--label, --task and --exclude go with --csv" in capsys.readouterr().err


def test_csv_cannot_name_a_built_in_model(plugin_dirs, capsys):
    csv = plugin_dirs / "data.csv"
    pd.DataFrame({"x": range(30), "y": [0, 1] * 15}).to_csv(csv, index=False)
    assert cli.main(["run", "--csv", str(csv), "--label", "y", "--model", "digits_mlp"]) == 1
    assert "'digits_mlp' is taken by the built-in models" in capsys.readouterr().err
