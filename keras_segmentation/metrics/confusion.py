"""Segmentation metrics from a confusion matrix: IoU, accuracy and Dice per class.

Everything here is NumPy (the in-training Keras metric is :mod:`.mean_iou`). Evaluation
accumulates one ``(n_classes, n_classes)`` confusion matrix (rows = ground truth,
columns = prediction) and derives every score from it, so scores over a dataset are
exact whatever the batch size.

Rules (they differ from the original library on purpose, see its bugs 11 and 13):

* Pixels whose ground truth equals ``ignore_index`` are left out of every count.
* Any other ground-truth value outside ``[0, n_classes)`` raises
  :class:`~keras_segmentation.errors.MaskValueError`; it is never counted as class 0.
* When ``ignore_index`` is itself a class id ``c`` of the model (CamVid's void,
  11 of 12 outputs), class ``c`` is *ignored*, never scored: its row (ground truth
  ``c``) is left out as above; a pixel of true class ``k`` predicted as ``c`` is a
  miss (false negative) of ``k`` and a wrong pixel for pixel accuracy; class ``c``'s
  IoU, Dice and accuracy are NaN and it is left out of every mean and of
  frequency-weighted IoU (it is in neither ``present_classes`` nor
  ``absent_classes`` but in ``ignored_classes``). The per-class arrays keep
  length ``n_classes``. The in-training :func:`~keras_segmentation.metrics.mean_iou.iou_metric` follows the same rule.
* A class that appears neither in the ground truth nor in the prediction is
  *absent*: its IoU and Dice are NaN and it is left out of the means (the original
  counted it as IoU 0, which divided mean IoU by the wrong number of classes).
  Class accuracy is NaN for classes absent from the ground truth.

Example:
    >>> cm = ConfusionMatrix(n_classes=3, ignore_index=255)
    >>> _ = cm.update(np.array([[0, 1], [1, 255]]), np.array([[0, 1], [0, 2]]))
    >>> scores = cm.scores(class_names=["sky", "road", "car"])
    >>> round(scores["mean_IU"], 3), scores["absent_classes"]
    (0.5, [2])
    >>> void = ConfusionMatrix(n_classes=3, ignore_index=2)
    >>> _ = void.update(np.array([0, 0, 1, 1, 2, 2]), np.array([0, 0, 1, 2, 2, 2]))
    >>> void.scores()["mean_IU"], void.scores()["ignored_classes"]   # IoU [1, 0.5, nan]
    (0.75, [2])
"""

import numpy as np

from ..errors import MaskValueError, ModelConfigError


def confusion_matrix(gt, pr, n_classes, ignore_index=None):
    """Count pixels by (ground-truth class, predicted class).

    Args:
        gt: integer class ids, any shape (a mask or a batch of masks).
        pr: predicted class ids with the shape of ``gt``, or probabilities with one
            more trailing axis of size ``n_classes`` (they are arg-maxed).
        n_classes: number of classes.
        ignore_index: ground-truth value whose pixels are left out (e.g. 255, or 11
            for CamVid's void). It may lie inside ``[0, n_classes)``; that class's
            row is then all zeros.

    Returns:
        int64 array ``(n_classes, n_classes)``: ``cm[i, j]`` = pixels of class ``i``
        predicted as ``j``.

    Raises:
        MaskValueError: shapes differ, or ``gt`` holds a value outside
            ``[0, n_classes)`` other than ``ignore_index``, or ``pr`` holds a class
            id outside ``[0, n_classes)``.

    Example:
        >>> confusion_matrix(np.array([0, 1, 1, 255]), np.array([0, 1, 0, 1]), 2, ignore_index=255)
        array([[1, 0],
               [1, 1]])
    """
    n_classes = check_n_classes(n_classes)
    gt = np.asarray(gt)
    pr = np.asarray(pr)
    if pr.ndim == gt.ndim + 1 and pr.shape[-1] == n_classes:
        pr = pr.argmax(axis=-1)
    if gt.shape != pr.shape:
        raise MaskValueError(f"ground truth shape {gt.shape} differs from prediction shape {pr.shape}")
    gt = _as_class_ids(gt.ravel(), "ground truth")
    pr = _as_class_ids(pr.ravel(), "prediction")
    if ignore_index is not None:
        keep = gt != ignore_index
        gt, pr = gt[keep], pr[keep]
    _check_range(gt, n_classes, "ground truth", "; pass ignore_index to leave such pixels out")
    _check_range(pr, n_classes, "prediction", "")
    flat = gt.astype(np.int64) * n_classes + pr
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


