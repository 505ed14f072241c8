"""serving.server.dataplane: a server fault becomes INTERNAL and is counted in the error metric."""
import types

import pytest

from serving.server import errors
from serving.server.dataplane import DataPlane
from serving.server.metrics import Metrics


def test_unexpected_exception_is_internal_and_counted():
    metrics = Metrics()
    resolved = types.SimpleNamespace(name="m", version=3)
    repository = types.SimpleNamespace(resolve=lambda name, version, label: resolved,
                                       labels=lambda name: {})
    plane = DataPlane(repository, metrics)

    def broken(model):
        raise RuntimeError(f"boom in version {model.version}")
    with pytest.raises(errors.ServingError) as info:
        plane._timed("m", "predict", "rest", broken)
    assert info.value.code.name == "INTERNAL" and info.value.http_status == 500
    assert "RuntimeError: boom in version 3" in info.value.message
    assert metrics.registry.get_sample_value(
        "tfxp_serving_request_errors_total",
        {"model": "m", "version": "3", "label": "", "api": "predict", "protocol": "rest",
         "code": "INTERNAL"}) == 1.0
