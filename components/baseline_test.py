"""The baseline is the newest blessed model that is not the candidate."""
from tfx.types import standard_artifacts

from components.baseline import PreviousBlessedModelStrategy


def _model(artifact_id):
    model = standard_artifacts.Model()
    model.id = artifact_id
    return model


def _blessing(model_id, blessed=True):
    blessing = standard_artifacts.ModelBlessing()
    blessing.set_int_custom_property("current_model_id", model_id)
    blessing.set_int_custom_property("blessed", int(blessed))
    return blessing


def _resolve(candidate, models, blessings):
    return PreviousBlessedModelStrategy().resolve_artifacts(
        None, {"candidate": candidate, "model": models, "model_blessing": blessings})


def test_a_blessed_candidate_is_never_its_own_baseline():
    m1, m2 = _model(1), _model(2)
    result = _resolve([m2], [m1, m2], [_blessing(1), _blessing(2)])
    assert [m.id for m in result["model"]] == [1]
    assert result["candidate"] == [m2]


def test_unblessed_models_are_skipped_and_none_blessed_means_no_baseline():
    models = [_model(1), _model(2), _model(3)]
    assert [m.id for m in _resolve([models[2]], models,
                                   [_blessing(1), _blessing(2, blessed=False)])["model"]] == [1]
    assert _resolve([models[0]], models[:1], [_blessing(1)])["model"] == []
    assert _resolve([models[0]], [], [])["model"] == []
