"""Checking a dataset before training: one report of every problem, plus what the data holds.

:func:`verify_dataset` pairs the files, then decodes every image and mask (in
threads: OpenCV releases the GIL) and reports, all at once:

* pairing problems: images without mask, JPEG-only masks, ambiguous masks, images
  sharing a base name, missing extra inputs, broken symbolic links (and, as warnings,
  masks without image);
* unreadable files: missing, empty, truncated, corrupt or not an image;
* image/mask (and extra input) size mismatches;
* colour-coded RGB masks read without a colour map (their blue channel is not a class id);
* mask values ``>= n_classes`` with the offending values, and a hint for 0/255 binary masks;
* images with different channel counts, or (given ``channels``) another count
  than the model takes;

and counts pixels per class, image sizes, file modes, channels and dtypes.
Multi-band TIFF and ``.npy`` images are checked like the others (see
:mod:`keras_segmentation.data.rasters` for how they are read). Each pair is checked
by :mod:`keras_segmentation.data.verify_pair`; the report and its text table are
:mod:`keras_segmentation.data.verify_report`'s.

Example:
    >>> report = verify_dataset("data/images_prepped_train", "data/annotations_prepped_train", 12)
    >>> bool(report), report.n_pairs, sorted(report.class_pixel_counts)[:3]
    (True, 367, [0, 1, 2])
    >>> print(report.format(class_names=["Sky", "Building", ...]))
"""

import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..errors import DataLoaderError
from .images import READ_COLOR, read_type_for_channels
from .masks import ColourMap
from .pairing import find_pairs
from .verify_pair import PairChecker
from .verify_report import Problem, VerifyReport

logger = logging.getLogger(__name__)


def verify_dataset(
    images_path,
    segs_path,
    n_classes=None,
    *,
    colour_map=None,
    read_image_type=READ_COLOR,
    other_inputs_paths=None,
    ignore_index=None,
    decode_images=True,
    workers=None,
    channels=None,
):
    """Check every image/mask pair; return a :class:`VerifyReport` (truthy when clean).

    Args:
        images_path, segs_path: folders of images and masks (paired by base name).
        n_classes: mask values must be below it (or equal ``ignore_index``);
            ``None`` only reports the classes found.
        colour_map: :class:`~keras_segmentation.data.masks.ColourMap` (e.g.
            ``ColourMap.from_csv("colours.csv")``) or ``{(r, g, b): id}`` dict, for colour-coded masks.
        read_image_type, ignore_index, workers: the shared options (:mod:`keras_segmentation.options`).
        other_inputs_paths: folders of extra input images (multi-input models).
        decode_images: decode every image (finds truncated and corrupt files). ``False``
            reads only image headers (sizes and modes; about 3x faster on large PNGs);
            masks are always decoded, since their values must be checked.
        channels: the model's input channels: images are read as the model will
            read them (:func:`~keras_segmentation.data.images.read_image_for_model`)
            and each image with another channel count is a ``channels`` problem.

    Raises:
        PairingError: a folder is missing or holds no image (bad arguments rather than bad data).

    Example:
        >>> report = verify_dataset("imgs", "masks", n_classes=2)
        >>> if not report:
        ...     print(report.format())
    """
    if n_classes is not None and int(n_classes) < 1:
        raise DataLoaderError(f"n_classes={n_classes}: must be a positive integer")
    if colour_map is not None and not isinstance(colour_map, ColourMap):
        colour_map = ColourMap(colour_map)
    start = time.perf_counter()
    pairing = find_pairs(images_path, segs_path, other_inputs_paths)
    report = VerifyReport(
        os.fspath(images_path), os.fspath(segs_path), None if n_classes is None else int(n_classes), ignore_index,
        n_pairs=len(pairing.pairs),
    )
    report.problems += [Problem(*issue) for issue in pairing.issues()]
    report.warnings += [
        Problem(m, "mask_without_image", "mask has no image with the same base name") for m in pairing.masks_without_image
    ]
    if channels is not None:
        read_image_type = read_type_for_channels(int(channels), read_image_type)
    checker = PairChecker(report.n_classes, ignore_index, colour_map, read_image_type, decode_images, channels)
    totals = np.zeros(0, np.int64)
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        for result in pool.map(checker, pairing.pairs):
            report.problems += result.problems
            if result.image_size is not None:
                report.image_sizes[result.image_size] += 1
            if result.channels is not None:
                report.image_channels[result.channels] += 1
                report.image_dtypes[result.dtype] += 1
            report.image_modes[result.image_mode] += 1
            report.mask_modes[result.mask_mode] += 1
            if result.counts is not None:
                if len(result.counts) > len(totals):
                    totals = np.pad(totals, (0, len(result.counts) - len(totals)))
                totals[: len(result.counts)] += result.counts
    report.class_pixel_counts = {int(i): int(totals[i]) for i in np.flatnonzero(totals)}
    if len(report.image_channels) > 1:
        shown = ", ".join(f"{c} channels: {n} image(s)" for c, n in sorted(report.image_channels.items()))
        report.problems.append(
            Problem(report.images_path, "channels", f"images have different channel counts ({shown}); a model takes one")
        )
    if report.n_classes is not None:
        absent = [c for c in range(report.n_classes) if c not in report.class_pixel_counts and c != ignore_index]
        if absent and pairing.pairs:
            report.warnings.append(
                Problem(report.segs_path, "absent_classes", f"classes {_short(absent)} never appear in the masks")
            )
    report.seconds = time.perf_counter() - start
    return report


def verify_segmentation_dataset(images_path, segs_path, n_classes, show_all_errors=False):
    """The original's name: :func:`verify_dataset` whose report is logged (first problem, or all).

    Returns the :class:`VerifyReport`, truthy when the dataset is clean (the
    original returned a bool).

    Example:
        >>> assert verify_segmentation_dataset("imgs", "masks", 2)
    """
    report = verify_dataset(images_path, segs_path, n_classes)
    text = report.format(max_problems=None if show_all_errors else 1)
    logger.log(logging.INFO if report else logging.WARNING, "%s", text)
    return report


def _short(values, limit=10):
    """``[1, 2, 3]``, or the first ``limit`` values and a count."""
    values = list(values)
    if len(values) <= limit:
        return str(values)
    return f"[{', '.join(map(str, values[:limit]))}, ... ({len(values)} values)]"

