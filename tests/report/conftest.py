"""One census sample history for the report tests: a blessed run, then a run that is not blessed
(learning rate 1e-6, one epoch) judged against it; then the reports built from that history."""
import dataclasses
import pathlib
import time

import pytest

from tests.e2e.tfxp import run_tfxp

ARTIFACTS = pathlib.Path(__file__).resolve().parents[1] / "artifacts"


@dataclasses.dataclass
class ReportedHistory:
    home: pathlib.Path
    out: pathlib.Path
    build: object  # pipelines.report.build.BuildResult
    page: pathlib.Path
    build_seconds: float


def _run(home: pathlib.Path, *extra: str) -> str:
    """A census sample run; its first push becomes the stable version the second run's
    Evaluator compares with."""
    result = run_tfxp("run", "--model", "census", "--sample", "--pipeline-root", str(home),
                      "--serving-dir", str(home.parent / "models" / "census"),
                      "--no-infra-validation", *extra)
    assert result.returncode in (0, 3), result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="session")
def reported_history(tmp_path_factory) -> ReportedHistory:
    from pipelines.report import build

    root = tmp_path_factory.mktemp("report")
    home = root / "home"
    first = _run(home)
    assert "blessed: yes" in first, first
    second = _run(home, "--hparam", "learning_rate=1e-6", "--hparam", "epochs=1")
    assert "blessed: NO" in second, second
    started = time.monotonic()
    result = build.build_reports(["census"], root / "reports", sample=True, home=str(home))
    seconds = time.monotonic() - started
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "report-build-time.txt").write_text(
        f"census sample, 2 runs: build_reports took {seconds:.2f}s in-process "
        f"(importing TFMA/TFDV, about 6s cold, counts only if not yet imported)\n")
    return ReportedHistory(home, root / "reports", result, result.pages[0], seconds)
