"""Writing checkpoints during training, and resuming from them.

The file names and their schema are defined in :mod:`keras_segmentation.models.saving`
(which also reads them); every file here is written with
:func:`keras_segmentation.atomic.atomic_write`, so a crash or a full disk never
leaves a half-written checkpoint under the real name.

Example:
    >>> write_config("ckpt/run", model, seed=0)
    >>> save_checkpoint(model, "ckpt/run", epoch=1)      # ckpt/run.00001.weights.h5
    >>> append_history("ckpt/run", 1, {"loss": 0.7})    # ckpt/run_history.json
    >>> resume(model, "ckpt/run")                        # (1, 0): one epoch done
"""

import json
import os
import warnings

import h5py
import keras
import numpy as np

from .. import atomic
from ..atomic import remove_stale_temp_files
from ..errors import CheckpointError, CheckpointWriteError
from ..models.saving import (
    RNG_GROUP,
    config_path,
    history_path,
    interrupted_paths,
    list_checkpoints,
    load_error_message,
    load_training_weights,
    model_config,
    read_config,
    read_history,
    read_interrupted,
    restore_latest,
    rng_variables,
    weights_path,
)

#: what to do when a checkpoint cannot be written (``{fix}``: :func:`keras_segmentation.atomic.write_fix`)
RESUME_ADVICE = "earlier checkpoints are intact: {fix}, then resume with auto_resume_checkpoint=True"


def atomic_write(path, write):
    """:func:`keras_segmentation.atomic.atomic_write` for checkpoint files (durable; CheckpointWriteError)."""
    atomic.atomic_write(path, write, advice=RESUME_ADVICE, error_class=CheckpointWriteError)


def atomic_write_text(path, text):
    """:func:`atomic_write` of a text file (configs, history, progress)."""
    atomic.atomic_write_text(path, text, advice=RESUME_ADVICE, error_class=CheckpointWriteError)


def write_config(checkpoints_path, model, **extra):
    """Write ``<checkpoints_path>_config.json`` atomically (creating the folder); returns the dict."""
    config = model_config(model, **extra)
    folder = os.path.dirname(os.fspath(checkpoints_path))
    if folder:
        os.makedirs(folder, exist_ok=True)
    atomic_write_text(config_path(checkpoints_path), json.dumps(config, indent=2))
    return config


def save_checkpoint(model, checkpoints_path, epoch):
    """Write the weights (with the optimizer state) after ``epoch`` (1-based), atomically."""
    atomic_write(weights_path(checkpoints_path, epoch), lambda temp: save_training_weights(model, temp))


def append_history(checkpoints_path, epoch, logs):
    """Record epoch ``epoch``'s (1-based) logs in ``<checkpoints_path>_history.json``, atomically.

    Entries for ``epoch`` and later are replaced, so a resumed run continues the
    history and a fresh run over an old prefix starts it again. Non-finite values are stored as ``null``.
    """
    try:
        epochs = [e for e in read_history(checkpoints_path) if e["epoch"] < epoch]
    except CheckpointError as err:
        warnings.warn(f"{err}: starting a new history", stacklevel=2)
        epochs = []
    entry = {"epoch": int(epoch)}
    for key, value in logs.items():
        value = float(np.asarray(keras.ops.convert_to_numpy(value)).mean())
        entry[str(key)] = value if np.isfinite(value) else None
    epochs.append(entry)
    atomic_write_text(history_path(checkpoints_path), json.dumps({"epochs": epochs}, indent=1))


def save_training_weights(model, path):
    """``model.save_weights`` plus the random-generator states (dropout) Keras leaves out.

    They go in an extra HDF5 group that ``model.load_weights`` ignores, so the
    file stays a plain Keras weights file; :func:`load_training_weights` restores them.
    """
    model.save_weights(path)
    states = rng_variables(model)
    if states:
        with h5py.File(path, "a") as handle:
            group = handle.create_group(RNG_GROUP)
            for i, variable in enumerate(states):
                group.create_dataset(str(i), data=np.asarray(keras.ops.convert_to_numpy(variable)))


