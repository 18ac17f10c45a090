"""Helpers for the suggest tests (``from suggestfiles import ...``): a label map with holes, images, agreement."""

import cv2
import numpy as np

H, W = 96, 128


def label_map():
    """A 96x128 class-id map of 4 classes with holes: class 0 in a hole of class 1 (holding class 2), class 3 in
    class 1, class 0 in a slanted class-2 ellipse, a thin slanted class-3 line."""
    labels = np.zeros((H, W), np.uint8)
    cv2.rectangle(labels, (6, 6), (76, 80), 1, -1)
    cv2.circle(labels, (40, 40), 20, 0, -1)
    cv2.circle(labels, (40, 40), 8, 2, -1)
    cv2.rectangle(labels, (12, 64), (24, 74), 3, -1)
    cv2.ellipse(labels, (104, 60), (16, 30), 30, 0, 360, 2, -1)
    cv2.circle(labels, (104, 60), 8, 0, -1)
    cv2.line(labels, (84, 4), (124, 18), 3, 2)
    return labels


def write_image(path, seed=0, size=(H, W)):
    """An image of random colours at ``path`` (PNG); returns the path as text."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.random.default_rng(seed).integers(0, 255, (*size, 3), dtype=np.uint8))
    return str(path)


def agreement(a, b):
    """The share of pixels where two label maps agree."""
    return float((np.asarray(a) == np.asarray(b)).mean())
