"""``fit``: a good model from a folder of images and masks within a time budget, with no choices to make.

The steps: pair and check the data (:mod:`.inputs`: one-line errors, before any work); the
fingerprint (:mod:`.fingerprint`); a validation split by file-name group (:mod:`.split`); the
plan (:mod:`.plan`), sized to this machine by a throughput probe (:mod:`.probe`); training with
``train()`` under the budget (crop-trained models validated on native-scale tiles, :mod:`.tiles`),
keeping the best epoch by validation mIoU and stopping early when it stops improving; then, when the
validation images were held out of the caller's, the plan's ``rejoin`` share of the training continuing
the best epoch on every image; flip TTA kept only if it raises validation mIoU (of the best validated
epoch, which the report scores); the run folder.

The run folder (:mod:`.folder`; ``out``, default ``runs/fit``, ``runs/fit2``, ... for a finished one):

    fingerprint.json  plan.json  split.json  budget.json   what was decided, and the time spent
    checkpoints/      the last epoch's checkpoint (with optimizer state), history, config
    best.weights.h5   the best epoch's weights          model.keras  the model, ready to use
    all_images.weights.h5, all_images.json, budget_all_images.json   the epochs on every image (``rejoin``)
    predict.json      how to predict (mode, flip TTA; the class colours the data carried)
    report/index.html the validation report
    summary.json      the one-line summary's figures

On several workers (``distribute="multi_worker"``) the chief alone reads the data, plans the run and
finishes it; the others get its plan and its summary through collectives
(:func:`~keras_segmentation.training.collective.on_chief`) and write only into a temporary folder.

``predict``, ``evaluate_model`` and ``export`` accept the run folder as the model. Running
``fit`` again on an unfinished run folder resumes it with the budget left. ``start_from`` continues
a finished run on grown data in a new run folder (:mod:`.start_from`).

Example:
    >>> from keras_segmentation import fit
    >>> result = fit("data/images", "data/masks", budget="45m", out="runs/roads")   # doctest: +SKIP
    >>> result["val_mIoU"]                                                           # doctest: +SKIP
"""

import os
import shutil
import tempfile
import time
from functools import partial

from ..atomic import atomic_write
from ..checkpoints import WRITE_OPTIONS
from ..checkpoints.run_folder import MODEL_FILE, PREDICT_FILE
from ..data.class_names import load_class_colors, load_class_names
from ..data.links import link_pairs
from ..data.pairing import get_pairs_from_paths
from ..errors import ModelConfigError, TrainingError
from ..precision import resolve_precision
from ..training.budget import parse_budget
from ..training.collective import on_chief
from . import plan as planning
from .fingerprint import data_report, fingerprint_dataset
from .folder import ALL_IMAGES_WEIGHTS, check_same_request, load_json, open_run_folder, save_json
from .inputs import (
    count_outputs,
    input_folders,
    output_colors,
    output_names,
    start_distribution,
    verify_folders,
    whole_number,
)
from .recipe import BestEpoch, Progress, augmentation, build_planned_model
from .split import split_pairs
from .start_from import (
    check_classes,
    check_start,
    continued_split,
    open_start,
    start_line,
    start_weights,
    validation_folders,
    verify_masks,
)

#: share of the budget the throughput probe may take
PROBE_SHARE = 0.03
#: share of the budget kept for choosing flip TTA, the model file and the report at the end
FINISH_SHARE = 0.03
#: seconds kept at least for the end (validation passes, the model file, the report)
MIN_FINISH_S = 5.0
#: a probe shorter than this measures tracing, not training: below it the plan goes without one
MIN_PROBE_S = 15.0


