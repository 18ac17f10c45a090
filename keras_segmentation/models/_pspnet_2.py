"""The original module of the Caffe PSPNet (``pspnet_50`` / ``pspnet_101``), kept for imports.

The code lives in :mod:`keras_segmentation.models.encoders.legacy` (the dilated
ResNet, ``BN``, ``ResNet``) and :mod:`keras_segmentation.models.decoders.pspnet`
(the Caffe pyramid-pooling head, ``Interp``, ``_build_pspnet``). The original's
TensorFlow-only ``Interp`` layer is a ``keras.layers.Resizing``, and its fixed
473/713-pixel pooling windows (with ``sys.exit`` for other sizes) are adaptive pooling.

Example:
    >>> from keras_segmentation.models._pspnet_2 import _build_pspnet
    >>> _build_pspnet(21, 50, (96, 96)).output_shape
    (None, 96, 96, 21)
"""

from .decoders.pspnet import Interp, _build_pspnet
from .encoders.legacy import BN, ResNet

__all__ = ["BN", "Interp", "ResNet", "_build_pspnet"]
