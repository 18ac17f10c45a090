"""The ``_config.json`` schema: what it holds (:func:`model_config`), writing it, reading and validating it.

Every field is plain data: a config never names a file to read, so a config from
elsewhere (a preset's ``config.json`` too) is safe to rebuild a model from.

Example:
    >>> write_config("ckpt/run", model, seed=0)          # ckpt/run_config.json
    >>> read_config("ckpt/run")["seed"]
    0
"""

import json
import os

import keras

from ..atomic import atomic_write_text
from ..errors import CheckpointError
from ..models import registry
from ..uncertainty import check_temperature, model_temperature
from ..version import __version__
from . import WRITE_OPTIONS
from .names import config_path

FORMAT_VERSION = 2
_ORIGINAL_KEYS = ("model_class", "n_classes", "input_height", "input_width", "output_height", "output_width")


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
    temperature = model_temperature(model)
    if temperature != 1.0:  # calibrated (keras_segmentation.calibration); absent means 1
        config["temperature"] = temperature
    if model.build_config is None:
        config["architecture"] = keras.saving.serialize_keras_object(model)
        config["architecture"].pop("compile_config", None)  # the architecture only: no loss or optimizer
    config.update(extra)
    return config


def write_config(checkpoints_path, model, **extra):
    """Write ``<checkpoints_path>_config.json`` atomically (creating the folder); returns the dict."""
    config = model_config(model, **extra)
    folder = os.path.dirname(os.fspath(checkpoints_path))
    if folder:
        os.makedirs(folder, exist_ok=True)
    atomic_write_text(config_path(checkpoints_path), json.dumps(config, indent=2), **WRITE_OPTIONS)
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
    "temperature": (int, float),
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
        from ..data.normalization import NORMALIZATIONS

        if config["normalization"] not in NORMALIZATIONS:
            fail(f"unknown normalization {config['normalization']!r}; expected one of {', '.join(NORMALIZATIONS)}")
    if "temperature" in config:
        check_temperature(config["temperature"], path, CheckpointError)
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
