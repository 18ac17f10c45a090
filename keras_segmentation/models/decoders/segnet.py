"""SegNet-style models (Badrinarayanan et al., 2015, https://arxiv.org/abs/1511.00561): the decoder and the original names.

Neither form reuses pooling indices (as in the original library); both are
"upsample and convolve" decoders without skip connections.

* :func:`segnet_decoder` (``build_model("segnet", ...)``): from the deepest
  level, upsample to each shallower level's size and run two Conv-BN-ReLU blocks
  (512, 256, 128, 64 filters); with ``full_resolution`` a last stage at the
  input size.
* :func:`legacy_segnet_decoder` (``segnet``, ``vgg_segnet``, ...): the original
  decoder on ``levels[encoder_level]``: Conv512, then ``n_up`` x2 upsamplings with
  Conv256 / Conv128 ... / Conv64 (``seg_feats``), each conv followed by
  BatchNorm and no ReLU, as in the original.

The original names (re-exported by :mod:`keras_segmentation.models.segnet`) are
declared here: ``segnet``, ``vgg_segnet``, ``resnet50_segnet`` and
``mobilenet_segnet`` (:data:`SEGNET`: output at half the input size for the
default ``encoder_level=3``; ``full_resolution=True`` resizes the class scores
to the input size).

Example:
    >>> import keras
    >>> from keras_segmentation.models.encoders.legacy import build_vanilla
    >>> image = keras.Input((64, 64, 3))
    >>> segnet_decoder(build_vanilla(image), image, full_resolution=False).x.shape
    (None, 32, 32, 64)
    >>> segnet(3, 64, 64).output_shape
    (None, 32, 32, 3)
"""

from keras import layers

from ...errors import ModelConfigError
from ..head import DecoderOutput
from ..layers import resize_like
from ..legacy_models import Architecture, build_legacy, legacy_constructor
from ..weights import DEFAULT_ENCODER_WEIGHTS
from .blocks import available_levels, check_filters, conv_bn_relu

__all__ = [
    "segnet_decoder", "legacy_segnet_decoder", "original_segnet_decoder", "SEGNET", "CONSTRUCTORS", "_segnet",
    "segnet", "vgg_segnet", "resnet50_segnet", "mobilenet_segnet",
]

DEFAULT_FILTERS = (512, 256, 128, 64, 32)


def segnet_decoder(pyramid, inputs, *, full_resolution=True, decoder_filters=DEFAULT_FILTERS, start_level=None):
    """Mirror the encoder's downsampling without skips; returns a :class:`DecoderOutput`."""
    levels = available_levels(pyramid)
    top = start_level or levels[-1]
    targets = list(reversed(levels[: levels.index(top)]))
    check_filters(decoder_filters, len(targets) + int(full_resolution), "segnet")
    x = pyramid[top]
    for stage, level in enumerate(targets):
        x = resize_like(x, pyramid[level], interpolation="nearest")
        x = conv_bn_relu(x, decoder_filters[stage], name=f"decoder_stage{stage}a")
        x = conv_bn_relu(x, decoder_filters[stage], name=f"decoder_stage{stage}b")
    if full_resolution:
        stage = len(targets)
        x = resize_like(x, inputs, interpolation="nearest")
        x = conv_bn_relu(x, decoder_filters[stage], name=f"decoder_stage{stage}a")
        x = conv_bn_relu(x, decoder_filters[stage], name=f"decoder_stage{stage}b")
    return DecoderOutput(x, kernel_size=3)


def _legacy_stage(x, filters, name=None):
    x = layers.ZeroPadding2D((1, 1))(x)
    x = layers.Conv2D(filters, (3, 3), padding="valid", name=name)(x)
    return layers.BatchNormalization()(x)


def legacy_segnet_decoder(f, n_up=3):
    """The original ``segnet_decoder`` body (without its classifier); ``n_up`` >= 2 upsamplings."""
    x = _legacy_stage(f, 512)
    x = layers.UpSampling2D((2, 2))(x)
    x = _legacy_stage(x, 256)
    for _ in range(n_up - 2):
        x = layers.UpSampling2D((2, 2))(x)
        x = _legacy_stage(x, 128)
    x = layers.UpSampling2D((2, 2))(x)
    x = _legacy_stage(x, 64, name="seg_feats")
    return DecoderOutput(x, kernel_size=3)


def original_segnet_decoder(f, n_classes, n_up=3):
    """The original ``segnet_decoder``: decoder convolutions plus the 3x3 classifier (class scores)."""
    if n_up < 2:
        raise ModelConfigError(f"segnet_decoder: n_up must be >= 2, got {n_up}")
    return layers.Conv2D(n_classes, (3, 3), padding="same")(legacy_segnet_decoder(f, n_up).x)


# ============================================================ the original names

#: the original SegNet decoder on ``levels[encoder_level]``
SEGNET = Architecture(
    "segnet",
    lambda levels, n_classes, encoder_level: legacy_segnet_decoder(levels[encoder_level], n_up=3),
    output_size=lambda h, w: (h // 2, w // 2),
    summary="SegNet-style model on the {encoder} encoder; output at half the input size unless full_resolution.",
    encoder_levels=(0, 1, 2, 3, 4),
)


def _segnet(n_classes, encoder, input_height=416, input_width=608, encoder_level=3, channels=3, *,
            encoder_weights=DEFAULT_ENCODER_WEIGHTS, full_resolution=False):
    """The original ``_segnet``: :data:`SEGNET` on any encoder (an original encoder function or a registry name)."""
    return build_legacy(SEGNET, encoder, n_classes, input_height, input_width, channels, encoder_weights=encoder_weights,
                        full_resolution=full_resolution, encoder_level=encoder_level)


segnet = legacy_constructor("segnet", SEGNET, "vanilla", (416, 608))
vgg_segnet = legacy_constructor("vgg_segnet", SEGNET, "vgg16", (416, 608))
resnet50_segnet = legacy_constructor("resnet50_segnet", SEGNET, "resnet50", (416, 608))
mobilenet_segnet = legacy_constructor("mobilenet_segnet", SEGNET, "mobilenet", (224, 224))

#: the original names declared here, in the original's order
CONSTRUCTORS = (segnet, vgg_segnet, resnet50_segnet, mobilenet_segnet)
