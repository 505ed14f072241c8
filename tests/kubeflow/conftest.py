"""Compiles every registered model once per test session (the TFX import dominates: ~8 s)."""
import dataclasses
import pathlib
from typing import Any, Dict, Optional

import pytest
import yaml

from models import registry

IMAGE = "registry.example/tfxp:test"
ROOT = "gs://tfxp-test-bucket/tfxp"


@dataclasses.dataclass
class Compiled:
    model: str
    path: Optional[pathlib.Path] = None
    spec: Optional[Dict[str, Any]] = None
    result: Any = None
    error: Optional[BaseException] = None

    def require(self) -> "Compiled":
        if self.error is not None:
            pytest.fail(f"{self.model} did not compile: {type(self.error).__name__}: {self.error}")
        return self


@pytest.fixture(scope="session")
def compiled_specs(tmp_path_factory) -> Dict[str, Compiled]:
    from kubeflow import compile as kubeflow_compile

    out_dir = tmp_path_factory.mktemp("kubeflow-specs")
    compiled = {}
    for model in registry.names():
        entry = Compiled(model)
        try:
            entry.result = kubeflow_compile.compile_model(
                model, image=IMAGE, pipeline_root=ROOT, out_dir=out_dir,
                infra_validation=True)
            entry.path = entry.result.path
            entry.spec = yaml.safe_load(entry.path.read_text())
        except Exception as error:  # reported by each test of that model, not as a session error
            entry.error = error
        compiled[model] = entry
    return compiled


@pytest.fixture
def census_spec(compiled_specs) -> pathlib.Path:
    return compiled_specs["census"].require().path


@pytest.fixture
def kfp_api():
    """A loopback KFP v2beta1 API (fake_kfp.FakeKfp) and its URL, stopped after the test."""
    from tests.kubeflow.fake_kfp import FakeKfp

    fake = FakeKfp()
    url = fake.start()
    yield fake, url
    fake.stop()