def save_interrupted(model, checkpoints_path, epoch, step):
    """Write a mid-epoch checkpoint: ``step`` batches of (0-based) ``epoch`` are done."""
    weights_file, progress_file = interrupted_paths(checkpoints_path)
    if os.path.exists(progress_file):
        os.remove(progress_file)  # an older step must never pair with these weights if writing them fails
    atomic_write(weights_file, lambda temp: save_training_weights(model, temp))
    atomic_write_text(progress_file, json.dumps({"epoch": int(epoch), "step": int(step)}))
    return weights_file


def clear_interrupted(checkpoints_path):
    for path in interrupted_paths(checkpoints_path):
        if os.path.exists(path):
            os.remove(path)


def check_resumable(config, model, source, checkpoints_path):
    """Raise :class:`CheckpointError` when the checkpoints a config describes cannot belong to ``model``.

    Resuming must never overwrite another model's checkpoints; this compares the
    settings that decide the weights' shapes before anything is written.
    """
    if not (list_checkpoints(checkpoints_path) or read_interrupted(checkpoints_path)):
        return  # nothing to lose
    current = {
        "model_class": model.model_name,
        "n_classes": int(model.n_classes),
        "channels": int(model.channels),
        "input_height": model.input_height,
        "input_width": model.input_width,
    }
    saved = dict(config, channels=config.get("channels", 3))
    differ = [
        f"{key}={saved.get(key)!r} (the model has {value!r})" for key, value in current.items() if saved.get(key) != value
    ]
    if differ:
        raise CheckpointError(
            f"{source}: the checkpoints under {os.fspath(checkpoints_path)} are for another model: "
            f"{', '.join(differ)}; resume with the model that wrote them, or choose a new checkpoints_path"
        )



def previous_run(checkpoints_path, model):
    """The seed of the run whose checkpoints ``checkpoints_path`` holds, after checking they fit ``model``.

    Returns ``None`` when there is no config yet.

    Raises:
        CheckpointError: the checkpoints belong to another model.
    """
    if not os.path.isfile(config_path(checkpoints_path)):
        return None
    config = read_config(checkpoints_path)
    check_resumable(config, model, config_path(checkpoints_path), checkpoints_path)
    return config.get("seed")


def resume(model, checkpoints_path, remove_stale=True):
    """Load the newest usable checkpoint; returns ``(epochs done, batches done in the next epoch)``.

    ``remove_stale`` deletes temporary files left by killed writers first (only the
    process that writes checkpoints should: another machine cannot tell whether
    the writer still runs).

    Raises:
        CheckpointError: there are checkpoints but none loads into ``model``
            (starting over would overwrite them).
    """
    if remove_stale:
        remove_stale_temp_files(checkpoints_path)
    skipped = []
    epoch = restore_latest(model, checkpoints_path, skipped)
    interrupted = read_interrupted(checkpoints_path)
    if interrupted is not None and interrupted[0] >= epoch:
        weights_file = interrupted_paths(checkpoints_path)[0]
        try:
            load_training_weights(model, weights_file)
            return interrupted
        except Exception as err:  # noqa: BLE001
            warnings.warn(f"{weights_file}: skipping unreadable interrupted checkpoint ({err})", stacklevel=4)
            skipped.append(f"{weights_file}: {load_error_message(err)}")
    if epoch == 0 and skipped:
        raise CheckpointError(
            f"{os.fspath(checkpoints_path)}: cannot resume, none of the {len(skipped)} checkpoint(s) loads into "
            f"this model (newest: {skipped[0]}); resume with the model that wrote them, "
            "or choose a new checkpoints_path"
        )
    return epoch, 0


def warn_if_earlier_run(checkpoints_path):
    """Warn that a fresh run at ``checkpoints_path`` will replace an earlier run's checkpoints."""
    found = list_checkpoints(checkpoints_path)
    if found:
        warnings.warn(
            f"{os.fspath(checkpoints_path)}: holds checkpoints of an earlier run (up to epoch {found[-1][0]}); "
            "this run replaces them epoch by epoch and later epochs stay behind: pass auto_resume_checkpoint=True "
            "to continue that run, or use a new checkpoints_path",
            stacklevel=4,  # <- runner.begin <- train or distill: their caller
        )
