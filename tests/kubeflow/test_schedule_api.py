"""`tfxp kubeflow schedule|list|pause|resume|delete|run-once` through the real kfp 2.13 client
against a loopback server implementing the KFP v2beta1 REST endpoints it calls.

This is a contract test of the API (the exact requests KFP receives), not a cluster run."""
import hashlib

import pytest
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from data import settings
from pipelines import cli
from serving.server.process import free_port
from tests.kubeflow.fake_kfp import FakeKfp

CRON = "0 0 3 * * *"


def tfxp(capsys, *args):
    code = cli.main(["kubeflow", *args])
    out, err = capsys.readouterr()
    return code, out, err


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def test_schedule_sends_the_recurring_run_kfp_expects(kfp_api, census_spec, capsys):
    fake, url = kfp_api
    code, out, err = tfxp(capsys, "schedule", "--host", url, "--spec", str(census_spec),
                          "--cron", CRON, "--experiment", "nightly", "--max-concurrency", "2",
                          "--no-catchup", "--param", "data_root=gs://lake/census/2026-11")
    assert code == 0, err
    assert fake.requests[0].path == "/apis/v2beta1/healthz"

    [experiment] = fake.calls("POST", "/experiments")
    assert experiment.body == {"display_name": "nightly", "namespace": ""}

    [pipeline_create] = fake.calls("POST", "/pipelines")
    assert pipeline_create.body == {"display_name": "census",
                                    "description": "TFX pipeline census (tfxp kubeflow)"}
    [upload] = fake.calls("POST", "/pipelines/upload_version")
    assert upload.query == {"name": f"census-{digest(census_spec)}",
                            "pipelineid": fake.pipelines[0]["pipeline_id"],
                            "description": f"spec sha256 {digest(census_spec)}"}
    assert upload.upload == census_spec.read_bytes()

    [create] = fake.calls("POST", "/recurringruns")
    pipeline, version = fake.pipelines[0], fake.versions[0]
    assert create.body == {
        "display_name": "census-schedule",
        "description": f"tfxp: census on '{CRON}'",
        "experiment_id": fake.experiments[0]["experiment_id"],
        "mode": "ENABLE",
        "trigger": {"cron_schedule": {"cron": CRON}},
        "max_concurrency": 2,
        "no_catchup": True,
        "pipeline_version_reference": {"pipeline_id": pipeline["pipeline_id"],
                                       "pipeline_version_id": version["pipeline_version_id"]},
        "runtime_config": {"parameters": {"data_root": "gs://lake/census/2026-11"}},
    }
    assert f"scheduled census-schedule (id {fake.recurring_runs[0]['recurring_run_id']})" in out


def test_schedule_defaults_to_one_run_at_a_time_with_catch_up(kfp_api, census_spec, capsys):
    fake, url = kfp_api
    code, _, err = tfxp(capsys, "schedule", "--host", url, "--spec", str(census_spec),
                        "--cron", CRON)
    assert code == 0, err
    [create] = fake.calls("POST", "/recurringruns")
    assert create.body["max_concurrency"] == 1
    assert create.body["no_catchup"] is False
    assert create.body["runtime_config"] == {"parameters": {}}
    assert fake.experiments[0]["display_name"] == "census"


def test_an_unchanged_spec_reuses_its_version_and_a_changed_one_adds_one(
        kfp_api, census_spec, tmp_path, capsys):
    fake, url = kfp_api
    for name in ("first", "second"):
        code, _, err = tfxp(capsys, "schedule", "--host", url, "--spec", str(census_spec),
                            "--cron", CRON, "--name", name)
        assert code == 0, err
    assert len(fake.calls("POST", "/pipelines")) == 1
    assert len(fake.calls("POST", "/pipelines/upload_version")) == 1
    first, second = (r.body["pipeline_version_reference"]
                     for r in fake.calls("POST", "/recurringruns"))
    assert first == second

    changed = tmp_path / "census.yaml"
    changed.write_bytes(census_spec.read_bytes() + b"# recompiled\n")
    code, _, err = tfxp(capsys, "schedule", "--host", url, "--spec", str(changed),
                        "--cron", CRON, "--name", "third")
    assert code == 0, err
    new_version = fake.calls("POST", "/pipelines/upload_version")[-1]
    assert new_version.query == {"name": f"census-{digest(changed)}",
                                 "pipelineid": first["pipeline_id"],
                                 "description": f"spec sha256 {digest(changed)}"}
    assert new_version.upload == changed.read_bytes()
    code, _, err = tfxp(capsys, "schedule", "--host", url, "--spec", str(changed),
                        "--cron", CRON, "--name", "fourth")
    assert code == 0, err
    assert len(fake.calls("POST", "/pipelines/upload_version")) == 2
    assert len(fake.calls("POST", "/pipelines")) == 1
    third, fourth = (r.body["pipeline_version_reference"]
                     for r in fake.calls("POST", "/recurringruns")[2:])
    assert third == fourth


