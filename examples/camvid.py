"""CamVid (the original tutorial's "dataset1"): train, evaluate at full resolution, within a time budget.

By default (``--protocol folder``) trains on ``images_prepped_train`` (367 images),
validates on ``images_prepped_test`` (101 images) after every epoch, and reports on
``images_prepped_test`` with :func:`keras_segmentation.predict.evaluate` at the images' full
480x360 resolution, with the void label (11) ignored: mIoU over the 11 classes, per-class IoU,
global pixel accuracy and mean class accuracy. Training stops by the rule of ``examples/time_budget.py``
(45 minutes of wall-clock training by default). No ImageNet weights are used: every
model trains from scratch (this machine has no network; the legacy ``unet``'s encoder
has no pretrained weights anyway).

Presets (``--preset``; every setting can be overridden by its flag):

* ``same-arch`` (default): the legacy ``unet`` (the tutorial's U-Net decoder on the
  original's small CNN encoder; 13.5 GFLOPs per image at 192x256), the architecture
  used for the comparison with the original library (``bench/camvid_original.py``),
  trained with this library's good choices: void ignored, ENet class weights
  (``class_weights="enet"``: median-frequency weights scored 2.9 mIoU points lower,
  ``docs/camvid.md``), cross-entropy + Dice, flips + scale augmentation, a cosine
  learning rate. The test images are also scored with ``flip_tta=True``, reported beside.
* ``original-settings``: the same model with the original tutorial's settings
  (12 classes with void as a class, cross-entropy, no class weights, no augmentation,
  Adam 1e-3 constant, batch 2): an ablation that isolates the recipe from the library.

Protocols (``--protocol``; the sets are lists of file paths filtered by sequence, the file
name's prefix; training reads them through temporary symbolic links under ``--work``, nothing is copied):

* ``folder`` (default): train on ``images_prepped_train``, score on ``images_prepped_test``
  (101 frames of the drive 0016E5, between two training frames of the same drive).
* ``heldout-sequence``: leave one drive out. Train on every frame of the other sequences,
  from both folders (0006R0 and 0016E5: 101 + 305 frames), score on the 62 frames of 0001TP.
* ``both``: train on ``images_prepped_train`` without 0001TP (0006R0 and the train folder's
  0016E5: 305 frames), score the same model on ``images_prepped_test`` and on 0001TP.

Native scale (``--train-crop --predict-mode slide``): the model still has a 192x256 input, but
trains on random 192x256 crops of the 480x360 images (after the flips and scale jitter) instead of the
whole image resized, and predicts by a sliding window of 192x256 tiles over the full image
(overlap 1/3, Gaussian blending; ``docs/camvid.md``, "Native scale").

Validation after every epoch is on the held-out sequence where it is scored, else on the test
folder; it is only watched: the final weights are scored.

Usage::

    python examples/camvid.py                                   # preset same-arch, 45 min
    python examples/camvid.py --budget-min 5 --tag pilot        # a short pilot
    python examples/camvid.py --data /data/camvid --work /tmp/cv --results examples/results/camvid_ours.json
    python examples/camvid.py --protocol both --decoder fpn --encoder vanilla --tag fpn-both
    python examples/camvid.py --protocol both --model segformer_b0 --tag segformer_b0-both
    python examples/camvid.py --protocol both --train-crop --predict-mode slide --tag crop-slide-both

The data path comes from ``--data``, else ``KERAS_SEGMENTATION_CAMVID``, else
``../shared/datasets/camvid`` from the repository root. Checkpoints and predictions go
to ``--work`` (default under ``/tmp``), never into the repository; the scores and the
per-epoch history go to ``--results`` (a small JSON file).
"""

import argparse
import json
import os
import platform
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from time_budget import make_time_budget  # noqa: E402

