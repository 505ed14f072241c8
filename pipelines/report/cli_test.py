"""`tfxp report` on the command line: its exit code and message without runs."""
from pipelines import cli


def test_report_without_runs_exits_1_naming_the_run_command(tmp_path, capsys):
    code = cli.main(["report", "--model", "census", "--sample", "--pipeline-root",
                     str(tmp_path / "home"), "--out", str(tmp_path / "out")])
    assert code == 1
    assert "tfxp report: no pipeline runs to report on" in capsys.readouterr().err


def test_report_of_an_unknown_model_names_the_registered_ones(capsys):
    assert cli.main(["report", "--model", "nope"]) == 1
    assert "registered models: census" in capsys.readouterr().err
