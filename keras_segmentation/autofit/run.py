"""``fit``: a good model from a folder of images and masks within a time budget, with no choices to make.

The steps: pair and check the data (one-line errors, before any work); the fingerprint
(:mod:`.fingerprint`); a validation split by file-name group; the plan (:mod:`.plan`), sized
to this machine by a throughput probe (:mod:`.probe`); training with ``train()`` under the
budget, keeping the best epoch by validation mIoU and stopping early when it stops
improving; flip TTA kept only if it raises validation mIoU; the run folder.

The run folder (``out``; default ``runs/fit``, ``runs/fit2``, ... for a finished one):

    fingerprint.json  plan.json  split.json  budget.json   what was decided, and the time spent
    checkpoints/      the last epoch's checkpoint (with optimizer state), history, config
    best.weights.h5   the best epoch's weights          model.keras  the best model, ready to use
    predict.json      how to predict (mode, flip TTA)   report/index.html  the validation report
    summary.json      the one-line summary's figures

``predict``, ``evaluate_model`` and ``export`` accept the run folder as the model. Running
``fit`` again on an unfinished run folder resumes it with the budget left.

Example:
    >>> from keras_segmentation import fit
    >>> result = fit("data/images", "data/masks", budget="45m", out="runs/roads")   # doctest: +SKIP
    >>> result["val_mIoU"]                                                           # doctest: +SKIP
"""

import json
import os
import shutil
import time

from ..atomic import atomic_write, atomic_write_text
from ..checkpoints import WRITE_OPTIONS
from ..checkpoints.run_folder import MODEL_FILE, PREDICT_FILE
from ..data.class_names import load_class_names
from ..data.pairing import base_name, get_pairs_from_paths
from ..errors import DataLoaderError, MaskValueError, ModelConfigError, TrainingError
from ..training.budget import parse_budget
from . import plan as planning
from .fingerprint import find_groups, fingerprint_dataset, validation_split
from .recipe import BestEpoch, Progress, augmentation, build_planned_model, read_json

#: share of the budget the throughput probe may take
PROBE_SHARE = 0.03
#: share of the budget kept for choosing flip TTA, the model file and the report at the end
FINISH_SHARE = 0.03
#: seconds kept at least for the end (validation passes, the model file, the report)
MIN_FINISH_S = 5.0
#: what fit writes in a run folder (anything else there: not a run folder)
RUN_FILES = {"fingerprint.json", "split.json", "plan.json", "run.json", "budget.json", "best.json", "best.weights.h5",
             "checkpoints", "data", "report", MODEL_FILE, PREDICT_FILE, "summary.json"}
#: a probe shorter than this measures tracing, not training: below it the plan goes without one
MIN_PROBE_S = 15.0


