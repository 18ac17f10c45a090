"""``fit`` against the example recipes, run back to back on one machine at one budget.

CamVid (``--dataset camvid``), the held-out-drive protocol of ``docs/camvid.md`` (``both``): every
run trains on ``images_prepped_train`` without the drive 0001TP (305 frames) and is scored at
480x360 on the 101-image test folder and on the 62 frames of 0001TP, void (11) ignored:

1. ``keras_segmentation fit --data DIR --budget B`` with no other option (``DIR``: links to the
   305 frames and their masks, and CamVid's ``classes.txt``); ``fit`` holds out its own
   validation frames from these and counts its whole run (reading, probe, final choice) in B;
2. (a) ``train()``'s defaults at the same budget: ``examples/camvid.py --preset original-settings``
   (the legacy ``unet``, cross-entropy, void as a class, no weights, no augmentation, batch 2);
3. (b) the best ``examples/camvid.py`` recipe on the held-out drive: FPN, CE + Dice with ENet
   weights, flips and scale, the time-based cosine (``--decoder fpn --encoder vanilla``).

ISBI (``--dataset isbi``): ``fit`` on slices 0-24 against ``examples/isbi.py`` (which trains on the
same 25), both scored on slices 25-29 at 512x512.

Each run is a fresh process. Results (scores, budgets, epochs, the machine) go to ``--results``.

Usage::

    python bench/fit_compare.py --dataset camvid --budget-min 45 --work /tmp/fitcmp
    python bench/fit_compare.py --dataset isbi --budget-min 10 --work /tmp/fitcmp_isbi
    python bench/fit_compare.py --runs fit --seed 1 --work /tmp/fitcmp_seed1   # one arm, another seed
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time

from keras_segmentation.data.links import link_pairs

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "examples"))

SCORE = r"""
import json, sys
from keras_segmentation.evaluation import evaluate
run, sets, void = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
out = {}
for name, pairs in sets.items():
    s = evaluate(model=run, inp_images=[p[0] for p in pairs], annotations=[p[1] for p in pairs], ignore_index=void,
                 batch_size=4, progress=False)
    out[name] = {"mIoU": float(s["mean_IU"]), "pixel_accuracy": float(s["pixel_accuracy"]),
                 "class_IoU": [float(v) for v in s["class_wise_IU"]]}