class ConfusionMatrix:
    """A confusion matrix accumulated over many masks.

    Args:
        n_classes: number of classes.
        ignore_index: ground-truth value to leave out (see :func:`confusion_matrix`).

    Attributes:
        matrix: the int64 ``(n_classes, n_classes)`` counts so far.

    Example:
        >>> acc = ConfusionMatrix(12, ignore_index=11)
        >>> for gt, pr in pairs:                       # doctest: +SKIP
        ...     acc.update(gt, pr)
        >>> acc.scores()["mean_IU"]                    # doctest: +SKIP
    """

    def __init__(self, n_classes, ignore_index=None):
        self.n_classes = check_n_classes(n_classes)
        self.ignore_index = ignore_index
        self.matrix = np.zeros((self.n_classes, self.n_classes), dtype=np.int64)

    def update(self, gt, pr):
        """Add the pixels of ``gt`` / ``pr`` (one mask or a batch); returns ``self``."""
        self.matrix += confusion_matrix(gt, pr, self.n_classes, self.ignore_index)
        return self

    def merge(self, other):
        """Add another accumulator's counts (e.g. from another worker); returns ``self``.

        Raises:
            ModelConfigError: ``other`` has another ``n_classes`` or ``ignore_index``.
        """
        if other.n_classes != self.n_classes:
            raise ModelConfigError(
                f"merge: cannot add {other.n_classes}-class counts to a {self.n_classes}-class ConfusionMatrix; "
                "merge only matrices built with the same n_classes"
            )
        if other.ignore_index != self.ignore_index:
            raise ModelConfigError(
                f"merge: counts made with ignore_index={other.ignore_index!r} cannot join counts made with "
                f"ignore_index={self.ignore_index!r}; build both matrices with the same ignore_index"
            )
        self.matrix += other.matrix
        return self

    def reset(self):
        """Set every count back to zero."""
        self.matrix[...] = 0

    def scores(self, class_names=None):
        """The :func:`segmentation_scores` of the counts so far (class ``ignore_index`` not scored)."""
        return segmentation_scores(self.matrix, class_names=class_names, ignore_index=self.ignore_index)


