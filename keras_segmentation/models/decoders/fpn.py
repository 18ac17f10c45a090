"""FPN decoder: the Panoptic FPN semantic head (Kirillov et al., 2019, https://arxiv.org/abs/1901.02446).

A feature pyramid (1x1 lateral convolutions on P2..P5, top-down nearest
upsampling and addition) feeds one branch per level: as many 3x3
Conv-GroupNorm-ReLU + bilinear upsampling stages as the level lies above P2
(three for P5, a single convolution for P2), each stage going to the next finer
level's actual size, so dilated encoders and any input size line up. The four
branches are summed (``decoder_merge="add"``, the paper's choice; ``"cat"``
concatenates them), dropout follows and the 1x1 classifier runs at stride 4
(the head brings it to the input size with ``full_resolution``). Defaults
follow segmentation_models.pytorch: 256 pyramid and 128 segmentation filters,
dropout 0.2, GroupNorm (``decoder_norm="batch"`` for BatchNorm).

Example:
    >>> import keras
    >>> from keras_segmentation.models.encoders.legacy import build_vanilla
    >>> image = keras.Input((64, 64, 3))
    >>> fpn_decoder(build_vanilla(image)).x.shape
    (None, 16, 16, 128)
"""

from keras import layers

from ..head import DecoderOutput
from ..layers import resize_like
from .blocks import conv_bn_relu, merge_at, top_down

LEVELS = ("P2", "P3", "P4", "P5")


def fpn_decoder(
    pyramid,
    inputs=None,
    *,
    decoder_pyramid_filters=256,
    decoder_segmentation_filters=128,
    decoder_merge="add",
    decoder_dropout=0.2,
    decoder_norm="group",
):
    """Panoptic FPN semantic head on P2..P5; returns a :class:`DecoderOutput` for a 1x1 classifier at stride 4."""
    laterals = {
        level: layers.Conv2D(decoder_pyramid_filters, 1, name=f"fpn_lateral_{level}")(pyramid[level]) for level in LEVELS
    }
    merged = top_down(laterals["P5"], [(level, laterals[level]) for level in ("P4", "P3", "P2")], name="fpn")
    branches = []
    for k, x in enumerate(reversed(merged)):  # k: 0 = P2 ... 3 = P5
        for stage in range(max(k, 1)):
            if stage:
                x = resize_like(x, laterals[LEVELS[k - stage]])
            x = conv_bn_relu(x, decoder_segmentation_filters, name=f"fpn_{LEVELS[k]}_stage{stage}", norm=decoder_norm)
        branches.append(x)
    x = merge_at(branches, branches[0], decoder_merge, name="fpn_merge")  # the last upsampling: to P2's size
    x = layers.Dropout(decoder_dropout, name="fpn_dropout")(x)
    return DecoderOutput(x, kernel_size=1)
