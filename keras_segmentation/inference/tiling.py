"""Inference at any size: sliding windows with blended overlaps, and test-time augmentation.

``mode="slide"`` predicts an image tile by tile at its own scale instead of resizing
it to the model's input: tiles of ``tile=(h, w)`` (default: the model's input size;
512 x 512 for a model that takes any size) step by ``(1 - overlap)`` of a tile, the
image is padded by mirroring so any size works (strips of 1 pixel, images smaller
than a tile), and overlapping predictions are averaged with weights:
``blend="gaussian"`` (a Gaussian bump, sigma 1/8 of the tile, as MONAI's
``sliding_window_inference``: tile borders, where context is missing, count least)
or ``"uniform"``.

Memory is bounded by rows of tiles: only the probabilities of the row of tiles in
progress are held (``tile height x image width x classes`` float32, e.g. 512 x 20,000
x 12 x 4 B = 0.46 GiB), tiles go through the model ``batch_size`` at a time, and rows
of labels are finished as soon as no later tile overlaps them. With ``with_probabilities`` the whole map is kept, so it is for
images whose probability map fits in memory.

Test-time augmentation (:class:`TestTimeAugmentation`) averages the probabilities of
each model input and of its flips (horizontal, vertical) and rescalings (for
models that take any size), mapped back; it works in both modes.

Uncertainty maps (:mod:`keras_segmentation.uncertainty`, ``uncertainty=``) are computed per model call at
the model's output resolution (:meth:`TestTimeAugmentation.forward_uncertainty`); :func:`slide` resizes each
tile's map to the tile and blends it with the tile weights like the probabilities, one more channel of the
row buffer, so the memory stays bounded and a one-tile image gets the map resize mode gives.

Example:
    >>> window = SlidingWindow(tile=(256, 256), overlap=0.25, blend="gaussian")
    >>> labels = slide_labels(model, image, window, TestTimeAugmentation(flips=("h",)), batch_size=4)
"""

import dataclasses

import cv2
import numpy as np

from ..data.normalization import normalize_image, resize_image
from ..errors import ModelConfigError
from ..uncertainty import raw_entropy, uncertainty_map, with_temperature
from .upscale import upscale_probabilities

BLENDS = ("gaussian", "uniform")
FLIPS = {"h": 2, "v": 1}  # flip name -> axis of an (N, H, W, C) batch
#: the scales ``tta="scale"`` uses when none are given
DEFAULT_SCALES = (0.75, 1.0, 1.25)
#: tile of a model that takes any input size, when none is given
DEFAULT_FREE_TILE = (512, 512)
#: the flips ``uncertainty="tta"`` makes when no augmentation is asked: both ways, as the default training
#: augmentation (``aug_all``) flips; give ``tta="hflip"`` for a model trained on upright images only
UNCERTAINTY_FLIPS = ("h", "v")


@dataclasses.dataclass(frozen=True)
class SlidingWindow:
    """Tiles of ``tile=(height, width)`` overlapping by ``overlap`` (0 <= overlap < 1), blended by ``blend``."""

    tile: tuple
    overlap: float = 0.25
    blend: str = "gaussian"

    def __post_init__(self):
        if len(self.tile) != 2 or min(int(t) for t in self.tile) < 1:
            raise ModelConfigError(f"tile={self.tile!r}: expected (height, width), both at least 1")
        if not 0 <= float(self.overlap) < 1:
            raise ModelConfigError(f"overlap={self.overlap!r}: expected a fraction in [0, 1)")
        if self.blend not in BLENDS:
            raise ModelConfigError(f"blend={self.blend!r}: choose one of {', '.join(BLENDS)}")

    @property
    def strides(self):
        """Step between tiles, ``(rows, columns)``; at least 1 pixel."""
        return tuple(max(1, int(round(t * (1 - float(self.overlap))))) for t in self.tile)

    def weights(self):
        """The ``(tile_h, tile_w)`` float32 weight of each pixel of a tile."""
        height, width = self.tile
        if self.blend == "uniform":
            return np.ones((height, width), np.float32)
        rows = _gaussian(height)
        columns = _gaussian(width)
        return np.maximum(np.outer(rows, columns), 1e-3).astype(np.float32)


