"""Resizing class probabilities to an image's resolution, in bounded memory.

Example:
    >>> labels = upscale_labels(probs, (360, 480))           # (360, 480) class ids
    >>> probs_full = upscale_probabilities(probs, (360, 480))  # (360, 480, n_classes)
"""

import cv2
import numpy as np

from ..data.normalization import RESIZE_MAX_CHANNELS, resize_image

#: Bytes of resized probabilities held at once by :func:`upscale_labels`.
_LABELS_CHUNK_BYTES = 128 * 2**20


def upscale_labels(probs, size):
    """The arg-max of ``probs`` resized bilinearly to ``size=(height, width)``, in bounded memory.

    Equal to ``upscale_probabilities(probs, size).argmax(-1)``, but the classes
    are resized a few at a time, so a 12-megapixel photo with 150 classes needs
    about 128 MiB instead of 7 GiB.
    """
    height, width = size
    n_classes = probs.shape[-1]
    step = max(1, min(RESIZE_MAX_CHANNELS, _LABELS_CHUNK_BYTES // (4 * height * width)))
    if step >= n_classes:
        return upscale_probabilities(probs, size).argmax(-1)
    best = labels = None
    for start in range(0, n_classes, step):
        part = upscale_probabilities(probs[..., start : start + step], size)
        index = part.argmax(-1)
        value = np.take_along_axis(part, index[..., None], -1)[..., 0]
        if best is None:
            best, labels = value, index
        else:
            better = value > best  # ties keep the lower class id, as argmax does
            best = np.where(better, value, best)
            labels = np.where(better, index + start, labels)
    return labels


def upscale_probabilities(probs, size):
    """Resize ``(h, w, C)`` probabilities to ``size=(height, width)`` bilinearly (OpenCV, any C)."""
    return resize_image(probs.astype(np.float32, copy=False), size, cv2.INTER_LINEAR)

