"""DeepLabV3+ decoder (Chen et al., 2018, https://arxiv.org/abs/1802.02611).

Atrous spatial pyramid pooling (ASPP) on P5: a 1x1 branch, three dilated 3x3
branches and an image-pooling branch, fused by a 1x1 convolution; the result is
upsampled to P2 (stride 4), concatenated with a 48-channel projection of P2 and
refined by two 3x3 Conv-BN-ReLU blocks. The output is at stride 4 (the head
brings it to the input size with ``full_resolution``). As in keras-hub's
DeepLabV3, ASPP runs on the encoder's last feature map (the encoders are not
re-dilated).

Example:
    >>> import keras
    >>> from keras_segmentation.models.encoders.legacy import build_vanilla
    >>> image = keras.Input((64, 64, 3))
    >>> deeplabv3plus_decoder(build_vanilla(image)).x.shape
    (None, 16, 16, 256)
"""

from keras import layers

from ..head import DecoderOutput
from ..layers import resize_like
from .blocks import conv_bn_relu


def deeplabv3plus_decoder(
    pyramid,
    inputs=None,
    *,
    aspp_filters=256,
    aspp_rates=(6, 12, 18),
    low_level="P2",
    low_level_filters=48,
    decoder_filters=256,
    dropout=0.1,
):
    """ASPP + low-level fusion; returns a :class:`DecoderOutput` for a 1x1 classifier."""
    x = aspp(pyramid["P5"], aspp_filters, aspp_rates, dropout)
    skip = pyramid[low_level]
    x = resize_like(x, skip)
    low = conv_bn_relu(skip, low_level_filters, kernel_size=1, name="decoder_low_level")
    x = layers.Concatenate(name="decoder_concat")([x, low])
    x = conv_bn_relu(x, decoder_filters, name="decoder_refine1")
    x = conv_bn_relu(x, decoder_filters, name="decoder_refine2")
    return DecoderOutput(x, kernel_size=1)


def aspp(x, filters=256, rates=(6, 12, 18), dropout=0.1):
    """Atrous spatial pyramid pooling: 1x1, dilated 3x3 and image-pooling branches, 1x1 projection, dropout."""
    branches = [conv_bn_relu(x, filters, kernel_size=1, name="aspp_1x1")]
    for rate in rates:
        branches.append(conv_bn_relu(x, filters, kernel_size=3, dilation_rate=rate, name=f"aspp_rate{rate}"))
    pooled = layers.GlobalAveragePooling2D(keepdims=True, name="aspp_image_pool")(x)
    pooled = conv_bn_relu(pooled, filters, kernel_size=1, name="aspp_image")
    branches.append(resize_like(pooled, x))
    x = layers.Concatenate(name="aspp_concat")(branches)
    x = conv_bn_relu(x, filters, kernel_size=1, name="aspp_project")
    return layers.Dropout(dropout, name="aspp_dropout")(x)
