"""PSPNet (Zhao et al., 2017, https://arxiv.org/abs/1612.01105): pyramid-pooling decoders and the original PSPNet names.

Three forms:

* :func:`pspnet_decoder` (``build_model("pspnet", ...)``): adaptive average
  pooling of P5 into 1, 2, 3 and 6 bins, a 1x1 Conv-BN-ReLU per branch,
  bilinear upsampling back, concatenation, a 3x3 Conv-BN-ReLU and dropout.
  Works for any input size, fixed or ``None``.
* :func:`legacy_pspnet_decoder` (``pspnet``, ``vgg_pspnet``, ``resnet50_pspnet``):
  the original graph (``AveragePooling2D`` with ``round(size / bins)`` windows
  and "same" padding, bilinear x-window upsampling, 1x1 fusion named
  ``seg_feats``); the feature map must be divisible by 6, hence inputs that are
  multiples of 192.
* :func:`caffe_pspnet_decoder` (``pspnet_50``, ``pspnet_101``): the Caffe
  PSPNet head with the layer names of the converted weights
  (``conv5_3_pool{1,2,3,6}_conv``, ``conv5_4``, classifier ``conv6``). Its pooling
  windows are computed from the feature map (adaptive pooling, identical to the
  original's fixed windows at 473 and 713 px), so any input size works.

The original names (re-exported by :mod:`keras_segmentation.models.pspnet`) are
declared here: ``pspnet``, ``vgg_pspnet`` and ``resnet50_pspnet`` (:data:`PSPNET`:
output at a quarter of the input size, inputs multiple of 192; a clear
``InputSizeError`` names the nearest valid sizes) and ``pspnet_50`` /
``pspnet_101`` (:data:`CAFFE_PSPNET`: full-size output; the original accepted
only 473 or 713 px and called ``sys.exit`` otherwise), whose converted weights
:mod:`keras_segmentation.pretrained` loads. The original ``_pspnet_2`` module's
``Interp`` and ``_build_pspnet`` are here too.

Example:
    >>> import keras
    >>> from keras_segmentation.models.encoders.legacy import build_vanilla
    >>> image = keras.Input((96, 96, 3))
    >>> pspnet_decoder(build_vanilla(image)).x.shape
    (None, 3, 3, 512)
    >>> pspnet(3, 192, 192).output_shape
    (None, 48, 48, 3)
"""

from keras import layers

from ...errors import ModelConfigError
from ..encoders.legacy import caffe_bn
from ..head import DecoderOutput
from ..layers import AdaptiveAveragePooling2D, resize_like
from ..legacy_models import Architecture, build_legacy, legacy_constructor
from ..weights import DEFAULT_ENCODER_WEIGHTS
from .blocks import conv_bn_relu

__all__ = [
    "pspnet_decoder", "pyramid_pooling", "pool_block", "legacy_pspnet_decoder", "caffe_pspnet_decoder", "PSPNET",
    "CAFFE_PSPNET", "CONSTRUCTORS", "_pspnet", "pspnet", "vgg_pspnet", "resnet50_pspnet", "pspnet_50", "pspnet_101",
    "Interp", "_build_pspnet",
]

BINS = (1, 2, 3, 6)


def pspnet_decoder(pyramid, inputs=None, *, bins=BINS, pool_filters=512, filters=512, dropout=0.1):
    """Pyramid pooling module on P5; returns a :class:`DecoderOutput` for a 1x1 classifier."""
    x = pyramid_pooling(pyramid["P5"], bins, pool_filters, filters)
    x = layers.Dropout(dropout, name="ppm_dropout")(x)
    return DecoderOutput(x, kernel_size=1)


def pyramid_pooling(x, bins=BINS, pool_filters=512, filters=512, name="ppm"):
    """Pyramid pooling module: ``x`` and its pooled bins (1x1 Conv-BN-ReLU, upsampled), concatenated, 3x3-fused.

    Also UPerNet's top level.
    """
    branches = [x]
    for b in bins:
        y = AdaptiveAveragePooling2D(b, name=f"{name}_pool{b}")(x)
        y = conv_bn_relu(y, pool_filters, kernel_size=1, name=f"{name}_branch{b}")
        branches.append(resize_like(y, x))
    x = layers.Concatenate(name=f"{name}_concat")(branches)
    return conv_bn_relu(x, filters, kernel_size=3, name=f"{name}_fuse")