#: SegNet's CamVid colours (RGB), class 11 = void (black).
CAMVID_COLOURS = [
    (128, 128, 128), (128, 0, 0), (192, 192, 128), (128, 64, 128), (60, 40, 222), (128, 128, 0),
    (192, 128, 128), (64, 64, 128), (64, 0, 128), (64, 64, 0), (0, 128, 192), (0, 0, 0),
]
VOID = 11
N_CLASSES = 12  # 11 classes + void: the model keeps 12 outputs in both libraries (same architecture)

#: ``--protocol``: what the model trains on and what it is scored on (docs/camvid.md, "Protocols").
PROTOCOLS = {
    "folder": "train on images_prepped_train; score on images_prepped_test",
    "heldout-sequence": "train on every frame (train and test folders) of the other sequences; "
                        "score on the held-out sequence",
    "both": "train on images_prepped_train without the held-out sequence; "
            "score on images_prepped_test and on the held-out sequence",
}
HELDOUT = "0001TP"  # the drive left out: 62 frames, all in images_prepped_train
TEST_FOLDER = "test_folder"  # name of the images_prepped_test set in the results

PRESETS = {
    "same-arch": dict(
        model="unet", decoder=None, encoder=None, height=192, width=256, batch_size=4, lr=2e-3, schedule="cosine",
        loss="ce+dice", class_weights="enet", ignore_void=True, augment="flip_scale",
    ),
    "original-settings": dict(
        model="unet", decoder=None, encoder=None, height=192, width=256, batch_size=2, lr=1e-3, schedule="constant",
        loss="ce", class_weights="none", ignore_void=False, augment="none",
    ),
}


def default_data_path():
    return os.environ.get("KERAS_SEGMENTATION_CAMVID") or os.path.normpath(
        os.path.join(REPO, "..", "shared", "datasets", "camvid")
    )


def class_names(data):
    """The 12 names of ``classes.txt`` (``id<TAB>name`` lines), short forms."""
    path = os.path.join(data, "classes.txt")
    names = []
    with open(path) as handle:
        for line in handle:
            if line.strip():
                names.append(line.split("\t", 1)[1].split(" (")[0].strip())
    return names


def camvid_augmentation(void=VOID, crop=None):
    """Horizontal flips, random scale (zoom 0.8-1.4) with small shifts, mild brightness/contrast.

    CamVid is street scenes seen from a car: no vertical flips, no large rotations.
    Pixels moved in from outside the image are ``void`` in the mask (ignored by the loss).
    ``crop=(height, width)`` ends with a random crop of that size, so the model trains on
    pieces of the image at its own scale (``--train-crop``) instead of the whole image resized.
    """
    import albumentations as A

    steps = [
        A.HorizontalFlip(p=0.5),
        A.Affine(scale=(0.8, 1.4), translate_percent={"x": (-0.1, 0.1), "y": (-0.1, 0.1)}, rotate=(-5, 5),
                 fill=0, fill_mask=void, p=0.8),
        A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0.2, p=0.5),
    ]
    if crop is not None:
        steps.append(A.RandomCrop(*crop))
    return A.Compose(steps)


def sequence_of(path):
    """The CamVid sequence (drive) of a frame: its file name's prefix (``0016E5_07959.png`` -> ``0016E5``)."""
    return os.path.basename(path).split("_", 1)[0]


def sequence_counts(pairs):
    """``{sequence: number of frames}`` of a list of (image, mask) pairs, sorted by sequence."""
    counts = {}
    for image, _ in pairs:
        counts[sequence_of(image)] = counts.get(sequence_of(image), 0) + 1
    return dict(sorted(counts.items()))


