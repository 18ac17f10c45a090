"""The labelling loop, simulated on CamVid: ``suggest`` against random picks, mIoU against labelled frames.

A pool of CamVid's 367 training frames whose masks are hidden until a frame is "labelled". Each seed
starts from the same ``--start`` random frames; each round adds ``--step`` frames, picked by

* ``suggest``: :func:`keras_segmentation.suggest.suggest` with the previous round's model (its
  defaults: entropy, with k-center diversity over encoder embeddings, the labelled frames as centres);
* ``random``: a seeded random draw from the frames not yet labelled;

then ``fit`` trains a new model from scratch on the labelled frames with the same budget every round:
``--epochs`` epochs of ``--steps`` steps (``--set steps_per_epoch``), a fixed number of training steps, so
rounds compare whatever else runs on the machine (``fit`` makes its other choices; ``--set`` pins any of them),
and the model is scored on the 101 test frames
(drive 0016E5, never in the pool), void (11) ignored. Every round is a fresh process and writes its own
JSON file, so an interrupted loop resumes where it stopped. ``--plot`` draws mIoU against labelled frames
(mean and range over the seeds; needs matplotlib, ``pip install .[examples]``); ``--collect`` runs nothing and
summarises the rounds ``--work`` holds (an unfinished loop: each arm up to its last finished round).

``--val K`` takes the last ``K`` frames of each of the pool's three drives out of the pool: one validation set,
the same for both arms, every seed and every round, for ``fit``'s best epoch and early stop. Without it ``fit``
holds out its own frames by drive, so the arms' validation sets differ with what each labelled (a whole drive
held out in one arm, the last frames of another in the other), which decides how long each round trains.

Usage::

    python bench/labelling_loop.py --camvid ../shared/datasets/camvid --work /tmp/loop2 --input 96x128 \\
        --epochs 20 --steps 20 --val 10 --set architecture=fpn_vanilla batch_size=16 --seeds 0 1 2 \\
        --results bench/results/labelling_loop.json --plot docs/figures/labelling_loop.png
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from _common import lscpu  # noqa: E402

VOID = 11


def pairs_of(camvid, split):
    images, masks = os.path.join(camvid, f"images_prepped_{split}"), os.path.join(camvid, f"annotations_prepped_{split}")
    names = sorted(n for n in os.listdir(images) if n.lower().endswith(".png"))
    return [(os.path.join(images, n), os.path.join(masks, n)) for n in names]


def run_round(spec):
    """One round in this process: pick (``suggest`` arm), link the labelled frames, ``fit``, score."""
    from keras_segmentation.autofit import fit
    from keras_segmentation.data.links import link_pairs
    from keras_segmentation.evaluation import evaluate

    started = time.perf_counter()
    labelled = list(spec["labelled"])
    picked, pick_s = [], 0.0
    if spec.get("suggest_from"):
        from keras_segmentation.suggest import suggest

        by_image = dict(spec["pool"])
        result = suggest(spec["suggest_from"], [p[0] for p in spec["pool"]], n=spec["step"],
                         exclude=[p[0] for p in labelled], seed=spec["seed"], progress=False)
        picked = [[image, by_image[image]] for image in result.chosen]
        pick_s = time.perf_counter() - started
    labelled += picked
    data = os.path.join(spec["out"], "data")
    link_pairs(labelled, data, masks="annotations")
    shutil.copyfile(os.path.join(spec["camvid"], "classes.txt"), os.path.join(data, "classes.txt"))
    run = os.path.join(spec["out"], "run")
    if not os.path.isfile(os.path.join(run, "summary.json")):  # a round stopped after fit is scored again only
        shutil.rmtree(run, ignore_errors=True)
        settings = {"steps_per_epoch": spec["steps"], **({"input": spec["input"]} if spec.get("input") else {})}
        settings.update(spec.get("settings") or {})
        val = spec.get("val") or {}
        fit(data=data, epochs=spec["epochs"], settings=settings, out=run, seed=spec["seed"], verbose=False,
            val_images=val.get("images"), val_masks=val.get("masks"))
    test = spec["test"]
    scores = evaluate(model=run, inp_images=[p[0] for p in test], annotations=[p[1] for p in test], ignore_index=VOID,
                      batch_size=4, progress=False)
    with open(os.path.join(run, "summary.json")) as handle:
        val_miou = json.load(handle)["val_mIoU"]
    return {"labelled": labelled, "picked": picked, "n_labelled": len(labelled), "mIoU": float(scores["mean_IU"]),
            "val_mIoU": val_miou,
            "pick_seconds": round(pick_s, 1), "seconds": round(time.perf_counter() - started, 1), "run": run}


def wait_for_other_loop(out):
    """Wait while another loop process (two arms may run side by side) runs the round in ``out``."""
    pid_file = os.path.join(out, "pid")
    while os.path.isfile(pid_file):
        with open(pid_file) as handle:
            pid = int(handle.read() or 0)
        try:
            os.kill(pid, 0)
        except (OSError, ValueError):
            return
        time.sleep(10)


def round_in_subprocess(spec, path, collect=False):
    """The round's result, from ``path`` when an earlier loop finished it, else from a fresh process
    (``collect``: ``None`` instead, running nothing)."""
    if collect or os.path.isfile(path):
        if not os.path.isfile(path):
            return None
        with open(path) as handle:
            return json.load(handle)
    os.makedirs(spec["out"], exist_ok=True)
    wait_for_other_loop(spec["out"])
    if os.path.isfile(path):
        with open(path) as handle:
            return json.load(handle)
    spec_path = os.path.join(spec["out"], "spec.json")
    with open(spec_path, "w") as handle:
        json.dump(spec, handle)
    with open(os.path.join(spec["out"], "log.txt"), "w") as log:
        child = subprocess.Popen([sys.executable, __file__, "--round", spec_path], stdout=log,
                                 stderr=subprocess.STDOUT, cwd=REPO)
        with open(os.path.join(spec["out"], "pid"), "w") as handle:
            handle.write(str(child.pid))
        child.wait()
    if child.returncode or not os.path.isfile(path):
        raise SystemExit(f"round {spec['out']} failed; see {spec['out']}/log.txt")
    with open(path) as handle:
        return json.load(handle)


def drive_of(pair):
    """CamVid's drive of a frame: its name up to the first ``_`` (``0016E5_07959.png``: ``0016E5``)."""
    return os.path.basename(pair[0]).split("_")[0]