def fit(images=None, masks=None, budget="45m", *, data=None, out=None, epochs=None, val_images=None,
        val_masks=None, settings=None, class_names=None, encoder_weights=None, allow_download=False,
        distribute=None, seed=0, verbose=True, start_from=None):
    """Train the best model this machine can make of ``images``/``masks`` in ``budget``; returns the summary dict.

    Args:
        images, masks: folders of images and masks paired by base name (or ``data``: a folder
            with ``images/``, ``annotations/`` or ``masks/``, and ``classes.txt``, as ``convert`` writes).
        budget: wall-clock time for the whole run: seconds or ``"90s"``, ``"45m"``, ``"2h"``.
        epochs: train this many epochs instead (a reproducible run; cosine over the epochs).
        out: the run folder (see the module docstring).
        val_images, val_masks: a validation set of your own (else one is held out by group).
        settings: overrides of the plan's decisions, ``{"loss": "ce"}`` or ``["loss=ce"]``.
        class_names: names by class id: a list, a file or a comma list (else ``classes.txt`` beside the data, else
            numbers). A file's colour column (``id<TAB>name<TAB>r,g,b``) gives the class colours, else palette
            PNG masks do; predictions from the run folder are painted with them.
        encoder_weights: a local ImageNet MobileNetV2 weights file; ``allow_download=True``
            lets Keras download it when it is not in the Keras cache.
        distribute: as :func:`~keras_segmentation.training.train` takes it (``"mirrored"``, ``"multi_worker"``, a
            strategy). On several workers the chief (worker 0) reads the data, plans and writes ``out`` (on storage
            every worker sees); every worker trains with its plan, stops by its clock and returns its summary.
        verbose: print the data report, the plan and a progress line per epoch.
        start_from: a finished run folder to continue on this (grown) data, in a new ``out``: its
            model's weights, classes and input, its validation images held out again
            (:mod:`~keras_segmentation.autofit.start_from`).

    Raises:
        SegmentationError: bad data or options, with a one-line message, before training starts.
    """
    started = time.perf_counter()
    images, masks, names_file = input_folders(images, masks, data)
    if bool(val_images) != bool(val_masks):
        raise ModelConfigError("give val_images and val_masks together (or neither: a validation set is held out)")
    if epochs is not None:
        epochs = whole_number(epochs, "epochs")
    budget_s = None if epochs is not None else parse_budget(budget)
    overrides = planning.parse_overrides(settings or {})  # a --set typo stops here, before any reading
    if encoder_weights is not None and not os.path.isfile(encoder_weights):
        raise ModelConfigError(f"encoder_weights={os.fspath(encoder_weights)!r}: file not found")
    if start_from is not None:
        start_from = check_start(start_from, out, encoder_weights)
        planning.check_start_overrides(overrides, start_from)
    replication = start_distribution(distribute)  # before TensorFlow runs anything (multi_worker)
    chief = replication is None or replication.is_chief
    say = print if verbose and chief else (lambda *a, **k: None)  # the chief speaks for every worker
    prepared = on_chief(replication, partial(
        _prepare, images, masks, names_file, out, say, started, val_images=val_images, val_masks=val_masks,
        class_names=class_names, budget_s=budget_s, epochs=epochs, overrides=overrides, seed=seed,
        start_from=start_from, encoder_weights=encoder_weights, allow_download=allow_download))
    out = prepared["out"]
    model = _train(prepared, replication, seed, verbose)
    summary = on_chief(replication, partial(
        _finish, out, model, planning.values(prepared["plan"]), prepared["held"], prepared["void"], prepared["names"],
        output_colors(prepared["fingerprint"], prepared["n_outputs"]), started, prepared["run"]))
    say(summary["line"])
    return summary


