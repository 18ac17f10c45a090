"""Helpers of the serve tests (``from servefiles import ...``; a module, not ``conftest``, whose name other test
folders share): the tiny model and the test image."""

import cv2
import numpy as np

NAMES = ["background", "grass", "flower"]


def patches_image(height=40, width=56, seed=7):
    """A BGR image of smooth colour patches (a 5x7 random image enlarged): several classes in the tiny model's answer."""
    small = np.random.default_rng(seed).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def tiny_model(last_bias=None):
    """A seeded 32x48 unet_mini whose last convolution is redrawn so that its classes vary over an image (with
    ``last_bias``, a zero kernel and that bias instead: one class everywhere)."""
    import keras

    from keras_segmentation.models.unet import unet_mini

    keras.utils.set_random_seed(0)
    model = unet_mini(3, input_height=32, input_width=48)
    last = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)][-1]
    kernel, bias = last.get_weights()
    if last_bias is None:
        kernel = np.random.default_rng(1).normal(0, 1, kernel.shape).astype(np.float32)
        kernel -= kernel.mean(-1, keepdims=True)
        last.set_weights([kernel, bias * 0])
    else:
        last.set_weights([kernel * 0, np.asarray(last_bias, np.float32)])
    return model
