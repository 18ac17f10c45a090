"""U-Net decoder (Ronneberger et al., 2015, https://arxiv.org/abs/1505.04597).

Two forms:

* :func:`unet_decoder` (``build_model("unet", ...)``): from the deepest level,
  repeatedly upsample to the next skip's size, concatenate the skip, and run
  two Conv-BN-ReLU blocks (``decoder_filters`` per stage, as in
  segmentation_models.pytorch). With ``full_resolution`` a last stage at the
  input resolution follows. Any input size works (upsampling goes to each
  skip's actual size).
* :func:`legacy_unet_decoder` (``unet``, ``vgg_unet``, ...): the original
  library's decoder: it starts at level ``encoder_level`` (P4 by default; the
  original ignored the argument), one ZeroPad + Conv3x3 (ReLU) + BatchNorm per
  stage with 512 / 256 / 128 / 64 filters, ``seg_feats`` on the last conv, and
  ends at stride 2. The ReLU is the original's master branch; its 0.3.0 release
  (PyPI) had none (``activation=None``, for checkpoints trained with it).

Example:
    >>> import keras
    >>> from keras_segmentation.models.encoders.legacy import build_vanilla
    >>> image = keras.Input((64, 64, 3))
    >>> unet_decoder(build_vanilla(image), image).x.shape
    (None, 64, 64, 16)
"""

from keras import layers

from ..head import DecoderOutput
from .blocks import available_levels, check_filters, unet_stage

DEFAULT_FILTERS = (256, 128, 64, 32, 16)


def unet_decoder(pyramid, inputs, *, full_resolution=True, decoder_filters=DEFAULT_FILTERS, start_level=None):
    """U-Net decoder over a pyramid; returns a :class:`DecoderOutput` for a 3x3 classifier.

    Args:
        pyramid: ``{"P1": ..., "P5": ...}`` from an encoder.
        inputs: the image input (sizes the full-resolution stage).
        full_resolution: add a last upsampling stage to the input size.
        decoder_filters: filters of each stage, deepest first.
        start_level: the deepest level used (``"P5"`` by default).
    """
    levels = available_levels(pyramid)
    top = start_level or levels[-1]
    skips = list(reversed(levels[: levels.index(top)]))
    check_filters(decoder_filters, len(skips) + int(full_resolution), "unet")
    x = pyramid[top]
    for stage, level in enumerate(skips):
        x = unet_stage(x, pyramid[level], [pyramid[level]], decoder_filters[stage], name=f"decoder_stage{stage}")
    if full_resolution:
        stage = len(skips)
        x = unet_stage(x, inputs, [], decoder_filters[stage], name=f"decoder_stage{stage}")
    return DecoderOutput(x, kernel_size=3)


def _legacy_stage(x, filters, activation, name=None):
    x = layers.ZeroPadding2D((1, 1))(x)
    x = layers.Conv2D(filters, (3, 3), padding="valid", activation=activation, name=name)(x)
    return layers.BatchNormalization()(x)


def legacy_unet_decoder(levels, encoder_level=3, l1_skip_conn=True, activation="relu"):
    """The original ``_unet`` decoder on ``levels = [f1, ..., f5]``; output at stride 2.

    ``encoder_level`` picks the deepest feature used (3 = f4, as the original
    always did); each shallower level is a skip connection. ``activation`` follows
    each conv (``None``: the original 0.3.0 release's decoder).
    """
    x = _legacy_stage(levels[encoder_level], 512, activation)
    for k in range(encoder_level - 1, -1, -1):
        x = layers.UpSampling2D((2, 2))(x)
        if k > 0 or l1_skip_conn:
            x = layers.concatenate([x, levels[k]], axis=-1)
        x = _legacy_stage(x, min(64 * 2**k, 512), activation, name="seg_feats" if k == 0 else None)
    return DecoderOutput(x, kernel_size=3)
