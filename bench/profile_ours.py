"""Where does our time go? Breakdowns of the W1/W2/W3 paths (not part of ``bench/run.py``).

Run in the benchmark environment for ours (or the dev venv), from any folder::

    bench/.envs/ours/bin/python bench/profile_ours.py loader      # data pipeline alone, per batch
    bench/.envs/ours/bin/python bench/profile_ours.py step        # train step alone (XLA off/on, threads)
    bench/.envs/ours/bin/python bench/profile_ours.py predict     # Predictor stages, batch sizes, XLA
    bench/.envs/ours/bin/python bench/profile_ours.py cprofile    # cProfile of predict_multiple / evaluate
    bench/.envs/ours/bin/python bench/profile_ours.py verify      # verify_dataset vs a bare decode loop

Each prints one JSON object per measurement. Options: ``--camvid``, ``--threads``,
``--n`` (images / steps), ``--model`` (unet_mini or vgg_unet).
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("KERAS_SEGMENTATION_ENCODER_WEIGHTS", "none")

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)

from _common import timings  # noqa: E402

SIZES = {"unet_mini": (360, 480), "vgg_unet": (416, 608)}


def emit(**record):
    print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in record.items()}), flush=True)


def setup(args):
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.inter or args.threads)
    import keras

    keras.utils.set_random_seed(0)
    return tf


def build(name):
    from keras_segmentation.models import unet

    height, width = SIZES[name]
    kwargs = {} if name == "unet_mini" else {"encoder_weights": None}
    return getattr(unet, name)(12, input_height=height, input_width=width, **kwargs)


def pairs(args, split="train"):
    from keras_segmentation.data.pairing import get_pairs_from_paths

    return get_pairs_from_paths(os.path.join(args.camvid, f"images_prepped_{split}"),
                                os.path.join(args.camvid, f"annotations_prepped_{split}"))


# ------------------------------------------------------------------ loader
def p_loader(args):
    """Seconds per batch of 2 built by SegmentationDataset (read, resize, normalise, mask), single thread."""
    from keras_segmentation.data.loader import SegmentationDataset

    for name in ("unet_mini", "vgg_unet"):
        model = build(name)
        out = (model.output_height, model.output_width)
        ds = SegmentationDataset(pairs(args), 2, 12, SIZES[name], out, "sub_mean", shuffle=True, seed=0, workers=1)
        ds[0]
        start = time.perf_counter()
        for i in range(1, args.n + 1):
            ds[i]
        emit(what="loader", model=name, seconds_per_batch=(time.perf_counter() - start) / args.n, batches=args.n)


# -------------------------------------------------------------------- step
def p_step(args):
    """The compiled train step alone on one fixed batch: our compile vs plain Keras, XLA off/on."""
    import keras
    import numpy as np

    from keras_segmentation.training.compile import compile_model as _compile

    name = args.model
    variants = args.variants.split(",")
    for variant in variants:
        jit = variant.endswith("+xla")
        kind = variant.replace("+xla", "")
        model = build(name)
        if kind == "library":  # what train() compiles: our sparse CE, accuracy + mean IoU metrics
            _compile(model, "adam", None, None, "categorical_crossentropy", None, None, 10, 1, jit)
        elif kind == "nometrics":  # our loss, no metrics
            from keras_segmentation.losses import get_loss

            model.compile(optimizer="adam", loss=get_loss("categorical_crossentropy", 12), jit_compile=jit)
        elif kind == "plain":  # Keras' own sparse CE + accuracy (what the original computes, sparse)
            model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(),
                          metrics=["accuracy"], jit_compile=jit)
        else:
            raise SystemExit(f"unknown variant {variant}")
        x = np.random.rand(2, *SIZES[name], 3).astype("float32") * 255 - 128
        y = np.random.randint(0, 12, (2, model.output_height, model.output_width)).astype("int32")
        start = time.perf_counter()
        model.train_on_batch(x, y)
        first = time.perf_counter() - start
        fastest, median, cpu = timings(lambda: model.train_on_batch(x, y), args.n)
        emit(what="train_step", model=name, variant=variant, first_step_s=first, best_step_s=fastest,
             median_step_s=median, cpu_step_s=cpu, images_per_s=2 / median, threads=[args.threads, args.inter or args.threads])


# ----------------------------------------------------------------- predict
def p_predict(args):
    """Predictor stages per image: prepare (read+normalise), model, finish (resize+argmax), write."""
    import cv2
    import numpy as np

    from keras_segmentation.data.images import read_image_for_model
    from keras_segmentation.data.normalization import normalize_image
    from keras_segmentation.inference.predictor import _finish

    model = build("unet_mini")
    images = [p[0] for p in pairs(args, "test")][: args.n]

    t = time.perf_counter()
    raw = [read_image_for_model(p, 3) for p in images]
    read = (time.perf_counter() - t) / len(images)
    t = time.perf_counter()
    xs = [normalize_image(r, "sub_mean", SIZES["unet_mini"]) for r in raw]
    norm = (time.perf_counter() - t) / len(images)
    emit(what="prepare", read_s_per_image=read, normalize_s_per_image=norm)

    for jit in (False, True):
        model.jit_compile = jit
        model.predict_function = None
        for batch in (1, 2, 4, 8):
            x = np.stack((xs * 8)[:batch])
            model.predict_on_batch(x)
            fastest, median, cpu = timings(lambda: model.predict_on_batch(x), max(2, args.n // batch))
            emit(what="predict_on_batch", jit_compile=jit, batch=batch, median_s_per_image=median / batch,
                 best_s_per_image=fastest / batch, cpu_s_per_image=cpu / batch)
    model.jit_compile = False
    model.predict_function = None
    import tensorflow as tf

    fn = tf.function(lambda a: model(a, training=False))
    x = tf.constant(np.stack(xs[:4]))
    fn(x)
    fastest, median, cpu = timings(lambda: fn(x).numpy(), 4)
    emit(what="tf_function_call", batch=4, median_s_per_image=median / 4, cpu_s_per_image=cpu / 4)

    probs = np.asarray(model.predict_on_batch(np.stack(xs[:1])))[0]
    t = time.perf_counter()
    for r in raw:
        result = _finish(0, r, probs, False)
    finish = (time.perf_counter() - t) / len(raw)
    t = time.perf_counter()
    for i in range(len(raw)):
        ok, encoded = cv2.imencode(".png", result.labels)
        encoded.tofile(os.path.join(args.tmp, f"{i}.png"))
    write = (time.perf_counter() - t) / len(raw)
    emit(what="postprocess", finish_s_per_image=finish, write_png_s_per_image=write)


# ---------------------------------------------------------------- cprofile
def p_cprofile(args):
    import cProfile
    import pstats

    from keras_segmentation.checkpoints.config import write_config
    from keras_segmentation.checkpoints.weights import save_checkpoint
    from keras_segmentation.predict import evaluate, predict_multiple

    model = build("unet_mini")
    prefix = os.path.join(args.tmp, "ckpt", "unet_mini")
    write_config(prefix, model)
    save_checkpoint(model, prefix, 1)
    test = pairs(args, "test")[: args.n]
    images, masks = [p[0] for p in test], [p[1] for p in test]
    for label, call in (
        ("predict_multiple", lambda: predict_multiple(checkpoints_path=prefix, inps=images,
                                                      out_dir=os.path.join(args.tmp, "pm"), progress=False)),
        ("evaluate", lambda: evaluate(checkpoints_path=prefix, inp_images=images, annotations=masks, progress=False)),
    ):
        profile = cProfile.Profile()
        start = time.perf_counter()
        profile.runcall(call)
        emit(what="cprofile", call=label, seconds=time.perf_counter() - start, images=len(images))
        stats = pstats.Stats(profile, stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(25)
        stats.sort_stats("tottime").print_stats(15)


# ------------------------------------------------------------------ verify
def p_verify(args):
    """verify_dataset against a bare loop that decodes every image and mask (the floor of any check)."""
    import cv2

    from keras_segmentation.data.verify import verify_dataset

    images = os.path.join(args.camvid, "images_prepped_train")
    masks = os.path.join(args.camvid, "annotations_prepped_train")
    everything = pairs(args)
    start = time.perf_counter()
    for image, mask in everything:
        cv2.imread(image, cv2.IMREAD_COLOR)
        cv2.imread(mask, cv2.IMREAD_UNCHANGED)
    bare = time.perf_counter() - start
    start = time.perf_counter()
    for _image, mask in everything:
        cv2.imread(mask, cv2.IMREAD_UNCHANGED)
    masks_only = time.perf_counter() - start
    start = time.perf_counter()
    report = verify_dataset(images, masks, 12)
    ours = time.perf_counter() - start
    emit(what="verify", pairs=len(everything), ours_s=ours, ok=bool(report),
         bare_decode_both_s=bare, bare_decode_masks_only_s=masks_only, cv2_threads=cv2.getNumThreads())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["loader", "step", "predict", "cprofile", "verify"])
    parser.add_argument("--camvid", default=os.environ.get("KERAS_SEGMENTATION_CAMVID")
                        or os.path.join(ROOT, "..", "shared", "datasets", "camvid"))
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--inter", type=int, help="inter-op threads (default: --threads)")
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--model", default="unet_mini", choices=sorted(SIZES))
    parser.add_argument("--variants", default="library,library+xla,nometrics,plain",
                        help="step: comma-separated compile variants (library, nometrics, plain; +xla)")
    parser.add_argument("--tmp", default=os.path.join(BENCH, "results", "profile"))
    args = parser.parse_args()
    args.camvid = os.path.abspath(args.camvid)
    os.makedirs(args.tmp, exist_ok=True)
    if args.what != "verify":
        setup(args)
    globals()[f"p_{args.what}"](args)


if __name__ == "__main__":
    main()
