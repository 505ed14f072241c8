"""The versioned Pusher: consecutive integer versions, atomic copies, no duplicate pushes."""
import json
import subprocess
import sys

import pytest

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


def test_the_next_version_follows_the_highest_saved_model_padded_names_included(tmp_path):
    base = tmp_path / "serving"
    _model_dir(base / "0003", b"three")
    (base / "7").mkdir()
    (base / "notes").mkdir()
    pushed = _push(tmp_path, _model_dir(tmp_path / "m" / "Format-Serving", b"new"), base)
    assert pushed.get_string_custom_property("pushed_version") == "4"
    again = _push(tmp_path, _model_dir(tmp_path / "m3" / "Format-Serving", b"three"), base)
    assert again.get_string_custom_property("pushed_version") == "3"
    assert again.get_string_custom_property("pushed_destination") == str(base / "0003")


def test_pushed_properties_are_the_ones_tfx_records(tmp_path):
    """TFX's Pusher records a push through private methods; if TFX changes what it records, this
    fails and mark_pushed/mark_not_pushed must follow."""
    from tfx.components.pusher import executor as tfx_executor

    ours, theirs = standard_artifacts.PushedModel(), standard_artifacts.PushedModel()
    pusher.mark_pushed(ours, "/models/census/4", 4)
    tfx_executor.Executor()._MarkPushed(theirs, pushed_destination="/models/census/4",
                                        pushed_version="4")
    assert ours.mlmd_artifact.custom_properties == theirs.mlmd_artifact.custom_properties
    pusher.mark_not_pushed(ours)
    tfx_executor.Executor()._MarkNotPushed(theirs)
    assert ours.get_int_custom_property("pushed") == theirs.get_int_custom_property("pushed") == 0


def test_a_staging_folder_left_by_a_killed_push_is_removed_by_the_next(tmp_path):
    base = tmp_path / "serving"
    (base / ".incoming-1-999").mkdir(parents=True)
    (base / ".incoming-1-999" / "saved_model.pb").write_bytes(b"half")
    _push(tmp_path, _model_dir(tmp_path / "m" / "Format-Serving", b"one"), base)
    assert sorted(p.name for p in base.iterdir()) == [pusher.PUSH_LOCK, "1"]


def test_an_unwritable_destination_is_a_clear_error_that_pushes_nothing(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(pusher.PushDestinationError,
                       match=f"cannot write to the push destination {blocker}/census: "
                             ".*nothing was pushed"):
        _push(tmp_path, _model_dir(tmp_path / "m" / "Format-Serving", b"x"), blocker / "census")


_CONCURRENT_PUSH = """
import pathlib, sys, time
from components import pusher
go = pathlib.Path(sys.argv[3])
print("ready", flush=True)
while not go.exists():
    time.sleep(0.01)
print(pusher.push_model(sys.argv[1], sys.argv[2])[0])
"""


@pytest.mark.faults
def test_concurrent_pushes_of_different_models_get_distinct_versions(tmp_path):
    base = tmp_path / "serving"
    go = tmp_path / "go"
    models = [_model_dir(tmp_path / f"m{i}" / "Format-Serving", f"model {i}".encode() * 20000)
              for i in range(3)]
    children = [subprocess.Popen([sys.executable, "-c", _CONCURRENT_PUSH, str(m), str(base),
                                  str(go)], stdout=subprocess.PIPE, text=True) for m in models]
    assert [child.stdout.readline().strip() for child in children] == ["ready"] * 3
    go.touch()
    versions = sorted(int(child.communicate()[0]) for child in children)
    assert versions == [1, 2, 3]
    assert sorted(p.name for p in base.iterdir()) == [pusher.PUSH_LOCK, "1", "2", "3"]


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
    assert sorted(p.name for p in base.iterdir()) == [pusher.PUSH_LOCK, "1", "2"]


def test_unblessed_model_is_not_pushed(tmp_path):
    base = tmp_path / "serving"
    pushed = _push(tmp_path, _model_dir(tmp_path / "m" / "Format-Serving", b"x"), base,
                   blessed=False)
    assert pushed.get_int_custom_property("pushed") == 0
    assert not base.exists()


def test_the_pusher_labels_new_versions_first_stable_then_canary(tmp_path):
    """Labelling happens inside the Pusher, so every runner leaves a stable version behind."""
    destination = tmp_path / "models" / "census"
    for version in (1, 2, 3):
        (destination / str(version)).mkdir(parents=True)
        (destination / str(version) / "saved_model.pb").write_bytes(b"")
    assert pusher.label_pushed_version(str(destination), 1, "canary") == "stable=1 canary=-"
    assert pusher.label_pushed_version(str(destination), 2, "canary") == "stable=1 canary=2"
    assert pusher.label_pushed_version(str(destination), 3, "stable") == "stable=3 canary=-"
    with pytest.raises(ValueError, match="rollout must be one of"):
        pusher.VersionedPusher(rollout="sometimes")
