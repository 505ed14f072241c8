"""Clients and test models shared by the router suites (weighted canary, shadow): a keep-alive
REST client, gRPC request builders, looping client threads that count every answer and failure,
and a model that fails the rows a test chooses."""
import http.client
import json
import threading

from tests.serving.helpers import ClientThreads

MODEL = "split"
ROW = [[1.0, 1.0]]


def two_affine_versions(root):
    """`root` (a models root) with MODEL v1 (y = x) labelled stable and v2 (y = 2x) beside it:
    what every router suite starts from."""
    from serving.config import configs
    from serving.server import testing

    testing.build_affine(root / MODEL / "1", 1.0)
    configs.generate(root)
    testing.build_affine(root / MODEL / "2", 2.0)
    return root


def build_faulty(path, failure_above: float):
    """y = x, except that a row whose first value exceeds `failure_above` fails the request."""
    import tensorflow as tf

    class Faulty(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32, name="x")])
        def serve(self, x):
            check = tf.debugging.assert_less_equal(x[:, 0], failure_above,
                                                   message="faulty test model refuses this row")
            with tf.control_dependencies([check]):
                return {"y": tf.identity(x)}

    module = Faulty()
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})
    return path


def version_of(prediction) -> int:
    """The version that answered: the test models are y = version * x on a row of ones."""
    return int(round(prediction[0][0]))


class RestClient:
    """Keep-alive HTTP/1.1 to the router (or a fresh connection per request)."""

    def __init__(self, port: int, keepalive: bool = True):
        self.port, self.keepalive, self.conn = port, keepalive, None

    def predict(self, path=f"/v1/models/{MODEL}:predict", headers=None, row=None):
        if self.conn is None or not self.keepalive:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        body = json.dumps({"instances": row or ROW})
        self.conn.request("POST", path, body, {"Content-Type": "application/json",
                                               **(headers or {})})
        response = self.conn.getresponse()
        payload = json.loads(response.read())
        if not self.keepalive:
            self.conn.close()
        return response.status, payload


def grpc_stub(port: int):
    """A PredictionService stub on the router's (or a group's) gRPC port."""
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    return prediction_service_pb2_grpc.PredictionServiceStub(channel)


def grpc_request(row=None, label=None):
    """A Predict request for MODEL, with a version label when given."""
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL
    if label:
        request.model_spec.version_label = label
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(row or ROW, tf.float32))
    return request


class Traffic(ClientThreads):
    """REST (a fresh connection per request) and gRPC clients looping until stopped."""

    def __init__(self, stack, row_source=lambda: ROW):
        self.stack, self.row_source = stack, row_source
        self.failures, self.answers = [], []
        self._noted = threading.Condition()
        super().__init__(self._rest, self._rest, self._grpc, daemon=True, join_timeout=30)

    def count(self) -> int:
        with self._noted:
            return len(self.answers) + len(self.failures)

    def wait_for_count(self, count: int) -> None:
        """Until `count` requests have been answered or failed (a hang fails after 120 s)."""
        with self._noted:
            assert self._noted.wait_for(
                lambda: len(self.answers) + len(self.failures) >= count, timeout=120), \
                f"the clients stalled at {len(self.answers) + len(self.failures)} requests"

    def _note(self, ok: bool, what):
        with self._noted:
            (self.answers if ok else self.failures).append(what)
            self._noted.notify_all()

    def _rest(self):
        client = RestClient(self.stack.rest_port, keepalive=False)
        while not self.stopped.is_set():
            try:
                status, body = client.predict(row=self.row_source())
                self._note(status == 200, ("rest", status, body))
            except Exception as e:  # a dropped connection is a lost request
                self._note(False, ("rest", repr(e)))

    def _grpc(self):
        stub = grpc_stub(self.stack.grpc_port)
        while not self.stopped.is_set():
            try:
                response = stub.Predict(grpc_request(self.row_source()), timeout=30)
                self._note(True, ("grpc", response.model_spec.version.value))
            except Exception as e:
                self._note(False, ("grpc", repr(e)))