print("SCORES " + json.dumps(out))
"""


def lscpu():
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    flags = fields.get("Flags", "").split()
    return {"model": fields.get("Model name", "").strip(), "cpus": fields.get("CPU(s)", "").strip(),
            "flags": [f for f in flags if f.startswith(("avx512", "amx"))]}


def timed(command, log):
    start = time.perf_counter()
    with open(log, "w") as handle:
        done = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, cwd=REPO)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}); see {log}")
    return round(time.perf_counter() - start, 1)


def score_run(run, sets, void, log):
    command = [sys.executable, "-c", SCORE, run, json.dumps(sets), json.dumps(void)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    with open(log, "w") as handle:
        handle.write(done.stdout + done.stderr)
    line = next((x for x in done.stdout.splitlines() if x.startswith("SCORES ")), None)
    if line is None:
        raise SystemExit(f"scoring {run} failed; see {log}")
    return json.loads(line[len("SCORES "):])


def fit_run(data_dir, out, budget_min, work, seed=0):
    seed_option = ["--seed", str(seed)] if seed else []  # the default run is exactly `fit --data DIR --budget B`
    seconds = timed([sys.executable, "-m", "keras_segmentation", "fit", "--data", data_dir, "--budget",
                     f"{budget_min:g}m", "--out", out, *seed_option], os.path.join(work, "fit.log"))
    with open(os.path.join(out, "summary.json")) as handle:
        summary = json.load(handle)
    with open(os.path.join(out, "plan.json")) as handle:
        plan = {name: entry["value"] for name, entry in json.load(handle).items()}
    return seconds, summary, plan


def camvid(args):
    from camvid import HELDOUT, camvid_split, default_data_path

    data = args.data or default_data_path()
    train_pairs, scored = camvid_split(data, "both")
    fit_data = os.path.join(args.work, "fit_data")
    link_pairs(train_pairs, fit_data, masks="annotations")
    shutil.copyfile(os.path.join(data, "classes.txt"), os.path.join(fit_data, "classes.txt"))
    runs = {}
    if "fit" in args.runs:
        out = os.path.join(args.work, "fit_run")
        shutil.rmtree(out, ignore_errors=True)
        seconds, summary, plan = fit_run(fit_data, out, args.budget_min, args.work, args.seed)
        scores = score_run(out, dict(scored), 11, os.path.join(args.work, "fit_score.log"))
        runs["fit"] = {"wall_seconds": seconds, "summary": summary, "plan": plan, "scores": scores}
    for tag, extra in (("a_train_defaults", ["--preset", "original-settings"]),
                       ("b_best_example", ["--decoder", "fpn", "--encoder", "vanilla"])):
        if tag[0] not in args.runs:
            continue
        results = os.path.join(args.work, f"{tag}.json")
        seconds = timed([sys.executable, "examples/camvid.py", "--data", data, "--protocol", "both",
                         "--budget-min", f"{args.budget_min:g}",
                         "--tag", tag, "--work", os.path.join(args.work, tag), "--results", results, "--n-figure", "0",
                         "--seed", str(args.seed), *extra], os.path.join(args.work, f"{tag}.log"))
        with open(results) as handle:
            result = json.load(handle)
        runs[tag] = {"wall_seconds": seconds, "epochs": result["training"]["epochs"],
                     "train_seconds": result["training"]["train_seconds"],
                     "scores": {name: {"mIoU": s["scores"]["mIoU_11"], "pixel_accuracy": s["scores"]["pixel_accuracy"],
                                       "mIoU_flip_tta": s["flip_tta"]["scores"]["mIoU_11"]}
                                for name, s in result["sets"].items()}}
    return {"protocol": f"train on images_prepped_train without {HELDOUT}; score on the test folder and {HELDOUT}",
            "runs": runs}


def isbi(args):
    from isbi import N_TRAIN, default_data_path

    data = args.data or default_data_path()
    source = os.path.join(data, "train")
    names = sorted((n for n in os.listdir(os.path.join(source, "images")) if n.endswith(".png")),
                   key=lambda n: int(os.path.splitext(n)[0]))
    pairs = [(os.path.join(source, "images", n), os.path.join(source, "masks", n)) for n in names]
    fit_data = os.path.join(args.work, "fit_data")
    link_pairs(pairs[:N_TRAIN], fit_data)
    shutil.copyfile(os.path.join(data, "classes.txt"), os.path.join(fit_data, "classes.txt"))
    out = os.path.join(args.work, "fit_run")
    shutil.rmtree(out, ignore_errors=True)
    seconds, summary, plan = fit_run(fit_data, out, args.budget_min, args.work, args.seed)
    scores = score_run(out, {"slices_25_29": pairs[N_TRAIN:]}, None, os.path.join(args.work, "fit_score.log"))
    runs = {"fit": {"wall_seconds": seconds, "summary": summary, "plan": plan, "scores": scores}}
    results = os.path.join(args.work, "isbi_example.json")
    seconds = timed([sys.executable, "examples/isbi.py", "--data", data, "--budget-min", f"{args.budget_min:g}", "--work",
                     os.path.join(args.work, "example"), "--results", results, "--seed", str(args.seed)],
                    os.path.join(args.work, "isbi_example.log"))
    with open(results) as handle:
        result = json.load(handle)
    runs["isbi_example"] = {"wall_seconds": seconds, "scores": result["scores"],
                            "epochs": result["training"]["epochs"], "train_seconds": result["training"]["train_seconds"]}
    return {"protocol": "train on slices 0-24; score on slices 25-29 at 512x512", "runs": runs}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=("camvid", "isbi"), default="camvid")
    parser.add_argument("--data", default=None)
    parser.add_argument("--budget-min", type=float, default=45.0)
    parser.add_argument("--work", default="/tmp/keras_segmentation_fit_compare")
    parser.add_argument("--results", default=None)
    parser.add_argument("--runs", type=lambda text: text.split(","), default=["fit", "a", "b"],
                        help="CamVid: which of fit, a and b to run (default all three, in that order)")
    parser.add_argument("--seed", type=int, default=0, help="the seed of every run (fit's --seed, the recipes' --seed)")
    args = parser.parse_args(argv)
    unknown = set(args.runs) - {"fit", "a", "b"}
    if unknown:
        parser.error(f"--runs: unknown {sorted(unknown)}; choose from fit, a, b")
    os.makedirs(args.work, exist_ok=True)
    result = (camvid if args.dataset == "camvid" else isbi)(args)
    result.update(dataset=args.dataset, budget_min=args.budget_min, lscpu=lscpu(), python=platform.python_version(),
                  command="python bench/fit_compare.py " + " ".join(sys.argv[1:] if argv is None else argv))
    seed = f"_seed{args.seed}" if args.seed else ""
    path = args.results or os.path.join(REPO, "examples", "results", f"fit_{args.dataset}_{args.budget_min:g}min{seed}.json")
    with open(path, "w") as handle:
        json.dump(result, handle, indent=1)
        handle.write("\n")
    print(json.dumps({name: run["scores"] for name, run in result["runs"].items()}, indent=1))


if __name__ == "__main__":
    main()
