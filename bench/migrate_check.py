"""Checkpoints trained with the ORIGINAL library, migrated here, must predict what the original predicts.

For each model, in ``bench/.envs/original`` (keras-segmentation 0.3.0, Keras 2.15), the original:

1. builds the model by its registry name (ImageNet download skipped: ``worker_original._build``),
   randomises every variable (BatchNorm statistics and biases too, so a misplaced one shows),
   takes one Adam step (so the checkpoint also holds optimizer slots, as a trained one does),
   and saves ``prefix.0`` with 0.3.0's own ``CheckpointsCallback`` plus the ``prefix_config.json``
   its ``train()`` writes;
2. predicts a few synthetic images: its probability map (``get_image_array`` + ``model.predict``,
   what its ``predict`` does before the arg-max) and its ``predict()`` label map.

Then, here: ``migrate_checkpoint(prefix, new_prefix)``, and

* at the model's output size: this library's ``normalize_image(..., "sub_mean")`` + the migrated
  model, against the original's probabilities and ``predict()`` labels;
* at the image's size: ``predict(checkpoints_path=new_prefix, mode="resize", return_probabilities=True)``,
  against the original's probabilities resized the same way (the original stops at the output size;
  this library resizes the probabilities to the image, then takes the arg-max).

Prints a Markdown table and writes JSON (default ``bench/results/migrate_check.json``)::

    .venv/bin/python bench/migrate_check.py                     # the default models
    .venv/bin/python bench/migrate_check.py --all               # all 22 original names
    .venv/bin/python bench/migrate_check.py --models unet_mini:64x96 vgg_unet:224x224

Exit status 1 when a model's probabilities differ by more than ``--tolerance`` (1e-4).
Nothing made by the original is kept in the repository: everything goes to a temporary folder.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
ORIGINAL_PYTHON = os.path.join(HERE, ".envs", "original", "bin", "python")
N_CLASSES = 5
#: (height, width) of the synthetic images: smaller, larger and not the model's aspect
IMAGE_SIZES = ((150, 200), (300, 260), (97, 131))
DEFAULT_MODELS = (
    "unet_mini:64x96", "fcn_8:128x160", "segnet:96x128", "pspnet:192x192", "vgg_unet:224x256",
    "resnet50_unet:224x224", "mobilenet_segnet:224x224", "fcn_32_resnet50:224x224",
)
#: the smallest size each original name builds at (multiples of 32 for VGG/ResNet/MobileNet, >= 224 for
#: ResNet-50, multiples of 192 for the PSPNets, 473 only for the Caffe PSPNets)
ALL_MODELS = (
    "fcn_8:128x160", "fcn_32:128x160", "fcn_8_vgg:160x192", "fcn_32_vgg:160x192",
    "fcn_8_resnet50:224x224", "fcn_32_resnet50:224x224", "fcn_8_mobilenet:224x224", "fcn_32_mobilenet:224x224",
    "pspnet:192x192", "vgg_pspnet:192x192", "resnet50_pspnet:384x384", "pspnet_50:473x473", "pspnet_101:473x473",
    "unet_mini:64x96", "unet:96x128", "vgg_unet:224x256", "resnet50_unet:224x224", "mobilenet_unet:224x224",
    "segnet:96x128", "vgg_segnet:160x192", "resnet50_segnet:224x224", "mobilenet_segnet:224x224",
)


# ------------------------------------------------------------------ the original's side (Keras 2)
def run_original(spec):
    """In bench/.envs/original: save each model's checkpoint the original's way and its predictions."""
    import numpy as np
    import worker_original  # bench/ is sys.path[0]: the offline build and the keras.layers.merge alias

    tf, _ = worker_original._setup_tf(spec)
    import keras

    from keras_segmentation.data_utils.data_loader import get_image_array
    from keras_segmentation.models.config import IMAGE_ORDERING
    from keras_segmentation.predict import predict
    from keras_segmentation.train import CheckpointsCallback

    results = {}
    for entry in spec["models"]:
        name, height, width = entry["name"], entry["height"], entry["width"]
        keras.backend.clear_session()
        tf.keras.utils.set_random_seed(spec["seed"])
        model = worker_original._build(name, height, width, N_CLASSES)
        rng = np.random.default_rng(spec["seed"])
        model.set_weights([_randomised(w, v.name, rng) for w, v in zip(model.get_weights(), model.weights)])
        # one Adam step, as 0.3.0's train() compiles: the checkpoint then holds optimizer slots too
        # (not for the FCNs on VGG/ResNet: their 7x7x4096 layer makes Adam's state gigabytes)
        trained = model.count_params() < spec["adam_step_max_params"]
        if trained:
            model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
            x = rng.normal(0, 50, (1, height, width, 3)).astype("float32")
            y = np.eye(N_CLASSES)[rng.integers(0, N_CLASSES, model.output_height * model.output_width)][None]
            model.fit(x, y, epochs=1, verbose=0)
        prefix = os.path.join(spec["workdir"], name)
        with open(prefix + "_config.json", "w") as handle:  # what 0.3.0's train() writes
            json.dump({"model_class": model.model_name, "n_classes": N_CLASSES, "input_height": height,
                       "input_width": width, "output_height": model.output_height,
                       "output_width": model.output_width}, handle)
        saver = CheckpointsCallback(prefix)
        saver.set_model(model)
        saver.on_epoch_end(0)  # writes prefix.0 (save_weights, TensorFlow format)
        probs, labels = [], []
        for path in spec["images"]:
            image = get_image_array(path, width, height, ordering=IMAGE_ORDERING)
            out = model.predict(image[None], verbose=0)[0]
            probs.append(out.reshape(model.output_height, model.output_width, N_CLASSES))
            labels.append(predict(model=model, inp=path))
        np.savez(prefix + "_original.npz", **{f"p{i}": p for i, p in enumerate(probs)},
                 **{f"l{i}": lab for i, lab in enumerate(labels)})
        results[name] = {"prefix": prefix, "weighted_layers": sum(1 for layer in model.layers if layer.weights),
                         "output_size": [model.output_height, model.output_width], "adam_step": trained,
                         "params": int(model.count_params()),
                         "label_map_is_argmax": all(bool((p.argmax(-1) == lab).all()) for p, lab in zip(probs, labels))}
    return results


def _randomised(value, name, rng):
    """Random values of the variable's own kind: kernels keep their init, the rest get spread."""
    base = name.split("/")[-1].split(":")[0]
    if base in ("moving_variance", "gamma"):
        return rng.uniform(0.6, 1.4, value.shape).astype(value.dtype)
    if base in ("moving_mean", "beta", "bias"):
        return rng.normal(0, 0.1, value.shape).astype(value.dtype)
    return value


