"""Fashion-MNIST feature keys: one PNG-encoded image and its class label."""
from data.fashion_mnist import CLASS_NAMES, IMAGE_KEY, IMAGE_SIZE, LABEL_KEY

NUM_CLASSES = len(CLASS_NAMES)
IMAGE_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)


def transformed_name(key: str) -> str:
    """The key Transform writes a feature under: the "_xf" suffix keeps raw and transformed keys
    apart where both appear (signatures, TFMA slices)."""
    return key + "_xf"


TRANSFORMED_IMAGE_KEY = transformed_name("image")
TRANSFORMED_LABEL_KEY = transformed_name(LABEL_KEY)
__all__ = ["CLASS_NAMES", "IMAGE_KEY", "IMAGE_SIZE", "LABEL_KEY", "NUM_CLASSES", "IMAGE_SHAPE",
           "TRANSFORMED_IMAGE_KEY", "TRANSFORMED_LABEL_KEY", "transformed_name"]
