"""The serving labels the report's index shows, from TF Serving's models.config."""
import pathlib
from typing import Dict

from serving.config import configs


def serving_labels(models_config: pathlib.Path) -> Dict[str, Dict[str, int]]:
    """model -> {label: version} from TF Serving's models.config; empty when absent or unreadable
    (a report never fails on the serving config)."""
    if not models_config.is_file():
        return {}
    try:
        config = configs.read_models_config(models_config)
    except (configs.ConfigError, OSError):
        return {}
    return {entry.name: dict(entry.version_labels)
            for entry in config.model_config_list.config}