def segmentation_scores(cm, class_names=None, ignore_index=None):
    """Every score derived from a confusion matrix.

    Args:
        cm: ``(n, n)`` counts, rows = ground truth, columns = prediction.
        class_names: optional ``n`` names, kept under ``"class_names"`` for
            :func:`~keras_segmentation.evaluation.score_tables.format_scores`.
        ignore_index: the ignored label. When it is a class id ``c`` in ``[0, n)``,
            class ``c`` is not scored (see the module docstring): row ``c`` is left
            out, pixels predicted as ``c`` are misses of their true class, and
            ``c``'s IoU, Dice and accuracy are NaN and left out of every mean.
            Any other value (``None``, 255) changes nothing here.

    Returns:
        A dict (the first three keys are the original library's ``evaluate`` keys):

        * ``frequency_weighted_IU``: sum over classes of IoU x the class's share of
          ground-truth pixels.
        * ``mean_IU``: mean IoU over the scored classes present in ground truth or
          prediction.
        * ``class_wise_IU``: IoU per class, ``TP / (TP + FP + FN)``; NaN where absent.
        * ``pixel_accuracy``: correctly classified pixels / all counted pixels.
        * ``mean_class_accuracy``: mean of ``class_wise_accuracy`` over the classes
          present in the ground truth.
        * ``class_wise_accuracy``: ``TP / ground-truth pixels`` (recall); NaN for
          classes absent from the ground truth.
        * ``class_wise_dice``, ``mean_dice``: Dice / F1 = ``2TP / (2TP + FP + FN)``,
          NaN where absent, mean over present classes.
        * ``class_wise_frequency``: each class's share of ground-truth pixels.
        * ``present_classes``, ``absent_classes``: scored class ids (lists of int).
        * ``ignored_classes``: ``[ignore_index]`` when it is a class id, else ``[]``.
        * ``n_pixels``: pixels counted; ``confusion_matrix``: ``cm`` as int64
          (row ``ignore_index`` zeroed).

        Means are NaN when no class is present (no pixels counted).

    Raises:
        ModelConfigError: ``cm`` is not square, or ``class_names`` has another length.

    Example:
        >>> s = segmentation_scores(np.array([[3, 1, 0], [0, 4, 0], [0, 0, 0]]))
        >>> s["class_wise_IU"]
        array([0.75, 0.8 ,  nan])
        >>> s["mean_IU"], s["pixel_accuracy"]
        (0.775, 0.875)
    """
    cm = np.array(cm, dtype=np.int64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ModelConfigError(
            f"cm: a confusion matrix must be square (n_classes, n_classes), got shape {cm.shape}; "
            "build it with confusion_matrix(gt, pr, n_classes)"
        )
    n = cm.shape[0]
    if class_names is not None and len(class_names) != n:
        raise ModelConfigError(names_message(len(class_names), n))
    ignored = ignored_class(ignore_index, n)
    scored = np.ones(n, dtype=bool)
    if ignored is not None:
        cm[ignored, :] = 0  # ground truth == ignore_index: never counted
        scored[ignored] = False
    tp = np.diag(cm).astype(np.float64)
    gt_pixels = cm.sum(axis=1).astype(np.float64)  # includes pixels predicted as the ignored class: misses
    pr_pixels = cm.sum(axis=0).astype(np.float64)
    total = float(gt_pixels.sum())
    present = scored & ((gt_pixels + pr_pixels) > 0)
    in_gt = gt_pixels > 0  # never the ignored class: its row is zero

    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(present, tp / (gt_pixels + pr_pixels - tp), np.nan)
        dice = np.where(present, 2 * tp / (gt_pixels + pr_pixels), np.nan)
        accuracy = np.where(in_gt, tp / gt_pixels, np.nan)
        frequency = gt_pixels / total if total else np.zeros(n)

    scores = {
        "frequency_weighted_IU": float(np.sum(frequency[in_gt] * iou[in_gt])) if total else float("nan"),
        "mean_IU": _mean(iou[present]),
        "class_wise_IU": iou,
        "pixel_accuracy": float(tp.sum() / total) if total else float("nan"),
        "mean_class_accuracy": _mean(accuracy[in_gt]),
        "class_wise_accuracy": accuracy,
        "class_wise_dice": dice,
        "mean_dice": _mean(dice[present]),
        "class_wise_frequency": frequency,
        "present_classes": np.flatnonzero(present).tolist(),
        "absent_classes": np.flatnonzero(scored & ~present).tolist(),
        "ignored_classes": [] if ignored is None else [ignored],
        "n_pixels": int(total),
        "confusion_matrix": cm,
    }
    if class_names is not None:
        scores["class_names"] = [str(name) for name in class_names]
    return scores


def get_iou(gt, pr, n_classes):
    """Per-class IoU of one prediction (the original library's function).

    Unlike the original, a class absent from both ``gt`` and ``pr`` gives NaN, not 0.

    Example:
        >>> get_iou(np.array([0, 0, 1]), np.array([0, 1, 1]), 3)
        array([0.5, 0.5, nan])
    """
    return segmentation_scores(confusion_matrix(gt, pr, n_classes))["class_wise_IU"]


def check_n_classes(n_classes):
    """``n_classes`` as an int; one-line error unless it is a positive integer."""
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 1:
        raise ModelConfigError(
            f"n_classes={n_classes!r}: must be a positive integer (the number of classes the model outputs)"
        )
    return int(n_classes)


def ignored_class(ignore_index, n_classes):
    """``ignore_index`` as an int when it is one of the ``n_classes`` class ids, else ``None``."""
    if ignore_index is None or isinstance(ignore_index, bool):
        return None
    try:
        value = int(ignore_index)
    except (TypeError, ValueError):
        return None
    return value if 0 <= value < n_classes and value == ignore_index else None


def names_message(n_names, n_classes):
    """The error for a list of class names of the wrong length."""
    return f"class_names has {n_names} names for {n_classes} classes; give one name per class, in class-id order"


def _as_class_ids(values, what):
    """Integer view of ``values``; float arrays must hold whole numbers."""
    if values.dtype == np.bool_:
        return values.astype(np.uint8)
    if np.issubdtype(values.dtype, np.integer):
        return values
    if np.issubdtype(values.dtype, np.floating) and np.array_equal(values, np.round(values)):
        return values.astype(np.int64)
    raise MaskValueError(f"{what} must hold integer class ids, got dtype {values.dtype}")


def _check_range(values, n_classes, what, hint):
    if values.size and (values.min() < 0 or values.max() >= n_classes):
        bad = np.unique(values[(values < 0) | (values >= n_classes)])[:5].tolist()
        raise MaskValueError(f"{what} holds values {bad} outside [0, {n_classes}){hint}")


def _mean(values):
    return float(values.mean()) if values.size else float("nan")
