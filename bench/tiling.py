"""Inference at any size: sliding-window memory and speed on huge images.

    python bench/tiling.py [--large 20000] [--medium 4000] [--reps 3]

Each case runs in a fresh process (peak RSS is that process's ``ru_maxrss``), 12 classes:

* ``slide-huge``: a ``--large`` x ``--large`` RGB image, a small fully convolutional net
  (two 3x3 convolutions, 16 filters) in 512 x 512 tiles, overlap 0.25, Gaussian blending:
  labels only, bands of probabilities (the bounded-memory path);
* on a ``--medium`` x ``--medium`` image with ``unet_mini`` (fixed 256 x 256 input):
  ``resize`` (today's default: the image shrunk to 256 x 256), ``slide`` (256 x 256 tiles,
  labels only) and ``slide-probs`` (the same holding the whole float32 probability map).

Prints a Markdown table (median wall time, megapixels/s, peak RSS) and ``lscpu``'s model.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import _common  # bench/ is sys.path[0]

CLASSES = 12


def case(spec):
    """One measurement in this process; prints a JSON line."""
    import keras
    import numpy as np

    import keras_segmentation  # noqa: F401 - before TensorFlow
    from keras_segmentation.inference import predict
    from keras_segmentation.models.segmentation_model import SegmentationModel
    from keras_segmentation.models.unet import unet_mini

    side = spec["side"]
    picture = np.random.default_rng(0).integers(0, 255, (side, side, 3), dtype=np.uint8)
    keras.utils.set_random_seed(0)
    if spec["model"] == "small":
        x = keras.Input((None, None, 3))
        h = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(x)
        y = keras.layers.Softmax()(keras.layers.Conv2D(CLASSES, 3, padding="same")(h))
        model = SegmentationModel(x, y, model_name="small", normalization="divide")
        options = dict(mode="slide", tile=(512, 512))
    else:
        model = unet_mini(CLASSES, 256, 256)
        options = {"resize": dict(mode="resize"), "slide": dict(mode="slide"),
                   "slide-probs": dict(mode="slide")}[spec["name"]]
    started = time.perf_counter()
    result = predict(model, inp=picture, return_probabilities=spec["name"] == "slide-probs", **options)
    seconds = time.perf_counter() - started
    labels = result[0] if isinstance(result, tuple) else result
    assert labels.shape == (side, side)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(json.dumps({"seconds": seconds, "mpx_per_s": side * side / 1e6 / seconds, "rss_gib": rss}))


def run(spec):
    done = subprocess.run([sys.executable, __file__, "--case", json.dumps(spec)], capture_output=True, text=True,
                          env=dict(os.environ, CUDA_VISIBLE_DEVICES=""), check=False)
    if done.returncode != 0:
        raise SystemExit(f"{spec}: failed\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--large", type=int, default=20000)
    parser.add_argument("--medium", type=int, default=4000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    if args.case:
        case(json.loads(args.case))
        return
    cases = [dict(name="slide-huge", model="small", side=args.large)]
    cases += [dict(name=name, model="unet_mini", side=args.medium) for name in ("resize", "slide", "slide-probs")]
    results = {c["name"]: [] for c in cases}
    for _ in range(args.reps):
        for spec in cases:
            results[spec["name"]].append(run(spec))
    model, _ = _common.lscpu()
    print(f"CPU: {model}; {args.reps} runs per case, medians\n")
    print("| case | image | model, tile | wall s | Mpx/s | peak RSS GiB | full float32 map would be |")
    print("|---|---|---|---:|---:|---:|---:|")
    for spec in cases:
        runs = results[spec["name"]]
        side = spec["side"]
        what = "small net, 512x512" if spec["model"] == "small" else (
            "unet_mini 256x256, resized" if spec["name"] == "resize" else "unet_mini, 256x256 tiles")
        full = side * side * CLASSES * 4 / 2**30
        median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        print(f"| {spec['name']} | {side}x{side} | {what} | {median['seconds']:.1f} | {median['mpx_per_s']:.2f} | "
              f"{median['rss_gib']:.2f} | {full:.1f} GiB |")


if __name__ == "__main__":
    main()
