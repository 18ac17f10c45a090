"""Training within a time budget: ``parse_budget``, ``cosine_rate``, the ``TimeBudget`` callback (on a fake clock and
on a real ``model.fit``), ``train(budget=...)`` and ``train(keep_checkpoints=...)``."""

import json
import math
import time

import keras
import numpy as np
import pytest

from keras_segmentation.checkpoints.history import read_history
from keras_segmentation.checkpoints.names import list_checkpoints
from keras_segmentation.errors import ModelConfigError
from keras_segmentation.models.segmentation_model import SegmentationModel
from keras_segmentation.training import budget as budget_module
from keras_segmentation.training import runner
from keras_segmentation.training.budget import TimeBudget, cosine_rate, parse_budget
from keras_segmentation.training.distribute import Replication
from keras_segmentation.training.loop import train


# ------------------------------------------------------------------ parse_budget and cosine_rate
@pytest.mark.parametrize("given, seconds", [
    ("90s", 90.0), ("45m", 2700.0), ("2h", 7200.0), ("1.5h", 5400.0), (30, 30.0), (2.5, 2.5), ("7", 7.0),
    (" 10 min ", 600.0), ("10sec", 10.0), ("3M", 180.0), ("1.h", 3600.0),
])
def test_parse_budget(given, seconds):
    assert parse_budget(given) == seconds


@pytest.mark.parametrize("given", ["", "-5m", "abc", 0, 0.0, -1, "0s", "5 days", "m", "1h30m", float("nan"),
                                   float("inf"), None, True])
def test_parse_budget_refuses_what_is_not_a_positive_duration(given):
    with pytest.raises(ModelConfigError, match=r"^budget=") as error:
        parse_budget(given)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("peak, progress, rate", [
    (1.0, 0.0, 1.0), (1.0, 1.0, 0.01), (1.0, 0.5, 0.505), (2e-3, 0.5, 1.01e-3),
    (1.0, -0.5, 1.0), (1.0, 1.5, 0.01),  # progress is clamped to 0..1
    (1.0, 0.25, 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi / 4))),
])
def test_cosine_rate(peak, progress, rate):
    assert cosine_rate(peak, progress) == pytest.approx(rate)


def test_cosine_rate_falls_from_the_peak_to_the_floor():
    rates = [cosine_rate(1.0, p, min_ratio=0.1) for p in np.linspace(0, 1, 11)]
    assert rates[0] == 1.0 and rates[-1] == pytest.approx(0.1)
    assert all(a > b for a, b in zip(rates, rates[1:]))


# ------------------------------------------------------------------ TimeBudget on a fake clock
class Clock:
    """A ``time`` stand-in for the budget module: ``perf_counter`` returns ``now``, moved by the test."""

    def __init__(self, now=1000.0):
        self.now = now

    def perf_counter(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(budget_module, "time", fake)
    return fake


def compiled_model(learning_rate=1.0):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    return model


def learning_rate(model):
    return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))


def attach(callback, model):
    callback.set_model(model)
    model.stop_training = False
    return callback


def run_epoch(callback, clock, seconds, batches=3):
    """One epoch of ``seconds`` on the fake clock, in ``batches`` equal steps; the learning rate at each step's start."""
    rates = []
    callback.on_epoch_begin(0)
    for batch in range(batches):
        callback.on_train_batch_begin(batch)
        rates.append(learning_rate(callback.model))
        clock.now += seconds / batches
        callback.on_train_batch_end(batch)
    callback.on_epoch_end(0)
    return rates