def test_a_second_schedule_with_the_same_name_is_refused(kfp_api, census_spec, capsys):
    fake, url = kfp_api
    args = ("schedule", "--host", url, "--spec", str(census_spec), "--cron", CRON)
    assert tfxp(capsys, *args)[0] == 0
    code, _, err = tfxp(capsys, *args)
    assert code == 1
    assert err.count("\n") == 1
    assert "recurring run named 'census-schedule' already exists" in err
    assert len(fake.calls("POST", "/recurringruns")) == 1


def test_list_follows_every_page(kfp_api, census_spec, capsys):
    fake, url = kfp_api
    for name in ("a", "b", "c"):
        assert tfxp(capsys, "schedule", "--host", url, "--spec", str(census_spec),
                    "--cron", CRON, "--name", name)[0] == 0
    code, out, err = tfxp(capsys, "list", "--host", url)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0].split() == ["ID", "NAME", "MODE", "SCHEDULE", "MAX_CONCURRENCY", "CATCHUP",
                                "EXPERIMENT"]
    assert [line.split()[1] for line in lines[1:]] == ["a", "b", "c"]
    pages = [r.query.get("page_token") for r in fake.calls("GET", "/recurringruns")
             if "filter" not in r.query]
    assert pages == [None, "2"]

    code, out, _ = tfxp(capsys, "list", "--host", url, "--experiment", "census")
    assert code == 0 and len(out.strip().splitlines()) == 4
    assert fake.calls("GET", "/recurringruns")[-1].query["experiment_id"] == \
        fake.experiments[0]["experiment_id"]


def test_pause_resume_delete_by_name_or_id(kfp_api, census_spec, capsys):
    fake, url = kfp_api
    assert tfxp(capsys, "schedule", "--host", url, "--spec", str(census_spec), "--cron", CRON,
                "--name", "nightly")[0] == 0
    run_id = fake.recurring_runs[0]["recurring_run_id"]

    code, out, err = tfxp(capsys, "pause", "--host", url, "--name", "nightly")
    assert (code, out.strip()) == (0, f"paused recurring run {run_id}"), err
    assert fake.calls("POST", f"/recurringruns/{run_id}:disable")
    assert fake.recurring_runs[0]["mode"] == "DISABLE"

    code, out, err = tfxp(capsys, "resume", "--host", url, "--id", run_id)
    assert (code, out.strip()) == (0, f"resumed recurring run {run_id}"), err
    assert fake.calls("POST", f"/recurringruns/{run_id}:enable")
    assert fake.recurring_runs[0]["mode"] == "ENABLE"

    code, out, err = tfxp(capsys, "delete", "--host", url, "--name", "nightly")
    assert (code, out.strip()) == (0, f"deleted recurring run {run_id}"), err
    assert fake.calls("DELETE", f"/recurringruns/{run_id}")
    assert fake.recurring_runs == []

    code, _, err = tfxp(capsys, "pause", "--host", url, "--name", "nightly")
    assert code == 1 and "no recurring runs named 'nightly'" in err
    code, _, err = tfxp(capsys, "pause", "--host", url, "--id", "no-such-id")
    assert code == 1 and "answered 404" in err and url in err


def test_run_once_sends_the_compiled_spec_and_parameters(kfp_api, census_spec, capsys):
    fake, url = kfp_api
    code, out, err = tfxp(capsys, "run-once", "--host", url, "--spec", str(census_spec),
                          "--param", "data_root=gs://lake/census/backfill", "--no-cache")
    assert code == 0, err
    [run] = fake.calls("POST", "/runs")
    expected = json_format.MessageToDict(json_format.ParseDict(
        yaml.safe_load(census_spec.read_text()), pipeline_spec_pb2.PipelineSpec()))
    for task in expected["root"]["dag"]["tasks"].values():
        task["cachingOptions"] = {}  # --no-cache: enableCache false, the proto default
    assert run.body["pipeline_spec"] == expected
    assert run.body["runtime_config"] == {"parameters": {"data_root": "gs://lake/census/backfill"}}
    assert run.body["experiment_id"] == fake.experiments[0]["experiment_id"]
    assert run.body["display_name"].startswith("census-")
    assert f"started run {fake.runs[0]['run_id']} of census" in out


