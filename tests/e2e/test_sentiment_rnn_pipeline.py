"""sentiment_rnn end to end on the committed sample: blessed above the majority-class rate,
pushed, and the pushed model answers raw text and tf.Examples alike.

The pipeline runs in a `tfxp` subprocess (as for census): run in-process with
workflow.run_models, then loading the pushed model, the pytest process segfaulted at exit."""
import pathlib

import numpy as np
import pytest
import tensorflow as tf

from data import rotten_tomatoes
from models import registry
from serving.server import json_codec
from serving.server.signature import LoadedModel
from tests.e2e.tfxp import run_tfxp

SPEC = registry.get("sentiment_rnn")


def _example(text: str) -> bytes:
    return tf.train.Example(features=tf.train.Features(feature={
        "text": tf.train.Feature(bytes_list=tf.train.BytesList(value=[text.encode()]))
    })).SerializeToString()


@pytest.mark.e2e
def test_sample_pipeline_pushes_a_model_that_reads_raw_text(tmp_path):
    serving_dir = tmp_path / "serving"
    result = run_tfxp("run", "--model", "sentiment_rnn", "--sample", "--pipeline-root",
                      str(tmp_path / "home"), "--serving-dir", str(serving_dir),
                      "--no-infra-validation", "--rollout", "none")
    summary = result.stdout + result.stderr
    assert result.returncode == 0, summary
    assert "blessed: yes" in summary and "mean_label" in summary
    versions = sorted(p for p in serving_dir.iterdir() if p.name.isdigit())
    assert len(versions) == 1

    loaded = tf.saved_model.load(str(versions[0]))
    assert set(SPEC.serving_signatures) <= set(loaded.signatures)
    serve_text = loaded.signatures["serving_text"]
    assert list(serve_text.structured_input_signature[1]) == ["text"]  # {"instances": [...]}
    texts = [text for text, _ in rotten_tomatoes.read_csv(
        rotten_tomatoes.split_file(SPEC.sample_dir, "eval"))[:8]] + ["a gripping film"]
    by_text = serve_text(text=tf.constant(texts))
    probabilities = by_text["probabilities"].numpy()
    assert probabilities.shape == (len(texts), 1) and np.all((0 < probabilities) & (probabilities < 1))
    assert set(by_text["sentiment"].numpy()) <= {b"fresh", b"rotten"}
    by_example = loaded.signatures["serving_default"](
        examples=tf.constant([_example(t) for t in texts]))["probabilities"].numpy()
    np.testing.assert_allclose(by_example, probabilities, rtol=1e-5)
    assert pathlib.Path(versions[0], "assets").is_dir()      # the Transform vocabulary ships along

    rest = LoadedModel.load("sentiment_rnn", 1, versions[0]).signature("serving_text")
    for body in ({"instances": ["a gripping film"]}, {"instances": [{"text": "a gripping film"}]}):
        inputs, fmt = json_codec.decode_predict(body, rest)
        response = json_codec.encode_predict(rest.run(inputs), fmt)
        prediction = response["predictions"][0]
        assert prediction["probabilities"][0] == pytest.approx(float(probabilities[-1][0]), rel=1e-5)
        assert prediction["sentiment"] in ("fresh", "rotten")
