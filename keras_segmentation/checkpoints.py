"""Checkpoint files: what training writes under ``checkpoints_path`` and how it is read back.

For ``checkpoints_path="ckpt/vgg_unet_1"`` training writes:

* ``ckpt/vgg_unet_1_config.json``: how to rebuild the model (the original's keys
  ``model_class, n_classes, input_height, input_width, output_height, output_width``
  plus ``channels, normalization, class_names, build_config, format_version,
  library_version``; models built by hand also store their ``architecture``);
* ``ckpt/vgg_unet_1.00003.weights.h5`` after epoch 3 (1-based, as Keras'
  ``ModelCheckpoint``): Keras weights, loadable with ``model.load_weights``; Keras
  stores the compiled optimizer's state in the same file, which resuming restores;
* ``ckpt/vgg_unet_1.keras``: the full model, at the end of training.

Every file is written to a temporary name in the same folder and renamed into
place, so a crash or a full disk never leaves a half-written checkpoint under
the real name: the previous one stays intact.

Example:
    >>> latest = find_latest_checkpoint("ckpt/vgg_unet_1")   # 'ckpt/vgg_unet_1.00005.weights.h5'
    >>> model = load_model_from_checkpoint("ckpt/vgg_unet_1")
"""

import json
import os
import re
import warnings

import numpy as np

from . import __version__
from .errors import CheckpointError

FORMAT_VERSION = 2
_WEIGHTS_RE = r"\.(\d+)\.weights\.h5"
_ORIGINAL_KEYS = ("model_class", "n_classes", "input_height", "input_width", "output_height", "output_width")



def config_path(checkpoints_path):
    return f"{os.fspath(checkpoints_path)}_config.json"


def weights_path(checkpoints_path, epoch):
    return f"{os.fspath(checkpoints_path)}.{int(epoch):05d}.weights.h5"


def final_model_path(checkpoints_path):
    return f"{os.fspath(checkpoints_path)}.keras"


# ------------------------------------------------------------------ atomic I/O
def atomic_write(path, write):
    """Call ``write(temp_path)`` then rename the temp file to ``path``.

    The temporary file is in the same folder (so the rename is atomic) and keeps
    ``path``'s suffix (Keras checks it). On any error it is removed and the
    error re-raised; an existing ``path`` is untouched.
    """
    path = os.fspath(path)
    folder, name = os.path.split(path)
    temp = os.path.join(folder, f".tmp-{os.getpid()}-{name}")
    try:
        write(temp)
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise
    _fsync_folder(folder or ".")


