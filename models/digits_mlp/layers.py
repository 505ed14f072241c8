"""The documented custom Dense layer (reference document, "How do you implement a custom layer").

Registered as Keras-serializable under the package "tfxp", so a SavedModel written with
`model.save` reloads with `tf.keras.models.load_model` without passing custom_objects.
"""
import tensorflow as tf


@tf.keras.utils.register_keras_serializable(package="tfxp")
class CustomDenseLayer(tf.keras.layers.Layer):
    """A fully connected layer: y = activation(x @ kernel + bias)."""

    def __init__(self, units: int, activation=None, **kwargs):
        super().__init__(**kwargs)
        if int(units) < 1:
            raise ValueError(f"CustomDenseLayer units must be >= 1, got {units}")
        self.units = int(units)
        self.activation = tf.keras.activations.get(activation)

    def build(self, input_shape):
        """Creates the weights once the input width is known (first call)."""
        input_dim = tf.TensorShape(input_shape)[-1]
        if input_dim is None:
            raise ValueError("CustomDenseLayer needs a known last input dimension")
        self.kernel = self.add_weight(name="kernel", shape=(input_dim, self.units),
                                      initializer="glorot_uniform", trainable=True)
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros",
                                    trainable=True)
        super().build(input_shape)

    def call(self, inputs):
        """Keras override: the weights are cast to the input's dtype, so the layer also runs under
        mixed precision, where variables stay float32."""
        output = tf.matmul(inputs, tf.cast(self.kernel, inputs.dtype)) + tf.cast(self.bias,
                                                                                 inputs.dtype)
        return self.activation(output) if self.activation is not None else output

    def compute_output_shape(self, input_shape):
        """Keras override: only the last dimension changes (to `units`), so Keras infers shapes
        without running the layer."""
        return tf.TensorShape(input_shape)[:-1].concatenate([self.units])

    def get_config(self):
        """What load_model needs to rebuild the layer (its weights are restored separately)."""
        config = super().get_config()
        config.update({"units": self.units,
                       "activation": tf.keras.activations.serialize(self.activation)})
        return config