def fit(images=None, masks=None, budget="45m", *, data=None, out=None, epochs=None, val_images=None,
        val_masks=None, settings=None, class_names=None, encoder_weights=None, allow_download=False,
        distribute=None, seed=0, verbose=True):
    """Train the best model this machine can make of ``images``/``masks`` in ``budget``; returns the summary dict.

    Args:
        images, masks: folders of images and masks paired by base name (or ``data``: a folder
            with ``images/``, ``annotations/`` or ``masks/``, and ``classes.txt``, as ``convert`` writes).
        budget: wall-clock time for the whole run: seconds or ``"90s"``, ``"45m"``, ``"2h"``.
        epochs: train this many epochs instead (a reproducible run; cosine over the epochs).
        out: the run folder (see the module docstring).
        val_images, val_masks: a validation set of your own (else one is held out by group).
        settings: overrides of the plan's decisions, ``{"loss": "ce"}`` or ``["loss=ce"]``.
        class_names: names by class id (else ``classes.txt`` beside the data, else numbers).
        encoder_weights: a local ImageNet MobileNetV2 weights file; ``allow_download=True``
            lets Keras download it when it is not in the Keras cache.
        distribute: as :func:`~keras_segmentation.training.train`.
        verbose: print the data report, the plan and a progress line per epoch.

    Raises:
        SegmentationError: bad data or options, with a one-line message, before training starts.
    """
    started = time.perf_counter()
    say = print if verbose else (lambda *a, **k: None)
    images, masks, names_file = _inputs(images, masks, data)
    if bool(val_images) != bool(val_masks):
        raise ModelConfigError("give val_images and val_masks together (or neither: a validation set is held out)")
    if epochs is not None:
        epochs = _whole_number(epochs, "epochs")
    budget_s = None if epochs is not None else parse_budget(budget)
    overrides = planning.parse_overrides(settings or {})  # a --set typo stops here, before any reading
    if encoder_weights is not None and not os.path.isfile(encoder_weights):
        raise ModelConfigError(f"encoder_weights={os.fspath(encoder_weights)!r}: file not found")
    _check_distribute(distribute)
    out, resuming = _run_folder(out)
    request = {"images": os.path.abspath(images), "masks": os.path.abspath(masks),
               "val_images": val_images and os.path.abspath(val_images),
               "val_masks": val_masks and os.path.abspath(val_masks),
               "budget_s": budget_s, "epochs": epochs, "settings": overrides, "seed": seed}
    pairs = get_pairs_from_paths(images, masks)
    val_pairs = get_pairs_from_paths(val_images, val_masks) if val_images else None
    if class_names is None and names_file is not None:
        class_names = load_class_names(names_file)

    if resuming:
        run = _load(out, "run.json")
        _check_same_request(out, run.get("request", {}), request)
        fingerprint, plan, split = _load(out, "fingerprint.json"), _load(out, "plan.json"), _load(out, "split.json")
        void = plan["void"]["value"]
    else:
        fingerprint = fingerprint_dataset(pairs, class_names=class_names)
        void = overrides["void"] if "void" in overrides else fingerprint["void"]
    n_outputs = _n_outputs(fingerprint, void, class_names)
    _verify(images, masks, n_outputs, void, fingerprint["channels"])
    if val_pairs is not None:
        _verify(val_images, val_masks, n_outputs, void, fingerprint["channels"])
    names = _class_names(class_names, n_outputs)
    say(data_report(fingerprint, names, images, void))

    if not resuming:
        split = _split(pairs, val_pairs, overrides, seed)
    by_name = {os.path.basename(pair[0]): pair for pair in pairs}
    missing = [name for name in split["train"] + split["val"] if name not in by_name]
    if missing:
        raise ModelConfigError(f"out={out!r}: its run trained on {missing[0]}, which is no longer in {images}; "
                               "give a new out to start again")
    train_pairs = [by_name[name] for name in split["train"]]
    held = val_pairs if val_pairs is not None else [by_name[name] for name in split["val"]]
    say(f"validation: {split['how']}")

    weights = encoder_weights or planning.find_imagenet_mobilenetv2(allow_download=allow_download)
    if not resuming:
        plan = planning.make_plan(fingerprint, budget_s, epochs, len(train_pairs), overrides, weights)
        run = {"request": request, "budget_s": budget_s, "epochs": epochs, "probe": None}
        probe_s = PROBE_SHARE * budget_s if budget_s else 0.0
        if probe_s >= MIN_PROBE_S and "input" not in overrides:
            from .probe import probe_throughput

            run["probe"] = probe_throughput(planning.values(plan), n_outputs, fingerprint["channels"], probe_s, void)
            plan = planning.make_plan(fingerprint, budget_s, epochs, len(train_pairs), overrides, weights, run["probe"])
        if budget_s is not None:
            finish = max(FINISH_SHARE * budget_s, MIN_FINISH_S)
            run["training_budget_s"] = max(1.0, budget_s - finish - (time.perf_counter() - started))
        for name, content in (("fingerprint.json", fingerprint), ("split.json", split), ("plan.json", plan),
                              ("run.json", run)):  # run.json last: its presence means the plan is complete
            _save(out, name, content)
    else:
        say(f"resuming the run in {out}")
    if weights is None and plan["architecture"]["value"] == "fpn_vanilla" and "architecture" not in overrides:
        say("no ImageNet weights found (Keras cache, encoder_weights=, allow_download=True): training from scratch")
    say("plan:\n" + planning.plan_table(plan))
    settings_used = planning.values(plan)

    model = _train(out, settings_used, run, fingerprint, names, n_outputs, void, train_pairs, held, resuming,
                   distribute, seed, verbose)
    summary = _finish(out, model, settings_used, held, void, names, started, run)
    say(summary["line"])
    return summary


def data_report(fingerprint, names, images, void=None):
    """The short report of what ``fit`` read from the data (classes, shares, void, sizes, groups)."""
    size = fingerprint["image_size"]
    shares = ", ".join(f"{names[c]} {100 * share:.1f}%" for c, share in enumerate(fingerprint["class_pixel_share"])
                       if c < len(names))
    groups = fingerprint.get("groups") or {}
    return "\n".join([
        f"data: {fingerprint['n_images']} images in {images}, median {size['median'][0]}x{size['median'][1]} "
        f"(from {size['min'][0]}x{size['min'][1]} to {size['max'][0]}x{size['max'][1]}), "
        f"{fingerprint['channels']} channel(s) {fingerprint['dtype']}",
        f"classes: {fingerprint['n_classes']} ({shares})",
        f"void: {void if void is not None else 'none'} "
        f"({fingerprint.get('void_reason', '') if void == fingerprint.get('void') else 'set by you'})",
        f"groups: {groups.get('n_groups', 0)} ({groups.get('rule', 'none')})",
    ])


