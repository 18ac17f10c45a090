"""The micro-batcher: requests that arrive within a few milliseconds of each other share one model call.

Each request hands its prepared image to :meth:`MicroBatcher.submit` and awaits the answer. One worker
thread takes the first waiting item, collects more for up to ``wait_ms`` (or until ``max_batch``), runs
``run_batch`` on them all, and hands each request its own result. The model is therefore only ever called
from that thread, one batch at a time, while the event loop goes on reading uploads.

Example:
    >>> batcher = MicroBatcher(lambda items: [x * 2 for x in items], max_batch=8, wait_ms=5)
    >>> await batcher.submit(21)                   # doctest: +SKIP
    42
    >>> batcher.batches, batcher.items             # doctest: +SKIP
    (1, 1)
    >>> batcher.close()
"""

import asyncio
import queue
import threading
import time
from concurrent.futures import Future

from ..errors import ModelConfigError


class MicroBatcher:
    """Batches items submitted from any event loop (or thread) into calls of ``run_batch(items) -> results``.

    Args:
        run_batch: called in the worker thread with a list of items; returns one result per item, in order.
            An exception it raises becomes every item's of that batch.
        max_batch: the most items in one call.
        wait_ms: how long the first item of a batch waits for others.

    Attributes:
        batches: calls of ``run_batch`` made so far; ``items``: items answered so far.
    """

    def __init__(self, run_batch, max_batch=8, wait_ms=5.0):
        if int(max_batch) < 1 or float(wait_ms) < 0:
            raise ModelConfigError(f"max_batch={max_batch!r}, wait_ms={wait_ms!r}: give max_batch >= 1 and wait_ms >= 0")
        self.run_batch = run_batch
        self.max_batch = int(max_batch)
        self.wait_ms = float(wait_ms)
        self.batches = self.items = 0
        self._queue = queue.Queue()
        self._lock = threading.Lock()
        self._thread = None

    async def submit(self, item):
        """The result of ``item``, computed in a batch with the items submitted about the same time."""
        return await asyncio.wrap_future(self.submit_future(item))

    def submit_future(self, item):
        """A :class:`concurrent.futures.Future` of ``item``'s result (for callers without an event loop)."""
        future = Future()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="keras_segmentation-batcher", daemon=True)
                self._thread.start()
            self._queue.put((item, future))
        return future

    def close(self):
        """Stop the worker thread once the items already submitted are answered."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._queue.put(None)
        if thread is not None:
            thread.join()

    def _work(self):
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, stop = [first], False
            deadline = time.monotonic() + self.wait_ms / 1000
            while len(batch) < self.max_batch:
                try:
                    entry = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if entry is None:
                    stop = True
                    break
                batch.append(entry)
            self._run([entry for entry in batch if entry[1].set_running_or_notify_cancel()])
            if stop:
                return

    def _run(self, batch):
        if not batch:
            return
        self.batches += 1
        try:
            results = self.run_batch([item for item, _ in batch])
        except Exception as err:  # noqa: BLE001 - handed to each waiting request, which answers it
            for _, future in batch:
                future.set_exception(err)
            return
        for (_, future), result in zip(batch, results):
            future.set_result(result)
        self.items += len(batch)
