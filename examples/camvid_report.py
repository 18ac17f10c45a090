"""Score the original library's CamVid predictions with this library's metrics; draw the figures; print the tables.

Runs in the dev environment (with ``pip install .[examples]`` for matplotlib) after
``examples/camvid.py`` (ours) and ``bench/camvid_original.py`` (the original, which saved its
full-resolution label maps)::

    python examples/camvid_report.py --original /tmp/camvid_original \\
        --ours examples/results/camvid_same-arch.json [--best examples/results/camvid_best.json] \\
        [--ablation "median-frequency weights=examples/results/camvid_same-arch-median-frequency.json"]

Writes ``examples/results/camvid_original.json`` (the original's scores by
``keras_segmentation.metrics`` with ``ignore_index=11``, means over the 11 classes, for
both upsamplings), ``docs/figures/camvid_curves.png`` and ``docs/figures/camvid_samples.png``,
and prints the Markdown tables used in ``docs/camvid.md``. Without ``--original`` it only prints
the tables of the runs given (no figures). Runs of ``examples/camvid.py --protocol heldout-sequence``
or ``both`` add columns and a per-class table for the held-out sequence (0001TP)::

    python examples/camvid_report.py --ours examples/results/camvid_unet-both.json \
        --ablation "fpn=examples/results/camvid_fpn-both.json" [--architectures]

``--architectures`` prints parameters, epochs, training and scoring images/s and both mIoUs per run instead.
"""

import argparse
import json
import os
import sys

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from camvid import CAMVID_COLOURS, N_CLASSES, VOID, class_names, default_data_path, figure_images, scores_summary  # noqa: E402


def score_folder(pred_dir, gt_dir, names):
    """Scores of the label maps in ``pred_dir`` against ``gt_dir`` (void ignored, 11-class means)."""
    from keras_segmentation.data.masks import read_mask
    from keras_segmentation.metrics import ConfusionMatrix

    matrix = ConfusionMatrix(N_CLASSES, ignore_index=VOID)
    files = sorted(os.listdir(gt_dir))
    for name in files:
        truth = read_mask(os.path.join(gt_dir, name))
        pred = read_mask(os.path.join(pred_dir, os.path.splitext(name)[0] + ".png"))
        matrix.update(truth, pred)
    scores = matrix.scores(class_names=names)
    out = scores_summary(scores, names)
    out["n_images"] = len(files)
    return out, scores


def colourise(labels):
    palette = np.array(CAMVID_COLOURS, dtype=np.uint8)
    return palette[np.clip(labels, 0, len(palette) - 1)]


def draw_samples(path, data, runs, n):
    """Rows: test images; columns: image, ground truth, then each run's prediction."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    image_dir = os.path.join(data, "images_prepped_test")
    gt_dir = os.path.join(data, "annotations_prepped_test")
    chosen = figure_images(sorted(os.listdir(image_dir)), n)
    columns = 2 + len(runs)
    fig, axes = plt.subplots(len(chosen), columns, figsize=(2.4 * columns, 1.85 * len(chosen)), squeeze=False)
    for r, name in enumerate(chosen):
        stem = os.path.splitext(name)[0] + ".png"
        image = cv2.imread(os.path.join(image_dir, name))[:, :, ::-1]
        panels = [("image", image), ("ground truth", colourise(cv2.imread(os.path.join(gt_dir, stem), 0)))]
        for title, pred_dir in runs:
            pred = cv2.imread(os.path.join(pred_dir, stem), 0)
            panels.append((title, colourise(pred) if pred is not None else np.zeros_like(image)))
        for c, (title, panel) in enumerate(panels):
            ax = axes[r][c]
            ax.imshow(cv2.resize(panel, (240, 180), interpolation=cv2.INTER_AREA if c == 0 else cv2.INTER_NEAREST))
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(title, fontsize=8)
    fig.tight_layout(pad=0.3)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def draw_curves(path, runs):
    """Training loss, validation pixel accuracy and (ours) validation mIoU against training minutes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    for label, history in runs:
        minutes = [row["elapsed_s"] / 60 for row in history]
        axes[0].plot(minutes, [row["loss"] for row in history], "o-", ms=3, label=label)
        axes[1].plot(minutes, [row.get("val_accuracy", np.nan) for row in history], "o-", ms=3, label=label)
        if any("val_mean_iou" in row for row in history):
            axes[2].plot(minutes, [row.get("val_mean_iou", np.nan) for row in history], "o-", ms=3, label=label)
    axes[0].set_title("training loss (each run's own loss)", fontsize=9)
    axes[1].set_title("validation pixel accuracy (Keras metric; void pixels count)", fontsize=9)
    axes[2].set_title("validation mIoU (ours, void ignored, at output size)", fontsize=9)
    for ax in axes:
        ax.set_xlabel("training minutes")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def pct(value):
    return f"{100 * value:.1f}"


