"""Continuing a run from its checkpoints: are they this model's (:func:`previous_run`), and loading the newest.

Example:
    >>> seed = previous_run("ckpt/run", model)   # None: no run there yet
    >>> resume(model, "ckpt/run")                # (1, 0): one epoch done
    (1, 0)
"""

import os
import warnings

from ..atomic import remove_stale_temp_files
from ..errors import CheckpointError
from .config import read_config
from .load import load_error_message, restore_latest
from .names import config_path, interrupted_paths, list_checkpoints
from .weights import load_training_weights, read_interrupted


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
