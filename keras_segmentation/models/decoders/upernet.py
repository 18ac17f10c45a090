"""UPerNet decoder (Xiao et al., 2018, https://arxiv.org/abs/1807.10221): pyramid pooling + FPN fusion.

A pyramid pooling module (:func:`~.pspnet.pyramid_pooling`, bins 1, 2, 3, 6)
on P5 tops a feature pyramid: 1x1 Conv-BN-ReLU laterals on P2..P4, top-down
nearest upsampling and addition, and a 3x3 Conv-BN-ReLU on each merged level.
The four levels are upsampled (bilinear) to P2's actual size, concatenated and
fused by a 3x3 Conv-BN-ReLU, then dropout; the 1x1 classifier runs at stride 4
(the head brings it to the input size with ``full_resolution``).
``decoder_filters`` sets every width (256, as segmentation_models.pytorch;
mmsegmentation uses 512).

Example:
    >>> import keras
    >>> from keras_segmentation.models.encoders.legacy import build_vanilla
    >>> image = keras.Input((64, 64, 3))
    >>> upernet_decoder(build_vanilla(image)).x.shape
    (None, 16, 16, 256)
"""

from keras import layers

from ..head import DecoderOutput
from .blocks import conv_bn_relu, merge_at, top_down
from .pspnet import BINS, pyramid_pooling


def upernet_decoder(pyramid, inputs=None, *, decoder_filters=256, decoder_bins=BINS, decoder_dropout=0.1):
    """UPerNet head on P2..P5; returns a :class:`DecoderOutput` for a 1x1 classifier at stride 4."""
    top = pyramid_pooling(pyramid["P5"], decoder_bins, decoder_filters, decoder_filters, name="upernet_ppm")
    laterals = [
        (level, conv_bn_relu(pyramid[level], decoder_filters, kernel_size=1, name=f"upernet_lateral_{level}"))
        for level in ("P4", "P3", "P2")
    ]
    merged = top_down(top, laterals, name="upernet")
    outputs = [top] + [
        conv_bn_relu(x, decoder_filters, name=f"upernet_fpn_{level}") for (level, _), x in zip(laterals, merged[1:])
    ]
    x = merge_at(outputs, outputs[-1], "cat", name="upernet_fuse")
    x = conv_bn_relu(x, decoder_filters, name="upernet_fuse")
    x = layers.Dropout(decoder_dropout, name="upernet_dropout")(x)
    return DecoderOutput(x, kernel_size=1)
