"""The sample rollout state the committed manifests are generated from, for tests."""
import pathlib

from serving.config import configs
from serving.config.testing import fake_versions
from serving.rollout import canary

STABLE_V, CANARY_V = 1700000000, 1700086400


def sample_state(root: pathlib.Path, weight=10) -> pathlib.Path:
    """models.config with census stable and canary at `weight`, and router.json."""
    fake_versions(root, "census", STABLE_V, CANARY_V)
    config = configs.build_models_config(root)
    configs.set_served_versions(configs.model_entry(config, "census"), STABLE_V)
    configs.write_models_config(root, config)
    canary.start(root, "census", CANARY_V, weight=weight)
    return root
