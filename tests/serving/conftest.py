"""Fixtures: tiny SavedModels and a local server started on free loopback ports (a subprocess).

Set TFXP_SERVING_REST=host:port and TFXP_SERVING_GRPC=host:port to run the conformance tests
against a real tensorflow_model_server instead; it must serve the models `build_tree` writes
(copy the tree from the `model_tree` fixture, or run `python -m tests.serving.conftest DIR`).
Tests that edit files on disk are marked `local_only` and skipped then.
"""
import pathlib
import sys

import pytest

from tests.serving.helpers import EXTERNAL_GRPC, EXTERNAL_REST, local_server

MODELS_CONFIG = """model_config_list {
  config { name: "half" base_path: "/models/half" model_platform: "tensorflow"
           model_version_policy { specific { versions: 1 versions: 2 } }
           version_labels { key: "stable" value: 1 } version_labels { key: "canary" value: 2 } }
  config { name: "census" base_path: "/models/census" model_platform: "tensorflow" }
  config { name: "broken" base_path: "/models/broken" model_platform: "tensorflow" }
  config { name: "tf1_half" base_path: "/models/tf1_half" model_platform: "tensorflow" }
  config { name: "tf2_square" base_path: "/models/tf2_square" model_platform: "tensorflow" }
  config { name: "keras_sum" base_path: "/models/keras_sum" model_platform: "tensorflow" }
  config { name: "tf1_shapes" base_path: "/models/tf1_shapes" model_platform: "tensorflow" }
}
"""


def build_tree(root: pathlib.Path) -> pathlib.Path:
    """half/1 (x*2), half/2 (x*3), census/1, broken/1 (ok) and broken/2 (corrupt saved_model.pb),
    and models this project did not train, in padded version folders: a TF1 Builder export with
    imprecise TensorInfo (tf1_half/00000123), a TF1 graph whose placeholders declare shapes
    (tf1_shapes/1, testing.DECLARED_SHAPES), a TF2 tf.Module (tf2_square/00000007) and a Keras
    Sequential model (keras_sum/00000001)."""
    from serving.config import configs
    from serving.server import testing
    testing.build_tf1_half_plus_two(root / "tf1_half" / "00000123")
    testing.build_tf1_declared_shapes(root / "tf1_shapes" / "1")
    testing.build_tf2_module(root / "tf2_square" / "00000007")
    testing.build_keras_sequential(root / "keras_sum" / "00000001")
    testing.build_affine(root / "half" / "1", 2.0)
    testing.build_affine(root / "half" / "2", 3.0)
    testing.build_census_like(root / "census" / "1")
    testing.build_affine(root / "broken" / "1", 5.0)
    (root / "broken" / "2").mkdir(parents=True)
    (root / "broken" / "2" / "saved_model.pb").write_bytes(b"this is not a SavedModel")
    (root / configs.MODELS_CONFIG).write_text(MODELS_CONFIG)
    configs.write_aux_configs(root)
    return root


class External:
    rest, grpc, root = EXTERNAL_REST, EXTERNAL_GRPC, None


@pytest.fixture(scope="session")
def model_tree(tmp_path_factory):
    return build_tree(tmp_path_factory.mktemp("serving") / "models")


@pytest.fixture(scope="session")
def server(model_tree):
    """The read-only conformance server (or the external one)."""
    if EXTERNAL_REST:
        yield External()
        return
    srv = local_server(model_tree, "--rest_api_max_body_bytes=200000")
    yield srv
    srv.stop()


def pytest_collection_modifyitems(config, items):
    if EXTERNAL_REST:
        skip = pytest.mark.skip(reason="edits local files; not run against an external server")
        for item in items:
            if "local_only" in item.keywords:
                item.add_marker(skip)


def pytest_configure(config):
    config.addinivalue_line("markers", "local_only: needs the local server's model files")


if __name__ == "__main__":
    build_tree(pathlib.Path(sys.argv[1]))
