"""A tiny model of the uncertainty tests (``from uncertaintynets import half_res_net``; a module, not ``conftest``)."""

import keras

from keras_segmentation.models.segmentation_model import SegmentationModel


def half_res_net(seed=0):
    """Input 32x48, output 16x24 (like the original's half-resolution models)."""
    keras.utils.set_random_seed(seed)
    x = keras.Input((32, 48, 3))
    h = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
    y = keras.layers.Softmax()(keras.layers.Conv2D(3, 1)(h))
    return SegmentationModel(x, y, model_name="", normalization="divide")