def test_bad_arguments_fail_before_any_request(kfp_api, census_spec, tmp_path, capsys):
    fake, url = kfp_api
    code, _, err = tfxp(capsys, "schedule", "--host", url, "--spec", str(census_spec),
                        "--cron", CRON, "--param", "dataroot=gs://x")
    assert code == 1
    assert "has no run parameter 'dataroot' (its parameters: data_root)" in err
    code, _, err = tfxp(capsys, "schedule", "--host", url, "--spec", str(census_spec),
                        "--cron", "0 3 * * *")
    assert code == 1 and "did you mean '0 0 3 * * *'?" in err
    code, _, err = tfxp(capsys, "run-once", "--host", url, "--spec", str(tmp_path / "nope.yaml"))
    assert code == 1 and "tfxp kubeflow compile" in err
    code, _, err = tfxp(capsys, "list", "--host", url.replace("http://", ""))
    assert code == 1 and "must start with http:// or https://" in err
    assert fake.requests == []


@pytest.mark.parametrize("command", [
    ["list"], ["pause", "--id", "x"], ["schedule", "--model", "census", "--cron", CRON],
    ["run-once", "--model", "census"]])
def test_an_unreachable_host_fails_fast_with_one_line(census_spec, capsys, monkeypatch, command):
    from kubeflow import schedule

    import kfp

    monkeypatch.setattr(settings, "KUBEFLOW_SPECS_DIR", census_spec.parent)
    clients = []
    monkeypatch.setattr(kfp, "Client", lambda **options: clients.append(options))
    host = f"http://127.0.0.1:{free_port()}"
    code, _, err = tfxp(capsys, command[0], "--host", host, *command[1:])
    assert clients == [], "the probe stops it before kfp.Client, which retries 5 times 5 s apart"
    assert code == 1
    assert err.count("\n") == 1
    assert f"cannot reach the Kubeflow Pipelines API at {host}" in err
    assert "check --host" in err


def test_multi_user_kfp_gets_the_token_and_the_namespace(census_spec, capsys):
    fake = FakeKfp(token="s3cret", multi_user=True)
    url = fake.start()
    try:
        code, _, err = tfxp(capsys, "schedule", "--host", url, "--spec", str(census_spec),
                            "--cron", CRON, "--namespace", "team-a", "--token", "s3cret")
        assert code == 0, err
        assert all(r.headers.get("authorization") == "Bearer s3cret" for r in fake.requests)
        assert fake.calls("POST", "/experiments")[0].body == {"display_name": "census",
                                                              "namespace": "team-a"}
        assert fake.calls("POST", "/pipelines")[0].body["namespace"] == "team-a"
        assert fake.calls("GET", "/pipelines")[0].query["namespace"] == "team-a"

        code, out, err = tfxp(capsys, "list", "--host", url, "--namespace", "team-a",
                              "--token", "s3cret")
        assert code == 0 and "census-schedule" in out, err
        assert fake.calls("GET", "/recurringruns")[-1].query["namespace"] == "team-a"

        before = len(fake.requests)
        code, _, err = tfxp(capsys, "list", "--host", url, "--namespace", "team-a")
        assert code == 1 and "answered 401" in err and "--token" in err and url in err
        assert len(fake.requests) == before + 1
    finally:
        fake.stop()


def test_a_login_proxy_or_a_non_kfp_host_is_named(capsys):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class NotKfp(BaseHTTPRequestHandler):
        """A login proxy in front of the API (redirect) or something else entirely (404)."""

        redirect = True

        def do_GET(self):
            if self.redirect and not self.path.startswith("/login"):
                self.send_response(302)
                self.send_header("Location", "/login?next=" + self.path)
            elif self.redirect:
                self.send_response(200)
            else:
                self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotKfp)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        code, _, redirected = tfxp(capsys, "list", "--host", host)
        assert code == 1
        NotKfp.redirect = False
        code, _, not_found = tfxp(capsys, "list", "--host", host)
        assert code == 1
    finally:
        server.shutdown()
        server.server_close()
    assert f"{host} redirected the KFP health check to {host}/login?next=" in redirected
    assert "--token" in redirected
    assert (f"API at {host} answered 404 Not Found: no /apis/v2beta1/healthz there: it is not a "
            "KFP v2 API endpoint") in not_found
