"""Where a run reads its data from (`--data DIR`) and where it keeps its outputs."""
import pytest

from data import settings
from models import registry
from pipelines import run_paths


def test_user_folder_with_split_subfolders_uses_those_present(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "eval").mkdir()
    spec = registry.get("stock_trend")
    assert spec.splits[:2] == ("train", "eval") and len(spec.splits) == 3
    assert run_paths.resolve_data(spec, str(tmp_path), sample=False) == (tmp_path, ["train", "eval"])


def test_user_folder_of_plain_files_is_hash_split(tmp_path):
    (tmp_path / "rows.csv").write_text("age\n1\n")
    assert run_paths.resolve_data(registry.get("census"), str(tmp_path), sample=False) == (tmp_path, None)


def test_a_lone_eval_folder_or_a_missing_folder_is_a_clear_error(tmp_path):
    (tmp_path / "eval").mkdir()
    with pytest.raises(ValueError, match=r"need \['train', 'eval'\]"):
        run_paths.resolve_data(registry.get("census"), str(tmp_path), sample=False)
    with pytest.raises(FileNotFoundError, match="no such directory"):
        run_paths.resolve_data(registry.get("census"), str(tmp_path / "absent"), sample=False)


def test_sample_runs_keep_their_pushes_out_of_the_served_models(tmp_path):
    spec = registry.get("census")
    sample = run_paths.default_paths(spec, sample=True, home=str(tmp_path))
    full = run_paths.default_paths(spec, sample=False, home=str(tmp_path))
    assert sample.pipeline_name == "census-sample" and full.pipeline_name == "census"
    assert sample.serving_model_dir == (tmp_path / "serving_models" / "census").resolve()
    assert full.serving_model_dir == (settings.SERVING_ROOT / "census").resolve()