def _train(out, settings, run, fingerprint, names, n_outputs, void, train_pairs, val_pairs, resuming, distribute,
           seed, verbose):
    """Train the planned model in ``out`` (resuming where a killed run stopped); returns it with its last weights."""
    from ..training import train
    from ..training.budget import TimeBudget
    from ..training.runner import UNBOUNDED_EPOCHS

    channels = fingerprint["channels"]
    model = build_planned_model(settings, n_outputs, channels)
    model.class_names = names
    train_images, train_masks = _link(train_pairs, os.path.join(out, "data", "train"))
    if settings["mode"] == "crop":  # validate at the scale the model trains at: tiles of its input size
        val_images, val_masks = _tiles(val_pairs, os.path.join(out, "data", "val"), settings["input"], void)
    else:
        val_images, val_masks = _link(val_pairs, os.path.join(out, "data", "val"))
    best = BestEpoch(os.path.join(out, "best.weights.h5"), os.path.join(out, "best.json"), settings["patience"])
    callbacks = [best]
    timer = None
    if run.get("training_budget_s") is not None:
        timer = TimeBudget(run["training_budget_s"], peak_lr=settings["learning_rate"],
                           state_path=os.path.join(out, "budget.json"))
        callbacks.insert(0, timer)
    spent = timer is not None and timer.finished()  # the budget ran out before the run was stopped
    if spent or best.early_stopped or (run.get("epochs") and best.last_epoch >= run["epochs"]):
        return model  # nothing left to train: only the end
    if verbose:
        callbacks.append(Progress(timer, best))
    schedule = dict(epochs=UNBOUNDED_EPOCHS) if timer is not None else dict(epochs=run["epochs"], lr_schedule="cosine")
    train(
        model, train_images, train_masks, verify_dataset=False, checkpoints_path=os.path.join(out, "checkpoints", "model"),
        batch_size=settings["batch_size"], steps_per_epoch=settings.get("steps_per_epoch"),
        val_images=val_images, val_annotations=val_masks,
        val_batch_size=settings["batch_size"], auto_resume_checkpoint=resuming, learning_rate=settings["learning_rate"],
        loss=settings["loss"], class_weights=None if settings["class_weights"] == "none" else settings["class_weights"],
        ignore_index=void, custom_augmentation=augmentation(settings, channels, void), seed=seed,
        precision=settings["precision"], class_names=names, callbacks=callbacks, verbose=0, distribute=distribute,
        keep_checkpoints=1, **schedule,
    )
    return model


