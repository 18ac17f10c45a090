"""PSPNet models under their original names (Zhao et al., https://arxiv.org/abs/1612.01105).

* ``pspnet``, ``vgg_pspnet``, ``resnet50_pspnet``: the original library's PSPNet
  (output at a quarter of the input size, e.g. 96x144 for 384x576). Its pooling
  windows need the input to be a multiple of 192 (a clear ``InputSizeError``
  names the nearest valid sizes).
* ``pspnet_50``, ``pspnet_101``: the Caffe PSPNet (dilated ResNet, full-size
  output) whose converted weights :mod:`keras_segmentation.pretrained` loads. The
  original accepted only 473 or 713 px (and called ``sys.exit`` otherwise); the
  pooling windows are now computed from the feature map, so any size works.

Example:
    >>> from keras_segmentation.models.pspnet import pspnet
    >>> pspnet(n_classes=3, input_height=192, input_width=192).output_shape
    (None, 48, 48, 3)
"""

from ..errors import ModelConfigError
from .basic_models import vanilla_encoder
from .decoders.pspnet import caffe_pspnet_decoder, legacy_pspnet_decoder, pool_block
from .legacy import build_legacy, legacy_constructor
from .resnet50 import get_resnet50_encoder
from .vgg16 import get_vgg_encoder
from .weights import DEFAULT_ENCODER_WEIGHTS

__all__ = ["pool_block", "_pspnet", "pspnet", "vgg_pspnet", "resnet50_pspnet", "pspnet_50", "pspnet_101"]


def _pspnet(
    n_classes,
    encoder,
    input_height=384,
    input_width=576,
    channels=3,
    *,
    encoder_weights=DEFAULT_ENCODER_WEIGHTS,
    full_resolution=False,
    model_name="",
):
    """The original PSPNet assembly; input height and width must be multiples of 192."""
    kwargs = {
        "n_classes": n_classes,
        "input_height": input_height,
        "input_width": input_width,
        "channels": channels,
        "full_resolution": full_resolution,
    }
    return build_legacy(
        legacy_pspnet_decoder,
        encoder,
        n_classes=n_classes,
        input_height=input_height,
        input_width=input_width,
        channels=channels,
        encoder_weights=encoder_weights,
        full_resolution=full_resolution,
        model_name=model_name,
        build_kwargs=kwargs,
        divisor=192,
        allow_none=False,
    )


_SUMMARY = "PSPNet on the {encoder} encoder; inputs multiple of 192, output a quarter of the input size unless full_resolution."


def _named(name, encoder):
    return legacy_constructor(name, _pspnet, encoder, (384, 576), _SUMMARY)


pspnet = _named("pspnet", vanilla_encoder)
vgg_pspnet = _named("vgg_pspnet", get_vgg_encoder)
resnet50_pspnet = _named("resnet50_pspnet", get_resnet50_encoder)


def _caffe_pspnet(depth, n_classes, input_height, input_width, channels, full_resolution, encoder_weights):
    name = f"pspnet_{depth}"
    if encoder_weights is not None and encoder_weights is not DEFAULT_ENCODER_WEIGHTS:
        raise ModelConfigError(
            f"{name} has no separate encoder weights; load a release with keras_segmentation.pretrained"
        )
    kwargs = {
        "n_classes": n_classes,
        "input_height": input_height,
        "input_width": input_width,
        "channels": channels,
        "full_resolution": full_resolution,
    }
    return build_legacy(
        caffe_pspnet_decoder,
        f"resnet{depth}_dilated",
        n_classes=n_classes,
        input_height=input_height,
        input_width=input_width,
        channels=channels,
        encoder_weights=None,
        full_resolution=True,
        model_name=name,
        build_kwargs=kwargs,
        divisor=1,
    )


def pspnet_50(n_classes, input_height=473, input_width=473, channels=3, *, encoder_weights=None, full_resolution=True):
    """The Caffe PSPNet with a dilated ResNet-50 (layer names of the converted ADE20K weights).

    The output always has the input's size (``full_resolution`` is accepted for
    a uniform signature, and ``encoder_weights`` must be None). Load the released weights with
    :func:`keras_segmentation.pretrained.pspnet_50_ADE_20K`.

    Example:
        >>> model = pspnet_50(n_classes=150)  # doctest: +SKIP
    """
    return _caffe_pspnet(50, n_classes, input_height, input_width, channels, full_resolution, encoder_weights)


def pspnet_101(n_classes, input_height=473, input_width=473, channels=3, *, encoder_weights=None, full_resolution=True):
    """The Caffe PSPNet with a dilated ResNet-101 (Cityscapes / VOC 2012 releases).

    Example:
        >>> model = pspnet_101(n_classes=19, input_height=713, input_width=713)  # doctest: +SKIP
    """
    return _caffe_pspnet(101, n_classes, input_height, input_width, channels, full_resolution, encoder_weights)


# the layer the original's distillation code read features from
pspnet_50.seg_feats_layer_name = "conv5_4"
pspnet_101.seg_feats_layer_name = "conv5_4"
