"""The names of a checkpoint's files (see :mod:`keras_segmentation.checkpoints`), and finding its weights files.

Example:
    >>> weights_path("ckpt/run", 3)
    'ckpt/run.00003.weights.h5'
    >>> [epoch for epoch, path in list_checkpoints("ckpt/run")]   # doctest: +SKIP
    [1, 2, 3]
"""

import os
import re

from ..errors import CheckpointError

_WEIGHTS_RE = r"\.(\d+)\.weights\.h5"


def config_path(checkpoints_path):
    """``<checkpoints_path>_config.json``: how to rebuild the model (:mod:`.config`)."""
    return f"{os.fspath(checkpoints_path)}_config.json"


def weights_path(checkpoints_path, epoch):
    """``<checkpoints_path>.NNNNN.weights.h5``: the weights after ``epoch`` (1-based)."""
    return f"{os.fspath(checkpoints_path)}.{int(epoch):05d}.weights.h5"


def final_model_path(checkpoints_path):
    """``<checkpoints_path>.keras``: the full model, written when training ends."""
    return f"{os.fspath(checkpoints_path)}.keras"


def history_path(checkpoints_path):
    """``<checkpoints_path>_history.json``: the per-epoch logs (:mod:`.history`)."""
    return f"{os.fspath(checkpoints_path)}_history.json"


def budget_path(checkpoints_path):
    """The time spent of a run with ``budget=`` (:mod:`keras_segmentation.training.budget`)."""
    return f"{os.fspath(checkpoints_path)}_budget.json"


def interrupted_paths(checkpoints_path):
    """``(weights, progress JSON)`` paths of the mid-epoch checkpoint written on Ctrl-C."""
    prefix = os.fspath(checkpoints_path)
    return f"{prefix}.interrupted.weights.h5", f"{prefix}.interrupted.json"


def list_checkpoints(checkpoints_path):
    """``[(epoch, weights_path), ...]`` sorted by epoch, for ``<checkpoints_path>.NNNNN.weights.h5`` files."""
    prefix = os.fspath(checkpoints_path)
    folder, stem = os.path.split(prefix)
    pattern = re.compile(re.escape(stem) + _WEIGHTS_RE + "$")
    try:
        names = os.listdir(folder or ".")
    except FileNotFoundError:
        return []
    found = []
    for name in names:
        match = pattern.fullmatch(name)
        if match:
            found.append((int(match.group(1)), os.path.join(folder, name)))
    return sorted(found)


def find_latest_checkpoint(checkpoints_path, fail_safe=True):
    """Path of the newest weights file, or ``None`` (the original's API).

    Raises:
        CheckpointError: (a ``ValueError`` too, as the original's) when nothing is
            found and ``fail_safe`` is False.
    """
    found = list_checkpoints(checkpoints_path)
    if found:
        return found[-1][1]
    if fail_safe:
        return None
    raise _CheckpointNotFound(f"Checkpoint path {os.fspath(checkpoints_path)}: no *.NNNNN.weights.h5 file found")


class _CheckpointNotFound(CheckpointError, ValueError):
    """No weights file under a checkpoint prefix (ValueError as in the original)."""
