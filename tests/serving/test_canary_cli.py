"""`tfxp canary ... --k8s-dir` through the main CLI: weights land in router.json and the routes,
and refused input changes neither."""
from pipelines import cli
from serving.rollout.testing import sample_state
from serving.rollout import router


def test_cli_drives_weights_and_manifests_and_refuses_bad_input(tmp_path, capsys):
    root = sample_state(tmp_path / "models")
    k8s = tmp_path / "k8s"
    base = ["canary", "--models-root", str(root), "--k8s-dir", str(k8s)]
    assert cli.main(base + ["set-weight", "census", "30"]) == 0
    assert router.read_weights(root) == {"census": 30}
    assert "weight: 7000" in (k8s / "routes.yaml").read_text()
    before = (k8s / "routes.yaml").read_text()
    assert cli.main(base + ["set-weight", "census", "150"]) == 1
    assert "percentage from 0 to 100" in capsys.readouterr().err
    assert cli.main(base + ["watch", "census", "--steps", "50,10"]) == 1
    assert "increasing weights" in capsys.readouterr().err
    assert (k8s / "routes.yaml").read_text() == before and router.read_weights(root) == {
        "census": 30}
    assert cli.main(base + ["rollback", "census"]) == 0
    assert "tfserving-canary\n      port: 8501\n      weight" not in (k8s / "routes.yaml").read_text()
