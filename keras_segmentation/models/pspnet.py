"""The original module ``keras_segmentation.models.pspnet``: the PSPNet names, kept for imports.

The code lives in :mod:`keras_segmentation.models.decoders.pspnet` (the PSPNet
decoders, the original ``pool_block`` and the declarations of ``pspnet``,
``vgg_pspnet``, ``resnet50_pspnet``, ``pspnet_50`` and ``pspnet_101``).

Example:
    >>> from keras_segmentation.models.pspnet import pspnet
    >>> pspnet(n_classes=3, input_height=192, input_width=192).output_shape
    (None, 48, 48, 3)
"""

from .decoders.pspnet import _pspnet, pool_block, pspnet, pspnet_50, pspnet_101, resnet50_pspnet, vgg_pspnet

__all__ = ["pool_block", "_pspnet", "pspnet", "vgg_pspnet", "resnet50_pspnet", "pspnet_50", "pspnet_101"]