def camvid_split(data, protocol, heldout=HELDOUT):
    """The training pairs and the scored sets of ``protocol`` (see ``PROTOCOLS``), by filtering file lists.

    Returns:
        ``(train, scored)``: ``train`` a list of (image, mask) paths; ``scored`` a dict from
        set name (``"test_folder"``, ``"heldout_0001TP"``) to its pairs, the test folder first.

    Raises:
        ValueError: unknown protocol, no frame of ``heldout``, ``both`` with a held-out sequence
            that is in the test folder, or a scored frame that is also trained on.

    Example:
        >>> train, scored = camvid_split("../shared/datasets/camvid", "both")  # doctest: +SKIP
        >>> len(train), {name: len(pairs) for name, pairs in scored.items()}  # doctest: +SKIP
        (305, {'test_folder': 101, 'heldout_0001TP': 62})
    """
    from keras_segmentation.data.pairing import get_pairs_from_paths

    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose one of: {', '.join(PROTOCOLS)}")
    train_folder = get_pairs_from_paths(os.path.join(data, "images_prepped_train"),
                                        os.path.join(data, "annotations_prepped_train"))
    test_folder = get_pairs_from_paths(os.path.join(data, "images_prepped_test"),
                                       os.path.join(data, "annotations_prepped_test"))
    if protocol == "folder":
        train, scored = train_folder, {TEST_FOLDER: test_folder}
    else:
        every = train_folder + test_folder
        held = [pair for pair in every if sequence_of(pair[0]) == heldout]
        if not held:
            raise ValueError(f"{data}: no frame of sequence {heldout!r}; sequences: "
                             f"{', '.join(sequence_counts(every))}")
        if protocol == "heldout-sequence":
            train = [pair for pair in every if sequence_of(pair[0]) != heldout]
            scored = {f"heldout_{heldout}": held}
        else:
            if heldout in sequence_counts(test_folder):
                raise ValueError(f"--protocol both: {heldout} has frames in images_prepped_test; "
                                 "hold out a sequence that is not in the test folder")
            train = [pair for pair in train_folder if sequence_of(pair[0]) != heldout]
            scored = {TEST_FOLDER: test_folder, f"heldout_{heldout}": held}
    trained = {os.path.basename(image) for image, _ in train}
    for name, pairs in scored.items():
        both_ways = sorted(trained & {os.path.basename(image) for image, _ in pairs})
        if both_ways:
            raise ValueError(f"{name}: {len(both_ways)} scored frame(s) also trained on, e.g. {both_ways[0]}")
    return train, scored


def build(args):
    from keras_segmentation.models.registry import NAMED_MODELS, build_named_model

    if args.model in NAMED_MODELS:  # segformer_b0 ...: a build_model combination, output at the input size
        return build_named_model(args.model, N_CLASSES, args.height, args.width, encoder_weights=None)
    if args.model:
        from keras_segmentation.models.all_models import model_from_name

        kwargs = {"input_height": args.height, "input_width": args.width}
        if args.full_resolution:
            kwargs["full_resolution"] = True
        return model_from_name[args.model](N_CLASSES, encoder_weights=None, **kwargs) if _takes_weights(args.model) \
            else model_from_name[args.model](N_CLASSES, **kwargs)
    from keras_segmentation.models import build_model

    return build_model(args.decoder, args.encoder, N_CLASSES, args.height, args.width, encoder_weights=None,
                       full_resolution=True)


def training_augmentation(args):
    """The Albumentations pipeline of ``--augment`` / ``--train-crop`` (``None``: neither)."""
    crop = (args.height, args.width) if args.train_crop else None
    if args.augment == "flip_scale":
        return camvid_augmentation(crop=crop)
    if crop is not None:
        import albumentations as A

        return A.RandomCrop(*crop)
    return None


def _takes_weights(name):
    import inspect

    from keras_segmentation.models.all_models import model_from_name

    return "encoder_weights" in inspect.signature(model_from_name[name]).parameters


