"""Labelled gRPC through the canary router (real nginx, two `python -m serving` groups, canary
at weight 20) fails for neither label: measured before (a plain TF Serving client, no header)
and after (serving.client, which sends the group header), 200 predicts per label each.

Before the fix (this file's measurement on the old group configs): stable 32/200 and canary
161/200 failed with "Unrecognized servable version label". Now the canary group also holds the
stable version, so a plain client's `stable` calls all succeed; its `canary` calls that nginx
sends to the stable group are refused with a message naming the fix; the project's client
routes by the header and nothing fails."""
import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from serving.client import GrpcClient, ServingClientError
from serving.config import configs
from serving.config.configs import CANARY, GROUP_HEADER, STABLE
from serving.rollout import canary, router
from serving.server import testing

MODEL, REQUESTS = "half", 200
ROW = [[1.0, 2.0]]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    router.nginx_binary()  # fails naming `make system-packages` when nginx is missing
    root = tmp_path_factory.mktemp("labelled") / "models"
    testing.build_affine(root / MODEL / "1", 2.0)
    configs.generate(root)
    testing.build_affine(root / MODEL / "2", 3.0)
    canary.start(root, MODEL, 2, weight=20)
    running = router.LocalStack(root, *router.free_ports(2)).start()
    yield running
    running.stop()


def _plain_client_failures(port: int, label: str):
    """Failures of a TF Serving client that sets only model_spec.version_label."""
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL
    request.model_spec.version_label = label
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array(ROW, np.float32)))
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        failures = []
        for _ in range(REQUESTS):
            try:
                stub.Predict(request, timeout=30)
            except grpc.RpcError as e:
                failures.append((e.code(), e.details()))
    return failures


def _project_client_failures(port: int, label: str):
    client = GrpcClient("127.0.0.1", port)
    failures, outputs = [], set()
    for _ in range(REQUESTS):
        try:
            result = client.predict(MODEL, ROW, label=label, input_dtypes={"x": "DT_FLOAT"})
            outputs.add(float(result["y"].ravel()[0]))
        except ServingClientError as e:
            failures.append(str(e))
    client.channel.close()
    return failures, outputs


def test_both_labels_succeed_through_the_router(stack):
    before = {label: _plain_client_failures(stack.grpc_port, label) for label in (STABLE, CANARY)}
    after = {label: _project_client_failures(stack.grpc_port, label) for label in (STABLE, CANARY)}
    rates = {"before": {k: len(v) / REQUESTS for k, v in before.items()},
             "after": {k: len(v[0]) / REQUESTS for k, v in after.items()}}
    print("labelled gRPC failure rates through the router:", rates)
    assert before[STABLE] == []
    # nginx splits a header-less call 80/20, so most canary calls reach the stable group, which
    # cannot hold the newer canary; each refusal names the header and the canary group's port.
    assert before[CANARY], "expected the stable group to refuse header-less canary calls"
    canary_grpc = f"127.0.0.1:{stack.groups[CANARY]['grpc_port']}"
    for code, details in before[CANARY]:
        assert code == grpc.StatusCode.INVALID_ARGUMENT
        assert details.startswith("Unrecognized servable version label: canary (")
        assert f"'{GROUP_HEADER}: canary'" in details and canary_grpc in details
    assert after == {STABLE: ([], {2.0}), CANARY: ([], {3.0})}


def test_each_group_answers_unlabeled_calls_with_its_own_version(stack):
    with grpc.insecure_channel(f"127.0.0.1:{stack.groups[STABLE]['grpc_port']}") as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        request = predict_pb2.PredictRequest()
        request.model_spec.name = MODEL
        request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array(ROW, np.float32)))
        # unlabeled requests to each group still get that group's own version
        assert tf.make_ndarray(stub.Predict(request, timeout=30).outputs["y"])[0, 0] == 2.0
    with grpc.insecure_channel(f"127.0.0.1:{stack.groups[CANARY]['grpc_port']}") as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        assert tf.make_ndarray(stub.Predict(request, timeout=30).outputs["y"])[0, 0] == 3.0
        request.model_spec.version_label = STABLE
        assert tf.make_ndarray(stub.Predict(request, timeout=30).outputs["y"])[0, 0] == 2.0