def _prepare(images, masks, names_file, out, say, started, *, val_images, val_masks, class_names, budget_s, epochs,
             overrides, seed, start_from, encoder_weights, allow_download):
    """The run folder opened, the data read and checked, the fingerprint, the split and the plan (made, or read
    back when resuming): ``{"out", "resuming", "fingerprint", "plan", "run", "precision", "train_pairs", "held",
    "names", "n_outputs", "void"}``, all JSON data (on several workers the chief makes it; see :func:`fit`)."""
    previous = None
    out, resuming = open_run_folder(out)
    if start_from is not None:
        previous = open_start(start_from)
        val_images, val_masks = validation_folders(previous, val_images, val_masks)
    request = {"images": os.path.abspath(images), "masks": os.path.abspath(masks),
               "val_images": val_images and os.path.abspath(val_images),
               "val_masks": val_masks and os.path.abspath(val_masks),
               "budget_s": budget_s, "epochs": epochs, "settings": overrides, "seed": seed, "start_from": start_from}
    pairs = get_pairs_from_paths(images, masks)
    val_pairs = get_pairs_from_paths(val_images, val_masks) if val_images else None
    names_source = class_names if class_names is not None else names_file  # a file of names may carry colours
    class_names = load_class_names(names_source) if names_source is not None else None
    given_colours = load_class_colors(names_source) if names_source is not None else None
    if class_names is None and previous is not None:
        class_names = previous.class_names or None

    if resuming:
        run = load_json(out, "run.json")
        check_same_request(out, run.get("request", {}), request)
        fingerprint, plan, split = load_json(out, "fingerprint.json"), load_json(out, "plan.json"), load_json(out, "split.json")
        void = plan["void"]["value"]
    else:
        fingerprint = fingerprint_dataset(pairs, class_names=class_names, class_colors=given_colours)
        void = overrides["void"] if "void" in overrides else fingerprint["void"]
    if previous is not None:  # its model's classes, its void
        void = previous.plan["void"]["value"]
        check_classes(previous, fingerprint, class_names, void)
        n_outputs, verify = previous.n_outputs, partial(verify_masks, previous)
    else:
        n_outputs = count_outputs(fingerprint, void, class_names)
        verify = partial(verify_folders, n_outputs=n_outputs)
    verify(images, masks, void=void, channels=fingerprint["channels"])
    if val_pairs is not None:
        verify(val_images, val_masks, void=void, channels=fingerprint["channels"])
    names = output_names(class_names, n_outputs)
    say(data_report(fingerprint, names, images, void))

    if not resuming and previous is not None:
        split = continued_split(pairs, val_pairs, previous, images)
    elif not resuming:
        split = split_pairs(pairs, val_pairs, overrides.get("val_fraction", planning.VAL_FRACTION), seed)
    by_name = {os.path.basename(pair[0]): pair for pair in pairs}
    missing = [name for name in split["train"] + split["val"] if name not in by_name]
    if missing:
        raise ModelConfigError(f"out={out!r}: its run trained on {missing[0]}, which is no longer in {images}; "
                               "give a new out to start again")
    train_pairs = [by_name[name] for name in split["train"]]
    held = val_pairs if val_pairs is not None else [by_name[name] for name in split["val"]]
    if "start_from" in split:
        say(start_line(split, len(pairs)))
    say(f"validation: {split['how']}")

    weights = encoder_weights or planning.find_imagenet_mobilenetv2(allow_download=allow_download)
    if not resuming:
        start = None if previous is None else (start_from, previous.plan)
        plan = planning.make_plan(fingerprint, budget_s, epochs, len(train_pairs), overrides, weights, start_from=start,
                                  held_out=val_pairs is None)
        run = {"request": request, "budget_s": budget_s, "epochs": epochs, "probe": None}
        probe_s = PROBE_SHARE * budget_s if budget_s else 0.0
        if probe_s >= MIN_PROBE_S and "input" not in overrides and previous is None:  # the probe sizes the input
            from .probe import probe_throughput

            run["probe"] = probe_throughput(planning.values(plan), n_outputs, fingerprint["channels"], probe_s, void)
            plan = planning.make_plan(fingerprint, budget_s, epochs, len(train_pairs), overrides, weights, run["probe"],
                                      held_out=val_pairs is None)
        share = planning.values(plan)["rejoin"]
        if budget_s is not None:
            finish = max(FINISH_SHARE * budget_s, MIN_FINISH_S)
            training = max(1.0, budget_s - finish - (time.perf_counter() - started))
            run["training_budget_s"] = training * (1.0 - share)
            run["rejoin"] = {"seconds": training * share} if share else None
        else:
            more = min(int(round(share * epochs)), epochs - 1)
            run["rejoin"] = {"epochs": more} if more else None
        for name, content in (("fingerprint.json", fingerprint), ("split.json", split), ("plan.json", plan),
                              ("run.json", run)):  # run.json last: its presence means the plan is complete
            save_json(out, name, content)
    else:
        say(f"resuming the run in {out}")
    if weights is None and plan["architecture"]["value"] == "fpn_vanilla" and "architecture" not in overrides \
            and previous is None:
        say("no ImageNet weights found (Keras cache, encoder_weights=, allow_download=True): training from scratch")
    say("plan:\n" + planning.plan_table(plan))
    return {"out": out, "resuming": resuming, "fingerprint": fingerprint, "plan": plan, "run": run,
            "precision": resolve_precision(plan["precision"]["value"]),  # "auto" as the chief resolves it
            "train_pairs": [list(pair[:2]) for pair in train_pairs], "held": [list(pair[:2]) for pair in held],
            "names": names, "n_outputs": n_outputs, "void": void}


