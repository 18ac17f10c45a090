"""ISBI 2012 neuronal membranes (binary, 30 grey 512x512 slices): the CamVid recipe pattern on a small dataset.

Only the 30 training slices have masks (0 = membrane, 1 = cell interior), so the script
makes a fixed split: slices 0-24 train, 25-29 held out for evaluation. The split is a
folder of symlinks under ``--work`` (default ``/tmp/keras_segmentation_isbi``), never
in the repository.

Recipe: the legacy ``unet_mini`` (the original library's small U-Net; full-resolution
output, 0.47 M parameters) with ``channels=1``, trained on random 256x256 crops at the
native resolution (flips, 90-degree rotations, small affine, brightness/contrast),
cross-entropy + Dice, Adam with a time-based cosine from 2e-3, a wall-clock budget
(10 minutes by default; ``examples/time_budget.py``). Evaluation: the same weights in a
512x512 ``unet_mini`` on the 5 held-out slices with
:func:`keras_segmentation.predict.evaluate`: IoU and Dice per class (membrane is the
class of interest), their means, and pixel accuracy.

Usage::

    python examples/isbi.py                       # 10-minute budget
    python examples/isbi.py --budget-min 2 --tag pilot

The data path comes from ``--data``, else ``KERAS_SEGMENTATION_ISBI``, else
``../shared/datasets/isbi_membrane`` from the repository root.
"""

import argparse
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from time_budget import make_time_budget  # noqa: E402

NAMES = ["membrane", "cell"]
N_TRAIN = 25


def default_data_path():
    return os.environ.get("KERAS_SEGMENTATION_ISBI") or os.path.normpath(
        os.path.join(REPO, "..", "shared", "datasets", "isbi_membrane")
    )


def make_split(data, work):
    """Symlink slices 0-24 into ``work/split/train`` and 25-29 into ``work/split/val`` (images and masks)."""
    source = os.path.join(data, "train")
    names = sorted((n for n in os.listdir(os.path.join(source, "images")) if n.endswith(".png")),
                   key=lambda n: int(os.path.splitext(n)[0]))
    if len(names) != 30:
        raise SystemExit(f"{source}/images: expected 30 slices, found {len(names)}")
    split = {}
    for part, chosen in (("train", names[:N_TRAIN]), ("val", names[N_TRAIN:])):
        for kind in ("images", "masks"):
            folder = os.path.join(work, "split", part, kind)
            os.makedirs(folder, exist_ok=True)
            for name in chosen:
                link = os.path.join(folder, name)
                if not os.path.islink(link):
                    os.symlink(os.path.abspath(os.path.join(source, kind, name)), link)
            split[f"{part}_{kind}"] = folder
        split[f"{part}_names"] = chosen
    return split


