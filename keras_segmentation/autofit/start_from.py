"""``fit(start_from=RUN)``: a new run that continues a finished one on grown data.

The finished run folder ``RUN`` gives the new run what its weights were trained for: its
model's classes and channels, and the plan's :data:`~.plan.FROM_START` decisions (architecture,
input, mode, void); the rest is planned again from the new data, with a lower learning rate
(:data:`~.plan.CONTINUE_LEARNING_RATE`). Its validation images are held out again where they are
still in the data (its own validation folders are used again), so its score and the new run's
are on the same images; every new image trains. Where the finished run's model trained on its validation
images at the end (the plan's ``rejoin``), the new run starts from its best validated epoch instead
(:func:`start_weights`), so that score stays a fair one. Each check here runs before any training, with a
one-line error.

Example:
    >>> previous = open_start("runs/roads", out="runs/roads2")        # doctest: +SKIP
    >>> previous.n_outputs, previous.plan["input"]["value"]          # doctest: +SKIP
    (12, [192, 256])
    >>> split = continued_split(pairs, None, previous, "data/images")   # doctest: +SKIP
"""

import os
from dataclasses import dataclass

from ..checkpoints.run_folder import MODEL_FILE
from ..errors import ChannelMismatchError, MaskValueError, ModelConfigError
from .folder import ALL_IMAGES_WEIGHTS, load_json
from .inputs import verify_folders
from .split import split_pairs

#: what a finished ``fit`` run folder holds that a continued run reads
NEEDED = ("summary.json", MODEL_FILE, "plan.json", "split.json", "run.json")


@dataclass
class Previous:
    """The finished run a new one continues: its folder, JSON files and its model's classes and channels."""

    folder: str
    plan: dict
    split: dict
    request: dict
    summary: dict
    n_outputs: int
    class_names: list
    channels: int


def check_start(start_from, out, encoder_weights=None):
    """``start_from`` as an absolute path, once it is known to be a finished run folder other than ``out``.

    Raises:
        ModelConfigError: ``start_from`` is not a finished ``fit`` run folder, is ``out``, or
            ``encoder_weights`` is given too (every weight comes from ``start_from``).

    Example:
        >>> check_start("runs/fit", "runs/fit2")   # doctest: +SKIP
        '/home/me/runs/fit'
    """
    folder = os.fspath(start_from)
    if not os.path.isdir(folder):
        raise ModelConfigError(f"start_from={folder!r}: folder not found; give a finished fit run folder")
    missing = [name for name in NEEDED if not os.path.isfile(os.path.join(folder, name))]
    if missing:
        raise ModelConfigError(f"start_from={folder!r}: not a finished fit run folder (no {missing[0]}); "
                               "give the out of a fit that has finished")
    if out is not None and os.path.realpath(os.fspath(out)) == os.path.realpath(folder):
        raise ModelConfigError(f"out={os.fspath(out)!r} is start_from: a continued run writes a new run folder; "
                               "give another out")
    if encoder_weights is not None:
        raise ModelConfigError(f"encoder_weights={os.fspath(encoder_weights)!r}: not used with start_from (every "
                               f"weight comes from {folder})")
    return os.path.abspath(folder)


def open_start(folder):
    """The :class:`Previous` of the finished run folder ``folder`` (its model file is loaded to read its classes).

    Raises:
        CheckpointError: a file of the run folder is unreadable.
    """
    from ..checkpoints.load import load_model

    model = load_model(os.path.join(folder, MODEL_FILE), compile=False)
    return Previous(folder=folder, plan=load_json(folder, "plan.json"), split=load_json(folder, "split.json"),
                    request=load_json(folder, "run.json").get("request", {}), summary=load_json(folder, "summary.json"),
                    n_outputs=int(model.n_classes), class_names=list(model.class_names or []),
                    channels=int(model.channels))


def start_weights(folder):
    """The weights a run continuing the finished run ``folder`` starts from: its best validated epoch's when its
    model trained on its validation images at the end (``rejoin``), since they are held out again; else its model.

    Example:
        >>> start_weights("runs/fit")   # doctest: +SKIP
        'runs/fit/best.weights.h5'
    """
    validated = os.path.join(folder, "best.weights.h5")
    if os.path.isfile(os.path.join(folder, ALL_IMAGES_WEIGHTS)) and os.path.isfile(validated):
        return validated
    return os.path.join(folder, MODEL_FILE)


