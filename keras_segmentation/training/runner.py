"""The epoch machinery ``train()`` and ``distill()`` share: seed, resume, default callbacks, fitting, the final checkpoint.

``working`` is the model ``fit`` runs (the model itself, a precision copy, a
:class:`~keras_segmentation.distillation.Distiller`); its ``save_weights`` /
``load_weights`` write and read the epoch checkpoints. ``described`` is the model
the ``_config.json`` describes, and ``final`` the one saved as ``<prefix>.keras``.

Example:
    >>> seed = choose_seed(None, "ckpt/run", model, auto_resume=True)
    >>> first, done = begin(model, model, "ckpt/run", "ckpt/run", True, steps=len(data), seed=seed)
    >>> interrupt, stop_on_nan, callbacks = epoch_callbacks(data, "ckpt/run")
    >>> def fit(epoch, start_step, last_epoch):
    ...     data.epoch, data.start_step = epoch, start_step
    ...     return model.fit(data, initial_epoch=epoch, epochs=last_epoch, callbacks=callbacks, shuffle=False)
    >>> with interrupt.installed():
    ...     history = run_epochs(fit, model, interrupt, first, done, epochs=5)
    >>> finish(model, model, "ckpt/run", "ckpt/run", interrupt, stop_on_nan)
"""

import os

import keras
import numpy as np

from ..atomic import atomic_write, file_in_the_way
from ..checkpoints import WRITE_OPTIONS
from ..checkpoints.config import write_config
from ..checkpoints.names import budget_path, config_path, final_model_path, history_path
from ..checkpoints.resume import previous_run, resume, warn_if_earlier_run
from ..checkpoints.weights import clear_interrupted
from ..errors import ModelConfigError, OutputWriteError
from .budget import TimeBudget, parse_budget
from .callbacks import CheckpointsCallback, DatasetEpoch, Interrupt, StopOnNaN
from .compile import is_keras_schedule


def check_counts(**counts):
    """Raise a ModelConfigError naming the first count (``batch_size=0``) below 1; ``None`` passes."""
    for name, value in counts.items():
        try:
            too_small = value is not None and int(value) < 1
        except (TypeError, ValueError):
            raise ModelConfigError(f"{name}={value!r}: must be a whole number") from None
        if too_small:
            raise ModelConfigError(f"{name}={value}: must be at least 1")


def check_outputs(checkpoints_path=None, tensorboard_dir=None):
    """Raise an OutputWriteError naming the path when an output of training cannot be written; before any is.

    ``tensorboard_dir`` and the folder of ``checkpoints_path`` must be folders or new names (with no
    file above them), and no file written at ``checkpoints_path`` (config, history, final model) a folder.
    """
    outputs = [("tensorboard_dir", tensorboard_dir, tensorboard_dir)]
    if checkpoints_path is not None:
        outputs.append(("checkpoints_path", checkpoints_path, os.path.dirname(os.fspath(checkpoints_path))))
        for path in (config_path(checkpoints_path), history_path(checkpoints_path), final_model_path(checkpoints_path),
                     budget_path(checkpoints_path)):
            if os.path.isdir(path):
                raise OutputWriteError(f"checkpoints_path={os.fspath(checkpoints_path)!r}: {path} is a folder, where "
                                       "training writes a file; move it away or choose another checkpoints_path")
    for name, given, folder in outputs:
        if given is None:
            continue
        blocker = file_in_the_way(folder or ".")
        if blocker is not None:
            raise OutputWriteError(f"{name}={os.fspath(given)!r}: {blocker} is not a folder; give a folder or a new name")


#: ``epochs`` of a run bounded by its time budget only
UNBOUNDED_EPOCHS = 1_000_000


def time_budget(budget, learning_rate, lr_schedule, checkpoints_path, auto_resume, epochs=None, replication=None):
    """The :class:`~.budget.TimeBudget` callback of ``train(budget=...)``, or ``None`` without a budget.

    Its state (the time spent) is ``<checkpoints_path>_budget.json``: kept when resuming, else started again.
    ``epochs`` (if given) also bounds the run, and the cosine with it. On several workers (``replication``)
    every worker stops after the same epoch, by the chief's clock.

    Raises:
        ModelConfigError: a bad budget, a budget with ``lr_schedule``, or one on several JAX processes.
    """
    if budget is None:
        return None
    seconds = parse_budget(budget)
    if lr_schedule is not None:
        raise ModelConfigError("budget= sets a cosine learning rate over the time itself; leave lr_schedule out")
    if replication is not None and replication.workers > 1 and not replication.is_tensorflow:
        raise ModelConfigError("budget= on several JAX processes: each would stop by its own clock; give epochs= "
                               "instead, or train with the TensorFlow backend and distribute='multi_worker'")
    state = budget_path(checkpoints_path) if checkpoints_path is not None else None
    return TimeBudget(seconds, peak_lr=1e-3 if learning_rate is None else learning_rate, state_path=state,
                      fresh=not auto_resume, max_epochs=epochs, workers=replication)


