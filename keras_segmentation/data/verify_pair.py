"""Checking one ``(image, mask[, others])`` pair for :func:`~keras_segmentation.data.verify.verify_dataset`.

:class:`PairChecker` reads the pair as training will (images in ``read_image_type``,
masks as class ids), and returns a :class:`PairResult`: its
:class:`~keras_segmentation.data.verify_report.Problem` list (unreadable files,
colour-coded masks, mask values, sizes, channels) and what the pair holds (size,
channels, dtype, file modes, pixels per class).

Example:
    >>> checker = PairChecker(n_classes=2, ignore_index=None, colour_map=None, read_image_type=1, decode_images=True)
    >>> result = checker(("imgs/a.png", "masks/a.png"))
    >>> result.image_size, [p.kind for p in result.problems]
    ((8, 12), [])
"""

import os
from dataclasses import dataclass, field

import numpy as np

from ..errors import SegmentationError
from .images import READ_COLOR, READ_GRAYSCALE, channel_mismatch, read_image
from .masks import COLOUR_MASK_PROBLEM, decode_mask, is_colour_coded, mask_to_class_ids, mask_values_problem
from .png import inspect_png, is_png
from .rasters import describe_file, read_image_size
from .verify_report import Problem


@dataclass
class PairResult:
    """What :class:`PairChecker` found in one pair: its problems, and what the pair holds (``None``: unreadable)."""

    problems: list = field(default_factory=list)
    image_size: tuple = None
    channels: int = None
    dtype: str = None
    image_mode: str = "unreadable"
    mask_mode: str = "unreadable"
    counts: np.ndarray = None


class PairChecker:
    """Checks one ``(image, mask[, others])`` pair; called from worker threads (no shared state)."""

    def __init__(self, n_classes, ignore_index, colour_map, read_image_type, decode_images, channels=None):
        self.channels = channels
        self.n_classes = n_classes
        self.ignore_index = ignore_index
        self.colour_map = colour_map
        self.read_image_type = read_image_type
        self.decode_images = decode_images

    def __call__(self, pair):
        result = PairResult()
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

