"""The original ``get_vgg_encoder``: VGG16 features, ImageNet weights by default.

Example:
    >>> from keras_segmentation.models.vgg16 import get_vgg_encoder
    >>> img_input, levels = get_vgg_encoder(64, 64, pretrained=None)
    >>> levels[4].shape
    (None, 2, 2, 512)
"""

from .legacy_models import legacy_encoder
from .weights import DEFAULT_ENCODER_WEIGHTS

#: where the original downloaded its weights (now fetched through keras.applications)
pretrained_url = (
    "https://github.com/fchollet/deep-learning-models/releases/download/v0.1/"
    "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
)


def get_vgg_encoder(input_height=224, input_width=224, pretrained=DEFAULT_ENCODER_WEIGHTS, channels=3):
    """Return ``(img_input, [f1, ..., f5])``; sizes must be multiples of 32 (registry name ``"vgg16"``).

    ``pretrained``: ``"imagenet"``, ``None`` or a weights file path.
    """
    return legacy_encoder("vgg16", input_height, input_width, pretrained, channels, 32, "get_vgg_encoder")


get_vgg_encoder.registry_name = "vgg16"
