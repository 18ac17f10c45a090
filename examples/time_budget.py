"""Equal-compute training for the recipes: a wall-clock budget as a Keras callback.

Standard library only, and no Keras import here: the same callback class is used with
this library (Keras 3) by ``examples/camvid.py`` / ``examples/isbi.py`` and with the
original keras_segmentation 0.3.0 (Keras 2.15) by ``bench/camvid_original.py``, so
both libraries stop by exactly the same rule. Pass the Keras ``Callback`` base class.

The rule: the clock starts when training starts (``on_train_begin``: model building,
dataset verification and class-weight counting come before it and are timed
separately). At the end of every epoch (after its validation), training stops if
another epoch, at the duration of the epoch just finished, would end after the budget.
So a run never passes its budget by more than the jitter of one epoch's duration.

Optionally the callback also sets the learning rate before every batch: a cosine from
``lr`` down to ``lr * min_lr_ratio`` over the time training is predicted to take
(the budget at first; after each epoch, the end of the last epoch that still fits).
That is a cosine schedule for a run whose number of epochs is not known in advance.

Example (Keras 3):
    >>> import keras
    >>> from time_budget import make_time_budget
    >>> budget = make_time_budget(keras.callbacks.Callback, budget_s=45 * 60, lr=2e-3)
    >>> model.train(..., epochs=1000, callbacks=[budget])      # doctest: +SKIP
    >>> budget.history[-1]["elapsed_s"]                        # doctest: +SKIP
"""

import json
import math
import time


def make_time_budget(callback_base, budget_s, lr=None, min_lr_ratio=0.01, log_path=None):
    """A ``TimeBudget`` callback instance (see the module docstring).

    Args:
        callback_base: ``keras.callbacks.Callback`` of the Keras in use.
        budget_s: training budget in seconds, counted from ``on_train_begin``.
        lr: peak learning rate of the time-based cosine; ``None`` leaves the rate alone.
        min_lr_ratio: final rate as a fraction of ``lr``.
        log_path: a JSON file rewritten after every epoch with :attr:`history`.
    """

    class TimeBudget(callback_base):
        def __init__(self):
            super().__init__()
            self.budget_s = float(budget_s)
            self.peak_lr = lr
            self.history = []  # one dict per epoch: epoch, elapsed_s, epoch_s, lr and the Keras logs
            self.start = None
            self.planned_end = float(budget_s)
            self.stopped_by_budget = False
            self.current_lr = lr

        def elapsed(self):
            return time.perf_counter() - self.start

        def on_train_begin(self, logs=None):
            if self.start is None:
                self.start = time.perf_counter()

        def on_train_batch_begin(self, batch, logs=None):
            if self.peak_lr is None:
                return
            progress = min(1.0, self.elapsed() / max(self.planned_end, 1e-9))
            cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
            self.current_lr = self.peak_lr * (min_lr_ratio + (1.0 - min_lr_ratio) * cosine)
            self.model.optimizer.learning_rate.assign(self.current_lr)

        def on_epoch_end(self, epoch, logs=None):
            now = self.elapsed()
            last = now - (self.history[-1]["elapsed_s"] if self.history else 0.0)
            more = int((self.budget_s - now) // last) if now < self.budget_s else 0
            self.planned_end = now + more * last
            row = {"epoch": epoch + 1, "elapsed_s": round(now, 2), "epoch_s": round(last, 2)}
            if self.current_lr is not None:
                row["lr"] = float(self.current_lr)
            row.update({key: float(value) for key, value in (logs or {}).items()})
            self.history.append(row)
            if more < 1:
                self.stopped_by_budget = True
                self.model.stop_training = True
            if log_path:
                with open(log_path, "w") as handle:
                    json.dump(self.summary(), handle, indent=1)
            shown = " ".join(f"{k}={v:.4g}" for k, v in row.items() if k != "epoch")
            print(f"[budget] epoch {epoch + 1}: {shown}; {'stop' if more < 1 else f'{more} more fit'}", flush=True)

        def summary(self):
            """The budget, the per-epoch history and how training ended."""
            return {
                "budget_s": self.budget_s,
                "epochs": len(self.history),
                "train_seconds": self.history[-1]["elapsed_s"] if self.history else 0.0,
                "stopped_by_budget": self.stopped_by_budget,
                "history": self.history,
            }

    return TimeBudget()
