"""`tfxp predict` against the running server (REST, gRPC, canary split), and no TFX import in the
server modules."""
import json
import subprocess
import sys

from serving.cli import serving_parser
from serving.server.process import server_env


def test_predict_cli_rest_and_grpc_agree(server, tmp_path, capsys):
    rows = tmp_path / "rows.csv"
    rows.write_text("age,hours_per_week,workclass,sex\n39,40,State-gov,Male\n50,13,Private,Female\n")
    host, rest_port = server.rest.rsplit(":", 1)
    grpc_port = server.grpc.rsplit(":", 1)[1]
    common = ["predict", "--model=census", f"--csv={rows}", f"--host={host}",
              f"--rest-port={rest_port}", f"--grpc-port={grpc_port}"]
    parser = serving_parser()
    outputs = []
    for extra in ([], ["--grpc"], ["--signature=serving_raw"]):
        args = parser.parse_args(common + extra)
        assert args.func(args) == 0
        outputs.append(json.loads(capsys.readouterr().out)["probabilities"])
    assert outputs[0] == outputs[1] == outputs[2]
    args = parser.parse_args(common + ["--canary-fraction=0.5", "--requests=6"])
    assert args.func(args) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["stable"]["errors"] + report["canary"]["errors"] == 6
    assert "Unrecognized servable version label" in (report["stable"]["last_error"] or
                                                     report["canary"]["last_error"])


def test_canary_split_reports_per_label(server, tmp_path, capsys):
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps({"instances": [[1.0, 2.0]]}))
    host, port = server.rest.rsplit(":", 1)
    args = serving_parser().parse_args(["predict", "--model=half", f"--json={rows}",
                                      f"--host={host}", f"--rest-port={port}",
                                      "--canary-fraction=0.3", "--requests=20"])
    assert args.func(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["stable"]["count"] + report["canary"]["count"] == 20
    assert report["stable"]["mean_output"] == 2.0 and report["canary"]["mean_output"] == 3.0
    assert report["canary"]["p50_ms"] > 0


def test_predict_csv_sends_each_feature_in_its_schema_type(server, tmp_path, capsys):
    """A CSV cell "3" reads as an integer, which a FLOAT feature's parser refuses; --schema
    sends it as the schema's FLOAT (tf1_half's Example signatures parse x as float32)."""
    rows = tmp_path / "rows.csv"
    rows.write_text("x\n3\n")
    schema = tmp_path / "schema.pbtxt"
    schema.write_text('feature { name: "x" type: FLOAT }\n')
    host, port = server.rest.rsplit(":", 1)
    common = ["predict", "--model=tf1_half", "--signature=classify_x_to_y", f"--csv={rows}",
              f"--host={host}", f"--rest-port={port}"]
    parser = serving_parser()
    args = parser.parse_args(common)
    assert args.func(args) == 1
    error = capsys.readouterr().err
    assert "Data types don't match" in error and "pass --schema" in error, error
    args = parser.parse_args(common + [f"--schema={schema}"])
    assert args.func(args) == 0
    assert json.loads(capsys.readouterr().out)["scores"] == [[3.5]]


def test_server_modules_never_import_tfx():
    code = ("import sys\n"
            "import serving.server.server, serving.server.grpc_server, serving.server.rest, "
            "serving.server.dataplane, serving.server.repository, serving.server.batching, "
            "serving.client, serving.cli, serving.rollout.canary, serving.server.warmup, "
            "serving.server.process, serving.config.protos\n"
            "bad = sorted(m for m in sys.modules if m == 'tfx' or m.startswith('tfx.'))\n"
            "assert not bad, bad\n")
    result = subprocess.run([sys.executable, "-c", code], env=server_env(), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