def run_row(label, result, flip=False):
    """``(label, test-folder summary, result, held-out summary)`` of one run of ``examples/camvid.py``.

    Either summary is ``None`` where the run did not score that set; results from before
    ``--protocol`` scored the test folder only.
    """
    sets = result.get("sets", {"test_folder": {"scores": result["scores"], "flip_tta": result.get("flip_tta")}})
    key = "flip_tta" if flip else None

    def summary(scored_set):
        if scored_set is None:
            return None
        return scored_set[key]["scores"] if key else scored_set["scores"]

    heldout = next((sets[name] for name in sets if name.startswith("heldout_")), None)
    return label, summary(sets.get("test_folder")), result, summary(heldout)


def heldout_title(rows):
    """``"0001TP (62 frames)"``: the held-out set of the first row that scored one, or ``None``."""
    for _, _, result, heldout in rows:
        if heldout is not None:
            name, scored = next((k, v) for k, v in result["protocol"]["scored"].items() if k.startswith("heldout_"))
            return f"{name[len('heldout_'):]} ({scored['n_images']} frames)"
    return None


def tables(rows, names):
    """Markdown: a summary table and per-class IoU tables for ``rows`` = [(label, summary, result, held-out summary)].

    ``summary`` is on the 101 test frames; the held-out columns and table appear only when a row has
    a held-out summary; a set a run did not score shows as "–".
    """
    title = heldout_title(rows)

    def cells(summary):
        if summary is None:
            return ["–"] * 3
        return [f"**{pct(summary['mIoU_11'])}**", pct(summary["pixel_accuracy"]), pct(summary["mean_class_accuracy_11"])]

    header = "| run | model, input | epochs | training time | mIoU (11) | pixel acc. | mean class acc. |"
    if title:
        header = ("| run | model, input | protocol (training frames) | epochs | training time | mIoU (11), test folder | "
                  f"pixel acc. | mean class acc. | mIoU (11), {title} | pixel acc. | mean class acc. |")
    lines = [header, "|---|---|" + ("---|" if title else "") + "---:|" * (5 + (3 if title else 0))]
    for label, summary, result, heldout in rows:
        training = result["training"]
        model = result["model"]
        row = [label, f"`{model['name']}` {model['input'][0]}x{model['input'][1]}"]
        if title:
            protocol = result.get("protocol", {"name": "folder"})
            frames = f" ({protocol['train']['n_images']})" if "train" in protocol else ""
            row.append(protocol["name"] + frames)
        row += [str(training["epochs"]), f"{training['train_seconds'] / 60:.1f} min", *cells(summary)]
        if title:
            row += cells(heldout)
        lines.append("| " + " | ".join(row) + " |")
    for column, heading in ((1, "test folder" if title else None), (3, title)):
        scored = [row for row in rows if row[column] is not None]
        if not scored or (column == 3 and not title):
            continue
        lines += [""] + ([f"Per-class IoU (%), {heading}:", ""] if heading else [])
        lines += ["| class | " + " | ".join(row[0] for row in scored) + " |", "|---|" + "---:|" * len(scored)]
        for name in names[:VOID]:
            lines.append(f"| {name} | " + " | ".join(pct(row[column]["class_IoU"][name]) for row in scored) + " |")
    return "\n".join(lines)


def _precision(settings):
    """The precision a run computed in (``"auto"`` resolved; runs from before ``--precision``: float32)."""
    return settings.get("precision_used", settings.get("precision", "float32"))


