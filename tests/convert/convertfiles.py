"""Helpers for the convert tests: tiny 8x10 images and masks made by the tests (``from convertfiles import ...``)."""

import os

import cv2
import numpy as np

H, W = 8, 10


def image_png(seed=0):
    """PNG bytes of an 8x10 colour image (content does not matter, its bytes are compared)."""
    pixels = np.random.default_rng(seed).integers(0, 255, (H, W, 3), dtype=np.uint8)
    return cv2.imencode(".png", pixels)[1].tobytes()


def write(path, data):
    """Write bytes (or a NumPy image, as PNG) to ``path``, making its folder; returns the path."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(data, np.ndarray):
        data = cv2.imencode(".png", data)[1].tobytes()
    with open(path, "wb") as handle:
        handle.write(data)
    return path


def read_mask(path):
    """A written mask, checked to be a single-channel 8-bit PNG."""
    mask = cv2.imread(os.fspath(path), cv2.IMREAD_UNCHANGED)
    assert mask is not None and mask.ndim == 2 and mask.dtype == np.uint8, path
    return mask


def read_lines(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read().splitlines()
