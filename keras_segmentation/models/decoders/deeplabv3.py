"""DeepLabV3 decoder (Chen et al., 2017, https://arxiv.org/abs/1706.05587): ASPP on P5, no decoder.

The atrous spatial pyramid pooling of DeepLabV3+ (:func:`~.deeplabv3plus.aspp`:
1x1, three dilated 3x3 and image-pooling branches, 1x1 projection, dropout) on
the encoder's deepest features, then the 1x1 classifier at P5's stride (32, or
8 for dilated encoders); the head brings the scores to the input size with
``full_resolution``. Options are DeepLabV3+'s (``aspp_filters``,
``aspp_rates``, ``dropout``).

Example:
    >>> import keras
    >>> from keras_segmentation.models.encoders.legacy import build_vanilla
    >>> image = keras.Input((64, 64, 3))
    >>> deeplabv3_decoder(build_vanilla(image)).x.shape
    (None, 2, 2, 256)
"""

from ..head import DecoderOutput
from .deeplabv3plus import aspp


def deeplabv3_decoder(pyramid, inputs=None, *, aspp_filters=256, aspp_rates=(6, 12, 18), dropout=0.1):
    """ASPP on P5; returns a :class:`DecoderOutput` for a 1x1 classifier."""
    return DecoderOutput(aspp(pyramid["P5"], aspp_filters, aspp_rates, dropout), kernel_size=1)
