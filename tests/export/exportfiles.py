"""Helpers of the export tests (``from exportfiles import ...``): small models built once, calibration images."""

import cv2
import keras
import numpy as np

from keras_segmentation.models import build_model


def write_calibration_images(folder):
    """Eight smooth random 64x64 images in ``folder`` (blurred noise: closer to photographs than white noise)."""
    rng = np.random.default_rng(0)
    for index in range(8):
        image = cv2.GaussianBlur(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), (7, 7), 0)
        cv2.imwrite(str(folder / f"{index:02d}.png"), image)
    return folder


_MODELS = {}


def small_model(decoder, encoder, size=64, n_classes=3):
    """A ``build_model`` model at ``size`` x ``size``, built once per session (seeded)."""
    key = (decoder, encoder, size, n_classes)
    if key not in _MODELS:
        keras.utils.set_random_seed(0)
        _MODELS[key] = build_model(decoder, encoder, n_classes, size, size)
    return _MODELS[key]
