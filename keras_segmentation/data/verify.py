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
:mod:`keras_segmentation.data.rasters` for how they are read).

Example:
    >>> report = verify_dataset("data/images_prepped_train", "data/annotations_prepped_train", 12)
    >>> bool(report), report.n_pairs, sorted(report.class_pixel_counts)[:3]
    (True, 367, [0, 1, 2])
    >>> print(report.format(class_names=["Sky", "Building", ...]))
"""

import logging
import os
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from ..errors import DataLoaderError, SegmentationError, problem_error
from .images import (
    COLOUR_MASK_PROBLEM,
    READ_COLOR,
    READ_GRAYSCALE,
    ColourMap,
    channel_mismatch,
    decode_mask,
    is_colour_coded,
    mask_to_class_ids,
    mask_values_problem,
    read_image,
    read_type_for_channels,
)
from .pairing import find_pairs, orphan_masks_hint
from .png import inspect_png, is_png
from .rasters import describe_file, read_image_size

logger = logging.getLogger(__name__)

#: Problems listed by :meth:`VerifyReport.format` unless told otherwise.
MAX_LISTED = 30
#: Rows of the class table in :meth:`VerifyReport.format`.
MAX_CLASS_ROWS = 64


@dataclass
class Problem:
    """One finding: the file concerned, a kind (for grouping) and a one-line message.

    Kinds: ``missing_mask``, ``jpeg_mask``, ``ambiguous_mask``, ``ambiguous_image``, ``missing_other_input``,
    ``unreadable`` (also a broken symbolic link), ``mask_format``, ``colour_mask``, ``size_mismatch``, ``mask_values``,
    ``channels`` (problems); ``mask_without_image``, ``absent_classes`` (warnings).
    """

    path: str
    kind: str
    message: str

    def __str__(self):
        return f"{self.path}: {self.message}"


@dataclass
class VerifyReport:
    """What :func:`verify_dataset` found. True when there is no problem (warnings allowed).

    Attributes:
        n_pairs: image/mask pairs found.
        problems: :class:`Problem` list that would break or silently spoil training.
        warnings: :class:`Problem` list worth a look (orphan masks, absent classes).
        class_pixel_counts: ``{class id: pixels}`` over all readable masks.
        image_sizes: ``Counter`` of ``(height, width)``.
        image_modes, mask_modes: ``Counter`` of file modes (PIL names: ``RGB``, ``L``,
            ``RGBA``, ``P``, ``I;16``...; ``TIFF 6-band uint16``, ``npy 1-band uint8`` for others).
        image_channels, image_dtypes: ``Counter`` of channel counts and dtypes as read
            with ``read_image_type`` (what the network gets).
        seconds: time the check took.
    """

    images_path: str
    segs_path: str
    n_classes: int = None
    ignore_index: int = None
    n_pairs: int = 0
    problems: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    class_pixel_counts: dict = field(default_factory=dict)
    image_sizes: Counter = field(default_factory=Counter)
    image_modes: Counter = field(default_factory=Counter)
    mask_modes: Counter = field(default_factory=Counter)
    image_channels: Counter = field(default_factory=Counter)
    image_dtypes: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def ok(self):
        """True when no problem was found."""
        return not self.problems

    def __bool__(self):
        return self.ok

    @property
    def classes_found(self):
        """Sorted class ids present in the masks."""
        return sorted(self.class_pixel_counts)

    def raise_for_problems(self):
        """Raise a :class:`DataLoaderError` summarising the problems, if any.

        The class is the specific one when every problem is of one sort
        (:class:`MaskValueError` for mask values, :class:`ImageReadError` for
        unreadable files, ...; see :data:`keras_segmentation.errors.PROBLEM_ERRORS`).

        Example:
            >>> verify_dataset("imgs", "masks", 2).raise_for_problems()
        """
        if self.problems:
            first = "; ".join(str(p) for p in self.problems[:3])
            more = f" and {len(self.problems) - 3} more" if len(self.problems) > 3 else ""
            hint = ""
            if any(p.kind == "missing_mask" for p in self.problems):
                hint = orphan_masks_hint([w.path for w in self.warnings if w.kind == "mask_without_image"])
            raise problem_error(p.kind for p in self.problems)(
                f"dataset {self.images_path}: {len(self.problems)} problem(s): {first}{more}{hint} "
                "(run `keras_segmentation verify_dataset` for the full report)"
            )

    def format(self, class_names=None, max_problems=MAX_LISTED):
        """The report as a readable text table.

        Args:
            class_names: names shown next to class ids.
            max_problems: problems (and warnings) listed one by one; ``None`` lists all.
        """
        lines = [
            f"Dataset      {self.n_pairs} pairs, checked in {self.seconds:.1f} s",
            f"  images     {self.images_path}",
            f"  masks      {self.segs_path}",
            f"Image sizes  {_counts(self.image_sizes, lambda hw: f'{hw[1]}x{hw[0]}')}",
            f"Image files  {_counts(self.image_modes)}",
        ]
        if self.image_channels:
            channels = _counts(self.image_channels, lambda c: f"{c} channel(s)")
            lines.append(f"  as read    {channels}; {_counts(self.image_dtypes)}")
        lines.append(f"Mask files   {_counts(self.mask_modes)}")
        lines += self._class_table(class_names or [])
        for title, items in (("Problems", self.problems), ("Warnings", self.warnings)):
            if not items:
                continue
            kinds = Counter(p.kind for p in items)
            lines.append(f"{title} ({len(items)}): " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
            shown = items if max_problems is None else items[:max_problems]
            lines += [f"  {p}" for p in shown]
            if len(shown) < len(items):
                lines.append(f"  ... and {len(items) - len(shown)} more")
        if self.ok:
            lines.append(f"OK: dataset verified ({self.n_pairs} pairs, {len(self.warnings)} warning(s))")
        else:
            lines.append(f"FAILED: {len(self.problems)} problem(s) in {self.n_pairs} pairs")
        return "\n".join(lines)

    def _class_table(self, class_names):
        counts = self.class_pixel_counts
        total = sum(counts.values()) or 1
        found = self.classes_found
        if self.n_classes is None:
            head = f"Classes      {len(found)} found" + (
                f" (ids {found[0]}..{found[-1]}; n_classes={found[-1] + 1} covers them)" if found else ""
            )
        else:
            head = f"Classes      {len(found)} found, n_classes={self.n_classes}"
        ids = sorted(set(found) | set(range(self.n_classes or 0)))
        width = max([len(str(n)) for n in class_names] + [4])
        rows = [head, f"  {'id':>5}  {'name':<{width}}  {'pixels':>14}  {'share':>6}"]
        for class_id in ids[:MAX_CLASS_ROWS]:
            pixels = counts.get(class_id, 0)
            name = class_names[class_id] if class_id < len(class_names) else ""
            note = ""
            if class_id == self.ignore_index:
                note = "  ignored"
            elif self.n_classes is not None and class_id >= self.n_classes:
                note = "  OUT OF RANGE"
            elif pixels == 0:
                note = "  absent"
            rows.append(f"  {class_id:>5}  {name:<{width}}  {pixels:>14,}  {100 * pixels / total:>5.1f}%{note}")
        if len(ids) > MAX_CLASS_ROWS:
            rows.append(f"  ... and {len(ids) - MAX_CLASS_ROWS} more classes (see class_pixel_counts)")
        return rows


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
        colour_map: :class:`~keras_segmentation.data.images.ColourMap` (e.g.
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
    checker = _PairChecker(report.n_classes, ignore_index, colour_map, read_image_type, decode_images, channels)
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


# ------------------------------------------------------------------ one pair
@dataclass
class _PairResult:
    problems: list = field(default_factory=list)
    image_size: tuple = None
    channels: int = None
    dtype: str = None
    image_mode: str = "unreadable"
    mask_mode: str = "unreadable"
    counts: np.ndarray = None


class _PairChecker:
    """Checks one ``(image, mask[, others])`` pair; called from worker threads (no shared state)."""

    def __init__(self, n_classes, ignore_index, colour_map, read_image_type, decode_images, channels=None):
        self.channels = channels
        self.n_classes = n_classes
        self.ignore_index = ignore_index
        self.colour_map = colour_map
        self.read_image_type = read_image_type
        self.decode_images = decode_images

    def __call__(self, pair):
        result = _PairResult()
        image_path, mask_path = pair[0], pair[1]
        result.mask_mode = describe_file(mask_path)
        info = self._read(result, image_path, lambda: self._image_info(image_path))
        if info is not None:
            result.image_size, result.channels, result.dtype, result.image_mode = info
            problem = None if result.channels is None else channel_mismatch(result.channels, self.channels)
            if problem:
                result.problems.append(Problem(image_path, "channels", problem))
        pixels = self._read(result, mask_path, lambda: decode_mask(mask_path, self.colour_map is not None))
        mask = None
        if pixels is not None:
            if self.colour_map is None and is_colour_coded(pixels):
                result.problems.append(Problem(mask_path, "colour_mask", COLOUR_MASK_PROBLEM))
            else:
                mask = self._read(result, mask_path, lambda: mask_to_class_ids(pixels, self.colour_map, mask_path))
        if mask is not None:
            result.counts = np.bincount(mask.ravel(), minlength=1) if mask.size else np.zeros(1, np.int64)
            self._check_values(result, mask_path, result.counts)
            if info is not None and mask.shape[:2] != result.image_size:
                result.problems.append(Problem(
                    mask_path, "size_mismatch",
                    f"mask is {_wh(mask.shape)} but its image {os.path.basename(image_path)} is "
                    f"{_wh(result.image_size)} (width x height)",
                ))
        for other in pair[2] if len(pair) > 2 else ():
            extra = self._read(result, other, lambda other=other: self._image_info(other))
            if extra is not None and info is not None and extra[0] != result.image_size:
                result.problems.append(Problem(
                    other, "size_mismatch",
                    f"extra input is {_wh(extra[0])} but its image {os.path.basename(image_path)} is "
                    f"{_wh(result.image_size)}",
                ))
        return result

    def _image_info(self, path):
        """``((height, width), channels, dtype, mode)`` as training will read the image.

        PNGs are checked chunk by chunk (CRC and ``IEND``) without decoding;
        other formats are decoded. With ``decode_images=False`` only the header is read.
        """
        if not self.decode_images:
            return tuple(read_image_size(path)), None, None, describe_file(path)
        if is_png(path):
            png = inspect_png(path)
            as_read = _png_as_read(png, self.read_image_type)
            if as_read is not None:
                return (png.height, png.width), as_read[0], as_read[1], png.mode
        image = read_image(path, self.read_image_type)
        return image.shape[:2], image.shape[2], str(image.dtype), describe_file(path)

    @staticmethod
    def _read(result, path, read):
        try:
            return read()
        except SegmentationError as err:
            kind = "unreadable" if isinstance(err, OSError) else "mask_format"
            message = str(err)
            prefix = f"{path}: "
            result.problems.append(Problem(path, kind, message[len(prefix):] if message.startswith(prefix) else message))
            return None

    def _check_values(self, result, mask_path, counts):
        if self.n_classes is None or len(counts) <= self.n_classes:
            return
        present = np.flatnonzero(counts)
        bad = [int(v) for v in present if v >= self.n_classes and v != self.ignore_index]
        message = mask_values_problem(present, self.n_classes, self.ignore_index, int(sum(counts[v] for v in bad)))
        if message:
            result.problems.append(Problem(mask_path, "mask_values", message))


def _png_as_read(png, read_image_type):
    """``(channels, dtype)`` OpenCV gives for this PNG with ``read_image_type``, or ``None`` if unsure."""
    if read_image_type == READ_COLOR:
        return 3, "uint8"
    if read_image_type == READ_GRAYSCALE:
        return 1, "uint8"
    if png.colour_type in (0, 2, 6):  # gray, RGB, RGBA: OpenCV keeps channels and depth
        return png.channels, "uint16" if png.bit_depth == 16 else "uint8"
    return None  # palette / gray+alpha: let OpenCV decide


def _wh(shape):
    return f"{shape[1]}x{shape[0]}"


def _short(values, limit=10):
    """``[1, 2, 3]``, or the first ``limit`` values and a count."""
    values = list(values)
    if len(values) <= limit:
        return str(values)
    return f"[{', '.join(map(str, values[:limit]))}, ... ({len(values)} values)]"


def _counts(counter, label=str):
    if not counter:
        return "-"
    return ", ".join(f"{label(key)} ({n})" for key, n in counter.most_common())
