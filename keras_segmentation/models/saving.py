"""Reading checkpoints: the files ``train(checkpoints_path=...)`` writes, their schema, rebuilding the model.

For ``checkpoints_path="ckpt/vgg_unet_1"`` training writes:

* ``ckpt/vgg_unet_1_config.json``: how to rebuild the model (the original's keys
  ``model_class, n_classes, input_height, input_width, output_height, output_width``
  plus ``channels, normalization, class_names, build_config, format_version,
  library_version``; models built by hand also store their ``architecture``);
* ``ckpt/vgg_unet_1.00003.weights.h5`` after epoch 3 (1-based, as Keras'
  ``ModelCheckpoint``): Keras weights, loadable with ``model.load_weights``; Keras
  stores the compiled optimizer's state in the same file, which resuming restores;
* ``ckpt/vgg_unet_1.keras``: the full model, at the end of training;
* ``ckpt/vgg_unet_1_history.json``: ``{"epochs": [{"epoch": 1, "loss": ..., "val_loss": ...,
  "learning_rate": ...}, ...]}``, one entry per checkpointed epoch (:func:`read_history`).

This module reads them (and defines their names and schema); writing them is
:mod:`keras_segmentation.training.checkpoints`.

Example:
    >>> latest = find_latest_checkpoint("ckpt/vgg_unet_1")   # 'ckpt/vgg_unet_1.00005.weights.h5'
    >>> model = load_model_from_checkpoint("ckpt/vgg_unet_1")
"""

import copy
import json
import os
import re
import warnings
import zipfile

import keras

from ..errors import CheckpointError
from ..version import __version__
from . import layers, registry, segmentation_model  # noqa: F401 - layers, segmentation_model: registers the serializable classes

FORMAT_VERSION = 2
_WEIGHTS_RE = r"\.(\d+)\.weights\.h5"
_ORIGINAL_KEYS = ("model_class", "n_classes", "input_height", "input_width", "output_height", "output_width")
#: HDF5 group of a weights file holding the random-generator states (dropout) Keras leaves out.
RNG_GROUP = "keras_segmentation_rng_states"


# ---------------------------------------------------------------------- names
def config_path(checkpoints_path):
    return f"{os.fspath(checkpoints_path)}_config.json"


def weights_path(checkpoints_path, epoch):
    return f"{os.fspath(checkpoints_path)}.{int(epoch):05d}.weights.h5"


def final_model_path(checkpoints_path):
    return f"{os.fspath(checkpoints_path)}.keras"


def history_path(checkpoints_path):
    return f"{os.fspath(checkpoints_path)}_history.json"


def budget_path(checkpoints_path):
    """The time spent of a run with ``budget=`` (:mod:`keras_segmentation.training.budget`)."""
    return f"{os.fspath(checkpoints_path)}_budget.json"


def interrupted_paths(checkpoints_path):
    """``(weights, progress JSON)`` paths of the mid-epoch checkpoint written on Ctrl-C."""
    prefix = os.fspath(checkpoints_path)
    return f"{prefix}.interrupted.weights.h5", f"{prefix}.interrupted.json"



# --------------------------------------------------------------------- config
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
        config["architecture"] = keras.saving.serialize_keras_object(model)
        config["architecture"].pop("compile_config", None)  # the architecture only: no loss or optimizer
    config.update(extra)
    return config


def read_config(checkpoints_path):
    """Read and validate ``<checkpoints_path>_config.json``.

    Raises:
        CheckpointError: the file is missing, not JSON, or has missing/ill-typed keys.
    """
    path = config_path(checkpoints_path)
    if not os.path.isfile(path):
        raise CheckpointError(_config_not_found(checkpoints_path, path))
    return read_config_file(path)


