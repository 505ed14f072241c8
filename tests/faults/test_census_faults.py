"""The fault suite (`make test-faults`): `tfxp run --model census --sample` as a user runs it,
stopped, killed, raced and denied its destination, then run again.

The cases share one pipeline home and build on each other in file order, as a user's runs do:
signals stop a first run early, kill -9 lands during the Trainer, kill -9 lands in the Pusher of
a run whose other steps come from the cache (a second destination), a read-only destination is
refused, two runs with new hyperparameters race, and last the ML Metadata database is broken. Runs are stopped as soon as the fault is in place.
"""
import os
import pathlib
import re
import shutil
import signal
import time

import pytest

from serving.config import configs
from tests.e2e.tfxp import TfxpRun, numbered_folders

pytestmark = [pytest.mark.faults, pytest.mark.e2e]

def run_to_end(home, serving_dir, *extra, prefix=()):
    run = TfxpRun(home, serving_dir, *extra, prefix=prefix)
    return run.finish(), run.output


def assert_every_version_is_whole(destination: pathlib.Path):
    """A numbered folder (what TF Serving loads) is always a complete SavedModel."""
    assert numbered_folders(destination) == list(configs.version_dirs(destination))


def assert_nothing_half_written(destination: pathlib.Path):
    """Whole versions only and no staging folder left behind."""
    assert_every_version_is_whole(destination)
    assert list(destination.glob(".incoming-*")) == []


def pushed_version(output: str):
    match = re.search(r"^  pushed: version (\d+) at ", output, re.MULTILINE)
    return int(match.group(1)) if match else None


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    return {"home": root / "home", "models": root / "models",
            "destination": root / "models" / "census", "root": root}


def test_sigint_and_sigterm_stop_with_one_line_and_exit_130_and_143(work):
    home, destination = work["home"], work["destination"]
    run = TfxpRun(home, destination)
    run.wait_for_execution("StatisticsGen")
    run.signal(signal.SIGINT)
    assert run.finish() == 130, run.output
    assert re.search(r"^Stopped by SIGINT during StatisticsGen; nothing half-written was left "
                     r"in the push destination\. Run the same command again to resume: finished "
                     r"steps come from the cache\.$", run.output, re.MULTILINE), run.output
    assert "Traceback" not in run.output

    run = TfxpRun(home, destination)
    run.wait_for_execution("Transform")
    run.signal(signal.SIGTERM)
    assert run.finish() == 143, run.output
    assert "CsvExampleGen                      cached" in run.output, "a re-run resumes"
    assert "Stopped by SIGTERM during Transform;" in run.output
    assert "Traceback" not in run.output
    assert numbered_folders(destination) == []


def test_kill_9_during_the_trainer_then_a_rerun_pushes_exactly_one_version(work):
    home, destination = work["home"], work["destination"]
    run = TfxpRun(home, destination)
    run.wait_for_execution("Trainer")
    run.kill_minus_9()

    code, output = run_to_end(home, destination)
    assert code == 0, output
    assert "Taking over " in output and "from a run that ended without releasing it" in output
    assert "Transform                          cached" in output
    assert pushed_version(output) == 1
    assert numbered_folders(destination) == [1]
    assert_nothing_half_written(destination)
    assert "serving: census stable=1 canary=- (" in output


def test_kill_9_in_the_pusher_then_a_rerun_pushes_exactly_one_version(work):
    home, destination = work["home"], work["root"] / "second" / "census"
    run = TfxpRun(home, destination, "--rollout", "none")
    run.wait_for(r"VersionedPusher\s+started")
    deadline = time.monotonic() + 60
    while not list(destination.glob(".incoming-*")) and not numbered_folders(destination) \
            and run.process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    run.kill_minus_9()
    assert_every_version_is_whole(destination)
    assert len(numbered_folders(destination)) <= 1

    code, output = run_to_end(home, destination, "--rollout", "none")
    assert code == 0, output
    assert pushed_version(output) == 1
    assert numbered_folders(destination) == [1]
    assert_nothing_half_written(destination)


