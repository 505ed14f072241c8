"""Version folders and labels as TF Serving reads them (no server needed)."""
import pathlib

from serving import configs


def _saved_model(path: pathlib.Path) -> pathlib.Path:
    path.mkdir(parents=True)
    (path / "saved_model.pb").write_bytes(b"")
    return path


def test_padded_version_folders_are_that_version_and_keep_their_name(tmp_path):
    padded = _saved_model(tmp_path / "00000123")
    plain = _saved_model(tmp_path / "7")
    (tmp_path / "8").mkdir()                      # no SavedModel: not a version
    _saved_model(tmp_path / ".tmp-9")             # hidden temp folder of a push in progress
    _saved_model(tmp_path / "v10")
    assert configs.version_dirs(tmp_path) == {7: plain, 123: padded}
    assert configs.scan_versions(tmp_path) == [7, 123]
    assert configs.version_dirs(tmp_path / "absent") == {}


def test_labelled_version_dir_reads_models_config(tmp_path):
    stable = _saved_model(tmp_path / "census" / "0001")
    canary = _saved_model(tmp_path / "census" / "2")
    assert configs.labelled_version_dir(tmp_path, "census") is None      # no config yet
    config = configs.parse_models_config("")
    configs.add_model(config, "census", stable=1, canary=2)
    configs.write_models_config(tmp_path, config)
    assert configs.labelled_version_dir(tmp_path, "census") == stable
    assert configs.labelled_version_dir(tmp_path, "census", configs.CANARY) == canary
    assert configs.labelled_version_dir(tmp_path, "other") is None
