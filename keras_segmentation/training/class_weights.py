"""Class weights from the pixel counts of a set of masks, to counter class imbalance.

Three methods:

* ``"median_frequency"`` (Eigen & Fergus, 2015; used by SegNet): the frequency of
  class c is its pixel count divided by the number of pixels of the images where c
  is present, and its weight is ``median(frequencies) / frequency_c``.
* ``"balanced"`` (scikit-learn's ``class_weight="balanced"``):
  ``total pixels / (number of present classes * count_c)``.
* ``"enet"`` (Paszke et al., 2016, ENet): ``1 / ln(1.02 + p_c)`` with ``p_c`` the
  share of all counted pixels that are class c. Bounded (at most ≈ 50) and much
  flatter than median frequency: on CamVid the rarest-to-commonest weight ratio is
  ≈ 13 against ≈ 59, so rare classes gain recall without drowning the large ones.

Pixels labelled ``ignore_index`` are not counted at all: they count neither as a
class nor in an image's pixel total, so they do not change the other classes'
weights. Classes with no pixels (including ``ignore_index`` when it is a class id)
get weight 0, so a loss using the weights ignores them; a warning names the
missing classes other than ``ignore_index``.

Example:
    >>> weights = compute_class_weights(sorted(glob.glob("annotations/*.png")), 12,  # doctest: +SKIP
    ...                                 ignore_index=11)
    >>> loss = get_loss("ce", 12, class_weights=weights, ignore_index=11)           # doctest: +SKIP
"""

import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..data.masks import read_mask
from ..errors import DataLoaderError, MaskValueError, ModelConfigError

__all__ = ["class_pixel_counts", "compute_class_weights", "METHODS"]

#: The constant of the ENet weighting ``1 / ln(c + p)``: the weight of a class never exceeds ``1 / ln(c)``.
ENET_C = 1.02

#: Weighting methods accepted by :func:`compute_class_weights`.
METHODS = ("median_frequency", "balanced", "enet")


def class_pixel_counts(masks, n_classes, ignore_index=None, workers=None, per_mask=False, colour_map=None):
    """Count the pixels of each class in a set of masks.

    Args:
        masks: mask file paths (read with :func:`~keras_segmentation.data.masks.read_mask`)
            and/or 2-D arrays; a single 2-D array, or a 3-D array taken as a stack of masks.
        n_classes: number of classes.
        ignore_index: label whose pixels are not counted.
        workers: threads reading the files (default: the CPU count; 1 reads in this thread).
        per_mask: return one row of counts per mask instead of the totals.
        colour_map: for colour-coded RGB masks, as for ``read_mask``.

    Returns:
        int64 array ``(n_classes,)``, or ``(len(masks), n_classes)`` with ``per_mask``.

    Raises:
        MaskValueError: a mask holds a value outside ``[0, n_classes)`` other than
            ``ignore_index``; the message names the file (or ``masks[i]``).
        ModelConfigError: ``n_classes`` is not a positive integer.

    Example:
        >>> class_pixel_counts([np.array([[0, 1], [1, 255]])], 2, ignore_index=255)
        array([1, 2])
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 1:
        raise ModelConfigError(
            f"n_classes={n_classes!r}: must be a positive integer (the number of classes the model outputs)"
        )
    if isinstance(masks, np.ndarray):
        masks = [masks] if masks.ndim == 2 else list(masks)
    else:
        masks = list(masks)

    def count(index):
        source = masks[index]
        name = f"masks[{index}]" if isinstance(source, np.ndarray) else os.fspath(source)
        return _count_mask(read_mask(source, colour_map), n_classes, ignore_index, name)

    workers = (os.cpu_count() or 1) if workers is None else max(1, int(workers))
    if workers == 1 or len(masks) < 2:
        rows = [count(i) for i in range(len(masks))]
    else:
        with ThreadPoolExecutor(max_workers=min(workers, len(masks))) as pool:
            rows = list(pool.map(count, range(len(masks))))
    counts = np.array(rows, dtype=np.int64).reshape(len(masks), n_classes)
    return counts if per_mask else counts.sum(axis=0)


def compute_class_weights(
    masks, n_classes, method="median_frequency", ignore_index=None, workers=None, colour_map=None
):
    """Per-class loss weights from the pixel counts of ``masks``.

    Args:
        masks, n_classes, ignore_index, workers, colour_map: as for :func:`class_pixel_counts`.
        method: ``"median_frequency"``, ``"balanced"`` or ``"enet"`` (see the module docstring).

    Returns:
        float64 array ``(n_classes,)``; 0 for classes without pixels.

    Raises:
        MaskValueError: out-of-range mask values (the message names the file).
        ModelConfigError: unknown ``method`` (or bad ``n_classes``).
        DataLoaderError: no pixel counted at all (empty masks, or every pixel ``ignore_index``).

    Example:
        >>> masks = [np.array([[0, 0, 0, 1]]), np.array([[0, 1, 1, 1]])]
        >>> compute_class_weights(masks, 2, method="balanced")
        array([1., 1.])
        >>> compute_class_weights([np.array([[0, 0, 0, 1]])], 2)
        array([0.66666667, 2.        ])
    """
    if method not in METHODS:
        raise ModelConfigError(f"unknown class weight method {method!r}; choose one of {', '.join(METHODS)}")
    per_mask = class_pixel_counts(
        masks, n_classes, ignore_index=ignore_index, workers=workers, per_mask=True, colour_map=colour_map
    )
    counts = per_mask.sum(axis=0).astype(np.float64)
    present = counts > 0
    if not present.any():
        raise DataLoaderError(
            f"no pixel was counted: the masks are empty or every pixel is ignore_index={ignore_index!r}; "
            "check the masks (verify_dataset) and ignore_index"
        )
    missing = [c for c in np.flatnonzero(~present).tolist() if c != ignore_index]
    if missing:
        warnings.warn(f"classes {missing} have no pixels in the masks; their weight is 0", stacklevel=2)

    weights = np.zeros(n_classes, dtype=np.float64)
    if method == "balanced":
        weights[present] = counts.sum() / (present.sum() * counts[present])
    elif method == "enet":
        weights[present] = 1.0 / np.log(ENET_C + counts[present] / counts.sum())
    else:
        image_pixels = per_mask.sum(axis=1, keepdims=True)
        pixels_where_present = np.where(per_mask > 0, image_pixels, 0).sum(axis=0)
        frequency = counts[present] / pixels_where_present[present]
        weights[present] = np.median(frequency) / frequency
    return weights


def _count_mask(mask, n_classes, ignore_index, name):
    """Class histogram of one 2-D mask, with a clear error for out-of-range values."""
    values = mask.ravel()
    if not np.issubdtype(values.dtype, np.integer):
        raise MaskValueError(f"{name}: mask must hold integer class ids, got dtype {values.dtype}")
    if ignore_index is not None:
        values = values[values != ignore_index]
    if values.size and (values.min() < 0 or values.max() >= n_classes):
        bad = np.unique(values[(values < 0) | (values >= n_classes)])[:5].tolist()
        raise MaskValueError(
            f"{name}: values {bad} outside [0, {n_classes}); fix n_classes or pass ignore_index"
        )
    return np.bincount(values.astype(np.intp, copy=False), minlength=n_classes)
