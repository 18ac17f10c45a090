"""What an exported graph takes and gives, without Keras: tensor names, the uint8 input, the normalisation map.

The formats' runners (:mod:`keras_segmentation.export.formats`) run exported files with this alone, so predicting with an
ONNX or LiteRT file never imports TensorFlow or Keras.

Example:
    >>> to_uint8(np.array([-3.0, 12.4, 300.0]))
    array([  0,  12, 255], dtype=uint8)
"""

import numpy as np

from ..data.normalization import normalize_image, resize_image
from ..data.rasters import rgb_to_bgr

#: Names of the exported graph's tensors (ONNX, SavedModel signature, LiteRT signature, Triton config).
INPUT_NAME = "image"
PROBABILITIES = "probabilities"
LABELS = "labels"


def to_uint8(pixels):
    """Float pixels on the 0..255 scale -> the uint8 an exported graph takes (rounded, clipped)."""
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)


def graph_input(image, size=None):
    """An image as the library reads it (BGR(A), any depth) -> the uint8 RGB(A) an exported graph takes.

    Other channel counts keep their order. ``size=(height, width)`` resizes it first. 8-bit images take a
    short path (resize, reorder; no float copy) with the same result as the general one, 16-bit and float
    images go through ``normalize_image(image, "none")`` and :func:`to_uint8`.

    Example:
        >>> graph_input(np.array([[[1, 2, 3]]], np.uint8)).tolist()
        [[[3, 2, 1]]]
    """
    if image.dtype != np.uint8:
        return to_uint8(normalize_image(image, "none", size))
    if size is not None and tuple(image.shape[:2]) != tuple(size):
        image = resize_image(image, size)
    if image.shape[2] in (3, 4):
        return rgb_to_bgr(image)  # the swap is its own inverse: BGR(A) -> RGB(A), a new contiguous array
    return np.ascontiguousarray(image)


def normalization_affine(normalization, channels):
    """``(scale, offset, bgr)`` with ``normalize_image(bgr_image) == rgb_image[..., order] * scale + offset``.

    ``bgr`` says whether the network sees the colour channels in BGR order ("caffe");
    ``normalize_image`` is evaluated on constant images to read the map off it.

    Example:
        >>> scale, offset, bgr = normalization_affine("divide", 3)
        >>> float(scale[0]), float(offset[0]), bgr
        (0.00392156..., 0.0, False)
    """
    zeros = normalize_image(np.zeros((1, 1, channels), np.uint8), normalization)[0, 0]
    ones = normalize_image(np.ones((1, 1, channels), np.uint8), normalization)[0, 0]
    bgr = normalization == "caffe" and channels in (3, 4)
    return (ones - zeros).astype("float32"), zeros.astype("float32"), bgr


def channel_order(channels):
    """The order of an image's channels as the library hands them to a graph: ``"gray"``, ``"RGB"``, ``"RGBA"``.

    Example:
        >>> channel_order(3), channel_order(6)
        ('RGB', 'bands as stored')
    """
    return {1: "gray", 3: "RGB", 4: "RGBA"}.get(channels, "bands as stored")


def describe_normalization(normalization, channels):
    """How ``normalization`` maps pixels (:func:`channel_order`, 0..255) to the network's input, as plain JSON.

    ``network_input = pixels[..., order] * scale + offset``, ``order`` reversing the colour channels where
    ``network_channel_order`` is ``"BGR"``.

    Example:
        >>> describe_normalization("divide", 1)
        {'name': 'divide', 'network_channel_order': 'gray', 'scale': [0.003921...], 'offset': [0.0]}
    """
    scale, offset, bgr = normalization_affine(normalization, channels)
    return {"name": normalization, "network_channel_order": "BGR" if bgr else channel_order(channels),
            "scale": scale.tolist(), "offset": offset.tolist()}