def test_training_stops_when_another_epoch_would_pass_the_budget(clock, tmp_path):
    state = tmp_path / "budget.json"
    timer = attach(TimeBudget(10, peak_lr=1.0, state_path=state), compiled_model())
    timer.on_train_begin()
    epochs = 0
    while not timer.model.stop_training:
        run_epoch(timer, clock, 3.0)
        epochs += 1
    # after 3 epochs (9 s) one second is left, less than an epoch: stop
    assert epochs == 3
    assert timer.spent() == pytest.approx(9.0) and timer.left() == pytest.approx(1.0)
    saved = json.loads(state.read_text())
    assert saved == {"budget_s": 10.0, "spent_s": 9.0, "epoch_seconds": [3.0, 3.0, 3.0], "stopped_by_budget": True}


def test_an_epoch_longer_than_the_time_left_is_not_started(clock):
    timer = attach(TimeBudget(10), compiled_model())
    timer.on_train_begin()
    run_epoch(timer, clock, 4.0)
    assert not timer.model.stop_training  # 6 s left: one more 4 s epoch fits
    run_epoch(timer, clock, 4.0)
    assert timer.model.stop_training and timer.stopped_by_budget  # 2 s left
    assert timer.summary()["epoch_seconds"] == [4.0, 4.0]


def test_the_learning_rate_follows_a_cosine_over_the_time(clock):
    model = compiled_model()
    timer = attach(TimeBudget(12, peak_lr=2e-3), model)
    timer.on_train_begin()
    # first epoch: the cosine runs over the whole budget (12 s), steps start at 0, 1 and 2 s
    first = run_epoch(timer, clock, 3.0)
    assert first == pytest.approx([cosine_rate(2e-3, t / 12) for t in (0.0, 1.0, 2.0)], rel=1e-5)
    # then over the end of the last whole epoch that fits: 3 s + 3 x 3 s = 12 s
    assert timer.planned_end() == pytest.approx(12.0)
    second = run_epoch(timer, clock, 3.0)
    assert second == pytest.approx([cosine_rate(2e-3, t / 12) for t in (3.0, 4.0, 5.0)], rel=1e-5)
    assert learning_rate(model) == pytest.approx(cosine_rate(2e-3, 5 / 12), rel=1e-5)
    # an epoch of 4 s ends at 10 s: no other fits in the 2 s left, training is predicted to end now
    run_epoch(timer, clock, 4.0)
    assert timer.planned_end() == pytest.approx(10.0) and timer.model.stop_training


def test_without_a_peak_the_learning_rate_is_left_alone(clock):
    model = compiled_model(learning_rate=0.5)
    timer = attach(TimeBudget(10), model)
    timer.on_train_begin()
    assert run_epoch(timer, clock, 3.0) == pytest.approx([0.5, 0.5, 0.5])


def test_the_state_file_carries_the_time_spent_into_the_next_run(clock, tmp_path):
    state = tmp_path / "budget.json"
    first = attach(TimeBudget(20, peak_lr=1.0, state_path=state), compiled_model())
    first.on_train_begin()
    run_epoch(first, clock, 4.0)
    run_epoch(first, clock, 4.0)
    assert json.loads(state.read_text())["spent_s"] == pytest.approx(8.0)

    clock.now += 500.0  # the process was killed and started again: the pause is not training time
    second = attach(TimeBudget(20, peak_lr=1.0, state_path=state), compiled_model())
    assert second.spent() == pytest.approx(8.0) and second.left() == pytest.approx(12.0)
    assert second.epoch_seconds == [4.0, 4.0]
    assert second.planned_end() == pytest.approx(8.0 + 3 * 4.0)
    second.on_train_begin()
    rates = run_epoch(second, clock, 4.0)
    assert rates[0] == pytest.approx(cosine_rate(1.0, 8.0 / 20.0), rel=1e-5)
    saved = json.loads(state.read_text())
    assert saved["spent_s"] == pytest.approx(12.0) and saved["epoch_seconds"] == [4.0, 4.0, 4.0]