def held_out_validation(pool, per_drive, folder):
    """``(pool without them, {"images", "masks"} folders)``: the last ``per_drive`` frames of each drive, linked
    under ``folder`` unless it holds them already; ``(pool, None)`` when ``per_drive`` is 0."""
    if not per_drive:
        return pool, None
    from keras_segmentation.data.links import link_pairs

    val = []
    for drive in sorted({drive_of(p) for p in pool}):
        val += [p for p in pool if drive_of(p) == drive][-per_drive:]
    images, masks = os.path.join(folder, "images"), os.path.join(folder, "annotations")
    names = sorted(os.path.basename(p[0]) for p in val)
    if not all(os.path.isdir(f) and sorted(os.listdir(f)) == names for f in (images, masks)):
        link_pairs(val, folder, masks="annotations")  # once: loops started side by side share the folder
    taken = {p[0] for p in val}
    return [p for p in pool if p[0] not in taken], {"images": images, "masks": masks}


def loop(args):
    pool, test = pairs_of(args.camvid, "train"), pairs_of(args.camvid, "test")
    pool, val = held_out_validation(pool, args.val, os.path.join(args.work, "val"))
    settings = dict(item.split("=", 1) for item in args.set)
    curves = {}
    for seed in args.seeds:
        rng = np.random.default_rng(seed)
        order = [pool[i] for i in rng.permutation(len(pool))]
        base = {"camvid": args.camvid, "test": test, "pool": pool, "epochs": args.epochs, "steps": args.steps,
                "input": args.input, "step": args.step, "seed": seed, "val": val, "settings": settings}
        first = os.path.join(args.work, f"seed{seed}", "start")
        start = round_in_subprocess({**base, "labelled": order[: args.start], "out": first},
                                    os.path.join(first, "result.json"), args.collect)
        if start is None:
            continue
        print(f"seed {seed}: {start['n_labelled']} frames, mIoU {start['mIoU']:.3f}", flush=True)
        for arm in args.arms:
            previous, points = start, [start]
            for number in range(1, args.rounds + 1):
                out = os.path.join(args.work, f"seed{seed}", f"{arm}{number}")
                labelled = previous["labelled"]
                spec = {**base, "out": out, "labelled": labelled}
                if arm == "suggest":
                    spec["suggest_from"] = previous["run"]
                else:
                    taken = {p[0] for p in labelled}
                    rest = [p for p in pool if p[0] not in taken]
                    draw = np.random.default_rng([seed, number]).choice(len(rest), args.step, replace=False)
                    spec["labelled"] = labelled + [rest[i] for i in sorted(draw)]
                previous = round_in_subprocess(spec, os.path.join(out, "result.json"), args.collect)
                if previous is None:
                    break
                points.append(previous)
                print(f"seed {seed} {arm}: {previous['n_labelled']} frames, mIoU {previous['mIoU']:.3f}", flush=True)
            curves.setdefault(arm, {})[seed] = [(p["n_labelled"], p["mIoU"]) for p in points]
    return curves


