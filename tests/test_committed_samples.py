"""Each model's committed sample (the data of the e2e runs) passes that model's own data gate
against what a real stable version carries: the training statistics of the full prepared data
that `make run` trains and pushes.

It lives here, not beside components/data_gate.py, because it joins two layers that do not import
each other: the gate (components) and the model specs (models).
"""
import pytest
import tensorflow_data_validation as tfdv

from components import data_gate
from data import settings, validation
from models import registry


def _split_statistics(folder):
    files = sorted(p for p in folder.iterdir() if p.is_file())
    return validation.statistics_from_examples(
        [r for path in files for r in validation.read_examples(str(path))])


@pytest.mark.requires("prepared-data")
@pytest.mark.parametrize("model", ["census", "digits_mlp", "fashion_cnn", "sentiment_rnn",
                                   "stock_trend"])
def test_every_models_committed_sample_passes_its_own_gate_against_the_full_data(model):
    """No train/eval skew, enough rows, and no drift against the train split a version trained
    by `make run` carries (StatisticsGen's statistics of the full prepared train split)."""
    spec = registry.get(model)
    train, eval_split = spec.splits[:2]
    full_train = settings.PREPARED_ROOT / model / train
    schema = tfdv.load_schema_text(str(spec.schema_path))
    statistics = {split: _split_statistics(spec.sample_dir / split)
                  for split in (train, eval_split)}
    report = data_gate.check({}, statistics, schema, spec.min_split_examples, train, eval_split,
                             stable_statistics=_split_statistics(full_train),
                             stable_version_dir=str(full_train))
    assert report.drift, "the schema's drift comparators measured nothing"
    assert not report.drifted and not any(d.exceeded for d in report.skew)
