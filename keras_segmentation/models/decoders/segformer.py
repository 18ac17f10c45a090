"""SegFormer's all-MLP decoder (Xie et al., 2021, https://arxiv.org/abs/2105.15203).

Each pyramid level P2..P5 is projected to ``decoder_filters`` channels by a
linear layer (a Dense on the channel axis), upsampled bilinearly to P2's size
(stride 4), concatenated deepest first (as the reference implementation),
fused by a 1x1 Conv-BN-ReLU and regularised by dropout; the shared head adds
the 1x1 classifier at stride 4 (and brings it to the input size with
``full_resolution``). It reads only the pyramid, so it runs on any encoder;
with the MiT encoders it is SegFormer (``segformer_b0`` ... ``segformer_b5``:
256 filters for B0/B1, 768 for B2-B5).

Example:
    >>> import keras
    >>> from keras_segmentation.models.encoders.mit import build_mit
    >>> pyramid = build_mit(keras.Input((64, 96, 3)), "b0")
    >>> segformer_decoder(pyramid, decoder_filters=64).x.shape
    (None, 16, 24, 64)
"""

from keras import layers

from ...errors import ModelConfigError
from ..head import DecoderOutput
from .blocks import LEVELS, conv_bn_relu, merge_at


def segformer_decoder(pyramid, inputs=None, *, decoder_filters=256, decoder_dropout=0.1, decoder_levels=LEVELS[1:]):
    """The all-MLP head on ``decoder_levels`` (shallowest first); returns a :class:`DecoderOutput` for a 1x1 classifier.

    Args:
        pyramid: ``{"P2": ..., "P5": ...}`` from an encoder.
        inputs: unused (the output stays at the shallowest level's size).
        decoder_filters: the embedding width of every projection and of the fusion.
        decoder_dropout: dropout before the classifier.
        decoder_levels: the pyramid levels read; the first sets the output size.

    Raises:
        ModelConfigError: a level is missing from the encoder's pyramid.
    """
    missing = [level for level in decoder_levels if level not in pyramid]
    if missing or not decoder_levels:
        raise ModelConfigError(
            f"segformer: decoder_levels={list(decoder_levels)} needs levels the encoder has ({', '.join(sorted(pyramid))})"
        )
    projected = [
        layers.Dense(decoder_filters, name=f"segformer_linear_{level}")(pyramid[level]) for level in reversed(decoder_levels)
    ]
    x = merge_at(projected, projected[-1], "cat", name="segformer")
    x = conv_bn_relu(x, decoder_filters, kernel_size=1, name="segformer_fuse")
    x = layers.Dropout(decoder_dropout, name="segformer_dropout")(x)
    return DecoderOutput(x, kernel_size=1)
