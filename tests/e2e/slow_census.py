"""A census Trainer entry point whose serving signature carries a heavy op (a chain of large
matmuls, added times 1e-30 to the answer): the same answers, deliberately slower to serve, for the
latency gate's end-to-end test. Not times zero: Grappler removes a multiplication by zero, and the
matmuls with it (measured: 0.3 ms instead of 400 ms)."""
import tensorflow as tf

from models.census import features
from models.census import model as census_model
from models.common import training

HEAVY_SIZE, HEAVY_REPEATS, HEAVY_WEIGHT = 500, 4, 1e-30


def slow_signatures(keras_model, tf_transform_output):
    """census's signatures with the heavy op in serving_default."""
    signatures = census_model.make_signatures(keras_model, tf_transform_output)
    serving = signatures["serving_default"]
    keras_model.heavy_matrix = tf.Variable(
        tf.random.stateless_normal([HEAVY_SIZE, HEAVY_SIZE], seed=[1, 2]) / HEAVY_SIZE)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_heavy(serialized):
        product = keras_model.heavy_matrix
        for _ in range(HEAVY_REPEATS):
            product = tf.linalg.matmul(product, keras_model.heavy_matrix)
        extra = HEAVY_WEIGHT * tf.reduce_sum(product)
        return {key: value + extra for key, value in serving(serialized).items()}

    signatures["serving_default"] = serve_heavy.get_concrete_function()
    return signatures


def run_fn(fn_args):
    """TFX Trainer entry point: census's, with the slow serving signature."""
    params = training.hyperparameters(fn_args, census_model.DEFAULT_HYPERPARAMETERS)
    training.fit_and_export(
        fn_args, params, features.TRANSFORMED_LABEL_KEY,
        lambda tf_transform_output: census_model.build_model(
            census_model.vocabulary_sizes(tf_transform_output), params),
        slow_signatures)