def augmentation(crop):
    import albumentations as A

    return A.Compose([
        A.RandomCrop(crop, crop),
        A.HorizontalFlip(p=0.5),
        A.VerticalFlip(p=0.5),
        A.RandomRotate90(p=0.5),
        A.Affine(scale=(0.9, 1.1), rotate=(-15, 15), fill=0, fill_mask=1, p=0.5),
        A.RandomBrightnessContrast(brightness_limit=0.15, contrast_limit=0.15, p=0.5),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=default_data_path())
    parser.add_argument("--work", default="/tmp/keras_segmentation_isbi")
    parser.add_argument("--results", default=None, help="default examples/results/isbi_TAG.json")
    parser.add_argument("--tag", default="unet_mini")
    parser.add_argument("--budget-min", type=float, default=10.0)
    parser.add_argument("--crop", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--passes-per-epoch", type=int, default=4, help="crops per slice in one epoch")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--loss", default="ce+dice")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    results_path = args.results or os.path.join(HERE, "results", f"isbi_{args.tag}.json")
    os.makedirs(os.path.dirname(os.path.abspath(results_path)), exist_ok=True)
    work = os.path.join(args.work, args.tag)
    split = make_split(args.data, work)

    import keras

    import keras_segmentation  # noqa: F401  (before Keras: it turns on TensorFlow's oneDNN CPU kernels, see docs/benchmarks.md)
    from keras_segmentation.evaluation import format_scores
    from keras_segmentation.models.unet import unet_mini
    from keras_segmentation.predict import evaluate
    from keras_segmentation.train import train

    keras.utils.set_random_seed(args.seed)
    model = unet_mini(2, input_height=args.crop, input_width=args.crop, channels=1)
    budget = make_time_budget(keras.callbacks.Callback, args.budget_min * 60.0, lr=args.lr,
                              log_path=os.path.join(work, "history.json"))
    steps = -(-N_TRAIN * args.passes_per_epoch // args.batch_size)
    train(
        model,
        train_images=split["train_images"],
        train_annotations=split["train_masks"],
        checkpoints_path=os.path.join(work, "ckpt", "unet_mini"),
        epochs=1000,
        batch_size=args.batch_size,
        steps_per_epoch=steps,
        learning_rate=args.lr,
        loss=args.loss,
        custom_augmentation=augmentation(args.crop),
        seed=args.seed,
        class_names=NAMES,
        callbacks=[budget],
        verbose=2,
    )

    # The same weights at the full 512x512 slice (the network is fully convolutional).
    full = unet_mini(2, input_height=512, input_width=512, channels=1)
    full.set_weights(model.get_weights())
    t0 = time.perf_counter()
    val_images = [os.path.join(split["val_images"], n) for n in split["val_names"]]
    val_masks = [os.path.join(split["val_masks"], n) for n in split["val_names"]]
    scores = evaluate(model=full, inp_images=val_images, annotations=val_masks, class_names=NAMES, progress=False)
    eval_seconds = time.perf_counter() - t0
    print(format_scores(scores))

    summary = {
        "membrane_IoU": float(scores["class_wise_IU"][0]),
        "membrane_Dice": float(scores["class_wise_dice"][0]),
        "cell_IoU": float(scores["class_wise_IU"][1]),
        "cell_Dice": float(scores["class_wise_dice"][1]),
        "mIoU": float(scores["mean_IU"]),
        "mean_Dice": float(scores["mean_dice"]),
        "pixel_accuracy": float(scores["pixel_accuracy"]),
        "mean_class_accuracy": float(scores["mean_class_accuracy"]),
    }
    result = {
        "library": "keras-segmentation (this repository)",
        "command": "python examples/isbi.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "split": {"train": split["train_names"], "held_out": split["val_names"]},
        "settings": vars(args),
        "model": {"name": "unet_mini", "channels": 1, "parameters": int(model.count_params()),
                  "train_input": [args.crop, args.crop], "eval_input": [512, 512]},
        "environment": {"keras": keras.__version__, "backend": keras.backend.backend(), "python": platform.python_version(),
                        "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS"), "cpus": os.cpu_count()},
        "training": budget.summary(),
        "evaluate_seconds": round(eval_seconds, 1),
        "evaluation": "keras_segmentation.predict.evaluate on the 5 held-out slices (25-29) at 512x512",
        "scores": summary,
        "confusion_matrix": scores["confusion_matrix"].tolist(),
    }
    with open(results_path, "w") as handle:
        # no machine paths in the repository: the repository root is ".", its parent ".."
        text = json.dumps(result, indent=1).replace(REPO + os.sep, "./").replace(os.path.dirname(REPO) + os.sep, "../")
        handle.write(text + "\n")
    print(f"membrane IoU {100 * summary['membrane_IoU']:.2f}, Dice {100 * summary['membrane_Dice']:.2f}; "
          f"mIoU {100 * summary['mIoU']:.2f}; pixel accuracy {100 * summary['pixel_accuracy']:.2f}; "
          f"trained {result['training']['train_seconds']:.0f} s ({result['training']['epochs']} epochs); {results_path}")
    return result


if __name__ == "__main__":
    main()
