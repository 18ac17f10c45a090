"""A saved model's calibration temperature: the files that keep it, reading and writing it there.

A temperature ``T`` (:func:`keras_segmentation.calibration.calibrate` fits it) rescales the model's probabilities to
``softmax(log(p) / T)`` (:func:`keras_segmentation.uncertainty.with_temperature`); loading the model sets
``model.temperature``, which the predictor applies. It lives in one JSON file of the saved model:

* a checkpoint prefix ``ckpt/run``: ``"temperature"`` in ``ckpt/run_config.json`` (read by
  :func:`~.load.model_from_config`);
* a ``fit`` run folder: ``"temperature"`` in its ``predict.json``, beside the prediction options fit chose (read
  when its ``model.keras`` loads: :func:`~.load.load_model`, :func:`.run_folder.temperature_file`);
* a preset folder: ``"temperature"`` in its ``config.json``, the checkpoint config schema (read likewise).

A file without it means 1 (no rescaling). An exported file keeps its own in the metadata JSON beside it
(:mod:`keras_segmentation.export.metadata`). Keras is not loaded here for a run folder.

Example:
    >>> write_temperature("runs/fit/predict.json", 1.7)   # doctest: +SKIP
    >>> read_temperature("runs/fit/predict.json")         # doctest: +SKIP
    1.7
"""

import json
import os

from ..atomic import atomic_write_text
from ..errors import CheckpointError
from ..json_files import read_json, write_json
from ..uncertainty import check_temperature
from .run_folder import PREDICT_FILE

KEY = "temperature"


def read_temperature(file):
    """The temperature the JSON file ``file`` keeps; 1.0 when the file or the key is absent.

    Raises:
        CheckpointError: the file is unreadable, or its temperature is not a positive number.
    """
    if not os.path.isfile(file):
        return 1.0
    content = read_json(file, CheckpointError, "repair or restore the file")
    value = content.get(KEY) if isinstance(content, dict) else None
    return 1.0 if value is None else check_temperature(value, file, CheckpointError)


def write_temperature(file, temperature):
    """Set the temperature in the JSON file ``file`` (a config or a ``predict.json``), keeping the rest of it; atomic.

    A config file (``_config.json``, a preset's ``config.json``) is read and checked first, so a damaged one is
    never rewritten; a run folder's ``predict.json`` is made when missing.

    Raises:
        CheckpointError: the file is unreadable. OutputWriteError: it cannot be written (it is left as it was).
    """
    value = check_temperature(temperature)
    if os.path.basename(file) == PREDICT_FILE:
        content = read_json(file, CheckpointError, "run fit again in a new folder") if os.path.isfile(file) else {}
        write_json(file, {**content, KEY: value})
        return
    from .config import read_config_file  # Keras: not loaded for a run folder

    content = read_config_file(file)
    atomic_write_text(file, json.dumps({**content, KEY: value}, indent=2))