def scores_summary(scores, names):
    """The figures reported, as the library scores them with ``ignore_index=11``.

    The library never scores void (class 11) then: its means are over the 11 real
    classes, and a pixel predicted as void is a miss of its true class.
    """
    import numpy as np

    scored = [c for c in range(len(names)) if c not in scores["ignored_classes"]]
    iou = np.asarray(scores["class_wise_IU"], dtype=float)
    acc = np.asarray(scores["class_wise_accuracy"], dtype=float)
    return {
        "mIoU_11": float(scores["mean_IU"]),
        "pixel_accuracy": float(scores["pixel_accuracy"]),
        "mean_class_accuracy_11": float(scores["mean_class_accuracy"]),
        "fwIoU": float(scores["frequency_weighted_IU"]),
        "class_IoU": {names[c]: float(iou[c]) for c in scored},
        "class_accuracy": {names[c]: float(acc[c]) for c in scored},
        "n_pixels": int(scores["n_pixels"]),
        "void_predicted_pixels": int(np.asarray(scores["confusion_matrix"])[:, VOID].sum()),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="same-arch")
    parser.add_argument("--protocol", choices=list(PROTOCOLS), default="folder",
                        help=f"what to train on and score on (held-out sequence: {HELDOUT}); see the docstring")
    parser.add_argument("--data", default=default_data_path(), help="CamVid folder (images_prepped_train, ...)")
    parser.add_argument("--work", default=None, help="checkpoints and predictions (default /tmp/keras_segmentation_camvid/TAG)")
    parser.add_argument("--results", default=None, help="JSON with scores and history (default examples/results/camvid_TAG.json)")
    parser.add_argument("--tag", default=None, help="run name (default: the preset)")
    parser.add_argument("--budget-min", type=float, default=45.0, help="training budget in minutes (wall clock)")
    parser.add_argument("--max-epochs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default=None,
                        help="a legacy model name (unet, segnet, vgg_unet, ...) or a named one (segformer_b0 ... b5)")
    parser.add_argument("--decoder", default=None,
                        help="build_model decoder (fpn, upernet, deeplabv3plus, segformer, ...) instead of --model")
    parser.add_argument("--encoder", default=None, help="with --decoder: vanilla, mit_b0, mobilenetv2, ...")
    parser.add_argument("--full-resolution", action="store_true", help="legacy model with output at the input size")
    parser.add_argument("--height", type=int)
    parser.add_argument("--width", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--schedule", choices=["cosine", "constant"])
    parser.add_argument("--loss")
    parser.add_argument("--class-weights", help="median_frequency, balanced, enet or none")
    parser.add_argument("--ignore-void", type=int, choices=[0, 1], help="1: ignore_index=11 in training")
    parser.add_argument("--augment", choices=["none", "flip_scale"])
    parser.add_argument("--train-crop", action="store_true",
                        help="train on random height x width crops at the images' own scale (with --augment flip_scale: "
                             "after it) instead of whole images resized to height x width")
    parser.add_argument("--predict-mode", choices=["resize", "slide"], default="resize",
                        help="score by resizing each image to the model's input, or by sliding a window of the "
                             "model's input size over the full 480x360 image (Gaussian blending)")
    parser.add_argument("--overlap", type=float, default=1 / 3, help="with --predict-mode slide: tile overlap")
    parser.add_argument("--precision", default="auto",
                        help="float32, mixed_bfloat16, mixed_float16 or auto: for training and scoring "
                             "(see keras_segmentation.precision)")
    parser.add_argument("--n-figure", type=int, default=4, help="frames of the first scored set kept as label maps")
    args = parser.parse_args(argv)

    for key, value in PRESETS[args.preset].items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    if args.decoder:
        if not args.encoder:
            parser.error("--decoder needs --encoder (e.g. --decoder fpn --encoder vanilla)")
        args.model = None
    tag = args.tag or args.preset
    work = args.work or os.path.join("/tmp", "keras_segmentation_camvid", tag)
    results_path = args.results or os.path.join(HERE, "results", f"camvid_{tag}.json")
    os.makedirs(work, exist_ok=True)
    os.makedirs(os.path.dirname(os.path.abspath(results_path)), exist_ok=True)

    import keras
    import numpy as np

    import keras_segmentation  # noqa: F401  (before Keras: it turns on TensorFlow's oneDNN CPU kernels, see docs/benchmarks.md)
    from keras_segmentation.data.links import link_pairs
    from keras_segmentation.precision import resolve_precision
    from keras_segmentation.predict import evaluate, predict
    from keras_segmentation.train import train

    keras.utils.set_random_seed(args.seed)
    names = class_names(args.data)
    train_pairs, scored = camvid_split(args.data, args.protocol)
    primary = next(iter(scored))  # the test folder where it is scored: the figures and the top-level "scores"
    val_name = next((name for name in scored if name != TEST_FOLDER), TEST_FOLDER)
    protocol = {
        "name": args.protocol,
        "definition": PROTOCOLS[args.protocol],
        "train": {"n_images": len(train_pairs), "sequences": sequence_counts(train_pairs)},
        "validation": val_name,
        "scored": {name: {"n_images": len(pairs), "sequences": sequence_counts(pairs)} for name, pairs in scored.items()},
    }
    print(f"protocol {args.protocol}: train {protocol['train']}; scored {protocol['scored']}", flush=True)

    model = build(args)
    print(f"model {model.model_name}: input {model.input_height}x{model.input_width}, output "
          f"{model.output_height}x{model.output_width}, {model.count_params():,} parameters", flush=True)

    budget = make_time_budget(
        keras.callbacks.Callback, args.budget_min * 60.0, lr=args.lr if args.schedule == "cosine" else None,
        log_path=os.path.join(work, "history.json"),
    )
    wall_start = time.perf_counter()
    split_dir = os.path.join(work, "split")  # symbolic links only, removed after training
    try:
        train_images, train_annotations = link_pairs(train_pairs, os.path.join(split_dir, "train"), masks="annotations")
        val_images, val_annotations = link_pairs(scored[val_name], os.path.join(split_dir, "val"), masks="annotations")
        train(
            model,
            train_images=train_images,
            train_annotations=train_annotations,
            val_images=val_images,
            val_annotations=val_annotations,
            checkpoints_path=os.path.join(work, "ckpt", model.model_name or "model"),
            epochs=args.max_epochs,
            batch_size=args.batch_size,
            val_batch_size=4,
            learning_rate=args.lr,
            loss=args.loss,
            class_weights=None if args.class_weights == "none" else args.class_weights,
            ignore_index=VOID if args.ignore_void else None,
            custom_augmentation=training_augmentation(args),
            seed=args.seed,
            precision=args.precision,
            class_names=names,
            callbacks=[budget],
            verbose=2,
        )
    finally:
        shutil.rmtree(split_dir, ignore_errors=True)
    setup_seconds = time.perf_counter() - wall_start - budget.summary()["train_seconds"]

    # Full-resolution evaluation of every scored set (resize: probabilities resized bilinearly to 480x360;
    # slide: windows of the model's input size over the 480x360 image), then the same with test-time flips
    # (each image averaged with its mirror): reported beside, not instead.
    window = {"mode": "slide", "overlap": args.overlap, "blend": "gaussian"} if args.predict_mode == "slide" else {}
    def timed_evaluate(pairs, flip_tta):
        start = time.perf_counter()
        scores = evaluate(
            model=model, inp_images=[image for image, _ in pairs], annotations=[mask for _, mask in pairs],
            ignore_index=VOID, class_names=names, batch_size=4, progress=False, flip_tta=flip_tta,
            precision=args.precision, **window,
        )
        return scores, time.perf_counter() - start

    sets, raw = {}, {}
    for name, pairs in scored.items():
        raw[name], eval_seconds = timed_evaluate(pairs, flip_tta=False)
        flip_scores, flip_eval_seconds = timed_evaluate(pairs, flip_tta=True)
        sets[name] = {
            **protocol["scored"][name],
            "evaluate_seconds": round(eval_seconds, 1),
            "scores": scores_summary(raw[name], names),
            "confusion_matrix": np.asarray(raw[name]["confusion_matrix"]).tolist(),
            "flip_tta": {"evaluate_seconds": round(flip_eval_seconds, 1), "scores": scores_summary(flip_scores, names)},
        }
    scores, summary = raw[primary], sets[primary]["scores"]

    # A few label maps of the first scored set for the figure (full resolution).
    pred_dir = os.path.join(work, "pred")
    os.makedirs(pred_dir, exist_ok=True)
    figure_paths = {os.path.basename(image): image for image, _ in scored[primary]}
    import cv2

    for name in figure_images(sorted(figure_paths), args.n_figure):
        labels = predict(model=model, inp=figure_paths[name], precision=args.precision, **window)
        cv2.imwrite(os.path.join(pred_dir, os.path.splitext(name)[0] + ".png"), labels.astype(np.uint8))

    result = {
        "library": "keras-segmentation (this repository)",
        "tag": tag,
        "preset": args.preset,
        "protocol": protocol,
        "command": "python examples/camvid.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "settings": {k: getattr(args, k) for k in ("protocol", "model", "decoder", "encoder", "full_resolution", "height",
                                                   "width", "batch_size", "lr", "schedule", "loss", "class_weights",
                                                   "ignore_void", "augment", "train_crop", "predict_mode",
                                                   "overlap", "precision", "seed", "budget_min")}
        | {"precision_used": resolve_precision(args.precision)},
        "model": {"name": model.model_name, "parameters": int(model.count_params()),
                  "input": [model.input_height, model.input_width], "output": [model.output_height, model.output_width],
                  "normalization": model.normalization},
        "environment": {"keras": keras.__version__, "backend": keras.backend.backend(), "python": platform.python_version(),
                        "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS"), "cpus": os.cpu_count()},
        "training": budget.summary(),
        "setup_seconds": round(setup_seconds, 1),
        "evaluation": "keras_segmentation.predict.evaluate(ignore_index=11) on each scored set at 480x360; "
                      + ("probabilities resized bilinearly" if args.predict_mode == "resize" else
                         f"sliding window of the model's input, overlap {args.overlap:.3f}, Gaussian blending")
                      + "; means over the 11 classes. The top-level scores are "
                      f"those of {primary!r}; 'sets' holds every scored set",
        "evaluate_seconds": sets[primary]["evaluate_seconds"],
        "scores": summary,
        "confusion_matrix": sets[primary]["confusion_matrix"],
        "flip_tta": sets[primary]["flip_tta"],
        "sets": sets,
        "work": work,
    }
    with open(results_path, "w") as handle:
        json.dump(result, handle, indent=1)
        handle.write("\n")
    from keras_segmentation.evaluation import format_scores

    print(format_scores(scores))
    for name, scored_set in sets.items():
        summary = scored_set["scores"]
        print(f"{name} ({scored_set['n_images']} frames): mIoU (11 classes) {100 * summary['mIoU_11']:.2f}  "
              f"pixel accuracy {100 * summary['pixel_accuracy']:.2f}  "
              f"mean class accuracy {100 * summary['mean_class_accuracy_11']:.2f}  "
              f"with flip_tta=True: mIoU {100 * scored_set['flip_tta']['scores']['mIoU_11']:.2f}")
    print(f"training {result['training']['train_seconds']:.0f} s over {result['training']['epochs']} epochs; "
          f"evaluation {sum(scored_set['evaluate_seconds'] for scored_set in sets.values()):.0f} s; "
          f"results in {results_path}")
    return result


def figure_images(names, n):
    """``n`` test images spread over the (sorted) test set, the same for every run."""
    if n <= 0:
        return []
    step = max(1, len(names) // n)
    return [names[i * step + step // 2] for i in range(n) if i * step + step // 2 < len(names)]


if __name__ == "__main__":
    main()
