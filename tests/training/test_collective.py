"""The chief's values on every worker: ``chief_numbers`` and ``chief_text`` through a real ``tf.distribute`` collective
(one replica, in this process), and ``on_chief`` (its result or its error on the other workers) on a stand-in."""

import numpy as np
import pytest

from keras_segmentation.errors import MaskValueError, TrainingError
from keras_segmentation.training import collective
from keras_segmentation.training.collective import chief_numbers, chief_text, on_chief
from keras_segmentation.training.distribute import Replication


@pytest.fixture(scope="module")
def one_replica():
    import tensorflow as tf

    return Replication(tf.distribute.MirroredStrategy(["/cpu:0"]), replicas=1)


def test_the_chiefs_numbers_and_text_come_through_the_collective(one_replica):
    assert chief_numbers(one_replica, [12.5, 3600.123456, True]) == [12.5, float(np.float32(3600.123456)), 1.0]
    text = '{"plan": "unet_mini", "names": ["ciel bleu", "véhicule", "🚗"]}' * 50
    assert chief_text(one_replica, text) == text
    assert chief_text(one_replica, "") == ""


@pytest.fixture
def two_workers(monkeypatch):
    """``(chief, other)`` replications whose ``chief_text`` is a stand-in: the chief (called first) posts its text."""
    posted = []

    def shared(replication, text):
        if replication.is_chief:
            posted[:] = [text]
        return posted[0]

    monkeypatch.setattr(collective, "chief_text", shared)
    return [Replication(None, replicas=2, worker=worker, workers=2) for worker in (0, 1)]


def test_every_worker_gets_the_chiefs_result_as_json_data(two_workers):
    chief, other = two_workers
    calls = []

    def produce():
        calls.append(1)
        return {"pairs": [("a.png", "a_mask.png")], "input": (64, 64)}

    made = on_chief(chief, produce)
    assert on_chief(other, produce) == made == {"pairs": [["a.png", "a_mask.png"]], "input": [64, 64]}
    assert len(calls) == 1  # made on the chief only


def test_the_chiefs_error_is_raised_on_every_worker(two_workers):
    chief, other = two_workers

    def bad_masks():
        raise MaskValueError("masks/a.png: values [7] >= n_classes=3")

    with pytest.raises(MaskValueError, match=r"^masks/a\.png: values \[7\] >= n_classes=3$"):
        on_chief(chief, bad_masks)
    with pytest.raises(MaskValueError, match=r"^masks/a\.png: values \[7\] >= n_classes=3$"):
        on_chief(other, bad_masks)

    def crash():
        raise RuntimeError("out of memory\nin the probe")

    with pytest.raises(RuntimeError):
        on_chief(chief, crash)
    with pytest.raises(TrainingError, match=r"^worker 0 \(the chief\) stopped: RuntimeError: out of memory in the probe$"):
        on_chief(other, crash)


def test_one_worker_just_runs_it():
    result = (1, 2)
    assert on_chief(None, lambda: result) is result
    assert on_chief(Replication(None, replicas=4), lambda: result) is result
