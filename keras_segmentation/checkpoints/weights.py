"""Weights files of training: ``<prefix>.NNNNN.weights.h5`` per epoch and the mid-epoch one of a Ctrl-C.

Each is a plain Keras weights file (the compiled optimizer's state included, as
Keras stores it) plus the random-generator states (dropout) Keras leaves out, in
an extra HDF5 group that ``model.load_weights`` ignores.

Example:
    >>> save_checkpoint(model, "ckpt/run", epoch=1)      # ckpt/run.00001.weights.h5
    >>> load_training_weights(model, "ckpt/run.00001.weights.h5")
    >>> save_interrupted(model, "ckpt/run", epoch=1, step=7)
    >>> read_interrupted("ckpt/run")
    (1, 7)
"""

import json
import os
import warnings

import h5py
import keras
import numpy as np

from ..atomic import atomic_write, atomic_write_text
from . import WRITE_OPTIONS
from .names import interrupted_paths, weights_path

#: HDF5 group of a weights file holding the random-generator states (dropout) Keras leaves out.
RNG_GROUP = "keras_segmentation_rng_states"


def rng_variables(model):
    """The model's random-generator state variables (dropout), in layer order."""
    return [v for v in model.variables if "seed_generator_state" in v.path]


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


def load_training_weights(model, path):
    """``model.load_weights`` that also restores the optimizer and random-generator states."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not optimizer.built:
        optimizer.build(model.trainable_variables)
    with warnings.catch_warnings():
        if optimizer is None:  # inference: the saved optimizer state is not wanted
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        model.load_weights(path)
    with h5py.File(path, "r") as handle:
        if RNG_GROUP not in handle:
            return
        group = handle[RNG_GROUP]
        saved = [group[str(i)][()] for i in range(len(group))]
    # Matched by position: variable names carry per-process counters (seed_generator_3).
    variables = rng_variables(model)
    if len(variables) == len(saved) and all(tuple(v.shape) == a.shape for v, a in zip(variables, saved)):
        for variable, array in zip(variables, saved):
            variable.assign(array)


def save_checkpoint(model, checkpoints_path, epoch):
    """Write the weights (with the optimizer state) after ``epoch`` (1-based), atomically."""
    atomic_write(weights_path(checkpoints_path, epoch), lambda temp: save_training_weights(model, temp), **WRITE_OPTIONS)


def save_interrupted(model, checkpoints_path, epoch, step):
    """Write a mid-epoch checkpoint: ``step`` batches of (0-based) ``epoch`` are done."""
    weights_file, progress_file = interrupted_paths(checkpoints_path)
    if os.path.exists(progress_file):
        os.remove(progress_file)  # an older step must never pair with these weights if writing them fails
    atomic_write(weights_file, lambda temp: save_training_weights(model, temp), **WRITE_OPTIONS)
    atomic_write_text(progress_file, json.dumps({"epoch": int(epoch), "step": int(step)}), **WRITE_OPTIONS)
    return weights_file


def read_interrupted(checkpoints_path):
    """``(epoch, step)`` of a complete mid-epoch checkpoint, or ``None``."""
    weights_file, progress_file = interrupted_paths(checkpoints_path)
    if not (os.path.isfile(weights_file) and os.path.isfile(progress_file)):
        return None
    try:
        with open(progress_file, encoding="utf-8") as handle:
            progress = json.load(handle)
        return int(progress["epoch"]), int(progress["step"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def clear_interrupted(checkpoints_path):
    """Delete the mid-epoch checkpoint, once a complete epoch or the end of training supersedes it."""
    for path in interrupted_paths(checkpoints_path):
        if os.path.exists(path):
            os.remove(path)