# ------------------------------------------------------------------ this library's side (Keras 3)
def setup_ours(threads):
    """Import this repository's library (not an installed one), with TensorFlow's threads pinned."""
    sys.path.insert(0, REPO)
    if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    keras.config.disable_interactive_logging()


def compare(entry, original, images):
    """Migrate one original checkpoint here and compare the predictions with the original's."""
    import keras
    import numpy as np

    from keras_segmentation.checkpoints.load import load_model_from_checkpoint
    from keras_segmentation.data.images import read_image
    from keras_segmentation.data.normalization import normalize_image
    from keras_segmentation.inference import predict
    from keras_segmentation.inference.upscale import upscale_probabilities
    from keras_segmentation.migrate import migrate_checkpoint

    keras.backend.clear_session()
    name, prefix = entry["name"], original["prefix"]
    migrated = migrate_checkpoint(prefix, prefix + "_migrated")
    model = load_model_from_checkpoint(migrated.checkpoints_path)
    saved = np.load(prefix + "_original.npz")
    at_output, at_image, agree_output, agree_image, labels_seen = [], [], [], [], set()
    for i, path in enumerate(images):
        theirs, their_labels = saved[f"p{i}"], saved[f"l{i}"]
        x = normalize_image(read_image(path), model.normalization, (model.input_height, model.input_width))
        ours = np.asarray(model.predict(x[None], verbose=0)[0])
        at_output.append(float(np.abs(ours - theirs).max()))
        agree_output.append(float((ours.argmax(-1) == their_labels).mean()))
        labels, probs = predict(model=model, inp=path, mode="resize", return_probabilities=True, colored=False)
        resized = upscale_probabilities(theirs, labels.shape)
        at_image.append(float(np.abs(probs - resized).max()))
        agree_image.append(float((labels == resized.argmax(-1)).mean()))
        labels_seen.update(np.unique(their_labels).tolist())
    return {
        "model": name, "input": [entry["height"], entry["width"]], "output": original["output_size"],
        "params": original["params"], "adam_step": original["adam_step"],
        "weighted_layers": migrated.layers, "original_weighted_layers": original["weighted_layers"],
        "max_abs_dprob_output_size": max(at_output), "label_agreement_output_size": min(agree_output),
        "max_abs_dprob_image_size": max(at_image), "label_agreement_image_size": min(agree_image),
        "classes_predicted": len(labels_seen), "original_predict_is_argmax": original["label_map_is_argmax"],
        "original_version": migrated.original_version,
    }


