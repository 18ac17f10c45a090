"""The original module ``keras_segmentation.models.fcn``: the FCN-8 and FCN-32 names, kept for imports.

The code lives in :mod:`keras_segmentation.models.decoders.fcn` (the FCN
decoders, the original ``crop`` and the declarations of ``fcn_8`` ...
``fcn_32_mobilenet``).

Example:
    >>> from keras_segmentation.models.fcn import fcn_8
    >>> fcn_8(n_classes=3, input_height=64, input_width=64).output_shape
    (None, 72, 72, 3)
"""

from .decoders.fcn import (
    crop,
    fcn_8,
    fcn_8_mobilenet,
    fcn_8_resnet50,
    fcn_8_vgg,
    fcn_32,
    fcn_32_mobilenet,
    fcn_32_resnet50,
    fcn_32_vgg,
)

__all__ = [
    "crop",
    "fcn_8",
    "fcn_32",
    "fcn_8_vgg",
    "fcn_32_vgg",
    "fcn_8_resnet50",
    "fcn_32_resnet50",
    "fcn_8_mobilenet",
    "fcn_32_mobilenet",
]