def choose_seed(seed, checkpoints_path, model, auto_resume, default=None):
    """The run's seed: ``seed``, else the resumed run's (from its config), else ``default``, else a random one.

    Raises:
        CheckpointError: resuming, and the checkpoints under ``checkpoints_path`` belong to another model.
    """
    previous = previous_run(checkpoints_path, model) if checkpoints_path is not None and auto_resume else None
    for value in (seed, previous, default):
        if value is not None:
            return int(value)
    return int(np.random.SeedSequence().generate_state(1)[0])


def begin(working, described, checkpoints_path, write_path, auto_resume, steps, chief=True, **config):
    """Resume (or warn that an earlier run will be replaced) and write the config; ``(epochs done, steps done)``.

    ``steps`` is the number of batches in an epoch; ``config`` goes into ``_config.json`` (seed, ...).
    """
    if checkpoints_path is None:
        return 0, 0
    initial_epoch, resume_step = 0, 0
    if auto_resume:
        initial_epoch, resume_step = resume(working, checkpoints_path, remove_stale=chief)
        if resume_step >= steps:  # Ctrl-C after the epoch's last batch: that epoch is done
            initial_epoch, resume_step = initial_epoch + 1, 0
    elif chief:
        warn_if_earlier_run(checkpoints_path)
    write_config(write_path, described, **config)
    return initial_epoch, resume_step


def epoch_callbacks(data, checkpoints_path, write_path=None, chief=True, lr_schedule=None, callbacks=None,
                    replace_default=False, keep_checkpoints=None):
    """``(interrupt, stop_on_nan, callbacks)``: checkpoints, NaN stop, Ctrl-C, ``lr_schedule(epoch, lr)``, ``callbacks``.

    ``replace_default`` (with ``callbacks``) keeps only the caller's callbacks, as the original library did;
    ``keep_checkpoints`` bounds the epoch checkpoints kept (``None``: all).
    """
    write_path = checkpoints_path if write_path is None else write_path
    interrupt, stop_on_nan = Interrupt(data), StopOnNaN(checkpoints_path)
    defaults = [stop_on_nan, interrupt]
    if checkpoints_path is not None:
        defaults.insert(0, CheckpointsCallback(write_path, interrupt, keep=keep_checkpoints if chief else 1))
    if callable(lr_schedule) and not is_keras_schedule(lr_schedule):
        defaults.append(keras.callbacks.LearningRateScheduler(lr_schedule))
    user_callbacks = list(callbacks or [])
    chosen = [DatasetEpoch(data)]  # plumbing, not a default a user replaces
    chosen += user_callbacks if replace_default and user_callbacks else defaults + user_callbacks
    return interrupt, stop_on_nan, chosen


def run_epochs(fit, working, interrupt, initial_epoch, resume_step, epochs):
    """Finish a part-done epoch (``resume_step`` batches done), then the rest; returns the last ``History``.

    ``fit(epoch, start_step, last_epoch)`` runs ``fit`` from ``epoch``, skipping ``start_step`` batches.
    """
    history = None
    if resume_step and initial_epoch < epochs:
        history = fit(initial_epoch, resume_step, initial_epoch + 1)
        initial_epoch += 1
    if initial_epoch < epochs and not interrupt.requested and not working.stop_training:
        history = fit(initial_epoch, 0, epochs)
    return history


def finish(working, final, checkpoints_path, write_path, interrupt, stop_on_nan):
    """After fitting: raise on a NaN loss; on Ctrl-C save a mid-epoch checkpoint and raise; else write ``<prefix>.keras``.

    Raises:
        TrainingError: the loss became NaN/inf.
        KeyboardInterrupt: training was interrupted (the message says how to resume).
    """
    stop_on_nan.raise_if_failed()
    if interrupt.requested:
        if checkpoints_path is not None:
            interrupt.save(working, write_path)
        how_to_resume = f"; resume with auto_resume_checkpoint=True and checkpoints_path={checkpoints_path!r}"
        raise KeyboardInterrupt("training interrupted" + (how_to_resume if checkpoints_path else ""))
    if checkpoints_path is not None:
        clear_interrupted(write_path)
        atomic_write(final_model_path(write_path), final.save, **WRITE_OPTIONS)
