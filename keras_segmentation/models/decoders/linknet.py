"""LinkNet decoder (Chaurasia & Culurciello, 2017, https://arxiv.org/abs/1707.03718).

From the deepest level, each decoder block reduces the channels 4x with a 1x1
Conv-BN-ReLU, upsamples (bilinear) to the next skip's actual size and refines
with a 3x3 Conv-BN-ReLU (upsample + conv in place of the paper's stride-2
transposed convolution, so odd sizes and dilated encoders line up), expands to
the skip's channels with a 1x1 Conv-BN-ReLU and adds the skip. With
``full_resolution`` a last block (no skip) goes to the input size with
``decoder_final_filters`` channels (32, as the paper); otherwise the output is
at the shallowest level's stride (2, or 4 for encoders without P1).

Example:
    >>> import keras
    >>> from keras_segmentation.models.encoders.legacy import build_vanilla
    >>> image = keras.Input((64, 64, 3))
    >>> linknet_decoder(build_vanilla(image), image).x.shape
    (None, 64, 64, 32)
"""

from keras import layers

from ..head import DecoderOutput
from ..layers import resize_like
from .blocks import available_levels, conv_bn_relu


def linknet_block(x, reference, filters, name):
    """1x1 reduce (/4), upsample to ``reference`` + 3x3 conv, 1x1 expand to ``filters``; Conv-BN-ReLU each."""
    reduced = max(x.shape[-1] // 4, 1)
    x = conv_bn_relu(x, reduced, kernel_size=1, name=f"{name}_reduce")
    x = conv_bn_relu(resize_like(x, reference), reduced, name=f"{name}_up")
    return conv_bn_relu(x, filters, kernel_size=1, name=f"{name}_expand")


def linknet_decoder(pyramid, inputs, *, full_resolution=True, decoder_final_filters=32):
    """LinkNet decoder over a pyramid; returns a :class:`DecoderOutput` for a 1x1 classifier."""
    levels = available_levels(pyramid)
    x = pyramid[levels[-1]]
    for level in reversed(levels[:-1]):
        skip = pyramid[level]
        x = linknet_block(x, skip, skip.shape[-1], name=f"linknet_{level}")
        x = layers.Add(name=f"linknet_{level}_add")([x, skip])
    if full_resolution:
        x = linknet_block(x, inputs, decoder_final_filters, name="linknet_final")
    return DecoderOutput(x, kernel_size=1)
