"""A model from a checkpoint (:func:`load_model_from_checkpoint`) or a ``.keras`` file (:func:`load_model`).

Loading runs no code stored in a file (Keras safe mode); a model is rebuilt from
its ``_config.json`` (:func:`model_from_config`), then given the newest weights
file that loads.

Example:
    >>> model = load_model_from_checkpoint("ckpt/vgg_unet_1")   # the newest ckpt/vgg_unet_1.NNNNN.weights.h5
    >>> same = load_model("ckpt/vgg_unet_1.keras")
"""

import copy
import os
import warnings
import zipfile

import keras

from ..errors import CheckpointError
from ..models import layers, registry, segmentation_model  # noqa: F401 - layers, segmentation_model: registers the serializable classes
from . import run_folder
from .config import read_config
from .names import config_path, final_model_path, list_checkpoints, weights_path
from .temperature import read_temperature
from .weights import load_training_weights


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
    if "temperature" in config:  # calibrated: the predictor rescales the probabilities (checkpoints.temperature)
        model.temperature = float(config["temperature"])
    return model


def load_model(path, compile=True):  # noqa: A002 - mirrors keras.saving.load_model
    """Load a ``.keras`` file saved from any library model (safe mode, no custom_objects needed).

    The ``model.keras`` of a ``fit`` run folder gets the calibration temperature the folder keeps as
    ``model.temperature`` (:mod:`.temperature`).

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
        model = keras.saving.load_model(path, compile=compile, safe_mode=True)
    except (ValueError, TypeError, KeyError, OSError, ImportError, AttributeError) as err:
        if compile and _names_a_library_class(err):
            warnings.warn(
                f"{path}: loaded without its training configuration, which names the library's losses: "
                "import keras_segmentation.training first to restore it",
                stacklevel=2,
            )
            return load_model(path, compile=False)
        raise CheckpointError(f"{path}: cannot load the model ({load_error_message(err)})") from None
    file = run_folder.temperature_file(path)
    if file is not None:
        model.temperature = read_temperature(file)
    return model


def check_keras_archive(path):
    """A one-line error when the ``.keras`` file at ``path`` is not a zip archive (Keras says "File not found")."""
    if os.fspath(path).endswith(".keras") and not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path}: not a readable .keras archive (corrupt or truncated); save or copy it again")


def _names_a_library_class(err):
    """True when Keras could not find a class this library registers under its own package name."""
    text = str(err)
    return "Could not locate class" in text and "keras_segmentation" in text


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