def _gaussian(length):
    centre, sigma = (length - 1) / 2, max(length / 8, 1e-3)
    values = np.exp(-0.5 * ((np.arange(length) - centre) / sigma) ** 2)
    return values / values.max()


def tile_starts(length, tile, stride):
    """Start offsets of tiles of ``tile`` pixels covering ``length`` (>= tile), the last one flush with the end.

    Example:
        >>> tile_starts(10, 4, 3)
        [0, 3, 6]
    """
    starts = list(range(0, max(length - tile, 0) + 1, stride))
    if starts[-1] + tile < length:
        starts.append(length - tile)
    return starts


@dataclasses.dataclass(frozen=True)
class TestTimeAugmentation:
    """Average the predictions of flipped (``flips``: ``"h"``, ``"v"``) and rescaled (``scales``) copies.

    Each flip and each scale other than 1 adds one forward pass per input
    (``len(scales) x (1 + len(flips))`` in all); results are mapped back and averaged.
    """

    __test__ = False  # not a pytest class, despite its name

    flips: tuple = ()
    scales: tuple = (1.0,)

    def __post_init__(self):
        unknown = [f for f in self.flips if f not in FLIPS]
        if unknown:
            raise ModelConfigError(f"flips={self.flips!r}: use 'h' (left-right) and/or 'v' (up-down)")
        if not self.scales or min(float(s) for s in self.scales) <= 0:
            raise ModelConfigError(f"scales={self.scales!r}: expected positive factors, e.g. (0.75, 1.0, 1.25)")

    @classmethod
    def from_names(cls, names, scales=None, flip_tta=False):
        """From ``tta=`` names (``"hflip"``, ``"vflip"``, ``"flip"`` = both, ``"scale"``) and ``flip_tta``.

        Example:
            >>> TestTimeAugmentation.from_names("flip,scale")
            TestTimeAugmentation(flips=('h', 'v'), scales=(0.75, 1.0, 1.25))
        """
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names or ())
        known = {"hflip": ("h",), "vflip": ("v",), "flip": ("h", "v"), "scale": ()}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ModelConfigError(f"tta={unknown[0]!r}: choose from {', '.join(known)}")
        flips = [f for n in names for f in known[n]] + (["h"] if flip_tta else [])
        if scales is None:
            scales = DEFAULT_SCALES if "scale" in names else (1.0,)
        return cls(tuple(dict.fromkeys(flips)), tuple(float(s) for s in scales))

    @property
    def active(self):
        return bool(self.flips) or tuple(self.scales) != (1.0,)

    def for_uncertainty(self, method):
        """This augmentation, or :data:`UNCERTAINTY_FLIPS` when ``method`` is ``"tta"`` and none is asked."""
        if method != "tta" or self.active:
            return self
        return dataclasses.replace(self, flips=UNCERTAINTY_FLIPS)

    def forward(self, model, batch, pass_entropy=False):
        """Probabilities of ``batch`` (N, H, W, C), averaged over the augmentations, at the plain output's size.

        ``pass_entropy=True`` returns ``(probabilities, entropy)``: ``entropy`` (N, h, w) is the mean of the
        passes' :func:`~keras_segmentation.uncertainty.raw_entropy` (nats), what the ``"tta"`` map needs.
        """
        plain = np.asarray(model.predict_on_batch(batch))
        if not self.active:
            return (plain, raw_entropy(plain)) if pass_entropy else plain
        size = plain.shape[1:3]
        total, count = np.zeros_like(plain, dtype=np.float32), 0
        entropy = np.zeros(plain.shape[:3], np.float32) if pass_entropy else None
        for scale in self.scales:
            scaled = batch if scale == 1 else _rescale(batch, scale, model)
            base = plain if scale == 1 else np.asarray(model.predict_on_batch(scaled))
            outputs = [base] + [
                np.flip(np.asarray(model.predict_on_batch(np.ascontiguousarray(np.flip(scaled, FLIPS[f])))), FLIPS[f])
                for f in self.flips
            ]
            for output in outputs:
                output = output if output.shape[1:3] == size else _resize_batch(output, size)
                total += output
                if entropy is not None:
                    entropy += raw_entropy(output)
                count += 1
        return (total / count, entropy / count) if pass_entropy else total / count

    def forward_uncertainty(self, model, batch, method=None, temperature=None):
        """``(probabilities, maps)``: :meth:`forward`'s probabilities and the ``method`` map of each input.

        ``maps`` is (N, h, w) float32 in [0, 1] at the output's size, or ``None`` without a ``method``.
        ``"entropy"`` and ``"margin"`` are computed from the probabilities scaled by ``temperature``
        (:func:`~keras_segmentation.uncertainty.with_temperature`); ``"tta"`` from the passes as the model
        gives them (a temperature calibrates one pass's confidence; the disagreement is between passes).
        The probabilities are returned as the model gave them (the labels do not depend on the temperature).
        """
        if method is None:
            return self.forward(model, batch), None
        if method == "tta":
            probabilities, entropy = self.forward(model, batch, pass_entropy=True)
            return probabilities, uncertainty_map(method, probabilities, entropy)
        probabilities = self.forward(model, batch)
        return probabilities, uncertainty_map(method, with_temperature(probabilities, temperature))


