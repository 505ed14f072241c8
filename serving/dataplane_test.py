"""serving.dataplane: a server fault becomes INTERNAL and is counted in the error metric."""
import pytest

from serving import errors
from serving.dataplane import DataPlane
from serving.metrics import Metrics
from serving.repository import ModelRepository


def test_unexpected_exception_is_internal_and_counted():
    metrics = Metrics()
    plane = DataPlane(ModelRepository(), metrics)

    def broken():
        raise RuntimeError("boom")
    with pytest.raises(errors.ServingError) as info:
        plane._timed("m", "predict", "rest", broken)
    assert info.value.code.name == "INTERNAL" and info.value.http_status == 500
    assert "RuntimeError: boom" in info.value.message
    assert metrics.registry.get_sample_value(
        "tfxp_serving_request_errors_total",
        {"model": "m", "version": "", "api": "predict", "protocol": "rest",
         "code": "INTERNAL"}) == 1.0
