"""Census feature keys: the raw CSV columns grouped by how Transform treats them."""
from data.census import COLUMNS, LABELS

NUMERIC_FEATURES = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss",
                    "hours_per_week"]
CATEGORICAL_FEATURES = ["workclass", "education", "marital_status", "occupation",
                        "relationship", "race", "sex", "native_country"]
LABEL_KEY = "income"
POSITIVE_LABEL = LABELS[1]
MISSING_TOKEN = "__missing__"
SLICE_FEATURES = ["sex", "race"]

assert sorted(NUMERIC_FEATURES + CATEGORICAL_FEATURES + [LABEL_KEY]) == sorted(COLUMNS)


def transformed_name(key: str) -> str:
    """The key Transform writes a feature under: the "_xf" suffix keeps raw and transformed keys
    apart where both appear (signatures, TFMA slices)."""
    return key + "_xf"


TRANSFORMED_LABEL_KEY = transformed_name(LABEL_KEY)