def _train(prepared, replication, seed, verbose):
    """Train the planned model (resuming where a killed run stopped, else from the model of the run's ``start_from``),
    then on every image for the plan's ``rejoin`` share; returns it with its last weights.

    The chief works in the run folder; another worker reads the run folder's records and writes its own
    (data links, best weights, checkpoints) into a temporary folder, removed at the end.
    """
    from .tiles import write_tiles

    out, void, names = prepared["out"], prepared["void"], prepared["names"]
    settings = planning.values(prepared["plan"])
    channels = prepared["fingerprint"]["channels"]
    work = out if replication is None or replication.is_chief else _worker_folder(out)
    common = dict(  # what both parts of the training share
        verify_dataset=False, batch_size=settings["batch_size"], steps_per_epoch=settings.get("steps_per_epoch"),
        loss=settings["loss"], class_weights=None if settings["class_weights"] == "none" else settings["class_weights"],
        ignore_index=void, custom_augmentation=augmentation(settings, channels, void), seed=seed,
        precision=prepared["precision"], class_names=names, verbose=0,
        distribute=None if replication is None else replication.engine, keep_checkpoints=1)
    try:
        model = build_planned_model(settings, prepared["n_outputs"], channels)
        model.class_names = names
        train_images, train_masks = link_pairs(prepared["train_pairs"], os.path.join(work, "data", "train"))
        if settings["mode"] == "crop":  # validate at the scale the model trains at: tiles of its input size
            val_images, val_masks = write_tiles(prepared["held"], os.path.join(work, "data", "val"), settings["input"],
                                                void)
        else:
            val_images, val_masks = link_pairs(prepared["held"], os.path.join(work, "data", "val"))
        unused = _validated(model, prepared, replication, work, common, verbose, train_images, train_masks, val_images,
                            val_masks)
        _on_every_image(model, prepared, replication, work, common, verbose, unused)
        return model
    finally:
        if work != out:
            shutil.rmtree(work, ignore_errors=True)