def architecture_table(rows):
    """Markdown: parameters, throughput and both mIoUs per run (the architectures comparison of ``docs/camvid.md``).

    Training images/s count every training image of every epoch over the training time (validation
    included); scoring images/s are the test folder's images over the time ``evaluate`` took on them at
    480x360 (reading, prediction, resizing, metrics).
    """
    lines = ["| run | model | parameters | precision | epochs | training img/s | scoring img/s (101, full res.) | "
             "mIoU test folder (101) | mIoU held-out 0001TP (62) |", "|---|---|---:|---|---:|---:|---:|---:|---:|"]
    for label, summary, result, heldout in rows:
        training, sets = result["training"], result.get("sets", {})
        images = result.get("protocol", {}).get("train", {}).get("n_images")
        train_rate = f"{images * training['epochs'] / training['train_seconds']:.2f}" if images else "–"
        scored = sets.get("test_folder", {})
        score_rate = f"{scored['n_images'] / scored['evaluate_seconds']:.1f}" if "evaluate_seconds" in scored else "–"
        lines.append("| " + " | ".join([
            label, f"`{result['model']['name']}`", f"{result['model']['parameters']:,}",
            _precision(result.get("settings", {})), str(training["epochs"]), train_rate, score_rate,
            pct(summary["mIoU_11"]) if summary else "–", pct(heldout["mIoU_11"]) if heldout else "–"]) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=default_data_path())
    parser.add_argument("--original", default=None,
                        help="bench/camvid_original.py's --out folder (without it: the tables of our runs only)")
    parser.add_argument("--ours", default=os.path.join(HERE, "results", "camvid_same-arch.json"))
    parser.add_argument("--best", default=None, help="results JSON of our best recipe, when it is another run")
    parser.add_argument("--ablation", action="append", default=[], metavar="LABEL=JSON",
                        help="results JSON of another run of ours, a table row named LABEL")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "camvid_original.json"))
    parser.add_argument("--figures", default=os.path.join(REPO, "docs", "figures"))
    parser.add_argument("--n-samples", type=int, default=4)
    parser.add_argument("--architectures", action="store_true",
                        help="without --original: print the parameters/throughput table instead of the per-class ones")
    args = parser.parse_args(argv)

    names = class_names(args.data)
    with open(args.ours) as handle:
        ours = json.load(handle)
    if args.original is None:
        rows = [run_row(f"ours, {ours.get('tag', 'run')}", ours)]
        for path in [args.best] if args.best else []:
            with open(path) as handle:
                rows.append(run_row("ours, best recipe", json.load(handle)))
        rows += ablation_rows(args.ablation)
        print(architecture_table(rows) if args.architectures else tables(rows, names))
        return

    gt_dir = os.path.join(args.data, "annotations_prepped_test")
    with open(os.path.join(args.original, "result.json")) as handle:
        original = json.load(handle)
    original["scores"] = {}
    for kind in ("bilinear", "nearest", "bilinear_flip"):
        folder = os.path.join(args.original, "pred_" + kind)
        if os.path.isdir(folder):  # bilinear_flip: only from runs after test-time flips were added
            original["scores"][kind], _ = score_folder(folder, gt_dir, names)
    original["evaluation"] = ("keras_segmentation.metrics.ConfusionMatrix(12, ignore_index=11) on the 101 test label maps "
                              "at 480x360; means over the 11 classes. bilinear: softmax resized bilinearly then arg-maxed "
                              "(as ours); nearest: its predict() label map upsampled nearest-neighbour; bilinear_flip: "
                              "bilinear on the mean of the image's and its mirror's softmax (as our flip_tta=True)")
    with open(args.out, "w") as handle:  # no machine paths in the repository: the repo root is ".", its parent ".."
        text = json.dumps(original, indent=1).replace(REPO + os.sep, "./").replace(os.path.dirname(REPO) + os.sep, "../")
        handle.write(text + "\n")

    rows = [("original 0.3.0, bilinear", original["scores"]["bilinear"], original, None),
            ("original 0.3.0, nearest", original["scores"]["nearest"], original, None),
            run_row("ours, same architecture", ours)]
    if "bilinear_flip" in original["scores"] and "flip_tta" in ours:
        rows += [("original 0.3.0, bilinear, flip TTA", original["scores"]["bilinear_flip"], original, None),
                 run_row("ours, same architecture, flip TTA", ours, flip=True)]
    runs = [("ours", os.path.join(ours["work"], "pred")), ("original 0.3.0", os.path.join(args.original, "pred_bilinear"))]
    curves = [("ours (same arch.)", ours["training"]["history"]), ("original 0.3.0", original["training"]["history"])]
    if args.best:
        with open(args.best) as handle:
            best = json.load(handle)
        rows.append(run_row("ours, best recipe", best))
        runs.insert(1, ("ours, best", os.path.join(best["work"], "pred")))
        curves.insert(1, ("ours (best)", best["training"]["history"]))

    rows += ablation_rows(args.ablation)

    os.makedirs(args.figures, exist_ok=True)
    draw_samples(os.path.join(args.figures, "camvid_samples.png"), args.data, runs, args.n_samples)
    draw_curves(os.path.join(args.figures, "camvid_curves.png"), curves)
    print(tables(rows, names))
    for label, summary, _, _ in rows:
        if summary is not None:
            print(f"{label}: void predicted on {summary['void_predicted_pixels']} labelled pixels "
                  "(each a miss of its true class)")


def ablation_rows(ablations):
    """Table rows of ``--ablation LABEL=JSON`` runs, labelled ``ours, LABEL``."""
    rows = []
    for ablation in ablations:
        label, path = ablation.split("=", 1)
        with open(path) as handle:
            rows.append(run_row(f"ours, {label}", json.load(handle)))
    return rows


if __name__ == "__main__":
    main()
