"""Training within a wall-clock budget: ``train(budget="45m")`` and ``fit``.

The rule (measured on CamVid, ``docs/camvid.md``): the clock starts when training starts
(reading and checking the data come before). After every epoch (its validation included)
training stops if another epoch, at the duration of the epoch just finished, would end
after the budget; so a run passes its budget by at most the jitter of one epoch (and by the
first epoch, if that alone is longer than the budget: ``fit`` sizes epochs so it is not). The
learning rate follows a cosine from its peak down to 1 % over the time training is
predicted to take (the budget at first; after each epoch, the end of the last epoch that
still fits): a cosine schedule for a run whose number of epochs is not known in advance.

The time spent is written to ``state_path`` after every epoch and every few seconds
within one, so a run killed at any moment resumes with the budget that is left.

On several workers (``workers=``, a multi-worker :class:`~keras_segmentation.training.distribute.Replication`)
every worker must stop after the same epoch, or one would wait forever for the others in the next
step: the decisions use the chief's clock, shared at each epoch's end (:func:`~.collective.chief_numbers`,
a collective every worker calls there). The learning rate, which each worker sets on its own copy of the
optimizer, comes from shared figures only: the cosine's value at the epoch's start, held through the
epoch (a step's own time would be each worker's clock, or a guess from the last epoch's pace, which
the first epoch's tracing throws far off). Only the chief writes ``state_path``; the others read it
when resuming.

Example:
    >>> parse_budget("45m"), parse_budget("90s"), parse_budget("2h"), parse_budget(30)
    (2700.0, 90.0, 7200.0, 30.0)
"""

import json
import math
import os
import re
import time

import keras

from ..atomic import atomic_write_text
from ..errors import ModelConfigError
from .collective import chief_numbers

_UNITS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}

#: seconds between two writes of the time spent within an epoch
SAVE_EVERY_S = 5.0


def parse_budget(budget):
    """Seconds of a budget: a number of seconds, or a text like ``"90s"``, ``"45m"``, ``"1.5h"``.

    Raises:
        ModelConfigError: not a positive duration.
    """
    if isinstance(budget, (int, float)) and not isinstance(budget, bool):
        seconds = float(budget)
    else:
        found = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*(s|sec|m|min|h)?\s*", str(budget).lower())
        if not found:
            raise ModelConfigError(f"budget={budget!r}: give a duration like '90s', '45m' or '2h'")
        seconds = float(found.group(1)) * _UNITS[found.group(2) or "s"]
    if not math.isfinite(seconds) or seconds <= 0:
        raise ModelConfigError(f"budget={budget!r}: must be a positive duration")
    return seconds


def cosine_rate(peak, progress, min_ratio=0.01):
    """The learning rate at ``progress`` (0..1) of a cosine from ``peak`` to ``peak * min_ratio``.

    Example:
        >>> cosine_rate(1.0, 0.0), round(cosine_rate(1.0, 0.5), 3), cosine_rate(1.0, 1.0)
        (1.0, 0.505, 0.01)
    """
    progress = min(1.0, max(0.0, progress))
    return peak * (min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress)))


