"""A preset folder: the files it holds, and reading it back as a model.

A preset (the layout of keras-hub's presets) is a folder of:

    config.json        the model's config (the checkpoint ``_config.json`` schema: rebuilds it without custom objects)
    model.weights.h5   the weights (Keras; no optimizer state)
    preprocessor.json  input size, channels and their order, the normalisation, the prediction options
    metadata.json      versions, parameter count, date, class names and colours, where the model came from
    plan.json          fit's plan, fingerprint.json its data fingerprint (file names left out), scores.json
                       the scores: where known
    README.md          the model card

The library's inference reads presets here, as it reads ``fit`` run folders
(:mod:`.run_folder`): ``predict(model="my_preset")`` and
``keras_segmentation predict --model my_preset`` work. Keras loads only in :func:`load_preset`.

Example:
    >>> is_preset("presets/roads")                      # doctest: +SKIP
    True
    >>> model = load_preset("presets/roads")            # doctest: +SKIP
"""

import os

from ..errors import CheckpointError, PresetError
from ..json_files import read_json

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
PREPROCESSOR_FILE = "preprocessor.json"
METADATA_FILE = "metadata.json"
PLAN_FILE = "plan.json"
FINGERPRINT_FILE = "fingerprint.json"
SCORES_FILE = "scores.json"
CARD_FILE = "README.md"
#: ``metadata.json``'s ``format``, and the newest ``format_version`` this library reads
FORMAT = "keras_segmentation preset"
FORMAT_VERSION = 1


def is_preset(path):
    """True when ``path`` is a folder holding a preset's ``config.json`` and ``model.weights.h5``."""
    if not isinstance(path, (str, os.PathLike)):
        return False
    path = os.fspath(path)
    return all(os.path.isfile(os.path.join(path, name)) for name in (CONFIG_FILE, WEIGHTS_FILE))


def check_preset(path, source=None):
    """Raise a one-line :class:`PresetError` naming ``source`` (default ``path``) unless ``path`` is a preset."""
    source = os.fspath(source if source is not None else path)
    if not os.path.isdir(path):
        raise PresetError(f"{source}: no such preset folder")
    if not is_preset(path):
        missing = [name for name in (CONFIG_FILE, WEIGHTS_FILE) if not os.path.isfile(os.path.join(path, name))]
        raise PresetError(f"{source}: not a keras-segmentation preset (no {' or '.join(missing)}); save_preset writes one")


def read_preset_json(path, name, default=None):
    """The JSON file ``name`` of the preset ``path``; ``default`` when the preset has none.

    Raises:
        PresetError: the file exists but cannot be read.

    Example:
        >>> read_preset_json("presets/roads", METADATA_FILE)["format_version"]   # doctest: +SKIP
        1
    """
    file = os.path.join(os.fspath(path), name)
    if not os.path.isfile(file):
        return default
    return read_json(file, PresetError, "save or download the preset again")


def prediction_options(path):
    """``{"mode", "overlap", "flip_tta", "ignore_index"}`` the preset predicts with (a fit run's choice; ``{}`` if none)."""
    return (read_preset_json(path, PREPROCESSOR_FILE) or {}).get("prediction") or {}


def class_colors(path):
    """``[r, g, b]`` per class from the preset's ``metadata.json``, or ``None`` when it has none."""
    classes = (read_preset_json(path, METADATA_FILE) or {}).get("classes")
    return [entry["color"] for entry in classes] if classes and all("color" in entry for entry in classes) else None


def load_preset(path):
    """The model of the preset folder ``path``: rebuilt from ``config.json`` (safe mode), its weights loaded.

    Raises:
        PresetError: not a preset, a preset of a newer library, or a config or weights file that does not load.
    """
    check_preset(path)
    version = (read_preset_json(path, METADATA_FILE) or {}).get("format_version", FORMAT_VERSION)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise PresetError(f"{os.fspath(path)}: written by a newer keras-segmentation (preset format {version!r}); "
                          "upgrade to read it")
    from .config import read_config_file
    from .load import load_weights_file, model_from_config

    config_file = os.path.join(os.fspath(path), CONFIG_FILE)
    try:
        model = model_from_config(read_config_file(config_file), config_file)
        load_weights_file(model, os.path.join(os.fspath(path), WEIGHTS_FILE))
    except CheckpointError as err:
        raise PresetError(f"{err} (preset {os.fspath(path)})") from None
    return model
