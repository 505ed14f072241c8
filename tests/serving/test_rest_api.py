"""REST conformance: TF Serving's /v1 API, exact bodies and status codes (local or real server)."""
import base64

import pytest

from serving.server import testing
from tests.serving.helpers import http

OK_STATUS = {"error_code": "OK", "error_message": ""}


def test_model_status_lists_loaded_versions(server):
    status, body = http(server, "GET", "/v1/models/half")
    assert status == 200
    assert body == {"model_version_status": [
        {"version": "2", "state": "AVAILABLE", "status": OK_STATUS},
        {"version": "1", "state": "AVAILABLE", "status": OK_STATUS}]}


def test_status_by_version_and_label(server):
    assert http(server, "GET", "/v1/models/half/versions/1")[1]["model_version_status"] == [
        {"version": "1", "state": "AVAILABLE", "status": OK_STATUS}]
    assert http(server, "GET", "/v1/models/half/labels/canary")[1]["model_version_status"][0][
        "version"] == "2"


def test_metadata_shows_signatures_with_method_names(server):
    status, body = http(server, "GET", "/v1/models/census/metadata")
    assert status == 200
    assert body["model_spec"] == {"name": "census", "signature_name": "", "version": "1"}
    sigs = body["metadata"]["signature_def"]["signature_def"]
    assert sigs["serving_default"]["inputs"]["examples"]["dtype"] == "DT_STRING"
    assert sigs["serving_default"]["outputs"]["probabilities"]["dtype"] == "DT_FLOAT"
    assert sigs["classify"]["method_name"] == "tensorflow/serving/classify"
    assert sigs["regress"]["method_name"] == "tensorflow/serving/regress"
    assert http(server, "GET", "/v1/models/half/labels/stable/metadata")[1]["model_spec"][
        "version"] == "1"


def test_predict_row_format_latest_version(server):
    assert http(server, "POST", "/v1/models/half:predict",
                {"instances": [[1.0, 2.0], [3.0, 4.0]]}) == (
        200, {"predictions": [[3.0, 6.0], [9.0, 12.0]]})


def test_predict_columnar_by_version_and_label(server):
    assert http(server, "POST", "/v1/models/half/versions/1:predict",
                {"inputs": [[1.0, 2.0]]}) == (200, {"outputs": [[2.0, 4.0]]})
    assert http(server, "POST", "/v1/models/half/labels/canary:predict",
                {"signature_name": "serving_default", "inputs": {"x": [[1.0, 2.0]]}}) == (
        200, {"outputs": [[3.0, 6.0]]})


def test_predict_b64_serialized_examples(server):
    b64 = base64.b64encode(testing.example()).decode()
    status, body = http(server, "POST", "/v1/models/census:predict",
                        {"instances": [{"b64": b64}, {"b64": b64}]})
    assert status == 200
    assert len(body["predictions"]) == 2 and 0.0 < body["predictions"][0][0] < 1.0


def test_predict_named_raw_inputs_match_examples(server):
    row = testing.SAMPLE_ROW
    _, raw = http(server, "POST", "/v1/models/census:predict",
                  {"signature_name": "serving_raw", "instances": [row]})
    b64 = base64.b64encode(testing.example(row)).decode()
    _, ex = http(server, "POST", "/v1/models/census:predict", {"instances": [{"b64": b64}]})
    assert raw["predictions"] == ex["predictions"]


def test_classify_and_regress(server):
    row = testing.SAMPLE_ROW
    status, body = http(server, "POST", "/v1/models/census:classify",
                        {"signature_name": "classify", "examples": [row, row]})
    assert status == 200
    assert [c[0] for c in body["results"][0]] == ["<=50K", ">50K"]
    assert abs(sum(c[1] for c in body["results"][0]) - 1.0) < 1e-6
    status, body = http(server, "POST", "/v1/models/census:regress",
                        {"signature_name": "regress", "context": {"sex": "Male"},
                         "examples": [{k: v for k, v in row.items() if k != "sex"}]})
    assert status == 200 and len(body["results"]) == 1


def test_classify_on_predict_signature_without_classes_is_rejected(server):
    status, body = http(server, "POST", "/v1/models/census:classify",
                        {"examples": [testing.SAMPLE_ROW]})
    assert status == 400
    assert "classes" in body["error"]


@pytest.mark.parametrize("path,status,message", [
    ("/v1/models/nope:predict", 404, "Servable not found for request: Latest(nope)"),
    ("/v1/models/half/versions/7:predict", 404, "Servable not found for request: Specific(half, 7)"),
    ("/v1/models/half/labels/nope:predict", 400, "Unrecognized servable version label: nope"),
])
def test_unknown_model_version_label(server, path, status, message):
    assert http(server, "POST", path, {"instances": [[1.0, 2.0]]}) == (status, {"error": message})


