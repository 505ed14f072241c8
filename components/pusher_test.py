"""The versioned Pusher: consecutive integer versions, atomic copies, no duplicate pushes."""
import json

from tfx.proto import pusher_pb2
from tfx.types import standard_artifacts
from google.protobuf import json_format

from components import pusher


def _model_dir(path, content: bytes):
    path.mkdir(parents=True)
    (path / "saved_model.pb").write_bytes(b"graph")
    (path / "fingerprint.pb").write_bytes(content)
    (path / "variables").mkdir()
    (path / "variables" / "variables.index").write_bytes(content)
    return path


def _push(tmp_path, model_dir, base, blessed=True):
    model = standard_artifacts.Model()
    model.uri = str(model_dir.parent)
    blessing = standard_artifacts.ModelBlessing()
    blessing.uri = str(tmp_path / "blessing")
    blessing.set_int_custom_property("blessed", int(blessed))
    pushed = standard_artifacts.PushedModel()
    pushed.uri = str(tmp_path / f"pushed-{len(list(tmp_path.glob('pushed-*')))}")
    destination = pusher_pb2.PushDestination(
        filesystem=pusher_pb2.PushDestination.Filesystem(base_directory=str(base)))
    pusher.Executor().Do({"model": [model], "model_blessing": [blessing]},
                         {"pushed_model": [pushed]},
                         {"push_destination": json.dumps(json_format.MessageToDict(destination))})
    return pushed


def test_versions_are_consecutive_integers_and_ignore_other_entries(tmp_path):
    base = tmp_path / "serving"
    (base / "3").mkdir(parents=True)
    (base / ".incoming-4").mkdir()
    (base / "notes").mkdir()
    assert pusher.integer_versions(str(base)) == [3]
    assert pusher.integer_versions(str(tmp_path / "absent")) == []


def test_first_push_is_version_1_then_2_and_identical_models_are_not_pushed_twice(tmp_path):
    base = tmp_path / "serving"
    first = _push(tmp_path, _model_dir(tmp_path / "m1" / "Format-Serving", b"one"), base)
    assert first.get_string_custom_property("pushed_version") == "1"
    assert (base / "1" / "saved_model.pb").exists()

    second = _push(tmp_path, _model_dir(tmp_path / "m2" / "Format-Serving", b"two"), base)
    assert second.get_string_custom_property("pushed_version") == "2"

    again = _push(tmp_path, _model_dir(tmp_path / "m3" / "Format-Serving", b"one"), base)
    assert again.get_string_custom_property("pushed_version") == "1"
    assert again.get_int_custom_property(pusher.REUSED_VERSION_KEY) == 1
    assert sorted(p.name for p in base.iterdir()) == ["1", "2"]


def test_unblessed_model_is_not_pushed(tmp_path):
    base = tmp_path / "serving"
    pushed = _push(tmp_path, _model_dir(tmp_path / "m" / "Format-Serving", b"x"), base,
                   blessed=False)
    assert pushed.get_int_custom_property("pushed") == 0
    assert pusher.integer_versions(str(base)) == []
