"""The micro-batcher alone (no model): items submitted together share a call, ``max_batch`` caps it, a failing call
answers each of its items with the error and the next call works."""

import asyncio
import threading
import time

import pytest

from keras_segmentation.errors import ModelConfigError
from keras_segmentation.serve.batcher import MicroBatcher


class Recorder:
    def __init__(self, fail_first=False):
        self.calls, self.fail_first = [], fail_first

    def __call__(self, items):
        self.calls.append(list(items))
        if self.fail_first and len(self.calls) == 1:
            raise RuntimeError("the model failed")
        return [item * 10 for item in items]


def test_items_submitted_together_share_one_call_and_get_their_own_results():
    run = Recorder()
    batcher = MicroBatcher(run, max_batch=8, wait_ms=200)

    async def main():
        return await asyncio.gather(*(batcher.submit(i) for i in range(5)))

    try:
        assert asyncio.run(main()) == [0, 10, 20, 30, 40]
    finally:
        batcher.close()
    assert run.calls == [[0, 1, 2, 3, 4]] and (batcher.batches, batcher.items) == (1, 5)


def test_max_batch_caps_a_call_and_items_from_several_threads_are_answered():
    run = Recorder()
    batcher = MicroBatcher(run, max_batch=3, wait_ms=100)
    results = [None] * 7
    start = threading.Barrier(7)

    def submit(i):
        start.wait()
        results[i] = batcher.submit_future(i).result(timeout=30)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    batcher.close()
    assert results == [i * 10 for i in range(7)]
    assert max(len(call) for call in run.calls) == 3 and sorted(sum(run.calls, [])) == list(range(7))
    assert len(run.calls) >= 3


def test_a_failing_call_answers_each_of_its_items_and_the_next_call_works():
    batcher = MicroBatcher(Recorder(fail_first=True), max_batch=4, wait_ms=100)
    first = [batcher.submit_future(i) for i in range(2)]
    for future in first:
        with pytest.raises(RuntimeError, match="the model failed"):
            future.result(timeout=30)
    assert batcher.submit_future(4).result(timeout=30) == 40
    batcher.close()
    assert not any(t.name == "keras_segmentation-batcher" for t in threading.enumerate())


def test_wait_ms_zero_takes_only_what_is_waiting():
    run = Recorder()
    batcher = MicroBatcher(run, max_batch=8, wait_ms=0)
    assert batcher.submit_future(1).result(timeout=30) == 10
    time.sleep(0.05)
    assert batcher.submit_future(2).result(timeout=30) == 20
    batcher.close()
    assert run.calls == [[1], [2]]


@pytest.mark.parametrize(("max_batch", "wait_ms"), [(0, 5), (4, -1)])
def test_bad_settings_are_refused(max_batch, wait_ms):
    with pytest.raises(ModelConfigError, match="give max_batch >= 1 and wait_ms >= 0"):
        MicroBatcher(Recorder(), max_batch=max_batch, wait_ms=wait_ms)
