"""The recipes' equal-compute rule (examples/time_budget.py) and the CamVid example's helpers."""

import math
import pathlib
import sys

import keras
import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "examples"))

import time_budget  # noqa: E402


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class FakeOptimizer:
    def __init__(self):
        self.learning_rate = keras.Variable(0.0)


class FakeModel:
    def __init__(self):
        self.stop_training = False
        self.optimizer = FakeOptimizer()


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(time_budget.time, "perf_counter", fake)
    return fake


def _budget(budget_s, lr=None, **kwargs):
    callback = time_budget.make_time_budget(keras.callbacks.Callback, budget_s, lr=lr, **kwargs)
    callback.set_model(FakeModel())
    callback.on_train_begin()
    return callback


def test_stops_when_the_next_epoch_would_pass_the_budget(clock):
    budget = _budget(100.0)
    for epoch, (duration, expect_stop) in enumerate([(30, False), (30, False), (30, True)]):
        clock.now += duration
        budget.on_epoch_end(epoch, {"loss": 1.0})
        assert budget.model.stop_training is expect_stop, epoch
    summary = budget.summary()
    assert summary["epochs"] == 3 and summary["stopped_by_budget"]
    assert summary["train_seconds"] == pytest.approx(90.0)
    assert [row["epoch_s"] for row in summary["history"]] == [30, 30, 30]


def test_an_epoch_longer_than_the_budget_stops_at_once(clock):
    budget = _budget(100.0)
    clock.now += 120
    budget.on_epoch_end(0)
    assert budget.model.stop_training


def test_cosine_rate_over_the_planned_time(clock):
    budget = _budget(100.0, lr=1e-2, min_lr_ratio=0.1)
    budget.on_train_batch_begin(0)
    assert float(budget.model.optimizer.learning_rate) == pytest.approx(1e-2)
    clock.now += 50  # half of the budget: cosine at its midpoint
    budget.on_train_batch_begin(1)
    assert float(budget.model.optimizer.learning_rate) == pytest.approx(1e-2 * (0.1 + 0.9 * 0.5))
    clock.now += 10
    budget.on_epoch_end(0)  # 60 s epoch: no second one fits, the planned end is now
    budget.on_train_batch_begin(0)
    assert float(budget.model.optimizer.learning_rate) == pytest.approx(1e-3)


def test_without_lr_the_rate_is_left_alone(clock):
    budget = _budget(100.0)
    budget.on_train_batch_begin(0)
    assert float(budget.model.optimizer.learning_rate) == 0.0


def test_history_is_written_after_every_epoch(clock, tmp_path):
    import json

    path = tmp_path / "history.json"
    budget = _budget(100.0, log_path=str(path))
    clock.now += 10
    budget.on_epoch_end(0, {"val_mean_iou": np.float32(0.5)})
    written = json.loads(path.read_text())
    assert written["history"][0]["val_mean_iou"] == pytest.approx(0.5)
    assert not math.isnan(written["train_seconds"])


def test_camvid_figure_images_are_spread_and_stable():
    import camvid

    names = [f"{i:03d}.png" for i in range(101)]
    chosen = camvid.figure_images(names, 4)
    assert chosen == ["012.png", "037.png", "062.png", "087.png"]
    assert camvid.figure_images(names, 0) == []