def test_a_read_only_destination_is_refused_by_name_and_models_config_is_untouched(work):
    models = work["root"] / "read-only"
    destination = models / "census"
    shutil.copytree(work["destination"] / "1", destination / "1")
    (models / "models.config").write_text((work["models"] / "models.config").read_text()
                                          .replace(str(work["models"]), str(models)))
    before = (models / "models.config").read_bytes()
    for folder in (destination, models):
        folder.chmod(0o555)
    # root ignores permission bits unless it gives up CAP_DAC_OVERRIDE for the run
    prefix = ("setpriv", "--bounding-set=-dac_override,-dac_read_search") \
        if os.geteuid() == 0 else ()
    try:
        code, output = run_to_end(work["home"], destination, prefix=prefix)
    finally:
        for folder in (models, destination):
            folder.chmod(0o755)
    assert code == 1, output
    assert f"The push failed: cannot write to the push destination {destination}: Permission " \
           "denied; nothing was pushed; models.config was not changed." in output, output
    assert f"Make {destination} writable" in output, output
    assert "Traceback" not in output
    assert sorted(p.name for p in destination.iterdir()) == ["1"]
    assert (models / "models.config").read_bytes() == before


def test_two_concurrent_runs_wait_for_each_other_and_report_what_each_did(work):
    home, destination = work["home"], work["destination"]
    first = TfxpRun(home, destination, "--hparam", "learning_rate=0.02")
    first.wait_for(r"^Running pipeline")

    code, refused = run_to_end(home, destination, "--no-wait")
    assert code == 4, refused
    assert re.search(rf"^Not running 'census-sample': {re.escape(str(home.resolve()))} is in use "
                     rf"by another run \(pid {first.process.pid} on host \S+, started .*\); not "
                     r"waiting \(--no-wait\)\.", refused, re.MULTILINE), refused

    second = TfxpRun(home, destination, "--hparam", "learning_rate=0.03")
    second.wait_for(r"^Waiting for the run that holds")
    assert f"pid {first.process.pid} on host" in second.output
    codes = first.finish(), second.finish()
    outputs = first.output, second.output
    run_ids = [re.search(r"^Summary of 'census-sample' run (\S+)", o, re.MULTILINE).group(1)
               for o in outputs]
    assert run_ids[0] != run_ids[1]
    versions = []
    for code, output in zip(codes, outputs):
        assert " running " not in output.split("Summary of")[1], output
        version = pushed_version(output)
        if code == 0:
            assert version is not None and "blessed: yes" in output, output
            versions.append(version)
        else:
            assert code == 3 and version is None, output
            assert "blessed: NO" in output and "pushed: nothing" in output, output
    assert len(set(versions)) == len(versions)
    assert numbered_folders(destination) == sorted([1] + versions)
    assert_nothing_half_written(destination)


def test_a_missing_or_corrupt_metadata_database_says_what_to_delete(work):
    home, destination = work["home"], work["destination"]
    database = home / "metadata.sqlite"
    original = database.read_bytes()
    pipeline_root = (home / "pipeline").resolve()

    versions = numbered_folders(destination)
    database.unlink()
    code, output = run_to_end(home, destination)
    assert code == 1, output
    assert f"the ML Metadata database {database.resolve()} is missing but {pipeline_root} " \
           "holds artifacts of earlier runs" in output
    assert f"delete {pipeline_root} and {database.resolve()}" in output
    assert "Traceback" not in output

    database.write_bytes(original[:len(original) // 3])
    code, output = run_to_end(home, destination)
    assert code == 1, output
    assert f"the ML Metadata database {database.resolve()} is unreadable" in output
    assert f"delete {pipeline_root} and {database.resolve()}" in output
    assert "Traceback" not in output
    assert numbered_folders(destination) == versions
