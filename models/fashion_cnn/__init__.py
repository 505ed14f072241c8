"""Fashion-MNIST: the documented CNN with an augmentation block, TFLite exports and a Tuner.

Data: `data/fashion_mnist.py` (Debian `dataset-fashion-mnist`, the dataset's 60k/10k split) as
tf.Examples {image_png, label} read by ImportExampleGen. Signatures of the pushed SavedModel:
`serving_default` (serialized tf.Examples; TFMA uses it), `serving_png` (PNG bytes; over REST
`{"b64": ...}`), `serving_pixels` (float [n, 28, 28] intensities 0-255) and
`transform_features`; each returns `probabilities` [n, 10] and `classes` [n].
TFLite: every pushed version holds `assets.extra/tflite/fashion_cnn_{float32,dynamic_range,
int8}.tflite` (see tflite_export); `python -m models.fashion_cnn.tflite_report` compares their
size and test accuracy with the SavedModel. `tfxp run --model fashion_cnn --tune` adds the
KerasTuner search in tuner.py.
"""
from models.fashion_cnn.spec import SPEC  # noqa: F401
