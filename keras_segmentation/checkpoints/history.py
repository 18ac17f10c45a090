"""The training history: ``<checkpoints_path>_history.json``, one entry of logs per checkpointed epoch.

Example:
    >>> append_history("ckpt/run", 1, {"loss": 0.7})    # ckpt/run_history.json
    >>> read_history("ckpt/run")
    [{'epoch': 1, 'loss': 0.7}]
"""

import json
import os
import warnings

import keras
import numpy as np

from ..atomic import atomic_write_text
from ..errors import CheckpointError
from . import WRITE_OPTIONS
from .names import history_path


def read_history(checkpoints_path):
    """The per-epoch logs training wrote to ``<checkpoints_path>_history.json``, oldest first; ``[]`` if none.

    Raises:
        CheckpointError: the file exists but is not the history JSON.

    Example:
        >>> [round(e["loss"], 2) for e in read_history("ckpt/vgg_unet_1")]   # doctest: +SKIP
        [0.91, 0.55, 0.42]
    """
    path = history_path(checkpoints_path)
    if not os.path.isfile(path):
        return []
    try:
        with open(path, encoding="utf-8") as handle:
            epochs = json.load(handle)["epochs"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, RecursionError) as err:
        raise CheckpointError(f"{path}: not a training history ({err}); delete it, training writes it anew") from None
    if not isinstance(epochs, list) or not all(isinstance(e, dict) and isinstance(e.get("epoch"), int) for e in epochs):
        raise CheckpointError(f"{path}: not a training history (epochs must be objects with an epoch number)")
    return epochs


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
    atomic_write_text(history_path(checkpoints_path), json.dumps({"epochs": epochs}, indent=1), **WRITE_OPTIONS)
