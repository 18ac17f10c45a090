"""The original module ``keras_segmentation.models.unet``: the U-Net names, kept for imports.

The code lives in :mod:`keras_segmentation.models.decoders.unet` (the U-Net
decoder and the declarations of ``unet_mini``, ``unet``, ``vgg_unet``,
``resnet50_unet`` and ``mobilenet_unet``).

Example:
    >>> from keras_segmentation.models.unet import unet, unet_mini
    >>> unet(n_classes=3, input_height=64, input_width=64).output_shape
    (None, 32, 32, 3)
    >>> unet_mini(n_classes=3, input_height=32, input_width=48).output_shape
    (None, 32, 48, 3)
"""

from .decoders.unet import _unet, mobilenet_unet, resnet50_unet, unet, unet_mini, vgg_unet

__all__ = ["unet_mini", "_unet", "unet", "vgg_unet", "resnet50_unet", "mobilenet_unet"]