class TimeBudget(keras.callbacks.Callback):
    """Stops training before it would pass ``seconds``; sets a cosine learning rate over the time.

    Args:
        seconds: the budget (see :func:`parse_budget`).
        peak_lr: peak of the time-based cosine; ``None`` leaves the learning rate alone.
        state_path: a JSON file keeping the time spent and the epoch durations, read when the
            callback is made (a resumed run continues from it) and rewritten as training goes.
        min_lr_ratio: the final rate as a fraction of ``peak_lr``.
        fresh: ignore a state file left by an earlier run (it is overwritten at the first save).
        max_epochs: training also ends after this many epochs: the cosine ends there if that comes first.
        workers: the :class:`~keras_segmentation.training.distribute.Replication` of a run on several
            workers (see the module docstring); ``None`` on one.

    An epoch cut short (Ctrl-C, a NaN loss: another callback stopped training within it) adds its time
    but not its duration, so the next prediction is not made from a partial epoch.

    Example:
        >>> budget = TimeBudget(parse_budget("45m"), peak_lr=2e-3, state_path="run/budget.json")
        >>> model.fit(data, epochs=10_000, callbacks=[budget])   # doctest: +SKIP
    """

    def __init__(self, seconds, peak_lr=None, state_path=None, min_lr_ratio=0.01, fresh=False, max_epochs=None,
                 workers=None):
        super().__init__()
        self.workers = workers if workers is not None and workers.workers > 1 else None
        self.seconds = float(seconds)
        self.peak_lr = peak_lr
        self.state_path = state_path
        self.min_lr_ratio = min_lr_ratio
        self.max_epochs = max_epochs
        self.cut_short = False
        state = {} if fresh else _read_state(state_path)
        self.spent_before = float(state.get("spent_s", 0.0))
        self.epoch_seconds = list(state.get("epoch_seconds", []))
        self.stopped_by_budget = bool(state.get("stopped_by_budget", False))
        self.started = None
        self.epoch_started_at = self.spent_before
        self.last_saved = 0.0

    def spent(self):
        """Seconds of training spent so far, over every run of this state file."""
        if self.started is None:
            return self.spent_before
        return self.spent_before + time.perf_counter() - self.started

    def left(self):
        return max(0.0, self.seconds - self.spent())

    def finished(self):
        """True when nothing is left: the budget spent, or the last epoch that fitted done."""
        return self.stopped_by_budget or self.left() <= 0

    def planned_end(self):
        """When training is predicted to end: the end of the last whole epoch that fits in the budget.

        Predicted when the current epoch began, so it holds still within an epoch and the rate falls smoothly.
        """
        if not self.epoch_seconds:
            return self.seconds
        start, last = self.epoch_started_at, self.epoch_seconds[-1]
        more = max(0, int((self.seconds - start) // max(last, 1e-9)))
        if self.max_epochs is not None:
            more = min(more, max(0, self.max_epochs - len(self.epoch_seconds)))
        return start + more * last

    def on_train_begin(self, logs=None):
        if self.peak_lr is not None and not hasattr(self.model.optimizer.learning_rate, "assign"):
            raise ModelConfigError("budget= sets the learning rate over the time, but the optimizer has a schedule: "
                                   "give it a constant learning rate")
        if self.started is None:
            self.started = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        if self.workers is None:  # on several workers: the shared end of the last epoch (or the state read)
            self.epoch_started_at = self.spent()
        self.cut_short = False
        if self.stopped_by_budget or self.seconds - self.epoch_started_at <= 0:
            self.model.stop_training = True

    def on_train_batch_begin(self, batch, logs=None):
        if self.peak_lr is not None:
            now = self.spent() if self.workers is None else self.epoch_started_at  # several: shared, per epoch
            rate = cosine_rate(self.peak_lr, now / max(self.planned_end(), 1e-9), self.min_lr_ratio)
            self.model.optimizer.learning_rate.assign(rate)

    def on_train_batch_end(self, batch, logs=None):
        self.cut_short = bool(self.model.stop_training)  # set by an earlier callback: the epoch ends here
        if time.perf_counter() - self.last_saved >= SAVE_EVERY_S:
            self.save()

    def on_epoch_end(self, epoch, logs=None):
        now = self.spent()
        if self.workers is not None:  # the chief's figures, on every worker
            now, cut_short = chief_numbers(self.workers, [now, self.cut_short])
            self.cut_short = bool(cut_short)
        if self.cut_short:
            self.save()
            return
        self.epoch_seconds.append(round(now - self.epoch_started_at, 3))
        self.epoch_started_at = now  # the next epoch starts about now: planned_end() counts from here
        more = int((self.seconds - now) // max(self.epoch_seconds[-1], 1e-9)) if now < self.seconds else 0
        if more < 1:
            self.stopped_by_budget = True
            self.model.stop_training = True
        self.save()

    def save(self):
        """Write the time spent to ``state_path`` (atomically)."""
        self.last_saved = time.perf_counter()
        if self.state_path is not None and (self.workers is None or self.workers.is_chief):
            atomic_write_text(self.state_path, json.dumps(self.summary(), indent=1) + "\n")

    def summary(self):
        """The budget, the time spent, each epoch's duration and whether the budget ended training."""
        return {"budget_s": self.seconds, "spent_s": round(self.spent(), 3), "epoch_seconds": self.epoch_seconds,
                "stopped_by_budget": self.stopped_by_budget}


def _read_state(path):
    if path is None or not os.path.isfile(path):
        return {}
    try:
        with open(path) as handle:
            state = json.load(handle)
    except (OSError, ValueError):
        raise ModelConfigError(f"{path}: unreadable budget state; delete it to start the budget again") from None
    return state if isinstance(state, dict) else {}