def test_status_of_unknown_model_and_version(server):
    assert http(server, "GET", "/v1/models/nope") == (
        404, {"error": "Could not find any versions of model nope"})
    assert http(server, "GET", "/v1/models/half/versions/9") == (
        404, {"error": "Could not find version 9 of model half"})


@pytest.mark.parametrize("raw,needle", [
    (b"", "JSON Parse error: The document is empty"),
    (b"instances = [1, 2]", "JSON Parse error: Invalid value"),
    (b'{"instances": [[1.0, 2.0]], "inputs": [[1.0, 2.0]]}', "only one of 'inputs' or 'instances'"),
    (b'{"signature_name": 100, "instances": [[1.0, 2.0]]}', "'signature_name' key must be a string"),
    (b'{"foo": 1}', "Missing 'inputs' or 'instances' key"),
    (b'{"instances": [["x", "y"]]}', "not of expected type: float"),
    (b'{"instances": [[1.0, 2.0], [3.0]]}', "rectangular"),
    (b'{"signature_name": "nope", "instances": [[1.0, 2.0]]}', 'Serving signature key "nope"'),
])
def test_bad_predict_requests_are_400_with_json_error(server, raw, needle):
    status, body = http(server, "POST", "/v1/models/half:predict", raw=raw)
    assert status == 400, body
    assert needle in body["error"]


def test_malformed_paths(server):
    for method, path in (("GET", "/v1/foo"), ("GET", "/v1/models/half:predict"),
                         ("POST", "/v1/models/half/versions/abc:predict"),
                         ("POST", "/v1/models/half/metadata")):
        status, body = http(server, method, path, raw=b"{}" if method == "POST" else None)
        assert status == 400 and "Malformed request" in body["error"], (method, path, body)
    assert http(server, "GET", "/v1/models")[1] == {"error": "Missing model name in request."}


@pytest.mark.parametrize("name", ["..", "..%2F..%2Fetc", "%2E%2E", "half%2F..%2F..%2Fetc"])
def test_path_like_model_names_never_leave_the_model_root(server, name):
    status, body = http(server, "POST", f"/v1/models/{name}:predict", {"instances": [[1, 2]]})
    assert status in (400, 404) and "error" in body


@pytest.mark.local_only
def test_oversized_body_is_rejected_and_server_keeps_serving(server):
    big = b'{"instances": [' + b"[1.0, 2.0]," * 30000 + b"[1.0, 2.0]]}"
    status, body = http(server, "POST", "/v1/models/half:predict", raw=big)
    assert status == 413 and "exceeds the limit" in body["error"]
    assert http(server, "POST", "/v1/models/half:predict", {"instances": [[1.0, 1.0]]})[0] == 200


@pytest.mark.local_only
def test_version_that_fails_to_load_reports_error_status(server):
    status, body = http(server, "GET", "/v1/models/broken")
    assert status == 200
    (only,) = body["model_version_status"]
    assert only["version"] == "2" and only["state"] == "END"
    assert only["status"]["error_code"] != "OK" and only["status"]["error_message"]
    assert http(server, "POST", "/v1/models/broken:predict", {"instances": [[1.0, 1.0]]}) == (
        404, {"error": "Servable not found for request: Latest(broken)"})
    assert "Loading servable: {name: broken version: 2} failed" in server.log()


def _samples(server):
    """{series (name and labels): value} of the server's Prometheus exposition."""
    import urllib.request
    text = urllib.request.urlopen(
        f"http://{server.rest}/monitoring/prometheus/metrics").read().decode()
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines() if line and not line.startswith("#")}


@pytest.mark.local_only
def test_prometheus_metrics_per_model_and_version(server):
    """Each request moves its own series by one (earlier tests' requests are subtracted)."""
    served = 'api="predict",label="stable",model="half",protocol="rest",version="1"'
    series = {"requests": f"tfxp_serving_requests_total{{{served}}}",
              "latency": f"tfxp_serving_request_latency_seconds_count{{{served}}}",
              "errors": 'tfxp_serving_request_errors_total{api="predict",code="INVALID_ARGUMENT",'
                        'label="",model="half",protocol="rest",version=""}'}
    before = _samples(server)
    http(server, "POST", "/v1/models/half/versions/1:predict", {"instances": [[1.0, 1.0]]})
    http(server, "POST", "/v1/models/half:predict", raw=b"{bad")
    after = _samples(server)
    assert {name: after[s] - before.get(s, 0.0) for name, s in series.items()} == {
        "requests": 1.0, "latency": 1.0, "errors": 1.0}
