"""U-Net (Ronneberger et al., 2015, https://arxiv.org/abs/1505.04597): the decoder and the original U-Net names.

Two decoders:

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

The original names (re-exported by :mod:`keras_segmentation.models.unet`) are
declared here: ``unet``, ``vgg_unet``, ``resnet50_unet`` and ``mobilenet_unet``
(:data:`UNET`: output at half the input size, e.g. 208x304 for 416x608;
``encoder_level`` now works, ``decoder_activation=None`` builds the 0.3.0
release's decoder, which :mod:`keras_segmentation.migrate` picks for checkpoints
trained with it; ``full_resolution=True`` upsamples the class scores to the
input size) and ``unet_mini`` (:data:`UNET_MINI`: the original small stand-alone
U-Net, full resolution, inputs multiple of 4).

Example:
    >>> import keras
    >>> from keras_segmentation.models.encoders.legacy import build_vanilla
    >>> image = keras.Input((64, 64, 3))
    >>> unet_decoder(build_vanilla(image), image).x.shape
    (None, 64, 64, 16)
    >>> vgg_unet(3, 64, 64, encoder_weights=None).output_shape
    (None, 32, 32, 3)
"""

from keras import layers

from ..head import DecoderOutput
from ..legacy_models import Architecture, build_legacy, legacy_constructor
from ..weights import DEFAULT_ENCODER_WEIGHTS
from .blocks import available_levels, check_filters, unet_stage

__all__ = [
    "unet_decoder", "legacy_unet_decoder", "mini_unet", "UNET", "UNET_MINI", "CONSTRUCTORS",
    "_unet", "unet_mini", "unet", "vgg_unet", "resnet50_unet", "mobilenet_unet",
]

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


def mini_unet(image):
    """The original ``unet_mini`` graph (32-64-128 filters, dropout 0.2, two poolings) on ``image``."""

    def conv(x, filters, name=None):
        return layers.Conv2D(filters, (3, 3), activation="relu", padding="same", name=name)(x)

    conv1 = conv(layers.Dropout(0.2)(conv(image, 32)), 32)
    pool1 = layers.MaxPooling2D((2, 2))(conv1)
    conv2 = conv(layers.Dropout(0.2)(conv(pool1, 64)), 64)
    pool2 = layers.MaxPooling2D((2, 2))(conv2)
    conv3 = conv(layers.Dropout(0.2)(conv(pool2, 128)), 128)
    up1 = layers.concatenate([layers.UpSampling2D((2, 2))(conv3), conv2], axis=-1)
    conv4 = conv(layers.Dropout(0.2)(conv(up1, 64)), 64)
    up2 = layers.concatenate([layers.UpSampling2D((2, 2))(conv4), conv1], axis=-1)
    return DecoderOutput(conv(layers.Dropout(0.2)(conv(up2, 32)), 32, name="seg_feats"), kernel_size=1)


# ============================================================ the original names

#: the original U-Net on ``levels[encoder_level]`` with the shallower levels as skips
UNET = Architecture(
    "unet",
    lambda levels, n_classes, encoder_level, l1_skip_conn, decoder_activation: legacy_unet_decoder(
        levels, encoder_level, l1_skip_conn, decoder_activation
    ),
    output_size=lambda h, w: (h // 2, w // 2),
    summary="U-Net on the {encoder} encoder; output at half the input size unless full_resolution.",
    encoder_levels=(1, 2, 3, 4),
    options={"decoder_activation": ("relu", None), "l1_skip_conn": (True, False)},
    divisor=lambda encoder_level: 2 ** (encoder_level + 1),
)

#: the original small U-Net on the image itself
UNET_MINI = Architecture(
    "unet (mini)",
    lambda levels, n_classes: mini_unet(levels[0]),
    output_size=lambda h, w: (h, w),
    summary="The original small U-Net (32-64-128 filters, dropout 0.2); inputs must be multiples of 4.",
    divisor=4,
    full_resolution=False,
    no_encoder_weights="has no pretrained encoder; pass encoder_weights=None",
    own_encoder=True,
)


def _unet(n_classes, encoder, l1_skip_conn=True, input_height=416, input_width=608, channels=3, *,
          encoder_level=3, encoder_weights=DEFAULT_ENCODER_WEIGHTS, full_resolution=False, decoder_activation="relu"):
    """The original ``_unet``: :data:`UNET` on any encoder (an original encoder function or a registry name)."""
    return build_legacy(UNET, encoder, n_classes, input_height, input_width, channels, encoder_weights=encoder_weights,
                        full_resolution=full_resolution, encoder_level=encoder_level, l1_skip_conn=l1_skip_conn,
                        decoder_activation=decoder_activation)


unet_mini = legacy_constructor("unet_mini", UNET_MINI, "(own)", (360, 480))
unet = legacy_constructor("unet", UNET, "vanilla", (416, 608))
vgg_unet = legacy_constructor("vgg_unet", UNET, "vgg16", (416, 608))
resnet50_unet = legacy_constructor("resnet50_unet", UNET, "resnet50", (416, 608))
mobilenet_unet = legacy_constructor("mobilenet_unet", UNET, "mobilenet", (224, 224))

#: the original names declared here, in the original's order
CONSTRUCTORS = (unet_mini, unet, vgg_unet, resnet50_unet, mobilenet_unet)
