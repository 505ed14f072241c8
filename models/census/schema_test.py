"""The curated census schema agrees with the real data and rejects what it should."""
import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import schema_pb2

from data import settings
from models.census import features
from models.census.spec import SPEC

SCHEMA = SPEC.schema_path


def _stats(csv_path):
    return tfdv.generate_statistics_from_csv(str(csv_path))


def test_schema_types_domains_and_serving_environment():
    schema = tfdv.load_schema_text(str(SCHEMA))
    by_name = {f.name: f for f in schema.feature}
    for key in features.NUMERIC_FEATURES:
        assert by_name[key].type == schema_pb2.INT
    for key in features.CATEGORICAL_FEATURES:
        assert by_name[key].type == schema_pb2.BYTES
        assert tfdv.get_domain(schema, key).value
    assert by_name["age"].int_domain.min == 17
    assert list(by_name["income"].not_in_environment) == ["SERVING"]
    assert set(tfdv.get_domain(schema, "income").value) == {"<=50K", ">50K"}
    assert by_name["age"].presence.min_fraction == 1.0
    assert by_name["occupation"].presence.min_fraction < 1.0


def test_the_committed_sample_has_no_anomalies():
    schema = tfdv.load_schema_text(str(SCHEMA))
    for split in ("train", "eval"):
        stats = _stats(settings.SAMPLES_ROOT / "census" / split / f"census_{split}.csv")
        anomalies = tfdv.validate_statistics(stats, schema, environment="TRAINING")
        assert not anomalies.anomaly_info, anomalies


def test_out_of_range_age_and_unknown_category_are_anomalies(tmp_path):
    source = settings.SAMPLES_ROOT / "census" / "eval" / "census_eval.csv"
    lines = source.read_text().splitlines()
    header = lines[0].split(",")
    bad = lines[1].split(",")
    bad[header.index("age")] = "300"
    bad[header.index("workclass")] = "Astronaut"
    corrupted = tmp_path / "bad.csv"
    corrupted.write_text("\n".join([lines[0], ",".join(bad)] + lines[2:]) + "\n")
    anomalies = tfdv.validate_statistics(_stats(corrupted), tfdv.load_schema_text(str(SCHEMA)))
    assert {"age", "workclass"} <= set(anomalies.anomaly_info)


def test_serving_environment_does_not_require_the_label(tmp_path):
    schema = tfdv.load_schema_text(str(SCHEMA))
    lines = (settings.SAMPLES_ROOT / "census" / "eval" / "census_eval.csv").read_text().splitlines()
    serving_csv = tmp_path / "serving.csv"
    serving_csv.write_text("\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n")
    anomalies = tfdv.validate_statistics(_stats(serving_csv), schema, environment="SERVING")
    assert "income" not in anomalies.anomaly_info
    training = tfdv.validate_statistics(_stats(serving_csv), schema, environment="TRAINING")
    assert "income" in training.anomaly_info
