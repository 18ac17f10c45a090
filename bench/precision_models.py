"""Training speed per architecture in float32 and bfloat16: does ``precision="auto"`` pay off for every model?

    python bench/precision_models.py [--models unet,fpn,upernet,segformer_b0] [--steps 10] [--warmup 3] [--reps 1]

Each (model, precision) pair trains in a fresh process, in alternating order, ``--reps``
times: the CamVid recipe's models at 192x256 with 12 classes, batch 4, compiled as
``train()`` compiles them (Adam, CE + Dice, accuracy and mean IoU, ``jit_compile="auto"``)
on a fixed random batch. Images/s count the steps after ``--warmup``. Prints a Markdown
table (median images/s per precision, the bfloat16/float32 ratio) and ``lscpu``'s model and
flags; writes the raw figures to ``--json``.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time

import _common  # bench/ is sys.path[0]

SIZE, BATCH, N_CLASSES = (192, 256), 4, 12
#: examples/camvid.py's models: a legacy name, a named model or (decoder, encoder) at full resolution
MODELS = {"unet": "unet", "fpn": ("fpn", "vanilla"), "upernet": ("upernet", "vanilla"), "segformer_b0": "segformer_b0"}


def build(name):
    """The model ``examples/camvid.py`` trains for ``name`` (no pretrained weights)."""
    from keras_segmentation.models import build_model
    from keras_segmentation.models.all_models import model_from_name
    from keras_segmentation.models.registry import build_named_model

    spec = MODELS[name]
    if isinstance(spec, tuple):
        return build_model(*spec, N_CLASSES, *SIZE, encoder_weights=None, full_resolution=True)
    if spec in model_from_name:
        return model_from_name[spec](N_CLASSES, input_height=SIZE[0], input_width=SIZE[1])
    return build_named_model(spec, N_CLASSES, *SIZE, encoder_weights=None)


def worker(spec):
    """Time ``spec["steps"]`` training steps after ``spec["warmup"]`` of one model in one precision."""
    import numpy as np

    from keras_segmentation.precision import in_precision
    from keras_segmentation.training.compile import choose_jit_compile, compile_model

    model = in_precision(build(spec["model"]), spec["precision"])
    jit, _ = choose_jit_compile("auto", model)
    compile_model(model, "adam", 2e-3, None, "ce+dice", None, 11, 100, 1, jit)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (BATCH, *SIZE, 3)).astype("float32")
    y = rng.integers(0, N_CLASSES, (BATCH, model.output_height, model.output_width)).astype("int32")
    times = []
    for _ in range(spec["warmup"] + spec["steps"]):
        start = time.perf_counter()
        model.train_on_batch(x, y)
        times.append(time.perf_counter() - start)
    measured = times[spec["warmup"]:]
    return {**spec, "images_per_s": BATCH * len(measured) / sum(measured), "parameters": model.count_params(),
            "jit_compile": jit, "step_seconds": [round(t, 4) for t in times]}


def run_worker(spec):
    """``worker(spec)`` in a fresh Python process."""
    done = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{spec}: worker failed\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--json", default=None, help="write the raw figures here")
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    precisions = ["float32", "mixed_bfloat16"]
    runs = []
    for rep in range(args.reps):
        for name in args.models.split(","):
            for precision in precisions if rep % 2 == 0 else precisions[::-1]:
                runs.append(run_worker({"model": name, "precision": precision, "steps": args.steps,
                                        "warmup": args.warmup}))
                print(f"{name} {precision}: {runs[-1]['images_per_s']:.2f} img/s", file=sys.stderr)
    print("| model | parameters | float32 img/s | bfloat16 img/s | bfloat16 / float32 |")
    print("|---|---:|---:|---:|---:|")
    for name in args.models.split(","):
        rate = {p: statistics.median(r["images_per_s"] for r in runs if r["model"] == name and r["precision"] == p)
                for p in precisions}
        parameters = next(r["parameters"] for r in runs if r["model"] == name)
        print(f"| `{name}` | {parameters:,} | {rate['float32']:.2f} | {rate['mixed_bfloat16']:.2f} | "
              f"{rate['mixed_bfloat16'] / rate['float32']:.2f}x |")
    _common.print_lscpu_and_save(args.json, runs=runs)


if __name__ == "__main__":
    main()
