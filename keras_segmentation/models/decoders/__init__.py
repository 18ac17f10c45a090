"""The decoder registry: FCN-8, FCN-32, SegNet, U-Net, U-Net++, LinkNet, PSPNet, DeepLabV3(+), FPN, UPerNet and SegFormer.

Every decoder reads an encoder pyramid (``{"P1": ..., "P5": ...}``) and returns
a :class:`~keras_segmentation.models.head.DecoderOutput` for the shared head.
:data:`DECODERS` maps the names accepted by
:func:`keras_segmentation.models.build_model` to a :class:`DecoderSpec`.

Example:
    >>> from keras_segmentation.models.decoders import DECODERS
    >>> sorted(DECODERS)  # doctest: +NORMALIZE_WHITESPACE
    ['deeplabv3', 'deeplabv3plus', 'fcn_32', 'fcn_8', 'fpn', 'linknet', 'pspnet', 'segformer',
     'segnet', 'unet', 'unetplusplus', 'upernet']
"""

import dataclasses
from collections.abc import Callable

from .deeplabv3 import deeplabv3_decoder
from .deeplabv3plus import deeplabv3plus_decoder
from .fcn import fcn_decoder
from .fpn import fpn_decoder
from .linknet import linknet_decoder
from .pspnet import pspnet_decoder
from .segformer import segformer_decoder
from .segnet import segnet_decoder
from .unet import unet_decoder
from .unetplusplus import unetplusplus_decoder
from .upernet import upernet_decoder


def _fcn8(pyramid, inputs, n_classes, strides, full_resolution, **options):
    return fcn_decoder(pyramid, inputs, n_classes, skips=("P4", "P3"), strides=strides, **options)


def _fcn32(pyramid, inputs, n_classes, strides, full_resolution, **options):
    return fcn_decoder(pyramid, inputs, n_classes, skips=(), strides=strides, **options)


def _segnet(pyramid, inputs, n_classes, strides, full_resolution, **options):
    return segnet_decoder(pyramid, inputs, full_resolution=full_resolution, **options)


def _unet(pyramid, inputs, n_classes, strides, full_resolution, **options):
    return unet_decoder(pyramid, inputs, full_resolution=full_resolution, **options)


def _pspnet(pyramid, inputs, n_classes, strides, full_resolution, **options):
    return pspnet_decoder(pyramid, inputs, **options)


def _deeplabv3plus(pyramid, inputs, n_classes, strides, full_resolution, **options):
    return deeplabv3plus_decoder(pyramid, inputs, **options)


def _pyramid_only(decoder):
    """``decoder(pyramid, inputs, **options)`` as a :attr:`DecoderSpec.build`."""
    return lambda pyramid, inputs, n_classes, strides, full_resolution, **options: decoder(pyramid, inputs, **options)


def _with_resolution(decoder):
    """``decoder(pyramid, inputs, full_resolution=..., **options)`` as a :attr:`DecoderSpec.build`."""
    return lambda pyramid, inputs, n_classes, strides, full_resolution, **options: decoder(
        pyramid, inputs, full_resolution=full_resolution, **options
    )


@dataclasses.dataclass(frozen=True)
class DecoderSpec:
    """One decoder of :func:`~keras_segmentation.models.build_model`.

    Args:
        name: registry key.
        build: ``build(pyramid, inputs, n_classes, strides, full_resolution, **options) -> DecoderOutput``.
        description: one line for tables.
        native_stride: the output stride without ``full_resolution`` (1: the input's size).
    """

    name: str
    build: Callable
    description: str
    native_stride: int


def _registry(*specs):
    return {spec.name: spec for spec in specs}


#: name -> :class:`DecoderSpec`
DECODERS = _registry(
    DecoderSpec("fcn_8", _fcn8, "FCN-8s: fc6/fc7 on P5, fused with P4 and P3 scores, transposed-conv upsampling", 1),
    DecoderSpec("fcn_32", _fcn32, "FCN-32s: fc6/fc7 on P5, one transposed-conv x32 upsampling", 1),
    DecoderSpec("segnet", _segnet, "SegNet-style: upsample + 2x Conv-BN-ReLU per level, no skips", 2),
    DecoderSpec("unet", _unet, "U-Net: upsample, concatenate the skip, 2x Conv-BN-ReLU per level", 2),
    DecoderSpec("pspnet", _pspnet, "PSPNet: pyramid pooling (1, 2, 3, 6 bins) on P5", 32),
    DecoderSpec("deeplabv3plus", _deeplabv3plus, "DeepLabV3+: ASPP on P5, fused with a P2 projection", 4),
    DecoderSpec("deeplabv3", _pyramid_only(deeplabv3_decoder), "DeepLabV3: ASPP on P5, no decoder", 32),
    DecoderSpec(
        "fpn", _pyramid_only(fpn_decoder), "FPN (Panoptic FPN head): P2..P5 top-down, per-level conv-GN-ReLU stages, summed", 4
    ),
    DecoderSpec(
        "linknet", _with_resolution(linknet_decoder), "LinkNet: 1x1 reduce, upsample + 3x3, 1x1 expand, add the skip", 2
    ),
    DecoderSpec(
        "unetplusplus", _with_resolution(unetplusplus_decoder), "U-Net++: nested dense skips, 2x Conv-BN-ReLU per node", 2
    ),
    DecoderSpec("upernet", _pyramid_only(upernet_decoder), "UPerNet: PPM on P5 + FPN on P2..P4, concatenated at stride 4", 4),
    DecoderSpec(
        "segformer", _pyramid_only(segformer_decoder), "SegFormer: all-MLP head, P2..P5 linear, upsampled to stride 4, fused", 4
    ),
)

__all__ = [
    "DECODERS",
    "DecoderSpec",
    "fcn_decoder",
    "segnet_decoder",
    "unet_decoder",
    "pspnet_decoder",
    "deeplabv3plus_decoder",
    "deeplabv3_decoder",
    "fpn_decoder",
    "linknet_decoder",
    "unetplusplus_decoder",
    "upernet_decoder",
    "segformer_decoder",
]
