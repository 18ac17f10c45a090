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
and prints the Markdown tables used in ``docs/camvid.md``.
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
    from keras_segmentation.data.images import read_mask
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


def tables(rows, names):
    """Markdown: a summary table and a per-class IoU table for ``rows`` = [(label, summary, result)]."""
    lines = ["| run | model, input | epochs | training time | mIoU (11) | pixel acc. | mean class acc. |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for label, summary, result in rows:
        training = result["training"]
        model = result["model"]
        lines.append(f"| {label} | `{model['name']}` {model['input'][0]}x{model['input'][1]} | {training['epochs']} | "
                     f"{training['train_seconds'] / 60:.1f} min | **{pct(summary['mIoU_11'])}** | "
                     f"{pct(summary['pixel_accuracy'])} | {pct(summary['mean_class_accuracy_11'])} |")
    lines += ["", "| class | " + " | ".join(label for label, _, _ in rows) + " |",
              "|---|" + "---:|" * len(rows)]
    for name in names[:VOID]:
        lines.append(f"| {name} | " + " | ".join(pct(summary["class_IoU"][name]) for _, summary, _ in rows) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=default_data_path())
    parser.add_argument("--original", required=True, help="bench/camvid_original.py's --out folder")
    parser.add_argument("--ours", default=os.path.join(HERE, "results", "camvid_same-arch.json"))
    parser.add_argument("--best", default=None, help="results JSON of our best recipe, when it is another run")
    parser.add_argument("--ablation", action="append", default=[], metavar="LABEL=JSON",
                        help="results JSON of another run of ours, a table row named LABEL")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "camvid_original.json"))
    parser.add_argument("--figures", default=os.path.join(REPO, "docs", "figures"))
    parser.add_argument("--n-samples", type=int, default=4)
    args = parser.parse_args(argv)

    names = class_names(args.data)
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

    with open(args.ours) as handle:
        ours = json.load(handle)
    rows = [("original 0.3.0, bilinear", original["scores"]["bilinear"], original),
            ("original 0.3.0, nearest", original["scores"]["nearest"], original),
            ("ours, same architecture", ours["scores"], ours)]
    if "bilinear_flip" in original["scores"] and "flip_tta" in ours:
        rows += [("original 0.3.0, bilinear, flip TTA", original["scores"]["bilinear_flip"], original),
                 ("ours, same architecture, flip TTA", ours["flip_tta"]["scores"], ours)]
    runs = [("ours", os.path.join(ours["work"], "pred")), ("original 0.3.0", os.path.join(args.original, "pred_bilinear"))]
    curves = [("ours (same arch.)", ours["training"]["history"]), ("original 0.3.0", original["training"]["history"])]
    if args.best:
        with open(args.best) as handle:
            best = json.load(handle)
        rows.append(("ours, best recipe", best["scores"], best))
        runs.insert(1, ("ours, best", os.path.join(best["work"], "pred")))
        curves.insert(1, ("ours (best)", best["training"]["history"]))

    for ablation in args.ablation:
        label, path = ablation.split("=", 1)
        with open(path) as handle:
            other = json.load(handle)
        rows.append((f"ours, {label}", other["scores"], other))

    os.makedirs(args.figures, exist_ok=True)
    draw_samples(os.path.join(args.figures, "camvid_samples.png"), args.data, runs, args.n_samples)
    draw_curves(os.path.join(args.figures, "camvid_curves.png"), curves)
    print(tables(rows, names))
    for label, summary, _ in rows:
        print(f"{label}: void predicted on {summary['void_predicted_pixels']} labelled pixels "
              "(each a miss of its true class)")


if __name__ == "__main__":
    main()
