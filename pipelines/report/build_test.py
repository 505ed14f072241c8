"""What `tfxp report` writes and how it says there is nothing to report yet."""
import pytest

from pipelines.report import build, gather


def test_page_names_are_unique_per_run_and_safe_in_a_file_name():
    assert build.page_name("census-sample", "2026-12-04T19:45:07.123456-4242") == \
        "census-sample-20261204T19450712345.html"


def test_the_hint_is_the_command_that_makes_a_run():
    assert build.run_command_hint("census", sample=True) == "tfxp run --model census --sample"
    assert build.run_command_hint("digits_mlp", sample=False) == "tfxp run --model digits_mlp"


def test_no_runs_at_all_is_an_error_naming_the_command_to_run(tmp_path):
    with pytest.raises(gather.NoRunsError, match=r"Run `tfxp run --model census --sample` "
                                                 r"first"):
        build.build_reports(["census"], tmp_path / "out", sample=True,
                            home=str(tmp_path / "home"))
    assert not (tmp_path / "out").exists()


def test_a_pipeline_root_or_run_id_applies_to_one_model(tmp_path):
    with pytest.raises(ValueError, match="apply to one model"):
        build.build_reports(["census", "digits_mlp"], tmp_path, home=str(tmp_path))