def _validated(model, prepared, replication, work, common, verbose, train_images, train_masks, val_images, val_masks):
    """The training with validation: the best epoch kept, an early stop (returns at once when it is done).

    Returns what an early stop left unused of its budget: ``{"seconds": s}`` or ``{"epochs": n}`` (the same figure on
    every worker: the end of the last epoch by the chief's clock), else ``{}``.
    """
    from ..training import train
    from ..training.budget import TimeBudget
    from ..training.runner import UNBOUNDED_EPOCHS

    out, run, settings = prepared["out"], prepared["run"], planning.values(prepared["plan"])
    best = BestEpoch(os.path.join(work, "best.weights.h5"), os.path.join(work, "best.json"), settings["patience"])
    callbacks = [best]
    timer = None
    if run.get("training_budget_s") is not None:
        timer = TimeBudget(run["training_budget_s"], peak_lr=settings["learning_rate"],
                           state_path=os.path.join(out, "budget.json"), workers=replication)
        callbacks.insert(0, timer)
    epochs = run["epochs"] - (run.get("rejoin") or {}).get("epochs", 0) if run.get("epochs") else None

    def unused():
        if not best.early_stopped:
            return {}
        return {"seconds": max(0.0, timer.seconds - timer.epoch_started_at)} if timer is not None else \
            {"epochs": max(0, epochs - best.last_epoch)}

    spent = timer is not None and timer.finished()  # the budget ran out before the run was stopped
    if spent or best.early_stopped or (epochs and best.last_epoch >= epochs):
        return unused()
    if verbose and work == out:
        callbacks.append(Progress(timer, best, after_s=(run.get("rejoin") or {}).get("seconds", 0.0)))
    start_from = run["request"].get("start_from")
    resuming = prepared["resuming"]
    start = start_weights(start_from) if start_from and not resuming else None  # resuming: the checkpoint
    schedule = dict(epochs=UNBOUNDED_EPOCHS) if timer is not None else dict(epochs=epochs, lr_schedule="cosine")
    train(model, train_images, train_masks, checkpoints_path=os.path.join(out, "checkpoints", "model"),
          val_images=val_images, val_annotations=val_masks, val_batch_size=settings["batch_size"],
          auto_resume_checkpoint=resuming, load_weights=start, learning_rate=settings["learning_rate"],
          callbacks=callbacks, **schedule, **common)
    return unused()


def _on_every_image(model, prepared, replication, work, common, verbose, unused):
    """The plan's ``rejoin`` share of the training, and what an early stop left ``unused``: the best validated epoch
    trained on every image, validation ones included, at the peak learning rate of a continued run (or the plan's, if
    lower); its last epoch's weights are kept."""
    from ..training import train
    from ..training.budget import TimeBudget
    from ..training.runner import UNBOUNDED_EPOCHS

    out, rejoin = prepared["out"], prepared["run"].get("rejoin")
    peak = min(planning.values(prepared["plan"])["learning_rate"], planning.CONTINUE_LEARNING_RATE)
    best_file = os.path.join(work, "best.weights.h5")
    if not rejoin or not os.path.isfile(best_file):
        return
    last = BestEpoch(os.path.join(work, ALL_IMAGES_WEIGHTS), os.path.join(work, "all_images.json"), 1, monitor=None)
    timer = None
    if "seconds" in rejoin:
        timer = TimeBudget(rejoin["seconds"] + unused.get("seconds", 0.0), peak_lr=peak,
                           state_path=os.path.join(out, "budget_all_images.json"), workers=replication)
        if timer.finished():
            return
        schedule = dict(epochs=UNBOUNDED_EPOCHS)
    elif last.last_epoch >= rejoin["epochs"] + unused.get("epochs", 0):
        return
    else:
        schedule = dict(epochs=rejoin["epochs"] + unused.get("epochs", 0), lr_schedule="cosine")
    callbacks = [callback for callback in (timer, last) if callback is not None]
    if verbose and work == out:
        callbacks.append(Progress(timer, last, label="every image: "))
    images, masks = link_pairs(prepared["train_pairs"] + prepared["held"], os.path.join(work, "data", "all"))
    train(model, images, masks, checkpoints_path=os.path.join(out, "checkpoints", "all_images"),
          auto_resume_checkpoint=True, load_weights=best_file, learning_rate=peak,
          callbacks=callbacks, **schedule, **common)


def _worker_folder(out):
    """A temporary folder for a worker other than the chief, holding a copy of the run folder's records (best epoch,
    its weights, the epochs on every image)."""
    work = tempfile.mkdtemp(prefix="keras_segmentation_fit_worker_")
    for name in ("best.json", "best.weights.h5", "all_images.json"):
        if os.path.isfile(os.path.join(out, name)):
            shutil.copyfile(os.path.join(out, name), os.path.join(work, name))
    return work


