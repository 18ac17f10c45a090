"""The original ``get_resnet50_encoder`` (ResNet-50 with its original layer names).

Fixed: inputs below 224 px work (the unused trailing ``AveragePooling2D((7, 7))``
is gone) and the one-sided padding is a ``ZeroPadding2D`` instead of a ``Lambda``.

Example:
    >>> from keras_segmentation.models.resnet50 import get_resnet50_encoder
    >>> img_input, levels = get_resnet50_encoder(64, 64, pretrained=None)
    >>> [tuple(f.shape[1:3]) for f in levels]
    [(32, 32), (16, 16), (8, 8), (4, 4), (2, 2)]
"""

from .encoders.legacy import conv_block, identity_block, one_side_pad
from .legacy_models import legacy_encoder
from .weights import DEFAULT_ENCODER_WEIGHTS

__all__ = ["get_resnet50_encoder", "identity_block", "conv_block", "one_side_pad", "pretrained_url"]

#: where the original downloaded its weights (now fetched through keras.applications)
pretrained_url = (
    "https://github.com/fchollet/deep-learning-models/releases/download/v0.2/"
    "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
)


def get_resnet50_encoder(
    input_height=224,
    input_width=224,
    pretrained=DEFAULT_ENCODER_WEIGHTS,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    channels=3,
):
    """Return ``(img_input, [f1, ..., f5])``; sizes must be multiples of 32 (registry name ``"resnet50"``).

    Only ``input_height``, ``input_width``, ``pretrained`` and ``channels`` are
    used; the other arguments are accepted for compatibility (as in the original).
    """
    return legacy_encoder("resnet50", input_height, input_width, pretrained, channels, 32, "get_resnet50_encoder")


get_resnet50_encoder.registry_name = "resnet50"
