"""Model name -> ModelSpec. Specs are imported lazily so the CLI starts without TensorFlow."""
import importlib
from typing import List

from models.spec import ModelSpec

# Registration order is the order `make run` trains them in.
_MODEL_MODULES = {
    "census": "models.census",
    "fashion_cnn": "models.fashion_cnn",
    "digits_mlp": "models.digits_mlp",
    "sentiment_rnn": "models.sentiment_rnn",
    "stock_trend": "models.stock_trend",
}


def names() -> List[str]:
    """The registered model names, in the order `make run` trains them."""
    return list(_MODEL_MODULES)


def get(name: str) -> ModelSpec:
    """The ModelSpec of model `name`; its package is imported only now, so the CLI starts
    without TensorFlow. An unknown name is a KeyError that lists the registered ones."""
    try:
        module = _MODEL_MODULES[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; registered models: {', '.join(names())}") from None
    return importlib.import_module(module).SPEC
