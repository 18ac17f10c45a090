"""The original 0.3.0's train step and data generator measured alone (counterpart of profile_ours.py).

Run with the original's environment, from a folder outside the repository::

    cd /tmp && /path/to/repo/bench/.envs/original/bin/python /path/to/repo/bench/profile_original.py step
    cd /tmp && /path/to/repo/bench/.envs/original/bin/python /path/to/repo/bench/profile_original.py generator

Same monkeypatches as ``worker_original.py`` (ImageNet download off while building).
"""

import argparse
import json
import os
import sys
import time

sys.dont_write_bytecode = True
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import worker_original  # noqa: E402  (bench/ is sys.path[0])

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
SIZES = {"unet_mini": (360, 480), "vgg_unet": (416, 608)}


def emit(**record):
    print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in record.items()}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["step", "generator"])
    parser.add_argument("--camvid", default=os.environ.get("KERAS_SEGMENTATION_CAMVID")
                        or os.path.join(ROOT, "..", "shared", "datasets", "camvid"))
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--n", type=int, default=3)
    parser.add_argument("--model", default="unet_mini", choices=sorted(SIZES))
    parser.add_argument("--jit", action="store_true", help="compile the train step with XLA (jit_compile=True)")
    args = parser.parse_args()
    spec = {"intra_op_threads": args.threads, "inter_op_threads": args.threads, "seed": 0}
    worker_original._setup_tf(spec)
    import numpy as np

    height, width = SIZES[args.model]
    if args.what == "generator":
        from keras_segmentation.data_utils.data_loader import image_segmentation_generator

        for name, (h, w) in SIZES.items():
            out = (h, w) if name == "unet_mini" else (h // 2, w // 2)
            gen = image_segmentation_generator(
                os.path.join(args.camvid, "images_prepped_train"), os.path.join(args.camvid, "annotations_prepped_train"),
                2, 12, h, w, out[0], out[1])
            next(gen)
            start = time.perf_counter()
            for _ in range(10):
                next(gen)
            emit(what="generator", model=name, seconds_per_batch=(time.perf_counter() - start) / 10)
        return
    model = worker_original._build(args.model, height, width, 12)
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"], jit_compile=args.jit)
    x = np.random.rand(2, height, width, 3).astype("float32") * 255 - 128
    labels = np.random.randint(0, 12, (2, model.output_height * model.output_width))
    y = np.eye(12)[labels]
    start = time.perf_counter()
    model.train_on_batch(x, y)
    first = time.perf_counter() - start
    times, cpu = [], []
    for _ in range(args.n):
        start, cpu_start = time.perf_counter(), time.process_time()
        model.train_on_batch(x, y)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    median = sorted(times)[len(times) // 2]
    emit(what="train_step", library="original", model=args.model, jit_compile=args.jit, first_step_s=first,
         best_step_s=min(times), median_step_s=median, cpu_step_s=sorted(cpu)[len(cpu) // 2], images_per_s=2 / median)


if __name__ == "__main__":
    main()
