"""serving.server.repository with an injected loader (no TensorFlow load): version policy, labels,
availability-preserving loads and retirement, as TF Serving's core layer behaves."""
import pathlib
import types

import pytest
from google.protobuf import text_format
from tensorflow_serving.apis import get_model_status_pb2
from tensorflow_serving.config import model_server_config_pb2

from serving.config.testing import fake_versions
from serving.server import errors
from serving.server.repository import ModelRepository, aspired_versions

State = get_model_status_pb2.ModelVersionStatus.State


class FakeLoader:
    """Loads every version folder as a plain object, except the versions listed in `fail`."""

    def __init__(self, *fail: int):
        self.fail = set(fail)
        self.loaded = []

    def __call__(self, name: str, version: int, path: pathlib.Path):
        if version in self.fail:
            raise ValueError(f"cannot read {path.name}\nsecond line")
        self.loaded.append((name, version))
        return types.SimpleNamespace(name=name, version=version, path=path)


def _config(text: str):
    return text_format.Parse(text, model_server_config_pb2.ModelServerConfig())


def _repository(tmp_path, loader, **kwargs):
    changes = []
    repository = ModelRepository(tmp_path, loader=loader, warmup=False,
                                 on_change=lambda *change: changes.append(change), **kwargs)
    return repository, changes


def _states(repository, name):
    return {s.version: (State.Name(s.state), s.status.error_message)
            for s in repository.status(name).model_version_status}


def test_policy_picks_the_aspired_versions():
    entry = _config('model_config_list { config { name: "m" base_path: "/m" '
                    'model_version_policy { latest { num_versions: 2 } } } }'
                    ).model_config_list.config[0]
    assert aspired_versions(entry, [1, 2, 3]) == [2, 3]
    entry.model_version_policy.specific.versions.extend([1, 9])
    assert aspired_versions(entry, [1, 2, 3]) == [1]
    entry.model_version_policy.all.SetInParent()
    assert aspired_versions(entry, [1, 2, 3]) == [1, 2, 3]
    entry.ClearField("model_version_policy")
    assert aspired_versions(entry, [1, 2, 3]) == [3]


def test_newest_version_answers_and_a_label_or_number_names_one(tmp_path):
    fake_versions(tmp_path, "m", 1, 2)
    loader = FakeLoader()
    repository, changes = _repository(tmp_path, loader)
    repository.apply_config(_config(
        'model_config_list { config { name: "m" base_path: "/models/m" '
        'model_version_policy { all {} } version_labels { key: "stable" value: 1 } } }'))
    assert sorted(loader.loaded) == [("m", 1), ("m", 2)]
    assert repository.resolve("m").version == 2
    assert repository.resolve("m", version=1).version == 1
    assert repository.resolve("m", label="stable").version == 1
    assert repository.labels("m") == {"stable": 1}
    assert sorted(changes) == [("m", 1, State.AVAILABLE), ("m", 2, State.AVAILABLE)]
    with pytest.raises(errors.ServingError, match="Unrecognized servable version label: canary"):
        repository.resolve("m", label="canary")
    with pytest.raises(errors.ServingError, match=r"Servable not found for request: "
                                                  r"Specific\(m, 7\)"):
        repository.resolve("m", version=7)
    with pytest.raises(errors.ServingError, match=r"Latest\(other\)"):
        repository.resolve("other")


def test_a_failed_load_is_reported_and_the_serving_version_keeps_serving(tmp_path):
    fake_versions(tmp_path, "m", 1)
    repository, _ = _repository(tmp_path, FakeLoader(2))
    repository.apply_config(_config('model_config_list { config { name: "m" '
                                    'base_path: "/models/m" } }'))
    fake_versions(tmp_path, "m", 2)
    repository.poll()
    assert _states(repository, "m") == {
        2: ("END", "ValueError: cannot read 2"), 1: ("AVAILABLE", "")}
    assert repository.resolve("m").version == 1


def test_a_retired_version_finishes_the_requests_that_hold_it(tmp_path):
    fake_versions(tmp_path, "m", 1)
    repository, changes = _repository(tmp_path, FakeLoader())
    repository.apply_config(_config('model_config_list { config { name: "m" '
                                    'base_path: "/models/m" } }'))
    in_flight = repository.resolve("m")
    fake_versions(tmp_path, "m", 2)
    repository.poll()
    assert repository.resolve("m").version == 2 and in_flight.version == 1
    assert _states(repository, "m") == {2: ("AVAILABLE", ""), 1: ("END", "")}
    assert changes[-1] == ("m", 1, State.END)


def test_a_label_on_a_version_not_yet_available_is_refused_unless_allowed(tmp_path):
    fake_versions(tmp_path, "m", 1)
    labelled = _config('model_config_list { config { name: "m" base_path: "/models/m" '
                       'model_version_policy { specific { versions: 1 versions: 2 } } '
                       'version_labels { key: "canary" value: 2 } } }')
    repository, _ = _repository(tmp_path, FakeLoader())
    with pytest.raises(errors.ServingError, match="Request to assign label to version 2 of "
                                                  "model m, which is not currently available"):
        repository.apply_config(labelled)
    assert repository.labels("m") == {}
    permissive, _ = _repository(tmp_path, FakeLoader(), allow_labels_for_unavailable=True)
    permissive.apply_config(labelled)
    assert permissive.labels("m") == {"canary": 2}


def test_a_model_dropped_from_the_config_answers_status_but_not_requests(tmp_path):
    fake_versions(tmp_path, "m", 1)
    fake_versions(tmp_path, "n", 1)
    repository, _ = _repository(tmp_path, FakeLoader())
    repository.apply_config(_config(
        'model_config_list { config { name: "m" base_path: "/models/m" } '
        'config { name: "n" base_path: "/models/n" } }'))
    repository.apply_config(_config('model_config_list { config { name: "n" '
                                    'base_path: "/models/n" } }'))
    assert _states(repository, "m") == {1: ("END", "")}
    with pytest.raises(errors.ServingError, match=r"Servable not found for request: Latest\(m\)"):
        repository.resolve("m")
    with pytest.raises(errors.ServingError, match="Could not find any versions of model x"):
        repository.status("x")
