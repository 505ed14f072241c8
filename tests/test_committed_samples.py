"""Each model's committed sample (the data of the e2e runs) passes that model's own data gate.

It lives here, not beside components/data_gate.py, because it joins two layers that do not import
each other: the gate (components) and the model specs (models).
"""
import pytest
import tensorflow_data_validation as tfdv

from components import data_gate
from data import validation
from models import registry


@pytest.mark.parametrize("model", ["census", "digits_mlp", "fashion_cnn", "sentiment_rnn",
                                   "stock_trend"])
def test_every_models_committed_sample_passes_its_own_gate(model):
    """The e2e sample runs: no train/eval skew, enough rows, and no drift against themselves."""
    spec = registry.get(model)
    schema = tfdv.load_schema_text(str(spec.schema_path))
    statistics = {}
    for split in spec.splits[:2]:
        files = sorted(p for p in (spec.sample_dir / split).iterdir() if p.is_file())
        statistics[split] = validation.statistics_from_examples(
            [r for path in files for r in validation.read_examples(str(path))])
    report = data_gate.check({}, statistics, schema, spec.min_split_examples, *spec.splits[:2],
                             stable_statistics=statistics[spec.splits[0]])
    assert not report.drifted and not any(d.exceeded for d in report.skew)