def _fsync_folder(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # not supported on this platform/filesystem; the rename is still atomic
    finally:
        os.close(fd)


# ---------------------------------------------------------------------- config
def model_config(model, **extra):
    """The ``_config.json`` content describing ``model``."""
    config = {
        "model_class": model.model_name,
        "n_classes": int(model.n_classes),
        "input_height": model.input_height,
        "input_width": model.input_width,
        "output_height": model.output_height,
        "output_width": model.output_width,
        "channels": int(model.channels),
        "normalization": model.normalization,
        "class_names": model.class_names,
        "build_config": model.build_config,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
    }
    if model.build_config is None:
        import keras

        config["architecture"] = keras.saving.serialize_keras_object(model)
    config.update(extra)
    return config


def write_config(checkpoints_path, model, **extra):
    """Write ``<checkpoints_path>_config.json`` atomically (creating the folder); returns the dict."""
    config = model_config(model, **extra)
    folder = os.path.dirname(os.fspath(checkpoints_path))
    if folder:
        os.makedirs(folder, exist_ok=True)

    def write(temp):
        with open(temp, "w", encoding="utf-8") as handle:
            json.dump(config, handle, indent=2)

    atomic_write(config_path(checkpoints_path), write)
    return config


def read_config(checkpoints_path):
    """Read and validate ``<checkpoints_path>_config.json``.

    Raises:
        CheckpointError: the file is missing, not JSON, or has missing/ill-typed keys.
    """
    path = config_path(checkpoints_path)
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: checkpoint config not found (was the model trained with checkpoints_path=?)")
    try:
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: not valid JSON ({err})") from None
    _validate_config(config, path)
    return config


def _validate_config(config, path):
    if not isinstance(config, dict):
        raise CheckpointError(f"{path}: expected a JSON object, got {type(config).__name__}")
    missing = [key for key in _ORIGINAL_KEYS if key not in config]
    if missing:
        raise CheckpointError(f"{path}: missing key(s) {', '.join(missing)}")
    expected = {
        "model_class": (str,),
        "n_classes": (int,),
        "input_height": (int, type(None)),
        "input_width": (int, type(None)),
        "output_height": (int, type(None)),
        "output_width": (int, type(None)),
        "channels": (int,),
        "normalization": (str,),
        "class_names": (list, type(None)),
        "build_config": (dict, type(None)),
        "architecture": (dict,),
        "format_version": (int,),
    }
    for key, types in expected.items():
        if key in config and (not isinstance(config[key], types) or isinstance(config[key], bool)):
            raise CheckpointError(f"{path}: key {key!r} has the wrong type ({type(config[key]).__name__})")
    if config["n_classes"] < 1:
        raise CheckpointError(f"{path}: n_classes must be positive, got {config['n_classes']}")
    if config.get("format_version", 1) > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: written by a newer keras-segmentation (format {config['format_version']}); upgrade to read it"
        )


# --------------------------------------------------------------------- weights
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


def save_checkpoint(model, checkpoints_path, epoch):
    """Write the weights (with the optimizer state) after ``epoch`` (1-based), atomically."""
    atomic_write(weights_path(checkpoints_path, epoch), lambda temp: save_training_weights(model, temp))


def save_training_weights(model, path):
    """``model.save_weights`` plus the random-generator states (dropout) Keras leaves out.

    They go in an extra HDF5 group that ``model.load_weights`` ignores, so the
    file stays a plain Keras weights file; :func:`load_training_weights` restores them.
    """
    import h5py

    model.save_weights(path)
    states = _rng_variables(model)
    if states:
        with h5py.File(path, "a") as handle:
            group = handle.create_group(_RNG_GROUP)
            for i, variable in enumerate(states):
                group.create_dataset(str(i), data=_to_numpy(variable))


def interrupted_paths(checkpoints_path):
    """``(weights, progress JSON)`` paths of the mid-epoch checkpoint written on Ctrl-C."""
    prefix = os.fspath(checkpoints_path)
    return f"{prefix}.interrupted.weights.h5", f"{prefix}.interrupted.json"


def save_interrupted(model, checkpoints_path, epoch, step):
    """Write a mid-epoch checkpoint: ``step`` batches of (0-based) ``epoch`` are done."""
    weights_file, progress_file = interrupted_paths(checkpoints_path)

    def write(temp):
        with open(temp, "w", encoding="utf-8") as handle:
            json.dump({"epoch": int(epoch), "step": int(step)}, handle)

    atomic_write(progress_file, write)
    atomic_write(weights_file, lambda temp: save_training_weights(model, temp))
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
    for path in interrupted_paths(checkpoints_path):
        if os.path.exists(path):
            os.remove(path)


def load_training_weights(model, path):
    """``model.load_weights`` that also restores the optimizer and random-generator states."""
    import h5py

    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not optimizer.built:
        optimizer.build(model.trainable_variables)
    model.load_weights(path)
    with h5py.File(path, "r") as handle:
        if _RNG_GROUP not in handle:
            return
        group = handle[_RNG_GROUP]
        saved = [group[str(i)][()] for i in range(len(group))]
    # Matched by position: variable names carry per-process counters (seed_generator_3).
    variables = _rng_variables(model)
    if len(variables) == len(saved) and all(tuple(v.shape) == a.shape for v, a in zip(variables, saved)):
        for variable, array in zip(variables, saved):
            variable.assign(array)


