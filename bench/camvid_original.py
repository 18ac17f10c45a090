"""The ORIGINAL keras_segmentation 0.3.0's tutorial recipe on CamVid, under the same time budget as ours.

Runs in ``bench/.envs/original`` (TF 2.15 / Keras 2.15), from a working folder outside
the repository so that ``import keras_segmentation`` finds the installed 0.3.0::

    REPO=$(pwd)   # the repository root; bench/run.py creates bench/.envs/original
    mkdir -p /tmp/camvid_original && cd /tmp/camvid_original && \\
    TF_ENABLE_ONEDNN_OPTS=1 "$REPO"/bench/.envs/original/bin/python \\
        "$REPO"/bench/camvid_original.py --out /tmp/camvid_original

Then score its label maps with this library's metrics (in the dev environment)::

    .venv/bin/python examples/camvid_report.py --original /tmp/camvid_original

What it does, in the original's own code path:

* builds the legacy model (``unet`` at 192x256 by default, the model of our
  ``examples/camvid.py --preset same-arch``) with ImageNet downloads disabled
  (``worker_original._offline_build``; the vanilla encoder has no pretrained weights anyway)
  and ``keras.layers.merge`` aliased (``worker_original._alias_merge_module``);
* calls its ``model.train(...)``: dataset verification, its generator (its "sub_mean"
  preprocessing, nearest-resized one-hot labels, 12 classes with void as class 11),
  categorical cross-entropy, no class weights, no augmentation, its per-epoch
  ``CheckpointsCallback``, batch 2, ``steps_per_epoch=184`` (one pass over the 367
  images), validation on the 101 test images each epoch (``val_steps_per_epoch=51``).
  The optimizer is Adam at Keras' default rate (1e-3): 0.3.0's ``train()`` defaults to
  Adadelta, to which Keras 2.15 gives a rate of 1e-3 (a thousandth of Adadelta's usual 1.0);
* stops by the time-budget rule of ``examples/time_budget.py`` (the same callback class as
  ours; 0.3.0's ``train()`` has no ``callbacks`` argument, so it is added to the
  ``fit_generator`` call of this model instance only);
* predicts the 101 test images with its preprocessing (``get_image_array``) and saves
  two full-resolution (480x360) label maps per image: ``pred_nearest/`` (its
  ``predict()`` label map at the model's output size, upsampled nearest-neighbour) and
  ``pred_bilinear/`` (its softmax probabilities resized bilinearly, then arg-maxed: what
  our ``predict`` does), plus ``pred_bilinear_flip/``: the same with each image's
  probabilities averaged with its mirror's (what our ``flip_tta=True`` does), so the
  comparison can also be made with test-time flips on both sides.

``--predict-only`` skips training and rewrites the predictions from the newest checkpoint
of an earlier run in ``--out`` (its ``result.json`` keeps the training record).
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as our package sets it: the same kernels for both
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.dont_write_bytecode = True

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(REPO, "examples"))

import worker_original  # noqa: E402  (bench/ is sys.path[0]: the offline build and the merge alias)
from time_budget import make_time_budget  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description="original keras_segmentation 0.3.0 on CamVid within a time budget")
    parser.add_argument("--data", default=os.environ.get("KERAS_SEGMENTATION_CAMVID")
                        or os.path.normpath(os.path.join(REPO, "..", "shared", "datasets", "camvid")))
    parser.add_argument("--out", required=True, help="work folder (outside the repository)")
    parser.add_argument("--model", default="unet")
    parser.add_argument("--height", type=int, default=192)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--budget-min", type=float, default=45.0)
    parser.add_argument("--max-epochs", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--predict-only", action="store_true", help="load the newest checkpoint in --out; no training")
    args = parser.parse_args()

    if os.path.realpath(os.getcwd()).startswith(os.path.realpath(REPO)):
        raise SystemExit("run from a folder outside the repository (else this repository's keras_segmentation is imported)")
    os.makedirs(args.out, exist_ok=True)

    import tensorflow as tf

    import keras_segmentation

    if os.path.realpath(keras_segmentation.__file__).startswith(os.path.realpath(REPO + "/keras_segmentation")):
        raise SystemExit("imported this repository's keras_segmentation, not the original 0.3.0")
    worker_original._alias_merge_module()
    tf.keras.utils.set_random_seed(args.seed)
    import keras

    model = worker_original._build(args.model, args.height, args.width, 12)
    print(f"original {args.model}: input {model.input_height}x{model.input_width}, output "
          f"{model.output_height}x{model.output_width}, {model.count_params():,} parameters", flush=True)

    folders = {k: os.path.join(args.data, k) for k in
               ("images_prepped_train", "annotations_prepped_train", "images_prepped_test", "annotations_prepped_test")}
    if args.predict_only:
        with open(os.path.join(args.out, "result.json")) as handle:
            result = json.load(handle)
        checkpoint = tf.train.latest_checkpoint(os.path.join(args.out, "ckpt"))
        model.load_weights(checkpoint)
        result["predict_seconds"], n_test = write_predictions(model, folders["images_prepped_test"], args.out)
        result["predictions"] = {kind: os.path.join(args.out, "pred_" + kind) for kind in PREDICTION_KINDS}
        result["predicted_from"] = checkpoint
        with open(os.path.join(args.out, "result.json"), "w") as handle:
            json.dump(result, handle, indent=1)
        print(f"predicted {n_test} test images from {checkpoint} in {result['predict_seconds']:.0f} s", flush=True)
        return

    n_train = len(os.listdir(folders["images_prepped_train"]))
    n_test = len(os.listdir(folders["images_prepped_test"]))

    budget = make_time_budget(keras.callbacks.Callback, args.budget_min * 60.0,
                              log_path=os.path.join(args.out, "history.json"))
    real_fit_generator = model.fit_generator

    def fit_generator(*fit_args, **fit_kwargs):  # 0.3.0's train() takes no callbacks: add ours to its own
        fit_kwargs["callbacks"] = list(fit_kwargs.get("callbacks") or []) + [budget]
        fit_kwargs.setdefault("verbose", 2)
        return real_fit_generator(*fit_args, **fit_kwargs)

    model.fit_generator = fit_generator
    steps = -(-n_train // args.batch_size)
    val_steps = -(-n_test // 2)
    os.makedirs(os.path.join(args.out, "ckpt"), exist_ok=True)  # 0.3.0 does not create the checkpoint folder
    wall = time.perf_counter()
    model.train(
        train_images=folders["images_prepped_train"],
        train_annotations=folders["annotations_prepped_train"],
        checkpoints_path=os.path.join(args.out, "ckpt", args.model + "_1"),
        epochs=args.max_epochs,
        batch_size=args.batch_size,
        validate=True,
        val_images=folders["images_prepped_test"],
        val_annotations=folders["annotations_prepped_test"],
        val_batch_size=2,
        steps_per_epoch=steps,
        val_steps_per_epoch=val_steps,
        optimizer_name="adam",
    )
    total = time.perf_counter() - wall

    predict_seconds, n_predicted = write_predictions(model, folders["images_prepped_test"], args.out)

    result = {
        "library": "keras_segmentation 0.3.0 (original)",
        "library_file": keras_segmentation.__file__,
        "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
        "settings": {"model": args.model, "height": args.height, "width": args.width, "batch_size": args.batch_size,
                     "optimizer": "adam (lr 1e-3, Keras default)", "loss": "categorical_crossentropy (12 classes, void = 11)",
                     "class_weights": "none", "augmentation": "none", "steps_per_epoch": steps,
                     "val_steps_per_epoch": val_steps, "seed": args.seed, "budget_min": args.budget_min},
        "model": {"name": args.model, "parameters": int(model.count_params()),
                  "input": [model.input_height, model.input_width], "output": [model.output_height, model.output_width]},
        "environment": {"tensorflow": tf.__version__, "keras": keras.__version__,
                        "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS"), "cpus": os.cpu_count()},
        "training": budget.summary(),
        "setup_seconds": round(total - budget.summary()["train_seconds"], 1),
        "predict_seconds": round(predict_seconds, 1),
        "predictions": {kind: os.path.join(args.out, "pred_" + kind) for kind in PREDICTION_KINDS},
    }
    with open(os.path.join(args.out, "result.json"), "w") as handle:
        json.dump(result, handle, indent=1)
    print(f"trained {result['training']['train_seconds']:.0f} s over {result['training']['epochs']} epochs; "
          f"predicted {n_predicted} test images in {predict_seconds:.0f} s; {args.out}/result.json", flush=True)


PREDICTION_KINDS = ("nearest", "bilinear", "bilinear_flip")


def write_predictions(model, image_dir, out):
    """Full-resolution label maps of every image in ``image_dir`` under ``out/pred_<kind>``; returns (seconds, count)."""
    import cv2
    import numpy as np

    from keras_segmentation.data_utils.data_loader import get_image_array
    from keras_segmentation.models.config import IMAGE_ORDERING

    start = time.perf_counter()
    names = sorted(n for n in os.listdir(image_dir) if n.lower().endswith((".png", ".jpg", ".bmp")))
    for kind in PREDICTION_KINDS:
        os.makedirs(os.path.join(out, "pred_" + kind), exist_ok=True)
    shape = (model.output_height, model.output_width, model.n_classes)
    for first in range(0, len(names), 4):
        chunk = names[first:first + 4]
        images = [cv2.imread(os.path.join(image_dir, n), 1) for n in chunk]
        x = np.array([get_image_array(im, model.input_width, model.input_height, ordering=IMAGE_ORDERING) for im in images])
        probs = model.predict(x, verbose=0).reshape((len(chunk), *shape))
        mirrored = model.predict(np.ascontiguousarray(x[:, :, ::-1]), verbose=0).reshape((len(chunk), *shape))[:, :, ::-1]
        for name, image, p, m in zip(chunk, images, probs, mirrored):
            size = image.shape[1::-1]
            labels = {
                "nearest": cv2.resize(p.argmax(-1).astype(np.uint8), size, interpolation=cv2.INTER_NEAREST),
                "bilinear": cv2.resize(p.astype(np.float32), size, interpolation=cv2.INTER_LINEAR).argmax(-1),
                "bilinear_flip": cv2.resize(((p + m) / 2).astype(np.float32), size, interpolation=cv2.INTER_LINEAR).argmax(-1),
            }
            for kind, label_map in labels.items():
                cv2.imwrite(os.path.join(out, "pred_" + kind, os.path.splitext(name)[0] + ".png"), label_map.astype(np.uint8))
    return time.perf_counter() - start, len(names)


if __name__ == "__main__":
    main()
