"""``fit --start_from``: which peak learning rate a run continuing a finished one should use, on CamVid.

The scenario of ``suggest`` -> correct -> ``convert`` -> ``fit``: a first run trained on part of the
data, then more labelled images arrive. CamVid, the held-out-drive protocol of ``docs/camvid.md``
(``both``): of the 305 frames of drives 0006R0 and 0016E5,

1. ``base``: ``fit --data OLD --epochs E0`` on the 0006R0 frames and the first ``--old-0016E5``
   frames of 0016E5 (natural order);
2. ``lr_X``: ``fit --data ALL --epochs E1 --start_from base --set learning_rate=X`` on all 305
   frames, for each ``--lrs`` (the validation frames of ``base`` held out again; the rest train);
3. ``scratch``: ``fit --data ALL --epochs E1`` from scratch with the same E1 epochs (its own split).

Every run is scored at 480x360 on the 101-image test folder and the 62 frames of 0001TP (void
ignored), and the continued runs on base's validation frames too (``summary.json``). One process
per run, one after the other; results (scores, epochs, seconds) go to ``--results``.

Usage::

    python bench/fit_start_from.py --work /tmp/fit_start_from
"""

import argparse
import json
import os
import shutil
import sys

from fit_compare import REPO, lscpu, score_run, timed

from keras_segmentation.autofit.split import natural_key
from keras_segmentation.data.links import link_pairs

sys.path.insert(0, os.path.join(REPO, "examples"))


def fit_data(pairs, folder, classes):
    shutil.rmtree(folder, ignore_errors=True)
    link_pairs(pairs, folder, masks="annotations")
    shutil.copyfile(classes, os.path.join(folder, "classes.txt"))
    return folder


def fit(data, out, epochs, log, *extra):
    shutil.rmtree(out, ignore_errors=True)
    seconds = timed([sys.executable, "-m", "keras_segmentation", "fit", "--data", data, "--epochs", str(epochs),
                     "--out", out, *extra], log)
    with open(os.path.join(out, "summary.json")) as handle:
        return seconds, json.load(handle)


def main(argv=None):
    from camvid import camvid_split, default_data_path

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--work", default="/tmp/keras_segmentation_fit_start_from")
    parser.add_argument("--old-0016E5", type=int, default=100, help="frames of 0016E5 the first run has")
    parser.add_argument("--e0", type=int, default=15, help="epochs of the first run")
    parser.add_argument("--e1", type=int, default=8, help="epochs of each continued run (and of the scratch run)")
    parser.add_argument("--lrs", default="2e-3,5e-4,1e-4")
    parser.add_argument("--results", default=os.path.join(REPO, "examples", "results", "fit_start_from_camvid.json"))
    args = parser.parse_args(argv)
    data = args.data or default_data_path()
    os.makedirs(args.work, exist_ok=True)
    train, scored = camvid_split(data, "both")
    later = sorted((p for p in train if os.path.basename(p[0]).startswith("0016E5")),
                   key=lambda p: natural_key(os.path.basename(p[0])))[args.old_0016E5:]
    old = [pair for pair in train if pair not in later]
    classes = os.path.join(data, "classes.txt")
    old_dir = fit_data(old, os.path.join(args.work, "old"), classes)
    all_dir = fit_data(train, os.path.join(args.work, "all"), classes)
    runs = {}

    def record(tag, seconds, summary):
        out = summary["run_folder"]
        runs[tag] = {"wall_seconds": seconds, "summary": summary,
                     "scores": score_run(out, dict(scored), 11, os.path.join(args.work, f"{tag}_score.log"))}
        print(tag, json.dumps({name: round(100 * s["mIoU"], 2) for name, s in runs[tag]["scores"].items()}),
              "val", round(100 * summary["val_mIoU"], 2), flush=True)

    base = os.path.join(args.work, "base")
    record("base", *fit(old_dir, base, args.e0, os.path.join(args.work, "base.log")))
    for lr in args.lrs.split(","):
        tag = f"lr_{lr}"
        record(tag, *fit(all_dir, os.path.join(args.work, tag), args.e1, os.path.join(args.work, f"{tag}.log"),
                         "--start_from", base, "--set", f"learning_rate={lr}"))
    record("scratch", *fit(all_dir, os.path.join(args.work, "scratch"), args.e1,
                           os.path.join(args.work, "scratch.log")))
    result = {"protocol": f"base: {len(old)} frames ({len(later)} of 0016E5 left out), {args.e0} epochs; then all "
                          f"{len(train)} frames, {args.e1} epochs; scored on the test folder and 0001TP",
              "runs": runs, "lscpu": lscpu(),
              "command": "python bench/fit_start_from.py " + " ".join(sys.argv[1:] if argv is None else argv)}
    with open(args.results, "w") as handle:
        json.dump(result, handle, indent=1)
        handle.write("\n")


if __name__ == "__main__":
    main()