def _rescale(batch, scale, model):
    if model.input_height is not None or model.input_width is not None:
        raise ModelConfigError(
            f"scales={scale!r}: rescaling needs a model that takes any input size "
            f"(this one takes {model.input_height}x{model.input_width})"
        )
    height, width = (max(1, int(round(d * scale))) for d in batch.shape[1:3])
    return _resize_batch(batch, (height, width))


def _resize_batch(batch, size):
    return np.stack([resize_image(item, size, cv2.INTER_LINEAR) for item in batch])


# ---------------------------------------------------------------- the slide
def default_window(model, tile=None, overlap=0.25, blend="gaussian"):
    """The :class:`SlidingWindow` for ``model``: ``tile`` or the model's input size (512 x 512 for any size)."""
    if tile is None:
        fixed = model.input_height is not None and model.input_width is not None
        tile = (model.input_height, model.input_width) if fixed else DEFAULT_FREE_TILE
    elif isinstance(tile, int):
        tile = (tile, tile)
    tile = tuple(int(t) for t in tile)
    for given, needed, side in ((tile[0], model.input_height, "height"), (tile[1], model.input_width, "width")):
        if needed is not None and given != needed:
            raise ModelConfigError(f"tile {side} {given}: this model takes inputs of {needed} pixels, use tile={needed}")
    return SlidingWindow(tile, overlap, blend)


class ArrayRows:
    """An image in memory as the row source :func:`slide` reads: ``shape`` and ``rows(top, bottom)``."""

    def __init__(self, image):
        self.image = image
        self.shape = image.shape

    def rows(self, top, bottom):
        return self.image[top:bottom]


