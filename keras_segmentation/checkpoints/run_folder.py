"""A ``fit`` run folder used as a model: its ``model.keras`` and how it predicts (``predict.json``: the options, and
the class colours when the data carried some).

``fit`` writes the folder (:mod:`keras_segmentation.autofit.run`); ``predict``, ``evaluate`` and
``export`` read it here, without loading Keras (an exported model needs none).

Example:
    >>> model_file("runs/fit")                     # doctest: +SKIP
    'runs/fit/model.keras'
    >>> prediction_options("runs/fit")             # doctest: +SKIP
    {'mode': 'slide', 'overlap': 0.25, 'flip_tta': False, 'ignore_index': None}
    >>> class_colors("runs/fit")[:2]                # doctest: +SKIP
    [[0, 0, 0], [128, 64, 128]]
"""

import os

from ..errors import CheckpointError
from ..json_files import read_json

MODEL_FILE = "model.keras"
PREDICT_FILE = "predict.json"
#: entries of ``predict.json`` that are not options of the predictor: the calibration temperature (:mod:`.temperature`)
#: and the class colours
NOT_OPTIONS = ("temperature", "class_colors")


def is_run_folder(path):
    """True when ``path`` is a folder ``fit`` wrote (it has ``plan.json``)."""
    return isinstance(path, (str, os.PathLike)) and os.path.isfile(os.path.join(os.fspath(path), "plan.json"))


def model_file(path):
    """The model file of the run folder ``path``.

    Raises:
        CheckpointError: the run has not finished (no ``model.keras`` yet).
    """
    found = os.path.join(os.fspath(path), MODEL_FILE)
    if not os.path.isfile(found):
        raise CheckpointError(f"{os.fspath(path)}: fit has not finished here (no {MODEL_FILE}); run fit again to resume it")
    return found


def temperature_file(path):
    """The ``predict.json`` that keeps the calibration temperature (:mod:`.temperature`) of the run folder ``path``,
    or of the ``model.keras`` in one; ``None`` for anything else.

    Example:
        >>> temperature_file("runs/fit/model.keras")     # doctest: +SKIP
        'runs/fit/predict.json'
    """
    path = os.fspath(path)
    if is_run_folder(path):
        return os.path.join(path, PREDICT_FILE)
    folder, name = os.path.split(path)
    return os.path.join(folder, PREDICT_FILE) if name == MODEL_FILE and is_run_folder(folder) else None


def prediction_options(path):
    """``{"mode", "overlap", "flip_tta", "ignore_index"}`` the run chose on its validation set (``{}`` if none).

    ``predict.json`` also keeps the calibration temperature (:mod:`.temperature`: the model's) and the class colours
    (:func:`class_colors`): not options; left out.
    """
    return {key: value for key, value in _predict_file(path).items() if key not in NOT_OPTIONS}


def class_colors(path):
    """``[r, g, b]`` per class from the colours the run's data carried (``predict.json``), or ``None`` without."""
    return _predict_file(path).get("class_colors")


def _predict_file(path):
    options = os.path.join(os.fspath(path), PREDICT_FILE)
    if not os.path.isfile(options):
        return {}
    return read_json(options, CheckpointError, "run fit again in a new folder")