def summarise(curves):
    """Per arm, per number of labelled frames: the mean, min and max mIoU over the seeds."""
    table = {}
    for arm, by_seed in curves.items():
        counts = sorted({n for points in by_seed.values() for n, _ in points})
        table[arm] = {n: [v for points in by_seed.values() for m, v in points if m == n] for n in counts}
    return {arm: {str(n): {"mean": float(np.mean(v)), "min": float(np.min(v)), "max": float(np.max(v)), "runs": v}
                  for n, v in rows.items()} for arm, rows in table.items()}


def plot(summary, path, budget):
    """mIoU against labelled frames, per arm: the mean over the seeds and their range; ``budget`` names the round's."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5.6, 3.6))
    for arm, colour in (("suggest", "#d62728"), ("random", "#1f77b4")):
        if arm not in summary:
            continue
        counts = sorted(int(n) for n in summary[arm])
        means = [summary[arm][str(n)]["mean"] for n in counts]
        axis.fill_between(counts, [summary[arm][str(n)]["min"] for n in counts],
                          [summary[arm][str(n)]["max"] for n in counts], color=colour, alpha=0.15)
        seeds = max(len(summary[arm][str(n)]["runs"]) for n in counts)
        axis.plot(counts, means, "o-", color=colour, label=f"{arm} ({seeds} seed{'s' if seeds > 1 else ''})")
    axis.set_xlabel("labelled CamVid frames")
    axis.set_ylabel("mIoU, the 101 test frames")
    axis.set_title(f"labelling loop: fit, {budget} per round")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--camvid", default=os.path.join(REPO, "..", "shared", "datasets", "camvid"))
    parser.add_argument("--work", default="/tmp/keras_segmentation_labelling_loop")
    parser.add_argument("--epochs", type=int, default=12, help="fit's epochs per round")
    parser.add_argument("--steps", type=int, default=10, help="fit's steps per epoch (batch 4 on CamVid)")
    parser.add_argument("--input", default=None, help="fit's input size, e.g. 96x128 (default: fit's choice)")
    parser.add_argument("--val", type=int, default=0,
                        help="the last K frames of each drive: a validation set out of the pool (default: fit's split)")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="fit's settings, pinned every round")
    parser.add_argument("--arms", nargs="+", choices=("suggest", "random"), default=["suggest", "random"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--start", type=int, default=40)
    parser.add_argument("--step", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--results", default=None)
    parser.add_argument("--plot", default=None)
    parser.add_argument("--collect", action="store_true", help="run nothing: summarise the rounds --work holds")
    parser.add_argument("--round", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.round:
        with open(args.round) as handle:
            spec = json.load(handle)
        result = run_round(spec)
        with open(os.path.join(spec["out"], "result.json"), "w") as handle:
            json.dump(result, handle)
        return
    started = time.perf_counter()
    curves = loop(args)
    summary = summarise(curves)
    model_name, flags = lscpu()
    result = {"summary": summary, "curves": {arm: {str(s): c for s, c in v.items()} for arm, v in curves.items()},
              "epochs": args.epochs, "steps_per_epoch": args.steps, "input": args.input, "val_per_drive": args.val,
              "settings": args.set, "start": args.start,
              "step": args.step, "rounds": args.rounds, "seeds": args.seeds,
              "wall_seconds": None if args.collect else round(time.perf_counter() - started, 1),
              "lscpu": {"model": model_name, "flags": [f for f in flags.split() if f.startswith(("avx512", "amx"))]},
              "command": "python bench/labelling_loop.py " + " ".join(sys.argv[1:] if argv is None else argv)}
    if args.results:
        with open(args.results, "w") as handle:
            json.dump(result, handle, indent=1)
            handle.write("\n")
    if args.plot:
        plot(summary, args.plot, f"{args.epochs} x {args.steps} steps")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