def test_a_run_started_after_its_budget_was_spent_stops_at_once(clock, tmp_path):
    state = tmp_path / "budget.json"
    state.write_text(json.dumps({"budget_s": 10.0, "spent_s": 10.5, "epoch_seconds": [5.0, 5.5],
                                 "stopped_by_budget": True}))
    timer = attach(TimeBudget(10, state_path=state), compiled_model())
    assert timer.left() == 0.0 and timer.stopped_by_budget
    timer.on_train_begin()
    timer.on_epoch_begin(2)
    assert timer.model.stop_training


def test_the_time_spent_is_saved_within_an_epoch(clock, tmp_path):
    state = tmp_path / "budget.json"
    timer = attach(TimeBudget(100, state_path=state), compiled_model())
    timer.on_train_begin()
    timer.on_epoch_begin(0)
    clock.now += 0.5
    timer.on_train_batch_end(0)  # the first write comes at once
    assert json.loads(state.read_text())["spent_s"] == pytest.approx(0.5)
    clock.now += budget_module.SAVE_EVERY_S - 1.0
    timer.on_train_batch_end(1)  # too soon for another
    assert json.loads(state.read_text())["spent_s"] == pytest.approx(0.5)
    clock.now += 1.0
    timer.on_train_batch_end(2)
    assert json.loads(state.read_text())["spent_s"] == pytest.approx(0.5 + budget_module.SAVE_EVERY_S)
    assert json.loads(state.read_text())["epoch_seconds"] == []


def test_an_epoch_cut_short_adds_its_time_but_not_its_duration(clock, tmp_path):
    timer = attach(TimeBudget(30, state_path=tmp_path / "budget.json"), compiled_model())
    timer.on_train_begin()
    run_epoch(timer, clock, 4.0)
    timer.on_epoch_begin(1)
    clock.now += 1.0
    timer.model.stop_training = True  # Ctrl-C: an earlier callback stopped training within the epoch
    timer.on_train_batch_end(0)
    timer.on_epoch_end(1)
    assert timer.epoch_seconds == [4.0] and not timer.stopped_by_budget
    assert json.loads((tmp_path / "budget.json").read_text())["spent_s"] == pytest.approx(5.0)


def test_an_epoch_bound_ends_the_cosine_with_it(clock):
    timer = attach(TimeBudget(100, peak_lr=1.0, max_epochs=3), compiled_model())
    timer.on_train_begin()
    run_epoch(timer, clock, 5.0)
    # 95 s would hold 19 more 5 s epochs, but only 2 more are allowed: the cosine ends at 15 s
    assert timer.planned_end() == pytest.approx(15.0)
    run_epoch(timer, clock, 5.0)
    rates = run_epoch(timer, clock, 5.0)
    assert rates[-1] == pytest.approx(cosine_rate(1.0, (10.0 + 10.0 / 3) / 15.0), rel=1e-5)


@pytest.fixture
def chief_numbers(monkeypatch):
    """Stands in for the collective: the chief (called first) posts its numbers, every worker gets them."""
    posted = []

    def shared(replication, numbers):
        if replication.is_chief:
            posted[:] = [float(n) for n in numbers]
        return list(posted)

    monkeypatch.setattr(budget_module, "chief_numbers", shared)
    return posted


