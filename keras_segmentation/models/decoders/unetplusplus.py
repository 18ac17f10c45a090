"""U-Net++ decoder (Zhou et al., 2018, https://arxiv.org/abs/1807.10165): nested, densely connected skips.

Node ``X[i][j]`` (level ``i``, shallowest first; column ``j``) upsamples the
deeper node ``X[i+1][j-1]`` (nearest) to level ``i``'s actual size,
concatenates every earlier node of its level ``X[i][0..j-1]`` and runs two
Conv-BN-ReLU blocks; ``X[i][0]`` are the encoder's features and the output is
``X[0][-1]`` (the shallowest level: stride 2, or 4 without P1). Each level's
nodes use the ``decoder_filters`` value U-Net's stage at that level uses
(deepest skip first); with ``full_resolution`` a last U-Net stage at the input
size uses the next value. The paper's deep supervision (one output per
``X[0][j]``) is not offered: every model here has a single output.

Example:
    >>> import keras
    >>> from keras_segmentation.models.encoders.legacy import build_vanilla
    >>> image = keras.Input((64, 64, 3))
    >>> unetplusplus_decoder(build_vanilla(image), image).x.shape
    (None, 64, 64, 16)
"""

from ..head import DecoderOutput
from .blocks import available_levels, check_filters, unet_stage
from .unet import DEFAULT_FILTERS


def unetplusplus_decoder(pyramid, inputs, *, full_resolution=True, decoder_filters=DEFAULT_FILTERS):
    """U-Net++ decoder over a pyramid; returns a :class:`DecoderOutput` for a 3x3 classifier."""
    levels = available_levels(pyramid)
    depth = len(levels) - 1
    check_filters(decoder_filters, depth + int(full_resolution), "unetplusplus")
    nodes = [[pyramid[level]] for level in levels]
    for j in range(1, depth + 1):
        for i in range(depth - j + 1):
            filters = decoder_filters[depth - 1 - i]
            nodes[i].append(unet_stage(nodes[i + 1][j - 1], nodes[i][0], nodes[i], filters, name=f"decoder_x{i}{j}"))
    x = nodes[0][-1]
    if full_resolution:
        x = unet_stage(x, inputs, [], decoder_filters[depth], name="decoder_final")
    return DecoderOutput(x, kernel_size=3)
