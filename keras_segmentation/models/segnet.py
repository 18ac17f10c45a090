"""The original module ``keras_segmentation.models.segnet``: the SegNet names, kept for imports.

The code lives in :mod:`keras_segmentation.models.decoders.segnet` (the SegNet
decoders, the original ``segnet_decoder`` as ``original_segnet_decoder``, and the
declarations of ``segnet``, ``vgg_segnet``, ``resnet50_segnet`` and ``mobilenet_segnet``).

Example:
    >>> from keras_segmentation.models.segnet import segnet
    >>> segnet(n_classes=3, input_height=64, input_width=64).output_shape
    (None, 32, 32, 3)
"""

from .decoders.segnet import _segnet, mobilenet_segnet, resnet50_segnet, segnet, vgg_segnet
from .decoders.segnet import original_segnet_decoder as segnet_decoder

__all__ = ["segnet_decoder", "_segnet", "segnet", "vgg_segnet", "resnet50_segnet", "mobilenet_segnet"]