def test_workers_whose_clocks_differ_stop_after_the_same_epoch_at_the_same_rates(clock, chief_numbers, tmp_path):
    (tmp_path / "w0").mkdir(), (tmp_path / "w1").mkdir()
    timers = [attach(TimeBudget(10, peak_lr=1.0, state_path=tmp_path / f"w{worker}" / "budget.json",
                                workers=Replication(None, replicas=2, worker=worker, workers=2)), compiled_model())
              for worker in (0, 1)]
    chief, other = timers
    for timer in timers:
        timer.on_train_begin()
    other.started -= 1.5  # its clock says 1.5 s more: by itself it would stop after 2 epochs of 3 s (2.5 s left)
    epochs, rates = 0, []
    while not chief.model.stop_training:
        for timer in timers:
            timer.on_epoch_begin(epochs)
        for batch in range(3):
            for timer in timers:
                timer.on_train_batch_begin(batch)
            rates.append([learning_rate(timer.model) for timer in timers])
            clock.now += 1.0
            for timer in timers:
                timer.on_train_batch_end(batch)
        for timer in timers:  # the chief first: it posts its figures
            timer.on_epoch_end(epochs)
        epochs += 1
        assert other.model.stop_training == chief.model.stop_training
    assert epochs == 3 and other.stopped_by_budget and other.epoch_seconds == chief.epoch_seconds == [3.0] * 3
    assert all(a == b for a, b in rates), "the workers' learning rates differ"
    # each epoch holds the cosine's value at its shared start: 0 s over the budget, then 3 s and 6 s over 9 s
    assert [a for a, _ in rates] == pytest.approx([cosine_rate(1.0, t / p) for t, p in [
        (0, 10), (0, 10), (0, 10), (3, 9), (3, 9), (3, 9), (6, 9), (6, 9), (6, 9)]], rel=1e-5)
    assert (tmp_path / "w0" / "budget.json").is_file() and not (tmp_path / "w1" / "budget.json").exists()


def test_an_unreadable_state_file_is_a_one_line_error(tmp_path):
    state = tmp_path / "budget.json"
    state.write_text("{not json")
    with pytest.raises(ModelConfigError, match=r"budget\.json: unreadable budget state"):
        TimeBudget(10, state_path=state)