def _finish(out, model, settings, val_pairs, void, names, started, run):
    """Best weights in, flip TTA chosen on validation, ``model.keras``, ``predict.json``, report and summary."""
    from ..checkpoints.load import load_weights_file
    from ..evaluation import evaluate

    best_file = os.path.join(out, "best.weights.h5")
    if not os.path.isfile(best_file):
        raise TrainingError(f"{out}: no epoch finished within the budget, so there is no model to keep; give a "
                            "longer budget (or --epochs), or fewer or smaller images")
    load_weights_file(model, best_file)
    window = {"mode": "slide", "overlap": 0.25} if settings["mode"] == "crop" else {}
    images, masks = [p[0] for p in val_pairs], [p[1] for p in val_pairs]

    def score(flip, report=None):
        return evaluate(model=model, inp_images=images, annotations=masks, ignore_index=void, class_names=names,
                        batch_size=settings["batch_size"], progress=False, flip_tta=flip, precision=settings["precision"],
                        report_dir=report, checkpoints_path=os.path.join(out, "checkpoints", "model"), **window)

    report, flipped_report = os.path.join(out, "report"), os.path.join(out, ".report-flip")
    flip = str(settings["flip_tta"]).lower()
    final = score(flip == "true", report=report)
    tta = {"kept": flip == "true", "why": "set by you"}
    if flip == "auto":  # both scored, each with its report; the better one is kept
        flipped = score(True, report=flipped_report)
        tta = {"plain": final["mean_IU"], "flip": flipped["mean_IU"], "kept": flipped["mean_IU"] > final["mean_IU"]}
        if tta["kept"]:
            final = flipped
            shutil.rmtree(report)
            os.replace(flipped_report, report)
        shutil.rmtree(flipped_report, ignore_errors=True)
    flip = tta["kept"]
    atomic_write(os.path.join(out, MODEL_FILE), model.save, **WRITE_OPTIONS)
    predict = dict(window, flip_tta=flip, ignore_index=void)
    _save(out, PREDICT_FILE, predict)
    best = _load(out, "best.json") if os.path.isfile(os.path.join(out, "best.json")) else {}
    timer = _load(out, "budget.json") if os.path.isfile(os.path.join(out, "budget.json")) else {}
    summary = {
        "run_folder": out, "model": model.model_name, "input": [model.input_height, model.input_width],
        "val_mIoU": float(final["mean_IU"]), "val_pixel_accuracy": float(final["pixel_accuracy"]),
        "best_epoch": best.get("best_epoch"), "epochs": best.get("last_epoch"),
        "early_stopped": best.get("early_stopped", False), "flip_tta": tta,
        "training_seconds": timer.get("spent_s"), "seconds": round(time.perf_counter() - started, 1),
        "budget_s": run.get("budget_s"),
    }
    summary["line"] = (f"fit: {summary['model']} {summary['input'][0]}x{summary['input'][1]}, best epoch "
                       f"{summary['best_epoch']} of {summary['epochs']}, validation mIoU {100 * summary['val_mIoU']:.1f}"
                       f"{' with flip TTA' if flip else ''}; {os.path.join(out, MODEL_FILE)}")
    _save(out, "summary.json", summary)
    return summary


def _inputs(images, masks, data):
    """``(images folder, masks folder, classes file or None)`` from the arguments."""
    if data is not None:
        if images is not None or masks is not None:
            raise ModelConfigError("give either data= or images= and masks=, not both")
        data = os.fspath(data)
        if not os.path.isdir(data):
            raise DataLoaderError(f"{data}: not a folder (data= wants a folder with images/ and annotations/)")
        images = os.path.join(data, "images")
        masks = next((os.path.join(data, name) for name in ("annotations", "masks")
                      if os.path.isdir(os.path.join(data, name))), None)
        if not os.path.isdir(images) or masks is None:
            raise DataLoaderError(f"{data}: needs images/ and annotations/ (or masks/) folders")
        names = os.path.join(data, "classes.txt")
        return images, masks, names if os.path.isfile(names) else None
    if images is None or masks is None:
        raise ModelConfigError("give images= and masks= (folders), or data=")
    for role, folder in (("images", images), ("masks", masks)):
        if not os.path.isdir(folder):
            raise DataLoaderError(f"{os.fspath(folder)}: {role} folder not found")
    for folder in (masks, os.path.dirname(os.path.abspath(masks))):
        names = os.path.join(folder, "classes.txt")
        if os.path.isfile(names):
            return os.fspath(images), os.fspath(masks), names
    return os.fspath(images), os.fspath(masks), None


def _run_folder(out):
    """``(folder, resuming)``: an unfinished run folder resumes; a finished default one gets a new number."""
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


def _split(pairs, val_pairs, overrides, seed):
    """The training and validation image file names and how they were chosen."""
    names = [os.path.basename(image) for image, _ in pairs]
    if val_pairs is not None:
        return {"train": names, "val": [], "how": f"your {len(val_pairs)} validation pairs"}
    rule, keys = find_groups([base_name(name) for name in names])
    fraction = overrides.get("val_fraction", planning.VAL_FRACTION)
    train_idx, val_idx, how = validation_split([base_name(name) for name in names], keys, fraction=fraction,
                                               low=min(0.10, fraction), high=max(0.20, fraction), seed=seed)
    return {"train": [names[i] for i in train_idx], "val": [names[i] for i in val_idx], "how": how, "groups": rule}


def _n_outputs(fingerprint, void, class_names=None):
    """Model outputs: every mask value but ``void`` is a class; a small void id (CamVid's 11) gets an unused output.

    Raises:
        MaskValueError: fewer than two classes are left (0/255 masks: 255 would be void).
    """
    values = [v for v in fingerprint["mask_values"] if v != void]
    if len(values) < 2:
        raise MaskValueError(f"the masks hold only the values {fingerprint['mask_values']}: fewer than two classes "
                             "to learn; binary masks must store 0 and 1 (in a 0/255 mask, 255 is taken as void)")
    n = max(values) + 1
    if n > 32 and n > 4 * len(values):
        raise MaskValueError(f"the masks hold the values {_short(values)}: {max(values)} would make {n} classes; "
                             f"if {max(values)} marks pixels to ignore, set void={max(values)}, else store class ids "
                             "0, 1, 2, ...")
    if class_names:
        n = max(n, len(class_names) - (1 if void == len(class_names) - 1 else 0))
    if void is not None and void < 64:
        n = max(n, void + 1)
    return n


