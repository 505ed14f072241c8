"""serving.server.request_log: sampling, PredictionLog contents, size rotation and the public reader."""
import numpy as np
import pytest
from tensorflow_serving.apis import regression_pb2
from tensorflow_serving.config import logging_config_pb2

from serving.config import configs
from serving.server.request_log import RequestLogger, RequestLogs, log_files, read_prediction_logs


class _Model:
    name, version = "m", 7


def _config(prefix, rate=1.0):
    config = logging_config_pb2.LoggingConfig()
    config.sampling_config.sampling_rate = rate
    config.log_collector_config.filename_prefix = str(prefix)
    return config


def test_predict_and_regress_logs_rotate_by_size_and_read_back(tmp_path):
    logger = RequestLogger("m", _config(tmp_path / "logs" / "m"), max_file_bytes=200)
    for i in range(10):
        logger.submit("predict", _Model, "serving_default",
                      {"x": np.full([4], i, np.float32)}, {"y": np.full([4], i * 2, np.float32)})
    result = regression_pb2.RegressionResult()
    result.regressions.add().value = 1.5
    request = regression_pb2.RegressionRequest()
    logger.submit("regress", _Model, "regress", lambda: request, result)
    logger.close()
    files = log_files(tmp_path / "logs" / "m")
    assert len(files) > 1 and all(f.name.startswith("m.") and f.suffix == ".tfrecord"
                                  for f in files)
    logs = list(read_prediction_logs(tmp_path / "logs" / "m"))
    assert [entry.WhichOneof("log_type") for entry in logs] == ["predict_log"] * 10 + [
        "regress_log"]
    assert list(logs[3].predict_log.request.inputs["x"].float_val or
                np.frombuffer(logs[3].predict_log.request.inputs["x"].tensor_content,
                              np.float32)) == [3.0] * 4
    assert logs[3].log_metadata.model_spec.version.value == 7
    assert logs[-1].regress_log.response.result.regressions[0].value == 1.5
    assert len(list(read_prediction_logs(tmp_path / "logs"))) == 11
    assert len(list(read_prediction_logs(files[0]))) >= 1


def test_sampling_rate_is_a_per_request_draw(tmp_path):
    """TF Serving's rule: each request logs when its own uniform draw is below the rate (not
    every 1/rate-th request); the seeded logger makes the same draws as random.Random(seed)."""
    import random

    logger = RequestLogger("m", _config(tmp_path / "m", 0.25), seed=1)
    draws = [logger.sampled() for _ in range(4000)]
    logger.close()
    same_seed = random.Random(1)
    assert draws == [same_seed.random() < 0.25 for _ in range(4000)]
    never = RequestLogger("m", _config(tmp_path / "n", 0.0))
    assert not any(never.sampled() for _ in range(100))
    never.close()


def test_config_without_prefix_is_a_config_error_and_loggers_follow_the_config(tmp_path):
    from tensorflow_serving.config import model_server_config_pb2
    config = model_server_config_pb2.ModelServerConfig()
    entry = config.model_config_list.config.add(name="m", base_path="/models/m")
    entry.logging_config.sampling_config.sampling_rate = 1.0
    logs = RequestLogs(tmp_path)
    with pytest.raises(configs.ConfigError, match="filename_prefix"):
        logs.configure(config)
    entry.logging_config.log_collector_config.filename_prefix = "logs/m"
    logs.configure(config)
    assert logs.get("m").prefix == tmp_path / "logs" / "m"
    entry.ClearField("logging_config")
    logs.configure(config)
    assert logs.get("m") is None
    logs.close()


def test_reading_nothing_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="no request-log files"):
        list(read_prediction_logs(tmp_path / "nothing"))
