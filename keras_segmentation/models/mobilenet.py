"""The original ``get_mobilenet_encoder`` (MobileNet v1, alpha 1.0).

Fixed: ReLU6 is a ``keras.layers.ReLU(6.0)`` layer (the original's
``K.relu(x, max_value=6)`` does not exist in Keras 3) and any multiple of 32
is accepted as input size.

Example:
    >>> from keras_segmentation.models.mobilenet import get_mobilenet_encoder
    >>> img_input, levels = get_mobilenet_encoder(64, 96, pretrained=None)
    >>> levels[4].shape
    (None, 2, 3, 1024)
"""

from keras import ops

from .legacy_models import legacy_encoder
from .weights import DEFAULT_ENCODER_WEIGHTS

BASE_WEIGHT_PATH = "https://github.com/fchollet/deep-learning-models/releases/download/v0.6/"


def relu6(x):
    """ReLU capped at 6."""
    return ops.relu6(x)


def get_mobilenet_encoder(input_height=224, input_width=224, pretrained=DEFAULT_ENCODER_WEIGHTS, channels=3):
    """Return ``(img_input, [f1, ..., f5])``; sizes must be multiples of 32 (registry name ``"mobilenet"``)."""
    return legacy_encoder("mobilenet", input_height, input_width, pretrained, channels, 32, "get_mobilenet_encoder")


get_mobilenet_encoder.registry_name = "mobilenet"
