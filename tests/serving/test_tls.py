"""--ssl_config_file as TF Serving reads it (SSLConfig: PEM key, certificate, custom CA,
client_verify) on the local server's gRPC port, mutual TLS included, with certificates the test
makes (start-up refusals: serving/server/server_test.py). The router
(`tfxp router --ssl-config-file`, `make serve SSL_CONFIG=...`) terminates TLS with the same file."""
import http.client
import json
import pathlib
import ssl
import tempfile

import grpc
import pytest
from tensorflow_serving.apis import get_model_status_pb2, model_service_pb2_grpc

from serving.config.testing import tls_materials, write_ssl_config
from serving.server.process import ServerProcess, free_ports

pytestmark = pytest.mark.local_only


@pytest.fixture(scope="module")
def pki():
    return tls_materials()


def _status(target: str, credentials=None) -> grpc.StatusCode:
    """The code a GetModelStatus for an unknown model gets: NOT_FOUND means the call reached the
    server (the TLS handshake passed), UNAVAILABLE that the connection was refused."""
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "absent"
    channel = (grpc.insecure_channel(target) if credentials is None
               else grpc.secure_channel(target, credentials))
    with channel:
        try:
            model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(request, timeout=20)
        except grpc.RpcError as e:
            return e.code()
    return grpc.StatusCode.OK


def _credentials(pki, who=None):
    pair = {} if who is None else {"private_key": pki[f"{who}_key"].encode(),
                                   "certificate_chain": pki[f"{who}_cert"].encode()}
    return grpc.ssl_channel_credentials(root_certificates=pki["ca"].encode(), **pair)


def test_mutual_tls_admits_only_clients_with_a_certificate_from_the_custom_ca(tmp_path, pki):
    config = write_ssl_config(tmp_path / "ssl.config", pki, client_verify=True)
    with ServerProcess([f"--model_base_path={tmp_path}", f"--ssl_config_file={config}",
                        "--file_system_poll_wait_seconds=0"]) as server:
        server.wait_ready(timeout=120)
        assert _status(server.grpc, _credentials(pki, "client")) == grpc.StatusCode.NOT_FOUND
        assert _status(server.grpc, _credentials(pki)) == grpc.StatusCode.UNAVAILABLE
        assert _status(server.grpc, _credentials(pki, "stranger")) == grpc.StatusCode.UNAVAILABLE
        assert _status(server.grpc) == grpc.StatusCode.UNAVAILABLE
        assert "(TLS, client certificates required)" in server.log()


def test_tls_without_client_verify_serves_any_client_that_trusts_the_server(tmp_path, pki):
    config = write_ssl_config(tmp_path / "ssl.config", pki, client_verify=False)
    with ServerProcess([f"--model_base_path={tmp_path}", f"--ssl_config_file={config}",
                        "--file_system_poll_wait_seconds=0"]) as server:
        server.wait_ready(timeout=120)
        assert _status(server.grpc, _credentials(pki)) == grpc.StatusCode.NOT_FOUND
        assert _status(server.grpc) == grpc.StatusCode.UNAVAILABLE


def _https_predict(port: int, pki, who=None):
    """(status, body) of a REST predict through the router over TLS as `who` (no certificate
    when None)."""
    context = ssl.create_default_context(cadata=pki["ca"])
    if who is not None:
        folder = tempfile.mkdtemp(prefix="client-")
        cert, key = pathlib.Path(folder) / "c.pem", pathlib.Path(folder) / "k.pem"
        cert.write_text(pki[f"{who}_cert"])
        key.write_text(pki[f"{who}_key"])
        context.load_cert_chain(cert, key)
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=context)
    conn.request("POST", "/v1/models/half:predict", body=json.dumps({"instances": [[1.0, 2.0]]}),
                 headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, response.read()


def test_the_router_terminates_mutual_tls_for_rest_and_grpc(tmp_path, pki):
    from serving.config import configs
    from serving.rollout import router
    from serving.server import testing
    root = tmp_path / "models"
    testing.build_affine(root / "half" / "1", 2.0)
    configs.generate(root)
    config = write_ssl_config(tmp_path / "ssl.config", pki, client_verify=True)
    stack = router.LocalStack(root, *free_ports(2), ssl_config_file=config).start()
    try:
        status, body = _https_predict(stack.rest_port, pki, "client")
        assert (status, json.loads(body)) == (200, {"predictions": [[2.0, 4.0]]})
        assert _https_predict(stack.rest_port, pki)[0] == 400
        assert _https_predict(stack.rest_port, pki, "stranger")[0] == 400
        target = f"127.0.0.1:{stack.grpc_port}"
        assert _status(target, _credentials(pki, "client")) == grpc.StatusCode.NOT_FOUND
        assert _status(target, _credentials(pki)) not in (grpc.StatusCode.OK,
                                                          grpc.StatusCode.NOT_FOUND)
        assert _status(target) not in (grpc.StatusCode.OK, grpc.StatusCode.NOT_FOUND)
    finally:
        stack.stop()
