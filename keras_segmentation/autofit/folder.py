"""The run folder ``fit`` writes: which folder a run uses, what it may hold, and its JSON files.

What each file holds is told in :mod:`.run`; :mod:`keras_segmentation.checkpoints.run_folder`
reads a finished folder as a model.

Example:
    >>> out, resuming = open_run_folder("runs/roads")                   # doctest: +SKIP
    >>> save_json(out, "plan.json", plan)                               # doctest: +SKIP
    >>> load_json(out, "plan.json") == plan                              # doctest: +SKIP
    True
"""

import os

from ..checkpoints.run_folder import MODEL_FILE, PREDICT_FILE
from ..errors import CheckpointError, ModelConfigError
from ..json_files import read_json, write_json

#: the weights of the last epoch on every image, validation ones included (the plan's ``rejoin``): the model's
ALL_IMAGES_WEIGHTS = "all_images.weights.h5"
#: what fit writes in a run folder (anything else there: not a run folder)
RUN_FILES = {"fingerprint.json", "split.json", "plan.json", "run.json", "budget.json", "best.json", "best.weights.h5",
             ALL_IMAGES_WEIGHTS, "all_images.json", "budget_all_images.json",
             "checkpoints", "data", "report", MODEL_FILE, PREDICT_FILE, "summary.json"}
#: the end of the message when a run folder's JSON file cannot be read
DAMAGED = "delete the run folder's damaged file or start a new out"


def open_run_folder(out):
    """``(folder, resuming)``: an unfinished run folder resumes; a finished default one gets a new number.

    Raises:
        ModelConfigError: ``out`` is a file, holds a finished run, or holds files ``fit`` did not write.

    Example:
        >>> open_run_folder(None)   # doctest: +SKIP
        ('runs/fit2', False)
    """
    if out is None:
        base, n = os.path.join("runs", "fit"), 1
        out = base
        while os.path.isfile(os.path.join(out, "summary.json")):
            n += 1
            out = f"{base}{n}"
    out = os.fspath(out)
    if os.path.exists(out) and not os.path.isdir(out):
        raise ModelConfigError(f"out={out!r}: a file is in the way; give a folder")
    if os.path.isfile(os.path.join(out, "summary.json")):
        raise ModelConfigError(f"out={out!r}: holds a finished run ({MODEL_FILE}); choose another folder")
    planned = os.path.isfile(os.path.join(out, "run.json"))  # written last: the plan is complete
    # a plan that never reached training (a bad --set value stopped it) is made again, with the options given now
    resuming = planned and os.path.isdir(os.path.join(out, "checkpoints"))
    foreign = sorted(name for name in (os.listdir(out) if os.path.isdir(out) else [])
                     if name not in RUN_FILES and not name.startswith("."))  # .tmp-*: atomic writes in progress
    if foreign:
        raise ModelConfigError(f"out={out!r}: holds {foreign[0]}, not a fit run folder; choose a new or empty folder")
    os.makedirs(out, exist_ok=True)
    return out, resuming


def check_same_request(out, before, now):
    """A resumed run must be asked the same: the same data, budget and settings.

    Example:
        >>> check_same_request("runs/roads", {"budget_s": 600}, {"budget_s": 600})   # no error
    """
    for key, value in now.items():
        if key in before and before[key] != value:
            raise ModelConfigError(f"out={out!r} holds an unfinished run with {key}={before[key]!r}, not {value!r}: "
                                   "run it again as it was to resume it, or give a new out")


def load_json(out, name):
    """The JSON file ``name`` of the run folder ``out``.

    Raises:
        CheckpointError: the file is missing or unreadable (one line, naming it).

    Example:
        >>> load_json("runs/roads", "plan.json")["mode"]["value"]   # doctest: +SKIP
        'crop'
    """
    return read_json(os.path.join(out, name), CheckpointError, DAMAGED)


def save_json(out, name, content):
    """Write ``content`` as the JSON file ``name`` of the run folder ``out``, atomically.

    Example:
        >>> save_json("runs/roads", "summary.json", {"val_mIoU": 0.61})   # doctest: +SKIP
    """
    write_json(os.path.join(out, name), content)