def validation_folders(previous, val_images, val_masks):
    """``(val_images, val_masks)``: the folders given, else those of ``previous`` when it had its own, else ``None``s.

    Raises:
        ModelConfigError: ``previous`` validated on folders of its own that are gone.
    """
    if val_images or not previous.request.get("val_images"):
        return val_images, val_masks
    folders = previous.request["val_images"], previous.request["val_masks"]
    gone = next((folder for folder in folders if not os.path.isdir(folder)), None)
    if gone is not None:
        raise ModelConfigError(f"start_from={previous.folder!r} validated on {gone}, which is gone; "
                               "give val_images and val_masks")
    return folders


def check_classes(previous, fingerprint, class_names, void):
    """The new data's channels and class names fit the model of ``previous`` (mask values: :func:`verify_masks`).

    Raises:
        ChannelMismatchError: another channel count.
        ModelConfigError: a class name for an id the model has no output for.
    """
    if fingerprint["channels"] != previous.channels:
        raise ChannelMismatchError(f"the images are {fingerprint['channels']}-channel but the model of start_from="
                                   f"{previous.folder!r} takes {previous.channels}; continue only on the same bands")
    names = list(class_names or [])
    extra = [index for index in range(previous.n_outputs, len(names)) if index != void]
    if extra:
        raise ModelConfigError(f"class_names: class {extra[0]} ({names[extra[0]]!r}) is new, but the model of "
                               f"start_from={previous.folder!r} predicts {previous.n_outputs} classes; train a new "
                               "run without start_from to add classes")


def verify_masks(previous, images, masks, void, channels):
    """:func:`~.inputs.verify_folders` against the classes of the model of ``previous``.

    Raises:
        MaskValueError: a mask holds a class id the model has no output for (one line, naming the mask).
    """
    try:
        verify_folders(images, masks, previous.n_outputs, void, channels)
    except MaskValueError as err:
        raise MaskValueError(f"start_from={previous.folder!r} predicts classes 0-{previous.n_outputs - 1}, so a new "
                             f"class needs a new run without start_from; {err}") from None


def continued_split(pairs, val_pairs, previous, images):
    """``split.json`` of a continued run: the validation images of ``previous`` held out again, the rest training.

    With ``val_pairs`` (a validation set given, or the one ``previous`` had) every pair trains. Its
    ``start_from`` entry counts the images that are new since ``previous`` and its validation images kept.

    Raises:
        ModelConfigError: none of the validation images of ``previous`` is in ``images`` any more.

    Example:
        >>> continued_split([("i/a.png", "m/a.png"), ("i/n.png", "m/n.png")], None, previous, "i")["val"]  # doctest: +SKIP
        ['a.png']
    """
    names = [os.path.basename(image) for image, _ in pairs]
    before = set(previous.split["train"]) | set(previous.split["val"])
    record = {"run": previous.folder, "new": sum(name not in before for name in names)}
    if val_pairs is not None:
        return dict(split_pairs(pairs, val_pairs, None, 0), start_from=record)
    here = set(names)
    kept = [name for name in previous.split["val"] if name in here]
    if not kept:
        raise ModelConfigError(f"start_from={previous.folder!r}: none of its {len(previous.split['val'])} validation "
                               f"images is in {images}; put them back, or give val_images and val_masks")
    held = set(kept)
    record.update(val_kept=len(kept), val_gone=len(previous.split["val"]) - len(kept))
    gone = f", {record['val_gone']} no longer in the data" if record["val_gone"] else ""
    return {"train": [name for name in names if name not in held], "val": kept, "start_from": record,
            "how": f"the {len(kept)} validation images of {previous.folder} held out again{gone}"}


def start_line(split, n_images):
    """The data report's line on the run continued: how many images are new since it.

    Example:
        >>> start_line({"start_from": {"run": "runs/fit", "new": 50}}, 160)
        'start_from runs/fit: 50 of the 160 images are new since it (they train); training starts from its model'
    """
    record = split["start_from"]
    return (f"start_from {record['run']}: {record['new']} of the {n_images} images are new since it (they train); "
            "training starts from its model")
