"""Where W2's memory goes: resident memory of ours and the original at each stage of ``predict_multiple``.

    python bench/memory.py [--images 20] [--batch-sizes 1,2,4] [--precisions auto] [--reps 2] [--camvid PATH]

Each (library, batch size, precision, repetition) runs in a fresh process of its own
environment (ours: this interpreter's; the original: ``bench/.envs/original``,
made by ``bench/run.py``), alternating, on unet_mini 360x480 with random weights
over the first ``--images`` CamVid test images. A process reports its resident
set (``VmRSS``) and peak (``ru_maxrss``) after: importing TensorFlow and the
library; building the model; predicting the first batch; predicting all
images (with the images/s of that stage and the anonymous part of the resident
set, i.e. without the pages of mapped files such as the shared libraries); and
the mappings that hold most of its memory right after the import
(``/proc/self/smaps``). The original predicts one image per call, whatever the
batch size asked, in float32; ours runs each of ``--precisions`` (``precision=`` of
``predict_multiple``; ``auto``, its default, is bfloat16 on CPUs with native bfloat16).
"""

import argparse
import collections
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
ORIGINAL_PYTHON = os.path.join(BENCH, ".envs", "original", "bin", "python")


def resident_mib():
    """``(current, peak, anonymous)`` resident memory of this process in MiB; ``anonymous`` leaves out the
    pages of mapped files (the shared libraries' code and data): what the process allocated itself."""
    with open("/proc/self/status") as handle:
        fields = dict(line.split(":", 1) for line in handle)
    current, anonymous = (int(fields[key].split()[0]) // 1024 for key in ("VmRSS", "RssAnon"))
    return current, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, anonymous


def largest_mappings(count=5):
    """The ``count`` mappings (file name, or ``[anon]`` / ``[heap]``) holding most resident memory, in MiB."""
    sizes, name = collections.Counter(), "[anon]"
    with open("/proc/self/smaps") as handle:
        for line in handle:
            fields = line.split()
            if fields[0] == "Rss:":
                sizes[name] += int(fields[1])
            elif "-" in fields[0] and not fields[0].endswith(":"):  # a mapping's header line
                path = fields[5] if len(fields) > 5 else "[anon]"
                name = path if path.startswith("[") else os.path.basename(path)
    return [[mapped, size // 1024] for mapped, size in sizes.most_common(count)]


def probe(lib, batch_size, precision, images, out_dir):
    """Run in the library's environment: the stages of one ``predict_multiple`` call, as a dict."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    stages = {}

    def mark(stage):
        stages[stage] = dict(zip(("rss_mib", "peak_mib", "anonymous_mib"), resident_mib()))

    import tensorflow as tf

    import keras_segmentation  # noqa: F401

    tf.config.threading.set_intra_op_parallelism_threads(os.cpu_count())
    tf.config.threading.set_inter_op_parallelism_threads(os.cpu_count())
    mark("import")
    mappings = largest_mappings()
    from keras_segmentation.models.unet import unet_mini
    from keras_segmentation.predict import predict_multiple

    model = unet_mini(12, input_height=360, input_width=480)
    mark("build")
    options = {"batch_size": batch_size, "progress": False, "precision": precision} if lib == "ours" else {}
    first = images[: batch_size if lib == "ours" else 1]
    os.makedirs(os.path.join(out_dir, "first"))
    predict_multiple(model=model, inps=first, out_dir=os.path.join(out_dir, "first"), **options)
    mark("first batch")
    os.makedirs(os.path.join(out_dir, "all"))
    start = time.perf_counter()
    predict_multiple(model=model, inps=images, out_dir=os.path.join(out_dir, "all"), **options)
    seconds = time.perf_counter() - start
    mark("all images")
    return {"stages": stages, "images_per_s": len(images) / seconds, "largest_mappings_after_import": mappings}


def run_probe(python, lib, batch_size, precision, images):
    with tempfile.TemporaryDirectory() as scratch:
        listing = os.path.join(scratch, "images.json")
        with open(listing, "w") as handle:
            json.dump(images, handle)
        done = subprocess.run([python, __file__, "--probe", lib, str(batch_size), precision, listing,
                               os.path.join(scratch, "out")],
                              capture_output=True, text=True, cwd=scratch)
    if done.returncode != 0:
        raise SystemExit(f"{lib} probe failed: {done.stderr.strip().splitlines()[-1]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--probe":
        lib, batch_size, precision, listing, out_dir = sys.argv[2:7]
        with open(listing) as handle:
            print(json.dumps(probe(lib, int(batch_size), precision, json.load(handle), out_dir)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--camvid", default=os.environ.get("KERAS_SEGMENTATION_CAMVID")
                        or os.path.join(ROOT, "..", "shared", "datasets", "camvid"))
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--batch-sizes", default="1,2,4", help="ours; the original always predicts one image per call")
    parser.add_argument("--precisions", default="auto", help="ours; the original runs float32")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--json", help="write every figure here")
    args = parser.parse_args(argv)

    folder = os.path.join(os.path.abspath(args.camvid), "images_prepped_test")
    images = sorted(os.path.join(folder, name) for name in os.listdir(folder))[: args.images]
    runs = [("original", ORIGINAL_PYTHON, 1, "float32")] + [
        ("ours", sys.executable, int(b), p) for p in args.precisions.split(",") for b in args.batch_sizes.split(",")]
    records = collections.defaultdict(list)
    for _ in range(args.reps):  # alternate the configurations within each repetition
        for lib, python, batch_size, precision in runs:
            records[f"{lib} batch {batch_size}, {precision}"].append(run_probe(python, lib, batch_size, precision, images))
    print(f"| {args.images} images, unet_mini 360x480 | import | build | first batch | all images (peak) | anonymous "
          "after all | images/s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, reps in records.items():
        stages = reps[0]["stages"]
        peak = max(r["stages"]["all images"]["peak_mib"] for r in reps)
        speed = statistics.median(r["images_per_s"] for r in reps)
        print(f"| {name} | {stages['import']['rss_mib']} | {stages['build']['rss_mib']} | "
              f"{stages['first batch']['rss_mib']} | {peak} | {stages['all images']['anonymous_mib']} | {speed:.2f} |")
    for name in list(records)[:2]:
        print(f"largest mappings after import, {name}: {records[name][0]['largest_mappings_after_import']}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(records, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