def _finish(out, model, settings, val_pairs, void, names, colours, started, run):
    """Best weights in, flip TTA chosen on validation and the report; then the weights of the epochs on every image
    (if any: the validation images trained there), ``model.keras``, ``predict.json`` (with the class ``colours`` the
    data carried, if any) and the summary."""
    from ..checkpoints.load import load_weights_file
    from ..evaluation import evaluate

    best_file = os.path.join(out, "best.weights.h5")
    if not os.path.isfile(best_file):
        raise TrainingError(f"{out}: no epoch finished within the budget, so there is no model to keep; give a "
                            "longer budget (or --epochs), or fewer or smaller images")
    window = {"mode": "slide", "overlap": 0.25} if settings["mode"] == "crop" else {}
    images, masks = [p[0] for p in val_pairs], [p[1] for p in val_pairs]

    def score(flip, report=None):
        return evaluate(model=model, inp_images=images, annotations=masks, ignore_index=void, class_names=names,
                        batch_size=settings["batch_size"], progress=False, flip_tta=flip, precision=settings["precision"],
                        engine="keras", report_dir=report, checkpoints_path=os.path.join(out, "checkpoints", "model"), **window)

    start_from = run["request"].get("start_from")
    then = None  # the weights started from, as its run folder predicts (flip TTA or not), on these validation images
    if start_from:
        load_weights_file(model, start_weights(start_from))
        then = evaluate(model=model, inp_images=images, annotations=masks, ignore_index=void, class_names=names,
                        batch_size=settings["batch_size"], progress=False, precision=settings["precision"],
                        flip_tta=bool(load_json(start_from, PREDICT_FILE).get("flip_tta")), engine="keras",
                        **window)["mean_IU"]
    load_weights_file(model, best_file)
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
    every = load_json(out, "all_images.json") if os.path.isfile(os.path.join(out, ALL_IMAGES_WEIGHTS)) else None
    if every is not None:
        load_weights_file(model, os.path.join(out, ALL_IMAGES_WEIGHTS))
    atomic_write(os.path.join(out, MODEL_FILE), model.save, **WRITE_OPTIONS)
    predict = dict(window, flip_tta=flip, ignore_index=void, **({"class_colors": colours} if colours else {}))
    save_json(out, PREDICT_FILE, predict)
    best = load_json(out, "best.json") if os.path.isfile(os.path.join(out, "best.json")) else {}
    spent = [load_json(out, name).get("spent_s") for name in ("budget.json", "budget_all_images.json")
             if os.path.isfile(os.path.join(out, name))]
    summary = {
        "run_folder": out, "model": model.model_name, "input": [model.input_height, model.input_width],
        "val_mIoU": float(final["mean_IU"]), "val_pixel_accuracy": float(final["pixel_accuracy"]),
        "best_epoch": best.get("best_epoch"), "epochs": best.get("last_epoch"),
        "early_stopped": best.get("early_stopped", False), "flip_tta": tta,
        "training_seconds": round(sum(spent), 3) if spent else None, "seconds": round(time.perf_counter() - started, 1),
        "budget_s": run.get("budget_s"), "epochs_on_every_image": every and every["last_epoch"],
    }
    started_from = ""
    if start_from:
        summary["start_from"] = {"run_folder": start_from, "val_mIoU": float(then),
                                 "its_val_mIoU": load_json(start_from, "summary.json").get("val_mIoU")}
        started_from = f" (started from {start_from}: {100 * then:.1f} on the same validation images)"
    summary["line"] = (f"fit: {summary['model']} {summary['input'][0]}x{summary['input'][1]}, best epoch "
                       f"{summary['best_epoch']} of {summary['epochs']}, validation mIoU {100 * summary['val_mIoU']:.1f}"
                       f"{' with flip TTA' if flip else ''}{started_from}"
                       + (f", then {_epochs(every['last_epoch'])} on every image (validation ones too)" if every else "")
                       + f"; {os.path.join(out, MODEL_FILE)}")
    save_json(out, "summary.json", summary)
    return summary


def _epochs(count):
    return f"{count} epoch{'' if count == 1 else 's'}"
