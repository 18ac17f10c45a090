"""What a preset keeps of a ``fit`` run folder: the plan, the data fingerprint without file names, the scores.

The run folder (:mod:`keras_segmentation.autofit.folder`) holds ``plan.json``, ``fingerprint.json``,
``summary.json``, ``best.json`` and ``predict.json``; a preset made from it carries them, less what
names the files of this machine (the fingerprint's group names, the run folder's path, a local
weights file's folder), so it can be shared.

Example:
    >>> record = fit_record("runs/roads")                          # doctest: +SKIP
    >>> record["scores"]["fit"]["val_mIoU"], record["prediction"]   # doctest: +SKIP
    (0.612, {'mode': 'resize', 'flip_tta': True, 'ignore_index': None})
"""

import os

from ..autofit.folder import load_json
from ..checkpoints.run_folder import prediction_options

#: ``summary.json`` entries that describe this machine's files, left out of a preset
LOCAL_SUMMARY_KEYS = ("run_folder", "line")


def fit_record(run_folder):
    """``{"plan", "fingerprint", "scores", "prediction"}`` of the ``fit`` run folder ``run_folder`` (``None`` where absent).

    Raises:
        CheckpointError: a file of the run folder is unreadable.
    """
    folder = os.fspath(run_folder)

    def load(name):
        return load_json(folder, name) if os.path.isfile(os.path.join(folder, name)) else None

    summary, best = load("summary.json"), load("best.json")
    scores = None
    if summary or best:
        scores = {"fit": {k: v for k, v in (summary or {}).items() if k not in LOCAL_SUMMARY_KEYS}, "best": best}
    return {"plan": _shareable_plan(load("plan.json")), "fingerprint": _shareable_fingerprint(load("fingerprint.json")),
            "scores": scores, "prediction": prediction_options(folder)}


def _shareable_plan(plan):
    """The plan, with a local weights file named by its file name only."""
    if plan and isinstance((plan.get("encoder_weights") or {}).get("value"), str):
        plan = dict(plan, encoder_weights=dict(plan["encoder_weights"],
                                               value=os.path.basename(plan["encoder_weights"]["value"])))
    return plan


def _shareable_fingerprint(fingerprint):
    """The fingerprint, with its groups counted but not named (group names are parts of file names)."""
    if fingerprint and isinstance(fingerprint.get("groups"), dict):
        groups = fingerprint["groups"]
        fingerprint = dict(fingerprint, groups={"rule": groups.get("rule"), "n_groups": groups.get("n_groups")})
    return fingerprint