def _short(values, limit=8):
    shown = ", ".join(str(v) for v in values[:limit])
    return f"{{{shown}{', ...' if len(values) > limit else ''}}}"


def _class_names(names, n_outputs):
    names = list(names or [])
    return (names + [str(c) for c in range(len(names), n_outputs)])[:n_outputs]


def _whole_number(value, name):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ModelConfigError(f"{name}={value!r}: must be a whole number") from None
    if number < 1:
        raise ModelConfigError(f"{name}={value!r}: must be at least 1")
    return number


def _check_distribute(distribute):
    """``fit`` trains on the devices of one machine: each worker would stop by its own clock."""
    if distribute in (None, "mirrored") or not str(distribute).startswith("multi"):
        return
    raise ModelConfigError(f"distribute={distribute!r}: fit trains on one machine's devices (distribute='mirrored'); "
                           "for several machines use train(distribute=...) with budget=")


def _check_same_request(out, before, now):
    """A resumed run must be asked the same: the same data, budget and settings."""
    for key, value in now.items():
        if key in before and before[key] != value:
            raise ModelConfigError(f"out={out!r} holds an unfinished run with {key}={before[key]!r}, not {value!r}: "
                                   "run it again as it was to resume it, or give a new out")


def _verify(images, masks, n_outputs, void, channels):
    from ..data.verify import verify_dataset

    verify_dataset(images, masks, n_outputs, ignore_index=void, channels=channels, decode_images=False).raise_for_problems()


def _link(pairs, folder):
    """Folders ``images/`` and ``masks/`` under ``folder`` of links to ``pairs`` (made again every time)."""
    shutil.rmtree(folder, ignore_errors=True)
    made = []
    for role, index in (("images", 0), ("masks", 1)):
        target = os.path.join(folder, role)
        os.makedirs(target)
        for pair in pairs:
            link = os.path.join(target, os.path.basename(pair[index]))
            try:
                os.symlink(os.path.abspath(pair[index]), link)
            except OSError:  # no symbolic links here: a copy
                shutil.copyfile(pair[index], link)
        made.append(target)
    return made


def _tiles(pairs, folder, size, void):
    """Folders ``images/`` and ``masks/`` under ``folder`` of ``.npy`` tiles of ``size`` covering each pair.

    Tiles do not overlap, except the last of a row or column, which ends at the image's edge; an image
    smaller than ``size`` is padded (mirrored; its mask with ``void``, else mirrored too), as training pads.
    """
    import numpy as np

    from ..data.images import read_image
    from ..data.masks import read_mask

    shutil.rmtree(folder, ignore_errors=True)
    images, masks = os.path.join(folder, "images"), os.path.join(folder, "masks")
    os.makedirs(images)
    os.makedirs(masks)
    height, width = size
    for image_path, mask_path in pairs:
        image, mask = read_image(image_path, read_image_type=-1), read_mask(mask_path)
        pad = ((0, max(0, height - image.shape[0])), (0, max(0, width - image.shape[1])))
        if any(p[1] for p in pad):
            image = np.pad(image, pad + ((0, 0),), mode="reflect")
            mask = np.pad(mask, pad, mode="reflect") if void is None else np.pad(mask, pad, constant_values=void)
        stem = os.path.splitext(os.path.basename(image_path))[0]
        for top in _starts(image.shape[0], height):
            for left in _starts(image.shape[1], width):
                name = f"{stem}_{top}_{left}.npy"
                np.save(os.path.join(images, name), image[top:top + height, left:left + width])
                np.save(os.path.join(masks, name), mask[top:top + height, left:left + width].astype(np.uint16))
    return images, masks


def _starts(length, tile):
    """Tile starts along a side: every ``tile`` pixels, the last one ending at the edge."""
    if length <= tile:
        return [0]
    return sorted(set(list(range(0, length - tile, tile)) + [length - tile]))


def _save(out, name, content):
    atomic_write_text(os.path.join(out, name), json.dumps(content, indent=1, default=str) + "\n")


def _load(out, name):
    return read_json(os.path.join(out, name))
