"""Digits feature keys: 784 raw pixel intensities (row-major 28x28) and the digit label."""
from data.digits import LABEL_KEY, NUM_CLASSES, NUM_PIXELS, PIXELS_KEY

IMAGE_SIZE = 28


def transformed_name(key: str) -> str:
    """The key Transform writes a feature under: the "_xf" suffix keeps raw and transformed keys
    apart where both appear (signatures, TFMA slices)."""
    return key + "_xf"


TRANSFORMED_PIXELS_KEY = transformed_name(PIXELS_KEY)
TRANSFORMED_LABEL_KEY = transformed_name(LABEL_KEY)
__all__ = ["LABEL_KEY", "NUM_CLASSES", "NUM_PIXELS", "PIXELS_KEY", "IMAGE_SIZE",
           "TRANSFORMED_PIXELS_KEY", "TRANSFORMED_LABEL_KEY", "transformed_name"]