def write_images(folder, seed):
    """A few smooth synthetic BGR images (gradients and blobs), of several sizes."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    paths = []
    for i, (height, width) in enumerate(IMAGE_SIZES):
        noise = rng.uniform(0, 255, (height // 8 + 2, width // 8 + 2, 3)).astype("float32")
        image = cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC)
        image += np.linspace(-40, 40, width, dtype="float32")[None, :, None]
        path = os.path.join(folder, f"image_{i}.png")
        cv2.imwrite(path, np.clip(image, 0, 255).astype("uint8"))
        paths.append(path)
    return paths


def table(rows):
    lines = ["| model | input | output | weighted layers | max \\|Δprob\\| (output size) | labels equal (output size) "
             "| max \\|Δprob\\| (image size) | labels equal (image size) |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| `{r['model']}` | {r['input'][0]}×{r['input'][1]} | {r['output'][0]}×{r['output'][1]} "
                     f"| {r['weighted_layers']} | {r['max_abs_dprob_output_size']:.1e} "
                     f"| {100 * r['label_agreement_output_size']:.4f} % | {r['max_abs_dprob_image_size']:.1e} "
                     f"| {100 * r['label_agreement_image_size']:.4f} % |")
    return "\n".join(lines)


def parse_models(items):
    models = []
    for item in items:
        name, _, size = item.partition(":")
        height, width = (int(v) for v in size.split("x"))
        models.append({"name": name, "height": height, "width": width})
    return models


def run_original_worker(spec, workdir):
    """Run :func:`run_original` for ``spec`` in a fresh bench/.envs/original process; its result dict."""
    spec_path, result_path = os.path.join(workdir, "spec.json"), os.path.join(workdir, "original.json")
    with open(spec_path, "w") as handle:
        json.dump(spec, handle)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONDONTWRITEBYTECODE="1")
    # run from the work folder, so the original's import finds 0.3.0, never this repository
    done = subprocess.run([ORIGINAL_PYTHON, os.path.abspath(__file__), "--original-worker", spec_path, result_path],
                          cwd=workdir, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"original worker failed (status {done.returncode}):\n{done.stderr[-3000:]}")
    with open(result_path) as handle:
        return json.load(handle)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--original-worker":  # inside bench/.envs/original
        with open(sys.argv[2]) as handle:
            spec = json.load(handle)
        with open(sys.argv[3], "w") as handle:
            json.dump(run_original(spec), handle)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS, metavar="NAME:HxW")
    parser.add_argument("--all", action="store_true", help="all 22 original model names")
    parser.add_argument("--threads", type=int, default=2, help="TensorFlow threads in both environments")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tolerance", type=float, default=1e-4, help="largest |dprob| accepted")
    parser.add_argument("--adam_step_max_params", type=int, default=50_000_000,
                        help="take the Adam step (optimizer slots in the checkpoint) below this many parameters")
    parser.add_argument("--json", default=os.path.join(HERE, "results", "migrate_check.json"))
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep the checkpoints (default: a temp folder, "
                        "each model's files deleted after its comparison: the FCNs on ResNet-50 take gigabytes)")
    args = parser.parse_args()
    if not os.path.exists(ORIGINAL_PYTHON):
        print(f"{ORIGINAL_PYTHON} not found: create it with python bench/run.py --quick first", file=sys.stderr)
        return 2
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    setup_ours(args.threads)
    rows = []
    with tempfile.TemporaryDirectory(prefix="migrate_check_") as temp:
        workdir = os.path.abspath(args.keep or temp)
        os.makedirs(workdir, exist_ok=True)
        images = write_images(workdir, args.seed)
        for entry in parse_models(ALL_MODELS if args.all else args.models):
            spec = {"models": [entry], "seed": args.seed, "images": images, "workdir": workdir,
                    "intra_op_threads": args.threads, "inter_op_threads": 1,
                    "adam_step_max_params": args.adam_step_max_params}
            original = run_original_worker(spec, workdir)[entry["name"]]
            row = compare(entry, original, images)
            rows.append(row)
            print(f"{row['model']}: max |dprob| {row['max_abs_dprob_output_size']:.2e} / "
                  f"{row['max_abs_dprob_image_size']:.2e}, labels {row['label_agreement_output_size']:.6f} / "
                  f"{row['label_agreement_image_size']:.6f}", file=sys.stderr, flush=True)
            if not args.keep:
                stem = os.path.basename(original["prefix"])
                for name in os.listdir(workdir):
                    if name.startswith(stem + ".") or name.startswith(stem + "_"):
                        os.remove(os.path.join(workdir, name))
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as handle:
        json.dump({"rows": rows, "image_sizes": IMAGE_SIZES, "n_classes": N_CLASSES, "seed": args.seed}, handle,
                  indent=1)
    print(table(rows))
    worst = max(max(r["max_abs_dprob_output_size"], r["max_abs_dprob_image_size"]) for r in rows)
    return 0 if worst <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
