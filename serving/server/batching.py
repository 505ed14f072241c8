"""Server-side request batching, configured by TF Serving's BatchingParameters.

Concurrent requests to the same model version and signature are concatenated along dimension 0,
run once, and the outputs split back, like TF Serving's BatchingSession: a batch closes when it
holds max_batch_size rows or its oldest request has waited batch_timeout_micros; it is padded up
to the next allowed_batch_sizes entry; a request larger than max_batch_size is refused; a full
queue (max_enqueued_batches) answers UNAVAILABLE instead of queueing without bound.
"""
import bisect
import collections
import threading
import time
from typing import Callable, Dict, List

import numpy as np

from serving.server import errors

_STOPPED = "The batch scheduler is stopping: the server is shutting down"

class _Task:
    """One request waiting in a queue. `done` is a lock held until the batch thread has set
    `result` or `error`: cheaper to make and release than an Event (no Condition inside)."""
    __slots__ = ("inputs", "rows", "enqueued", "done", "result", "error")

    def __init__(self, inputs, rows):
        self.inputs, self.rows, self.enqueued = inputs, rows, time.monotonic()
        self.done = threading.Lock()
        self.done.acquire()
        self.result = self.error = None

    def finish(self) -> None:
        """Wake the request's thread (once; every path that answers a task calls this)."""
        self.done.release()


class _Queue:
    def __init__(self, run: Callable):
        self.run = run
        self.tasks: collections.deque = collections.deque()
        self.rows = 0


class BatchScheduler:
    """One shared scheduler (like TF Serving's SharedBatchScheduler) with a queue per key."""

    def __init__(self, params, on_batch: Callable[[int], None] = None):
        self.max_batch_size = params.max_batch_size.value if params.HasField("max_batch_size") else 1000
        self.timeout = (params.batch_timeout_micros.value if params.HasField("batch_timeout_micros")
                        else 0) / 1e6
        self.max_enqueued_batches = (params.max_enqueued_batches.value
                                     if params.HasField("max_enqueued_batches") else 10)
        threads = params.num_batch_threads.value if params.HasField("num_batch_threads") else 1
        self.threads = max(1, threads)
        self.allowed = list(params.allowed_batch_sizes)
        self.on_batch = on_batch
        self._queues: Dict[object, _Queue] = {}
        self._cond = threading.Condition()
        self._stopped = False
        self._threads = [threading.Thread(target=self._work, name=f"batch-{i}", daemon=True)
                         for i in range(self.threads)]
        for t in self._threads:
            t.start()

    def submit(self, key, run: Callable[[Dict[str, np.ndarray]], Dict[str, np.ndarray]],
               inputs: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Block until the batch holding `inputs` has run; returns this request's slice."""
        sizes = {v.shape[0] if v.ndim else None for v in inputs.values()}
        if len(sizes) != 1 or None in sizes:
            raise errors.invalid_argument(
                "Batching Run() input tensors must have equal 0th-dimension size")
        rows = sizes.pop()
        if rows > self.max_batch_size:
            raise errors.invalid_argument(
                f"Task size {rows} is larger than maximum input batch size {self.max_batch_size}")
        task = _Task(inputs, rows)
        with self._cond:
            if self._stopped:
                raise errors.unavailable(_STOPPED)
            queue = self._queues.get(key)
            if queue is None:
                queue = self._queues[key] = _Queue(run)
            if queue.rows + rows > self.max_enqueued_batches * self.max_batch_size:
                raise errors.unavailable(
                    "The batch scheduling queue to which this task was submitted is full")
            queue.run = run
            queue.tasks.append(task)
            queue.rows += rows
            # a batch thread only needs waking when this task starts a new deadline (the queue was
            # empty) or fills a batch; otherwise the deadline it already waits for is unchanged
            if len(queue.tasks) == 1 or queue.rows >= self.max_batch_size:
                self._cond.notify()
        task.done.acquire()
        if task.error is not None:
            raise task.error
        return task.result

    def close(self) -> None:
        """Server stop: the worker threads end after the batch they are running, and every request
        still queued is answered UNAVAILABLE at once instead of leaving its client waiting."""
        with self._cond:
            self._stopped = True
            abandoned = [task for queue in self._queues.values() for task in queue.tasks]
            for queue in self._queues.values():
                queue.tasks.clear()
                queue.rows = 0
            self._cond.notify_all()
        for task in abandoned:
            task.error = errors.unavailable(_STOPPED)
            task.finish()

    def _ready_batch(self):
        """The oldest queue that is full or timed out, as (queue, tasks); else the wait time."""
        now = time.monotonic()
        best, wait = None, None
        for queue in self._queues.values():
            if not queue.tasks:
                continue
            age = now - queue.tasks[0].enqueued
            if queue.rows >= self.max_batch_size or age >= self.timeout:
                if best is None or queue.tasks[0].enqueued < best.tasks[0].enqueued:
                    best = queue
            else:
                left = self.timeout - age
                wait = left if wait is None else min(wait, left)
        if best is None:
            return None, wait
        tasks, rows = [], 0
        while best.tasks and rows + best.tasks[0].rows <= self.max_batch_size:
            task = best.tasks.popleft()
            rows += task.rows
            tasks.append(task)
        best.rows -= rows
        return (best.run, tasks), None

    def _work(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopped:
                        return
                    batch, wait = self._ready_batch()
                    if batch is not None:
                        if any(queue.tasks for queue in self._queues.values()):
                            self._cond.notify()  # another idle batch thread takes what is left
                        break
                    self._cond.wait(wait)
            self._run(*batch)

    def _run(self, run, tasks: List[_Task]) -> None:
        rows = sum(t.rows for t in tasks)
        padded = rows
        if self.allowed:
            padded = self.allowed[min(bisect.bisect_left(self.allowed, rows), len(self.allowed) - 1)]
        try:
            keys = list(tasks[0].inputs)
            if any(set(t.inputs) != set(keys) for t in tasks):
                raise errors.invalid_argument("Batched requests must send the same inputs")
            merged = {}
            for k in keys:
                parts = [t.inputs[k] for t in tasks]
                if padded > rows:
                    parts.append(np.repeat(parts[0][:1], padded - rows, axis=0))
                merged[k] = np.concatenate(parts, axis=0) if len(parts) > 1 else parts[0]
            outputs = run(merged)
            if self.on_batch is not None:
                self.on_batch(padded)
            offset = 0
            for t in tasks:
                sliced = {}
                for k, v in outputs.items():
                    if v.ndim == 0 or v.shape[0] != padded:
                        raise errors.internal(
                            f"Batched output '{k}' has 0th dimension "
                            f"{v.shape[0] if v.ndim else 'scalar'}, expected the batch size {padded}")
                    sliced[k] = v[offset:offset + t.rows]
                t.result = sliced
                offset += t.rows
        except errors.ServingError as e:
            for t in tasks:
                t.error = e
        except Exception as e:  # a model failure must reach every waiting client, not kill the thread
            for t in tasks:
                t.error = errors.internal(f"Batched run failed: {e}")
        for t in tasks:
            t.finish()
