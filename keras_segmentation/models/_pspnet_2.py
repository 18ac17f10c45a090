"""The original module of the Caffe PSPNet (``pspnet_50`` / ``pspnet_101``), kept for imports.

The graph itself lives in :mod:`keras_segmentation.models.encoders.legacy`
(dilated ResNet) and :mod:`keras_segmentation.models.decoders.pspnet` (Caffe
pyramid-pooling head). The original's TensorFlow-only ``Interp`` layer is
replaced by :class:`~keras_segmentation.models.layers.ResizeLike`, and its
fixed 473/713-pixel pooling windows (with ``sys.exit`` for other sizes) by
adaptive pooling.

Example:
    >>> from keras_segmentation.models._pspnet_2 import _build_pspnet
    >>> _build_pspnet(21, 50, (96, 96)).output_shape
    (None, 96, 96, 21)
"""

import keras

from .encoders.legacy import build_dilated_resnet, caffe_bn

__all__ = ["BN", "Interp", "ResNet", "_build_pspnet"]


def BN(name=""):  # noqa: N802 - the original name
    """BatchNormalization as in the Caffe model (momentum 0.95, epsilon 1e-5)."""
    return caffe_bn(name or None)


def Interp(new_size, **kwargs):  # noqa: N802 - the original name
    """The original's bilinear resize layer to ``new_size=(height, width)``: a ``keras.layers.Resizing``, any backend."""
    return keras.layers.Resizing(int(new_size[0]), int(new_size[1]), interpolation="bilinear", **kwargs)


def ResNet(inp, layers):  # noqa: N802 - the original name
    """The dilated ResNet body (``layers`` 50 or 101) on tensor ``inp``; returns its last feature map."""
    return build_dilated_resnet(inp, layers)["P5"]


def _build_pspnet(nb_classes, resnet_layers, input_shape, activation="softmax", channels=3):
    """Build ``pspnet_50`` (``resnet_layers=50``) or ``pspnet_101`` at ``input_shape=(height, width)``."""
    from .pspnet import pspnet_50, pspnet_101

    builder = {50: pspnet_50, 101: pspnet_101}.get(resnet_layers)
    if builder is None:
        from ..errors import ModelConfigError

        raise ModelConfigError(f"resnet_layers must be 50 or 101, got {resnet_layers!r}")
    return builder(nb_classes, input_height=input_shape[0], input_width=input_shape[1], channels=channels)