def pool_block(feats, pool_factor):
    """The original ``pool_block``: average-pool, 1x1 conv, BN, ReLU, upsample back."""
    h, w = feats.shape[1], feats.shape[2]
    strides = [int(round(float(h) / pool_factor)), int(round(float(w) / pool_factor))]
    x = layers.AveragePooling2D(strides, strides=strides, padding="same")(feats)
    x = layers.Conv2D(512, (1, 1), padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    return layers.UpSampling2D(strides, interpolation="bilinear")(x)


def legacy_pspnet_decoder(levels):
    """The original ``_pspnet`` head on ``levels[4]``; the classifier is 3x3 and the output is upsampled x8."""
    o = levels[4]
    pool_outs = [o] + [pool_block(o, p) for p in BINS]
    o = layers.Concatenate(axis=-1)(pool_outs)
    o = layers.Conv2D(512, (1, 1), use_bias=False, name="seg_feats")(o)
    o = layers.BatchNormalization()(o)
    o = layers.Activation("relu")(o)
    return DecoderOutput(o, kernel_size=3, upsample=8)


def _caffe_branch(x, level):
    y = AdaptiveAveragePooling2D(level)(x)
    y = layers.Conv2D(512, (1, 1), name=f"conv5_3_pool{level}_conv", use_bias=False)(y)
    y = caffe_bn(f"conv5_3_pool{level}_conv_bn")(y)
    y = layers.Activation("relu")(y)
    return resize_like(y, x)


def caffe_pspnet_decoder(levels):
    """The Caffe PSPNet head of ``pspnet_50`` / ``pspnet_101`` (classifier ``conv6``)."""
    res = levels[4]
    branches = {level: _caffe_branch(res, level) for level in BINS}
    x = layers.Concatenate()([res, branches[6], branches[3], branches[2], branches[1]])
    x = layers.Conv2D(512, (3, 3), padding="same", name="conv5_4", use_bias=False)(x)
    x = caffe_bn("conv5_4_bn")(x)
    x = layers.Activation("relu")(x)
    x = layers.Dropout(0.1)(x)
    return DecoderOutput(x, kernel_size=1, classifier_name="conv6")


# ============================================================ the original names

#: the original PSPNet head on ``f5``; its pooling windows need inputs that are multiples of 192
PSPNET = Architecture(
    "pspnet",
    lambda levels, n_classes: legacy_pspnet_decoder(levels),
    output_size=lambda h, w: (h // 4, w // 4),
    summary="PSPNet on the {encoder} encoder; inputs multiple of 192, output a quarter of the input size unless "
    "full_resolution.",
    divisor=192,
    allow_none=False,
)

#: the Caffe PSPNet head (layer names of the converted weights); output at the input size
CAFFE_PSPNET = Architecture(
    "pspnet (Caffe)",
    lambda levels, n_classes: caffe_pspnet_decoder(levels),
    output_size=lambda h, w: (h, w),
    summary="The Caffe PSPNet on the {encoder} encoder (layer names of the converted weights); the output has the "
    "input's size. Load a release with keras_segmentation.pretrained.",
    full_resolution=True,
    no_encoder_weights="has no separate encoder weights; load a release with keras_segmentation.pretrained",
    features_layer="conv5_4",
)


def _pspnet(n_classes, encoder, input_height=384, input_width=576, channels=3, *,
            encoder_weights=DEFAULT_ENCODER_WEIGHTS, full_resolution=False):
    """The original ``_pspnet``: :data:`PSPNET` on any encoder (an original encoder function or a registry name)."""
    return build_legacy(PSPNET, encoder, n_classes, input_height, input_width, channels, encoder_weights=encoder_weights,
                        full_resolution=full_resolution)


pspnet = legacy_constructor("pspnet", PSPNET, "vanilla", (384, 576))
vgg_pspnet = legacy_constructor("vgg_pspnet", PSPNET, "vgg16", (384, 576))
resnet50_pspnet = legacy_constructor("resnet50_pspnet", PSPNET, "resnet50", (384, 576))
pspnet_50 = legacy_constructor("pspnet_50", CAFFE_PSPNET, "resnet50_dilated", (473, 473))
pspnet_101 = legacy_constructor("pspnet_101", CAFFE_PSPNET, "resnet101_dilated", (473, 473))

#: the original names declared here, in the original's order
CONSTRUCTORS = (pspnet, vgg_pspnet, resnet50_pspnet, pspnet_50, pspnet_101)


def Interp(new_size, **kwargs):  # noqa: N802 - the original name
    """The original's bilinear resize layer to ``new_size=(height, width)``: a ``keras.layers.Resizing``, any backend."""
    return layers.Resizing(int(new_size[0]), int(new_size[1]), interpolation="bilinear", **kwargs)


def _build_pspnet(nb_classes, resnet_layers, input_shape, activation="softmax", channels=3):
    """Build ``pspnet_50`` (``resnet_layers=50``) or ``pspnet_101`` at ``input_shape=(height, width)``."""
    builder = {50: pspnet_50, 101: pspnet_101}.get(resnet_layers)
    if builder is None:
        raise ModelConfigError(f"resnet_layers must be 50 or 101, got {resnet_layers!r}")
    return builder(nb_classes, input_height=input_shape[0], input_width=input_shape[1], channels=channels)
