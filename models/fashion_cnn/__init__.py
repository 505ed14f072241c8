"""Fashion-MNIST: the documented CNN with an augmentation block, TFLite exports and a Tuner."""
from models.fashion_cnn.spec import SPEC  # noqa: F401