def read_config_file(path):
    """Read and validate a model config file (the ``_config.json`` schema) at ``path``, e.g. a preset's ``config.json``.

    Raises:
        CheckpointError: the file is unreadable, not JSON, or has missing/ill-typed keys.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        raise CheckpointError(f"{path}: not valid JSON ({err})") from None
    except OSError as err:
        raise CheckpointError(f"{path}: cannot be read ({err.strerror or err})") from None
    _validate_config(config, path)
    return config


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
    "precision": (str,),
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
        from ..data.images import NORMALIZATIONS

        if config["normalization"] not in NORMALIZATIONS:
            fail(f"unknown normalization {config['normalization']!r}; expected one of {', '.join(NORMALIZATIONS)}")
    if config.get("class_names") is not None and not all(isinstance(n, str) for n in config["class_names"]):
        fail("class_names must be a list of strings")
    if config.get("build_config") is not None:
        _validate_build_config(config["build_config"], fail)
    if config.get("format_version", 1) > FORMAT_VERSION:
        fail(f"written by a newer keras-segmentation (format {config['format_version']}); upgrade to read it")


def _validate_build_config(build_config, fail):
    builder, kwargs = build_config.get("builder"), build_config.get("kwargs", {})
    if builder != "build_model" and not (isinstance(builder, str) and builder in registry.model_from_name):
        fail(f"build_config names unknown builder {builder!r}; expected 'build_model' or a registered model name")
    if not isinstance(kwargs, dict):
        fail(f"build_config kwargs must be a JSON object, got {type(kwargs).__name__}")
    named_files = [key for key in _PATH_ARGUMENTS if key in kwargs]
    if named_files:
        fail(f"build_config may not set {', '.join(named_files)}: weights files are never taken from a config")


def layer_configs(config):
    """Every layer's ``{"class_name", "config"}`` entry in a (nested) Keras model config, to edit in place.

    Example:
        >>> [c["class_name"] for c in layer_configs(model.get_config())][:2]
        ['InputLayer', 'Conv2D']
    """
    if isinstance(config, dict):
        if isinstance(config.get("config"), dict) and "class_name" in config:
            yield config
        for value in list(config.values()):
            yield from layer_configs(value)
    elif isinstance(config, list):
        for value in config:
            yield from layer_configs(value)



# -------------------------------------------------------------------- weights
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
        if RNG_GROUP not in handle:
            return
        group = handle[RNG_GROUP]
        saved = [group[str(i)][()] for i in range(len(group))]
    # Matched by position: variable names carry per-process counters (seed_generator_3).
    variables = rng_variables(model)
    if len(variables) == len(saved) and all(tuple(v.shape) == a.shape for v, a in zip(variables, saved)):
        for variable, array in zip(variables, saved):
            variable.assign(array)



def rng_variables(model):
    """The model's random-generator state variables (dropout), in layer order."""
    return [v for v in model.variables if "seed_generator_state" in v.path]


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
    name = config["model_class"]
    try:
        if config.get("build_config"):
            model = registry.rebuild_model(config["build_config"])
        elif config.get("architecture"):
            # a copy: Keras takes the layer list out of the config it is given
            model = keras.saving.deserialize_keras_object(copy.deepcopy(config["architecture"]), safe_mode=True)
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



def load_model(path, compile=True):  # noqa: A002 - mirrors keras.saving.load_model
    """Load a ``.keras`` file saved from any library model (safe mode, no custom_objects needed).

    Safe mode means no code stored in the file runs: a model with a ``Lambda``
    layer (or any other layer that carries Python code) is refused. A model saved
    after ``train()`` names the library's losses in its training configuration;
    where :mod:`keras_segmentation.training` is not imported, it loads without it
    (with a warning), ready for inference.

    Raises:
        CheckpointError: the file is missing, not a Keras model file, or refused by safe mode.

    Example:
        >>> model = load_model("checkpoints/vgg_unet.keras")  # doctest: +SKIP
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: model file not found")
    check_keras_archive(path)
    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except (ValueError, TypeError, KeyError, OSError, ImportError, AttributeError) as err:
        if compile and _names_a_library_class(err):
            warnings.warn(
                f"{path}: loaded without its training configuration, which names the library's losses: "
                "import keras_segmentation.training first to restore it",
                stacklevel=2,
            )
            return load_model(path, compile=False)
        raise CheckpointError(f"{path}: cannot load the model ({load_error_message(err)})") from None


def check_keras_archive(path):
    """A one-line error when the ``.keras`` file at ``path`` is not a zip archive (Keras says "File not found")."""
    if os.fspath(path).endswith(".keras") and not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path}: not a readable .keras archive (corrupt or truncated); save or copy it again")


def _names_a_library_class(err):
    """True when Keras could not find a class this library registers under its own package name."""
    text = str(err)
    return "Could not locate class" in text and "keras_segmentation" in text

