"""The callbacks ``train()`` installs: epoch checkpoints, stop on NaN, Ctrl-C handling.

Example:
    >>> model.fit(data, callbacks=[CheckpointsCallback("ckpt/run")])   # ckpt/run.00001.weights.h5, ...
"""

import math
import os
import signal
import threading

import keras

from ..checkpoints.history import append_history
from ..checkpoints.names import find_latest_checkpoint, list_checkpoints
from ..checkpoints.weights import clear_interrupted, save_checkpoint, save_interrupted
from ..errors import TrainingError


class CheckpointsCallback(keras.callbacks.Callback):
    """Saves ``<prefix>.NNNNN.weights.h5`` (+ optimizer state) after each complete epoch, and its logs.

    The original library's callback name; epochs are 1-based like Keras'
    ``ModelCheckpoint``. The epoch's logs (loss, metrics, ``val_*``) and learning
    rate go to ``<prefix>_history.json`` (:func:`~keras_segmentation.checkpoints.history.append_history`).
    Nothing is saved for an epoch that ended with a
    non-finite loss or was cut short by Ctrl-C. ``keep`` (``None``: all) bounds the
    epoch files kept: older ones are deleted once the new one is written (scratch
    copies of workers other than the chief keep 1).
    """

    def __init__(self, checkpoints_path, interrupt=None, keep=None):
        super().__init__()
        self.checkpoints_path = checkpoints_path
        self.interrupt = interrupt
        self.keep = keep

    def on_epoch_end(self, epoch, logs=None):
        if (self.interrupt is not None and self.interrupt.requested) or not _finite(logs):
            return
        save_checkpoint(self.model, self.checkpoints_path, epoch + 1)
        append_history(self.checkpoints_path, epoch + 1, dict(logs or {}, **_learning_rate(self.model, logs)))
        clear_interrupted(self.checkpoints_path)
        if self.keep is not None:
            for done, path in list_checkpoints(self.checkpoints_path):
                if done <= epoch + 1 - self.keep:
                    os.remove(path)


class DatasetEpoch(keras.callbacks.Callback):
    """Tells the training data which epoch begins, so its order and augmentation follow the epoch number.

    Keras also calls the data's ``on_epoch_end`` when ``fit`` starts, so counting
    those calls would start training at the second epoch's order.
    """

    def __init__(self, dataset):
        super().__init__()
        self.dataset = dataset

    def on_epoch_begin(self, epoch, logs=None):
        self.dataset.epoch = epoch


class StopOnNaN(keras.callbacks.Callback):
    """Stops at the first non-finite loss; ``raise_if_failed`` then raises a TrainingError."""

    def __init__(self, checkpoints_path):
        super().__init__()
        self.checkpoints_path = checkpoints_path
        self.failed_at = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if not _finite(logs):
            self.failed_at = (self._epoch + 1, batch + 1)
            self.model.stop_training = True

    def raise_if_failed(self):
        if self.failed_at is None:
            return
        kept = ""
        if self.checkpoints_path is not None:
            latest = find_latest_checkpoint(self.checkpoints_path)
            kept = f"; last good checkpoint: {latest}" if latest else "; no checkpoint was written"
        raise TrainingError(
            f"loss became NaN/inf at epoch {self.failed_at[0]}, batch {self.failed_at[1]}{kept}; "
            "lower the learning rate, check the masks and class weights"
        )


def _learning_rate(model, logs):
    """``{"learning_rate": value}`` of the model's optimizer (the scheduled value), unless ``logs`` has it."""
    optimizer = getattr(model, "optimizer", None)
    optimizer = getattr(optimizer, "inner_optimizer", optimizer)  # mixed_float16: LossScaleOptimizer
    if "learning_rate" in (logs or {}) or not isinstance(optimizer, keras.optimizers.Optimizer):
        return {}
    return {"learning_rate": float(keras.ops.convert_to_numpy(optimizer.learning_rate))}


def _finite(logs):
    value = (logs or {}).get("loss")
    return value is None or math.isfinite(float(value))


class Interrupt(keras.callbacks.Callback):
    """First Ctrl-C: stop after the current batch and save a resumable mid-epoch checkpoint."""

    def __init__(self, dataset):
        super().__init__()
        self.dataset = dataset
        self.requested = False
        self.epoch = 0
        self.steps_done = 0

    def installed(self):
        return SigintHandler(self)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.steps_done = self.dataset.start_step

    def on_train_batch_end(self, batch, logs=None):
        self.steps_done = self.dataset.start_step + batch + 1
        if self.requested:
            self.model.stop_training = True

    def save(self, model, checkpoints_path):
        weights_file = save_interrupted(model, checkpoints_path, self.epoch, self.steps_done)
        print(f"training interrupted: saved {weights_file} (epoch {self.epoch + 1}, step {self.steps_done})")


class SigintHandler:
    """Context manager routing the first SIGINT to ``interrupt``; a second one raises at once."""

    def __init__(self, interrupt):
        self.interrupt = interrupt
        self.previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False

    def _handle(self, signum, frame):
        if self.interrupt.requested:
            raise KeyboardInterrupt
        self.interrupt.requested = True
        print("\ninterrupt: stopping after this batch and saving a checkpoint (press Ctrl-C again to abort)")

