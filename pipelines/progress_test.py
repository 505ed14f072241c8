"""Progress lines from the orchestrators' log records."""
import io
import logging

from pipelines.progress import ProgressHandler


def _emit(handler, message):
    handler.emit(logging.LogRecord("absl", logging.INFO, __file__, 1, message, None, None))


def test_local_and_beam_runner_messages_become_started_done_and_cached_lines():
    stream = io.StringIO()
    handler = ProgressHandler(stream)
    _emit(handler, "Component CsvExampleGen is running.")
    _emit(handler, "Going to run a new execution 3")
    _emit(handler, "Component CsvExampleGen is finished.")
    _emit(handler, "node Transform is running.")
    _emit(handler, "A cached execution 7 is used.")
    _emit(handler, "node Transform is finished.")
    _emit(handler, "unrelated %s", )
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4
    assert lines[0].endswith("CsvExampleGen                      started")
    assert "CsvExampleGen" in lines[1] and " done in " in lines[1]
    assert "Transform" in lines[3] and " cached in " in lines[3]