def slide(model, source, window, tta, normalization, batch_size=2, uncertainty=None, temperature=None):
    """Yield ``(top, probabilities)`` bands of an image, top to bottom, each finished.

    ``source`` is an (H, W, C) array of raw pixels, or any object with ``shape`` and
    ``rows(top, bottom)`` (a raster read window by window): only the rows of one
    row of tiles are read at a time. The bands together cover the image exactly:
    ``probabilities`` is a ``(rows, W, n_classes)`` float32 view for image rows
    ``top .. top + rows``, valid until the next band is asked for (copy it to keep it).
    With ``uncertainty`` (a method of :mod:`keras_segmentation.uncertainty`; ``temperature`` as in
    :meth:`TestTimeAugmentation.forward_uncertainty`) it yields ``(top, probabilities, map)``: ``map`` is the
    ``(rows, W)`` blend of the tiles' maps, a view likewise.
    """
    source = ArrayRows(source) if isinstance(source, np.ndarray) else source
    height, width = source.shape[:2]
    tile_h, tile_w = window.tile
    ys = tile_starts(max(height, tile_h), tile_h, window.strides[0])
    xs = tile_starts(max(width, tile_w), tile_w, window.strides[1])
    weights = window.weights()[:, :, None]
    # Rows ys[i] .. ys[i] + tile_h: the only ones a tile of row i touches that are not finished yet.
    # With uncertainty the map is one more channel, after the classes: blended, moved and divided with them.
    acc = wsum = None
    for i, y in enumerate(ys):
        # Tiles end inside the image unless it is smaller than a tile; then the mirror fills it up.
        pixels = _pad(source.rows(y, min(y + tile_h, height)), tile_h, max(width, tile_w))
        # Tiles are normalised one by one (overlaps twice): normalising the whole row once measured slower
        # and larger on a 20,000-pixel-wide image (59-62 s and 3.14 GiB against 53 s and 2.88 GiB).
        for k in range(0, len(xs), batch_size):
            starts = xs[k : k + batch_size]
            tiles = np.stack([normalize_image(pixels[:, x : x + tile_w], normalization) for x in starts])
            probs, maps = tta.forward_uncertainty(model, tiles, uncertainty, temperature)
            if maps is not None:
                probs = np.concatenate([probs, maps[..., None]], axis=-1)
            for x, tile_probs in zip(starts, probs):
                if acc is None:
                    acc = np.zeros((tile_h, pixels.shape[1], tile_probs.shape[-1]), np.float32)
                    wsum = np.zeros((tile_h, pixels.shape[1], 1), np.float32)
                if tile_probs.shape[:2] != (tile_h, tile_w):
                    tile_probs = upscale_probabilities(tile_probs, (tile_h, tile_w))
                acc[:, x : x + tile_w] += tile_probs * weights
                wsum[:, x : x + tile_w] += weights
        done = (ys[i + 1] if i + 1 < len(ys) else max(height, tile_h)) - y  # rows no later tile touches
        rows = min(done, height - y)
        if rows > 0:
            np.divide(acc[:rows], wsum[:rows], out=acc[:rows])
            if uncertainty is None:
                yield y, acc[:rows, :width]
            else:
                yield y, acc[:rows, :width, :-1], np.clip(acc[:rows, :width, -1], 0, 1, out=acc[:rows, :width, -1])
        if done < tile_h:  # move the unfinished rows to the top of the buffer, in place
            acc[: tile_h - done] = acc[done:]
            wsum[: tile_h - done] = wsum[done:]
        acc[max(tile_h - done, 0) :] = 0
        wsum[max(tile_h - done, 0) :] = 0


def _pad(image, height, width):
    """Mirror-pad ``image`` at the bottom and right to at least ``height x width`` (any size, even 1 pixel).

    Symmetric padding of a band of rows equals that of the whole image cut to the band,
    so :func:`slide` can pad row by row.
    """
    pad_h, pad_w = height - image.shape[0], width - image.shape[1]
    if pad_h <= 0 and pad_w <= 0:
        return image
    pads = [(0, max(pad_h, 0)), (0, max(pad_w, 0))] + [(0, 0)] * (image.ndim - 2)
    return np.pad(image, pads, mode="symmetric")


def slide_labels(model, image, window, tta, normalization, batch_size=2, with_probabilities=False, uncertainty=None,
                 temperature=None):
    """``(labels, probabilities or None, map or None)`` of ``image`` by :func:`slide`.

    Labels are uint8 (uint16 above 256 classes), the arg-max of the blended probabilities; the probabilities
    kept (``with_probabilities``) are scaled by ``temperature``; the map is ``uncertainty``'s (H, W) float32.
    """
    labels = np.empty(image.shape[:2], np.uint8 if model.n_classes <= 256 else np.uint16)
    kept = [] if with_probabilities else None
    uncertain = np.empty(image.shape[:2], np.float32) if uncertainty is not None else None
    for top, band, *maps in slide(model, image, window, tta, normalization, batch_size, uncertainty, temperature):
        labels[top : top + band.shape[0]] = band.argmax(-1)
        if kept is not None:
            kept.append(with_temperature(band.copy(), temperature))
        if uncertain is not None:
            uncertain[top : top + band.shape[0]] = maps[0]
    return labels, (np.concatenate(kept) if kept is not None else None), uncertain


def needs_slide_hint(model, image_shape):
    """True when an image is more than twice the model's fixed input in both sides (say once that slide exists)."""
    if model.input_height is None or model.input_width is None:
        return False
    return image_shape[0] > 2 * model.input_height and image_shape[1] > 2 * model.input_width


__all__ = [
    "ArrayRows",
    "SlidingWindow",
    "TestTimeAugmentation",
    "default_window",
    "slide",
    "slide_labels",
    "tile_starts",
    "needs_slide_hint",
    "BLENDS",
    "DEFAULT_SCALES",
    "UNCERTAINTY_FLIPS",
]
