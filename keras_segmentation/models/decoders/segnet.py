"""SegNet-style decoder (Badrinarayanan et al., 2015, https://arxiv.org/abs/1511.00561).

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

Example:
    >>> import keras
    >>> from keras_segmentation.models.encoders.legacy import build_vanilla
    >>> image = keras.Input((64, 64, 3))
    >>> segnet_decoder(build_vanilla(image), image, full_resolution=False).x.shape
    (None, 32, 32, 64)
"""

from keras import layers

from ..head import DecoderOutput
from ..layers import resize_like
from .blocks import available_levels, check_filters, conv_bn_relu

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
