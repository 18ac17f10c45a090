"""Scores as a text table (``evaluate``'s output) and as plain JSON values.

Example:
    >>> print(format_scores(cm.scores(class_names=["sky", "road"])))   # doctest: +SKIP
"""

import numpy as np

from ..errors import ModelConfigError
from ..metrics.confusion import names_message


def scores_to_json(value):
    """Scores (or any nest of dicts, lists, NumPy arrays and numbers) as plain JSON values; NaN (absent class) -> None.

    Example:
        >>> scores_to_json({"class_wise_IU": np.array([0.5, np.nan]), "mean_IU": np.float64(0.5)})
        {'class_wise_IU': [0.5, None], 'mean_IU': 0.5}
    """
    if isinstance(value, dict):
        return {str(k): scores_to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scores_to_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return scores_to_json(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None  # NaN (absent class) -> null
    return value


def format_scores(scores, class_names=None):
    """A per-class table and the summary lines, as text.

    Args:
        scores: a dict from :func:`~keras_segmentation.metrics.segmentation_scores`.
        class_names: names to show (default: ``scores["class_names"]``, else ids).

    Returns:
        A multi-line string; scores are percentages, ``-`` marks NaN (absent class).
        The ignored class (``scores["ignored_classes"]``) is shown as
        ``<name> (ignored)`` with ``-`` everywhere: it is not scored.

    Raises:
        ModelConfigError: ``class_names`` has another length than the scores.

    Example:
        >>> from keras_segmentation.metrics import segmentation_scores
        >>> print(format_scores(segmentation_scores(np.array([[3, 1], [0, 4]])), ["bg", "fg"]))
        | class |    IoU |    Acc |   Dice |  Share |
        |-------|--------|--------|--------|--------|
        | bg    |  75.00 |  75.00 |  85.71 |  50.00 |
        | fg    |  80.00 | 100.00 |  88.89 |  50.00 |
        mIoU: 77.50 over 2 of 2 classes
        fwIoU: 77.50
        pixel accuracy: 87.50
        mean class accuracy: 87.50
        mean Dice: 87.30
        pixels: 8
    """
    n = len(scores["class_wise_IU"])
    names = class_names if class_names is not None else scores.get("class_names", [str(c) for c in range(n)])
    if len(names) != n:
        raise ModelConfigError(names_message(len(names), n))
    ignored = set(scores.get("ignored_classes", []))
    columns = [
        scores["class_wise_IU"],
        scores["class_wise_accuracy"],
        scores["class_wise_dice"],
        scores["class_wise_frequency"],
    ]
    labels = [f"{name} (ignored)" if c in ignored else str(name) for c, name in enumerate(names)]
    width = max(5, *(len(label) for label in labels))
    lines = [
        f"| {'class':<{width}} |    IoU |    Acc |   Dice |  Share |",
        f"|{'-' * (width + 2)}|--------|--------|--------|--------|",
    ]
    for c, label in enumerate(labels):
        cells = [_percent(float("nan") if c in ignored else col[c]) for col in columns]
        lines.append(f"| {label:<{width}} | " + " | ".join(cells) + " |")
    present = scores["present_classes"]
    summary = f"mIoU: {_percent(scores['mean_IU']).strip()} over {len(present)} of {n} classes"
    notes = []
    if scores["absent_classes"]:
        notes.append("absent: " + ", ".join(str(names[c]) for c in scores["absent_classes"]))
    if ignored:
        notes.append("ignored, not scored: " + ", ".join(str(names[c]) for c in sorted(ignored)))
    if notes:
        summary += " (" + "; ".join(notes) + ")"
    lines += [
        summary,
        f"fwIoU: {_percent(scores['frequency_weighted_IU']).strip()}",
        f"pixel accuracy: {_percent(scores['pixel_accuracy']).strip()}",
        f"mean class accuracy: {_percent(scores['mean_class_accuracy']).strip()}",
        f"mean Dice: {_percent(scores['mean_dice']).strip()}",
        f"pixels: {scores['n_pixels']}",
    ]
    return "\n".join(lines)


def _percent(value):
    return "     -" if np.isnan(value) else f"{100 * value:6.2f}"
