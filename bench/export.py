"""W2 with exported engines: ``predict_multiple`` over the CamVid test folder, ours (Keras, ONNX Runtime
float32 / float16 / int8, LiteRT float32 / int8) beside the original library, in one run.

Exports a trained checkpoint with the library (int8 calibrated on ``--calibration`` training images),
then times each engine in a fresh process (``worker_ours.py`` / ``worker_original.py``), alternating with
the original, and scores each engine's label maps against the masks (mIoU over the 11 classes, void
ignored). The original runs the same architecture (unet_mini 360x480) with random weights: its speed
does not depend on them. Peak RSS is the whole process's::

    python bench/export.py --checkpoint /tmp/ks_bench/unet_mini_src/ckpt/unet_mini [--reps 3]

Writes ``bench/results/export.json`` and prints a Markdown table.
"""

import argparse
import json
import os
import shutil
import statistics
import sys

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)

import _common  # noqa: E402
import run  # noqa: E402

#: engine name -> (export format, precision); "keras" runs the checkpoint itself
ENGINES = {
    "keras float32": None,
    "onnxruntime float32": ("onnx", "float32"),
    "onnxruntime float16": ("onnx", "float16"),
    "onnxruntime int8": ("onnx", "int8"),
    "litert float32": ("litert", "float32"),
    "litert int8": ("litert", "int8"),
}


def export_all(checkpoint, camvid, folder, calibration):
    """Export the checkpoint once per engine; returns {engine: path} and the export records."""
    from keras_segmentation.export import export_model
    from keras_segmentation.export.formats import get_format

    paths, records = {}, {}
    for engine, target in ENGINES.items():
        if target is None:
            continue
        fmt, precision = target
        path = os.path.join(folder, f"{fmt}_{precision}{get_format(fmt).suffix}")
        result = export_model(checkpoints_path=checkpoint, output=path, fmt=fmt, precision=precision,
                              calibration_images=os.path.join(camvid, "images_prepped_train"),
                              calibration_count=calibration,
                              parity_images_dir=os.path.join(camvid, "images_prepped_test"), parity_count=8)
        paths[engine] = path
        records[engine] = {"size_mib": result.size_bytes / 2**20, "parity": result.parity.line(),
                           "max_abs_diff": result.parity.max_abs_diff,
                           "label_agreement": result.parity.label_agreement}
        run.log(f"exported {engine}: {records[engine]['parity']}")
    return paths, records


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, help="checkpoint prefix of a trained unet_mini 360x480")
    parser.add_argument("--camvid", default=os.environ.get("KERAS_SEGMENTATION_CAMVID")
                        or os.path.join(ROOT, "..", "shared", "datasets", "camvid"))
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="test images (default: all 101)")
    parser.add_argument("--calibration", type=int, default=100, help="training images int8 is calibrated on")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--workdir", default="/tmp/keras_segmentation_bench_export")
    parser.add_argument("--out", default=os.path.join(BENCH, "results", "export.json"))
    args = parser.parse_args()
    camvid = os.path.abspath(args.camvid)
    shutil.rmtree(os.path.join(args.workdir, "out"), ignore_errors=True)  # a worker needs a fresh output folder
    for sub in ("logs", "specs", "out", "weights", "exports"):
        os.makedirs(os.path.join(args.workdir, sub), exist_ok=True)
    cpu_model, flags = _common.lscpu()
    paths, exports = export_all(args.checkpoint, camvid, os.path.join(args.workdir, "exports"), args.calibration)

    runner = run.Runner(args.workdir, args.threads, sys.executable, run.ensure_original_env(args.workdir))
    base = {"model": "unet_mini", "height": 360, "width": 480, "n_classes": 12, "seed": 0}
    npz = os.path.join(args.workdir, "weights", "random.npz")
    original_weights = os.path.join(args.workdir, "weights", "random_original.h5")
    runner.worker("ours", {"workload": "make_checkpoint", **base, "npz": npz,
                           "checkpoints_path": os.path.join(args.workdir, "weights", "random")})
    runner.worker("original", {"workload": "make_weights", **base, "from_npz": npz, "out": original_weights})

    images = os.path.join(camvid, "images_prepped_test")
    scored = {"annotations": os.path.join(camvid, "annotations_prepped_test"), "ignore_index": 11}
    runs = {name: [] for name in ["original", *ENGINES]}
    for rep in range(args.reps):
        for name in runs:
            out_dir = os.path.join(args.workdir, "out", f"{name.replace(' ', '_')}_{rep}")
            spec = {"workload": "predict", **base, "images": images, "out_dir": out_dir, "limit": args.limit}
            if name == "original":
                record = runner.worker("original", {**spec, "weights": original_weights})
            else:
                spec.update(scored, predict_batch_size=run.PREDICT_BATCH_SIZE_OURS, checkpoints_path=args.checkpoint,
                            model_path=paths.get(name))
                record = runner.worker("ours", spec)
            runs[name].append(record)
            run.log(f"rep {rep + 1}/{args.reps} {name}: {run._brief(record)}")
            if record.get("error"):
                raise SystemExit(f"{name} failed: {record['error']}")

    table = summarise(runs, exports)
    result = {"cpu": cpu_model, "flags": flags, "threads": args.threads, "checkpoint": args.checkpoint,
              "calibration_images": args.calibration, "exports": exports, "summary": table, "runs": runs}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump(result, handle, indent=1)
    print(f"\n{cpu_model}; {args.threads} threads\n")
    print(markdown(table))
    return 0


def summarise(runs, exports):
    original = statistics.median(r["images_per_s"] for r in runs["original"])
    keras_miou = runs["keras float32"][0]["mean_IU"]
    rows = []
    for name, records in runs.items():
        speed = statistics.median(r["images_per_s"] for r in records)
        row = {"engine": name, "images_per_s": speed, "vs_original": speed / original,
               "peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in records),
               "wall_s": statistics.median(r["wall_seconds"] for r in records)}
        if "mean_IU" in records[0]:
            row.update(mIoU=100 * records[0]["mean_IU"], mIoU_change=100 * (records[0]["mean_IU"] - keras_miou))
        row.update({k: v for k, v in exports.get(name, {}).items() if k in ("size_mib", "max_abs_diff",
                                                                               "label_agreement")})
        rows.append(row)
    return rows


def markdown(rows):
    lines = ["| engine | img/s (median) | × original | peak RSS MiB | mIoU | Δ mIoU vs Keras fp32 | max abs Δprob "
             "| labels agree | file MiB |", "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        def cell(key, fmt):
            return fmt.format(row[key]) if key in row else "—"

        lines.append(f"| {row['engine']} | {row['images_per_s']:.2f} | {row['vs_original']:.2f}× | "
                     f"{row['peak_rss_mib']:.0f} | {cell('mIoU', '{:.2f}')} | {cell('mIoU_change', '{:+.2f}')} | "
                     f"{cell('max_abs_diff', '{:.3g}')} | {cell('label_agreement', '{:.2%}')} | "
                     f"{cell('size_mib', '{:.1f}')} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