_RNG_GROUP = "keras_segmentation_rng_states"


def _rng_variables(model):
    return [v for v in model.variables if "seed_generator_state" in v.path]


def _to_numpy(variable):
    import keras

    return np.asarray(keras.ops.convert_to_numpy(variable))


def restore_latest(model, checkpoints_path):
    """Load the newest checkpoint that loads cleanly (with optimizer state); return its epoch (0 if none).

    A corrupt or partial newest file is skipped with a warning and the one
    before it is tried.
    """
    for epoch, path in reversed(list_checkpoints(checkpoints_path)):
        try:
            load_training_weights(model, path)
        except Exception as err:  # noqa: BLE001 - any failure means "unusable file"
            warnings.warn(f"{path}: skipping unreadable checkpoint ({type(err).__name__}: {err})", stacklevel=2)
            continue
        return epoch
    return 0


# ----------------------------------------------------------------- rebuilding
def load_model_from_checkpoint(checkpoints_path, weights=None):
    """Rebuild the model described by ``<checkpoints_path>_config.json`` and load weights.

    Args:
        checkpoints_path: the prefix given to ``train(checkpoints_path=...)``.
        weights: a weights file to load instead of the newest checkpoint.

    Raises:
        CheckpointError: no config, an unknown model, or no usable weights file.
    """
    config = read_config(checkpoints_path)
    model = model_from_config(config, config_path(checkpoints_path))
    if weights is not None:
        _load_weights(model, weights)
        return model
    found = list_checkpoints(checkpoints_path)
    if not found:
        final = final_model_path(checkpoints_path)
        if os.path.isfile(final):
            _load_weights(model, final)
            return model
        raise CheckpointError(
            f"{os.fspath(checkpoints_path)}: config found but no weights file "
            f"({os.path.basename(weights_path(checkpoints_path, 1))}, ...); train first or pass weights="
        )
    if restore_latest(model, checkpoints_path) == 0:
        raise CheckpointError(f"{os.fspath(checkpoints_path)}: every weights file is unreadable")
    return model


def _load_weights(model, path):
    try:
        if os.fspath(path).endswith(".keras"):
            import keras

            saved = keras.saving.load_model(path, compile=False, safe_mode=True)
            model.set_weights(saved.get_weights())
        else:
            model.load_weights(path)
    except (ValueError, OSError, KeyError) as err:
        raise CheckpointError(f"{os.fspath(path)}: cannot load weights into {model.model_name or 'the model'} ({err})") from None


def model_from_config(config, source="<config>"):
    """Build the (untrained) model a checkpoint config describes."""
    from .models import registry

    name = config["model_class"]
    try:
        if config.get("build_config"):
            model = registry.rebuild_model(config["build_config"])
        elif config.get("architecture"):
            import keras

            model = keras.saving.deserialize_keras_object(config["architecture"], safe_mode=True)
        elif name in registry.model_from_name:
            model = registry.model_from_name[name](
                config["n_classes"],
                input_height=config["input_height"],
                input_width=config["input_width"],
                channels=config.get("channels", 3),
                encoder_weights=None,
            )
        else:
            raise CheckpointError(f"{source}: unknown model_class {name!r}; known: {', '.join(sorted(registry.model_from_name))}")
    except CheckpointError:
        raise
    except Exception as err:  # noqa: BLE001 - a config that cannot be rebuilt is a checkpoint problem
        raise CheckpointError(f"{source}: cannot rebuild model {name!r} ({type(err).__name__}: {err})") from None
    if model.n_classes != config["n_classes"]:
        raise CheckpointError(f"{source}: n_classes={config['n_classes']} but the rebuilt model has {model.n_classes}")
    # Configs written by the original library have no "normalization": it always used "sub_mean".
    model.normalization = config.get("normalization") or "sub_mean"
    if config.get("class_names"):
        model.class_names = list(config["class_names"])
    return model
