"""Census income (UCI Adult): the documented logistic regression and a DNN variant."""
from models.census.spec import SPEC  # noqa: F401
