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
from .errors import CheckpointError, CheckpointWriteError

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

    Raises:
        CheckpointWriteError: (an ``OSError``) the file could not be written
            (full disk, no permission), naming ``path``.
    """
    path = os.fspath(path)
    folder, name = os.path.split(path)
    temp = os.path.join(folder, f".tmp-{os.getpid()}-{name}")
    try:
        write(temp)
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException as err:
        if os.path.exists(temp):
            os.remove(temp)
        if isinstance(err, OSError) and not isinstance(err, CheckpointError):
            error = CheckpointWriteError(
                f"{path}: cannot write ({err.strerror or err}); nothing was replaced, earlier checkpoints are "
                "intact: free disk space (or fix the permissions) and resume with auto_resume_checkpoint=True"
            )
            error.errno = err.errno
            raise error from err
        raise
    _fsync_folder(folder or ".")


def remove_stale_temp_files(checkpoints_path):
    """Delete temporary files that a killed process left next to ``checkpoints_path``; returns them.

    A file counts as stale when the process id in its name (``.tmp-<pid>-...``) no longer runs.
    """
    folder, stem = os.path.split(os.fspath(checkpoints_path))
    pattern = re.compile(r"\.tmp-(\d+)-" + re.escape(stem) + r"[._]")
    removed = []
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return removed
    for name in names:
        match = pattern.match(name)
        if match and not _process_alive(int(match.group(1))):
            path = os.path.join(folder, name)
            os.remove(path)
            removed.append(path)
    return removed


def _process_alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


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
        raise CheckpointError(_config_not_found(checkpoints_path, path))
    try:
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: not valid JSON ({err})") from None
    except OSError as err:
        raise CheckpointError(f"{path}: cannot be read ({err.strerror or err})") from None
    _validate_config(config, path)
    return config


def _config_not_found(checkpoints_path, path):
    """Why ``path`` is missing, with the ``checkpoints_path`` values that would work."""
    prefix = os.fspath(checkpoints_path)
    is_folder = os.path.isdir(prefix)
    folder = prefix if is_folder else (os.path.dirname(prefix) or ".")
    try:
        found = sorted(n for n in os.listdir(folder) if n.endswith("_config.json"))
    except OSError:
        found = []
    message = f"{path}: checkpoint config not found"
    if is_folder:
        message += f"; {prefix} is a folder, but checkpoints_path is the prefix given to train (a folder and a name)"
    else:
        message += " (was the model trained with checkpoints_path=?)"
    if found:
        prefixes = [os.path.join(folder, n[: -len("_config.json")]) for n in found[:3]]
        message += f"; checkpoints here: {', '.join(prefixes)}" + (", ..." if len(found) > 3 else "")
    return message


#: Allowed JSON types of the config keys (unknown keys are kept and ignored).
_CONFIG_TYPES = {
    "model_class": (str,),
    "n_classes": (int,),
    "input_height": (int, type(None)),
    "input_width": (int, type(None)),
    "output_height": (int, type(None)),
    "output_width": (int, type(None)),
    "channels": (int,),
    "normalization": (str, type(None)),
    "class_names": (list, type(None)),
    "build_config": (dict, type(None)),
    "architecture": (dict,),
    "format_version": (int,),
    "library_version": (str,),
    "seed": (int, type(None)),
    "ignore_index": (int, type(None)),
    "read_image_type": (int,),
}
#: build_config arguments that would make the config choose files to read; paths never come from a config.
_PATH_ARGUMENTS = ("encoder_weights", "weights", "weights_path", "filepath")


def _validate_config(config, path):
    """Check ``config`` against the schema; every field is plain data, and none is used as a file path."""

    def fail(problem):
        raise CheckpointError(f"{path}: {problem}")

    if not isinstance(config, dict):
        fail(f"expected a JSON object, got {type(config).__name__}")
    missing = [key for key in _ORIGINAL_KEYS if key not in config]
    if missing:
        fail(f"missing key(s) {', '.join(missing)}")
    for key, types in _CONFIG_TYPES.items():
        if key in config and (not isinstance(config[key], types) or isinstance(config[key], bool)):
            fail(f"key {key!r} has the wrong type ({type(config[key]).__name__})")
    if config["n_classes"] < 1:
        fail(f"n_classes must be positive, got {config['n_classes']}")
    for key in ("input_height", "input_width", "output_height", "output_width", "channels"):
        if config.get(key) is not None and config[key] < 1:
            fail(f"{key} must be positive, got {config[key]}")
    if config.get("normalization") is not None:
        from .data.images import NORMALIZATIONS

        if config["normalization"] not in NORMALIZATIONS:
            fail(f"unknown normalization {config['normalization']!r}; expected one of {', '.join(NORMALIZATIONS)}")
    if config.get("class_names") is not None and not all(isinstance(n, str) for n in config["class_names"]):
        fail("class_names must be a list of strings")
    if config.get("build_config") is not None:
        _validate_build_config(config["build_config"], fail)
    if config.get("format_version", 1) > FORMAT_VERSION:
        fail(f"written by a newer keras-segmentation (format {config['format_version']}); upgrade to read it")


def _validate_build_config(build_config, fail):
    from .models.registry import model_from_name

    builder, kwargs = build_config.get("builder"), build_config.get("kwargs", {})
    if builder != "build_model" and builder not in model_from_name:
        fail(f"build_config names unknown builder {builder!r}; expected 'build_model' or a registered model name")
    if not isinstance(kwargs, dict):
        fail(f"build_config kwargs must be a JSON object, got {type(kwargs).__name__}")
    named_files = [key for key in _PATH_ARGUMENTS if key in kwargs]
    if named_files:
        fail(f"build_config may not set {', '.join(named_files)}: weights files are never taken from a config")


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
    with warnings.catch_warnings():
        if optimizer is None:  # inference: the saved optimizer state is not wanted
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
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


def restore_latest(model, checkpoints_path, skipped=None):
    """Load the newest checkpoint that loads cleanly (with optimizer state); return its epoch (0 if none).

    A corrupt or partial newest file is skipped with a warning and the one
    before it is tried.

    Args:
        skipped: a list that receives ``"<file>: <why>"`` for each file skipped.
    """
    for epoch, path in reversed(list_checkpoints(checkpoints_path)):
        try:
            load_training_weights(model, path)
        except Exception as err:  # noqa: BLE001 - any failure means "unusable file"
            why = load_error_message(err)
            warnings.warn(f"{path}: skipping unreadable checkpoint ({why})", stacklevel=2)
            if skipped is not None:
                skipped.append(f"{path}: {why}")
            continue
        return epoch
    return 0


def load_error_message(err, limit=300):
    """One line saying why Keras or h5py could not load a file; Keras safe-mode refusals are spelled out.

    Example:
        >>> load_error_message(ValueError("Requested the deserialization of a `Lambda` layer ... safe_mode=False"))[:24]
        'refused by Keras safe mo'
    """
    text = " ".join(str(err).split())
    if "safe_mode" in text or "unsafe_deserialization" in text:
        what = text.split(". ")[0].rstrip(".")
        return (
            f"refused by Keras safe mode ({what}: code that would run on loading); rebuild the model in code and "
            "load only its weights with model.load_weights, or, if you trust the file, load it yourself with "
            "keras.saving.load_model(path, safe_mode=False)"
        )
    text = f"{type(err).__name__}: {text}" if not isinstance(err, (CheckpointError, OSError)) else text
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
        load_weights_file(model, weights)
        return model
    found = list_checkpoints(checkpoints_path)
    if not found:
        final = final_model_path(checkpoints_path)
        if os.path.isfile(final):
            load_weights_file(model, final)
            return model
        raise CheckpointError(
            f"{os.fspath(checkpoints_path)}: config found but no weights file "
            f"({os.path.basename(weights_path(checkpoints_path, 1))}, ...); train first or pass weights="
        )
    skipped = []
    with warnings.catch_warnings():  # inference: the optimizer state in the file is not needed
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        epoch = restore_latest(model, checkpoints_path, skipped)
    if epoch == 0:
        raise CheckpointError(
            f"{os.fspath(checkpoints_path)}: none of the {len(found)} weights file(s) loads into the model "
            f"the config describes (newest: {skipped[0]})"
        )
    return model


def load_weights_file(model, path):
    """Load a weights file, or the weights of a ``.keras`` model file (in safe mode), into ``model``.

    Raises:
        CheckpointError: the file is missing, unreadable, refused by safe mode or does not fit ``model``.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: weights file not found")
    try:
        if path.endswith(".keras"):
            from .models.registry import load_model

            saved = load_model(path, compile=False)
            model.set_weights(saved.get_weights())
        else:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
                model.load_weights(path)
    except CheckpointError:
        raise
    except (ValueError, OSError, KeyError) as err:
        raise CheckpointError(
            f"{path}: cannot load weights into {model.model_name or 'the model'} ({load_error_message(err)})"
        ) from None


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
        raise CheckpointError(f"{source}: cannot rebuild model {name!r} ({load_error_message(err)})") from None
    if model.n_classes != config["n_classes"]:
        raise CheckpointError(f"{source}: n_classes={config['n_classes']} but the rebuilt model has {model.n_classes}")
    # Configs written by the original library have no "normalization": it always used "sub_mean".
    model.normalization = config.get("normalization") or "sub_mean"
    if config.get("class_names"):
        model.class_names = list(config["class_names"])
    return model