# ------------------------------------------------------------------ TimeBudget in a real model.fit
class SlowEpochs(keras.callbacks.Callback):
    """Makes each epoch last at least ``seconds`` and records the learning rate at its end."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds, self.rates = seconds, []

    def on_epoch_end(self, epoch, logs=None):
        time.sleep(self.seconds)
        self.rates.append(learning_rate(self.model))


def test_model_fit_stops_within_one_epoch_of_the_budget(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse", run_eagerly=True)  # no tracing: even epochs
    rng = np.random.default_rng(0)
    slow = SlowEpochs(0.25)
    timer = TimeBudget(2.0, peak_lr=1e-2, state_path=tmp_path / "budget.json")
    history = model.fit(rng.random((8, 4)), rng.random((8, 1)), batch_size=4, epochs=1000, verbose=0,
                        callbacks=[slow, timer])
    epochs = len(history.history["loss"])
    saved = json.loads((tmp_path / "budget.json").read_text())
    assert 2 <= epochs < 1000 and saved["stopped_by_budget"]
    assert len(saved["epoch_seconds"]) == epochs and min(saved["epoch_seconds"]) >= 0.25
    last = saved["epoch_seconds"][-1]
    assert 2.0 - last <= saved["spent_s"] <= 2.0 + last + 0.05
    assert all(a > b for a, b in zip(slow.rates, slow.rates[1:])), slow.rates
    assert 0.99e-4 <= slow.rates[-1] < slow.rates[0] < 1e-2  # the floor, 1e-4, read back in float32


# ------------------------------------------------------------------ train(budget=..., keep_checkpoints=...)
def small_net(seed=3):
    keras.utils.set_random_seed(seed)
    x = keras.Input((32, 48, 3))
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    h = keras.layers.MaxPooling2D()(h)
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(h)
    h = keras.layers.UpSampling2D()(h)
    y = keras.layers.Softmax()(keras.layers.Conv2D(3, 1)(h))
    return SegmentationModel(x, y, model_name="", normalization="divide")


def test_train_with_a_budget_stops_within_one_epoch_and_keeps_its_state(tmp_path, tiny_dataset):
    prefix = tmp_path / "run"
    history = train(small_net(), *tiny_dataset, checkpoints_path=str(prefix), budget="3s", batch_size=2, seed=0,
                    verbose=0, workers=1)
    state = json.loads((tmp_path / "run_budget.json").read_text())
    epochs = len(history.history["loss"])
    assert state["budget_s"] == 3.0 and state["stopped_by_budget"]
    assert len(state["epoch_seconds"]) == epochs >= 1
    assert 3.0 - state["epoch_seconds"][-1] <= state["spent_s"] <= 3.0 + state["epoch_seconds"][-1] + 0.5
    assert (tmp_path / "run.keras").is_file()
    # the learning rate followed the cosine down from the default peak, 1e-3: at an epoch's end it is at most the
    # cosine's value at the epoch's start over the whole budget (the planned end is never later than the budget)
    rates = [entry["learning_rate"] for entry in read_history(prefix)]
    assert len(rates) == epochs and all(0.99e-5 <= rate < 1e-3 for rate in rates)
    starts = np.cumsum([0.0] + state["epoch_seconds"][:-1])
    assert all(rate <= cosine_rate(1e-3, max(0.0, start - 0.01) / 3.0) * (1 + 1e-5) for rate, start in zip(rates, starts))
    assert epochs == 1 or rates[-1] < rates[0]  # a loaded machine may fit only one epoch in 3 s


def test_the_budget_state_is_kept_only_when_resuming(tmp_path):
    prefix = tmp_path / "run"
    state = tmp_path / "run_budget.json"
    state.write_text(json.dumps({"budget_s": 60.0, "spent_s": 25.0, "epoch_seconds": [25.0]}))
    resumed = runner.time_budget("60s", None, None, prefix, auto_resume=True)
    assert resumed.spent() == 25.0 and resumed.peak_lr == 1e-3 and resumed.state_path == str(state)
    fresh = runner.time_budget("1m", 0.01, None, prefix, auto_resume=False)
    assert fresh.spent() == 0.0 and fresh.peak_lr == 0.01 and fresh.seconds == 60.0
    assert json.loads(state.read_text())["spent_s"] == 25.0  # left alone until the new run saves its own
    fresh.save()
    assert json.loads(state.read_text())["spent_s"] == 0.0
    assert runner.time_budget(None, None, None, prefix, auto_resume=False) is None
    # on several TensorFlow workers train's budget takes the chief's clock; on one, its own
    cluster = Replication(None, replicas=2, worker=1, workers=2)
    assert runner.time_budget("1m", None, None, prefix, auto_resume=True, replication=cluster).workers is cluster
    assert runner.time_budget("1m", None, None, prefix, auto_resume=True, replication=Replication(None, 2)).workers is None


def test_a_budget_and_a_learning_rate_schedule_do_not_go_together(tiny_dataset):
    with pytest.raises(ModelConfigError, match="lr_schedule"):
        train(small_net(), *tiny_dataset, budget="1m", lr_schedule="cosine")
    with pytest.raises(ModelConfigError, match="budget="):
        train(small_net(), *tiny_dataset, budget="soon")
    with pytest.raises(ModelConfigError, match="keep_checkpoints=0"):
        train(small_net(), *tiny_dataset, keep_checkpoints=0, epochs=1)


@pytest.mark.parametrize("keep, epochs, kept", [
    (2, 4, [3, 4]),
    (None, 4, [1, 2, 3, 4]),
    ("default", None, [3, 4, 5]),  # epochs=None without a budget: 5 epochs; the newest 3 kept
])
def test_keep_checkpoints_keeps_the_newest_epochs(tmp_path, tiny_dataset, keep, epochs, kept):
    prefix = tmp_path / "run"
    options = {} if keep == "default" else {"keep_checkpoints": keep}
    history = train(small_net(), *tiny_dataset, checkpoints_path=str(prefix), epochs=epochs, batch_size=3, seed=0,
                    verbose=0, workers=1, **options)
    assert len(history.history["loss"]) == kept[-1]
    assert [epoch for epoch, _ in list_checkpoints(prefix)] == kept
    assert [entry["epoch"] for entry in read_history(prefix)] == list(range(1, kept[-1] + 1))
    assert (tmp_path / "run.keras").is_file()

