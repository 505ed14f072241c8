import threading
import time

import grpc
import numpy as np
import pytest

from serving.config import protos
from serving.server import errors
from serving.server.batching import BatchScheduler


def _params(**fields):
    params = protos.BatchingParameters()
    for name, value in fields.items():
        if name == "allowed_batch_sizes":
            params.allowed_batch_sizes.extend(value)
        else:
            getattr(params, name).value = value
    return params


def _submit_all(scheduler, run, row_counts):
    """Submit one request per row count from its own thread; return (results, errors) by index."""
    results, failures = {}, {}

    def client(index, rows):
        try:
            inputs = {"x": np.full((rows, 1), index, np.float32)}
            results[index] = scheduler.submit("m", run, inputs)
        except errors.ServingError as error:
            failures[index] = error

    threads = [threading.Thread(target=client, args=(i, n)) for i, n in enumerate(row_counts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results, failures


def _wait_for_queued(scheduler, key, tasks: int) -> bool:
    """Until `tasks` requests wait in the key's queue (polled: a submit wakes the batch threads
    only when it starts or fills a batch; False after 30 s)."""
    # pylint: disable=protected-access
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with scheduler._cond:
            if key in scheduler._queues and len(scheduler._queues[key].tasks) >= tasks:
                return True
        time.sleep(0.001)
    return False


def test_concurrent_requests_run_as_one_padded_batch_and_get_their_own_rows():
    """The only batch thread is held by a full first batch until three requests are queued
    behind it (events, not a submit window); they then run as one batch of 5 rows padded to 8."""
    batch_sizes, busy, release = [], threading.Event(), threading.Event()

    def run(inputs):
        batch_sizes.append(inputs["x"].shape[0])
        if len(batch_sizes) == 1:
            busy.set()
            release.wait(30)
        return {"y": inputs["x"] * 2}

    scheduler = BatchScheduler(_params(max_batch_size=8, batch_timeout_micros=0,
                                       num_batch_threads=1, allowed_batch_sizes=[4, 8]))
    first = threading.Thread(target=scheduler.submit,
                             args=("m", run, {"x": np.zeros((8, 1), np.float32)}))
    first.start()
    assert busy.wait(30)
    outcome = {}
    queued = threading.Thread(target=lambda: outcome.update(zip(
        ("results", "failures"), _submit_all(scheduler, run, [1, 2, 2]))))
    queued.start()
    assert _wait_for_queued(scheduler, "m", 3)
    release.set()
    queued.join(30)
    first.join(30)
    scheduler.close()
    assert not outcome["failures"] and batch_sizes == [8, 8]
    for index, rows in enumerate([1, 2, 2]):
        np.testing.assert_array_equal(outcome["results"][index]["y"],
                                      np.full((rows, 1), 2.0 * index))


def test_a_request_larger_than_the_batch_is_refused_with_tf_servings_words():
    scheduler = BatchScheduler(_params(max_batch_size=2))
    with pytest.raises(errors.ServingError, match="larger than maximum input batch size 2") as error:
        scheduler.submit("m", lambda inputs: inputs, {"x": np.zeros((3, 1))})
    scheduler.close()
    assert error.value.code == grpc.StatusCode.INVALID_ARGUMENT


def test_a_model_failure_reaches_every_waiting_client_as_internal():
    def broken(inputs):
        raise RuntimeError("kernel exploded")

    scheduler = BatchScheduler(_params(max_batch_size=4, batch_timeout_micros=200_000))
    results, failures = _submit_all(scheduler, broken, [1, 1])
    scheduler.close()
    assert not results and len(failures) == 2
    assert all(f.code == grpc.StatusCode.INTERNAL and "kernel exploded" in str(f)
               for f in failures.values())


def test_close_answers_queued_requests_unavailable_and_refuses_new_ones():
    started, release = threading.Event(), threading.Event()

    def slow(inputs):
        started.set()
        release.wait(10)
        return inputs

    scheduler = BatchScheduler(_params(max_batch_size=1, num_batch_threads=1))
    outcome = {}
    running = threading.Thread(target=lambda: outcome.update(
        first=scheduler.submit("m", slow, {"x": np.zeros((1, 1))})))
    running.start()
    assert started.wait(10)
    queued = {}

    def waiting_client():
        try:
            scheduler.submit("m", slow, {"x": np.ones((1, 1))})
        except errors.ServingError as error:
            queued["error"] = error

    waiter = threading.Thread(target=waiting_client)
    waiter.start()
    while not scheduler._queues["m"].tasks:  # pylint: disable=protected-access
        threading.Event().wait(0.01)
    scheduler.close()
    waiter.join(5)
    assert not waiter.is_alive(), "a queued request was left waiting after close()"
    assert queued["error"].code == grpc.StatusCode.UNAVAILABLE
    with pytest.raises(errors.ServingError, match="shutting down"):
        scheduler.submit("m", slow, {"x": np.zeros((1, 1))})
    release.set()
    running.join(5)
    np.testing.assert_array_equal(outcome["first"]["x"], np.zeros((1, 1)))


def test_the_request_that_fills_a_batch_starts_it_without_waiting_for_the_timeout():
    """Submits do not wake the batch thread one by one; the one that fills the batch must, else
    these four rows would wait out the 60 s batch timeout (and the clients' 10 s join)."""
    sizes = []

    def run(inputs):
        sizes.append(inputs["x"].shape[0])
        return {"y": inputs["x"] + 1}

    scheduler = BatchScheduler(_params(max_batch_size=4, batch_timeout_micros=60_000_000,
                                       num_batch_threads=1))
    results, failures = _submit_all(scheduler, run, [1, 1, 1, 1])
    scheduler.close()
    assert not failures and sizes == [4]
    assert sorted(float(r["y"][0, 0]) for r in results.values()) == [1.0, 2.0, 3.0, 4.0]
