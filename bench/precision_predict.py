"""Prediction in float32 and bfloat16 with trained checkpoints: as accurate? faster? Per model.

    python bench/precision_predict.py CHECKPOINTS_PATH [...] [--camvid DIR] [--reps 2] [--json FILE]

For each checkpoint prefix (``train(checkpoints_path=...)``, e.g. ``<work>/<tag>/ckpt/unet`` of
``examples/camvid.py``: its newest weights), one
fresh process scores the CamVid test folder (101 images, 480x360, void = 11 ignored) with
``evaluate(precision=...)`` in float32 and in mixed_bfloat16, alternating, ``--reps`` times,
at the default prediction batch. It reports the mean IoU of each precision, the share of
pixels whose label differs between them, and the images/s of each (median over the reps;
the first evaluation of a process, which builds the graph, is a warm-up). Prints a
Markdown table and ``lscpu``'s model and flags.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import _common  # bench/ is sys.path[0]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRECISIONS = ("float32", "mixed_bfloat16")
VOID = 11


def worker(checkpoint, camvid, reps):
    """Scores, label agreement and timings of ``checkpoint`` in both precisions."""
    import numpy as np

    from keras_segmentation.checkpoints.load import load_model_from_checkpoint
    from keras_segmentation.inference.predictor import Predictor
    from keras_segmentation.precision import model_precision
    from keras_segmentation.predict import evaluate

    model = load_model_from_checkpoint(checkpoint)
    images_dir = os.path.join(camvid, "images_prepped_test")
    masks_dir = os.path.join(camvid, "annotations_prepped_test")
    images = sorted(os.path.join(images_dir, name) for name in os.listdir(images_dir))
    labels = {}
    for precision in PRECISIONS:  # warm-up, and the label maps to compare
        labels[precision] = [p.labels for p in Predictor(model, precision=precision).run(images)]
    differ = sum(int(np.count_nonzero(a != b)) for a, b in zip(*labels.values()))
    pixels = sum(a.size for a in labels["float32"])
    runs = []
    for rep in range(reps):
        for precision in PRECISIONS if rep % 2 == 0 else PRECISIONS[::-1]:
            start = time.perf_counter()
            scores = evaluate(model=model, inp_images_dir=images_dir, annotations_dir=masks_dir, ignore_index=VOID,
                              progress=False, precision=precision)
            runs.append({"precision": precision, "seconds": time.perf_counter() - start,
                         "mean_IU": float(scores["mean_IU"])})
    return {"checkpoint": checkpoint, "model": model.name, "trained_in": model_precision(model),
            "parameters": model.count_params(), "images": len(images), "labels_differ": differ / pixels,
            "runs": runs}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="*")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--camvid", default=os.environ.get("KERAS_SEGMENTATION_CAMVID")
                        or os.path.join(ROOT, "..", "shared", "datasets", "camvid"))
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--json", default=None, help="write the raw figures here")
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.camvid, args.reps)))
        return
    results = []
    for checkpoint in args.checkpoints:
        done = subprocess.run([sys.executable, __file__, "--worker", checkpoint, "--camvid", args.camvid,
                               "--reps", str(args.reps)], capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"{checkpoint}: worker failed\n{done.stderr[-2000:]}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print("| checkpoint | model | trained in | mIoU float32 | mIoU bfloat16 | labels that differ | float32 img/s | "
          "bfloat16 img/s | bfloat16 / float32 |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for result in results:
        rate, score = {}, {}
        for precision in PRECISIONS:
            runs = [r for r in result["runs"] if r["precision"] == precision]
            rate[precision] = statistics.median(result["images"] / r["seconds"] for r in runs)
            score[precision] = runs[0]["mean_IU"]
        tag = os.path.basename(os.path.dirname(os.path.dirname(os.path.abspath(result["checkpoint"]))))
        print(f"| {tag} | {result['model']} | {result['trained_in']} | {100 * score['float32']:.2f} | "
              f"{100 * score['mixed_bfloat16']:.2f} | {100 * result['labels_differ']:.3f} % | "
              f"{rate['float32']:.2f} | {rate['mixed_bfloat16']:.2f} | "
              f"{rate['mixed_bfloat16'] / rate['float32']:.2f}x |")
    _common.print_lscpu_and_save(args.json, results=results)


if __name__ == "__main__":
    main()
