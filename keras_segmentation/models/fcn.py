"""FCN-8 and FCN-32 models under their original names (Long et al., https://arxiv.org/abs/1411.4038).

By default each builds the original library's graph (same layers, parameter
counts and output sizes: 424x616 for FCN-8 and 448x640 for FCN-32 at 416x608);
``full_resolution=True`` centre-crops the output to the input size instead.
The graph is :func:`keras_segmentation.models.decoders.fcn.legacy_fcn_decoder`
on a registered encoder; ``build_model("fcn_8", ...)`` is the modern variant.

Example:
    >>> from keras_segmentation.models.fcn import fcn_8
    >>> model = fcn_8(n_classes=3, input_height=64, input_width=64)
    >>> model.output_shape
    (None, 72, 72, 3)
"""

import functools

from .basic_models import vanilla_encoder
from .decoders.fcn import crop, legacy_fcn_decoder
from .legacy import build_legacy, legacy_constructor, legacy_encoder_name
from .mobilenet import get_mobilenet_encoder
from .resnet50 import get_resnet50_encoder
from .vgg16 import get_vgg_encoder
from .weights import DEFAULT_ENCODER_WEIGHTS

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


def _fcn(n_classes, encoder, *, fcn8, input_height, input_width, channels, encoder_weights, full_resolution, model_name):
    kwargs = {
        "n_classes": n_classes,
        "input_height": input_height,
        "input_width": input_width,
        "channels": channels,
        "full_resolution": full_resolution,
    }
    if model_name in ("fcn_8", "fcn_32") and legacy_encoder_name(encoder) is not None:
        kwargs["encoder"] = legacy_encoder_name(encoder)
    return build_legacy(
        lambda levels: legacy_fcn_decoder(levels, n_classes, fcn8=fcn8),
        encoder,
        n_classes=n_classes,
        input_height=input_height,
        input_width=input_width,
        channels=channels,
        encoder_weights=encoder_weights,
        full_resolution=full_resolution,
        model_name=model_name,
        build_kwargs=kwargs,
    )


def fcn_8(
    n_classes,
    encoder=vanilla_encoder,
    input_height=416,
    input_width=608,
    channels=3,
    *,
    encoder_weights=DEFAULT_ENCODER_WEIGHTS,
    full_resolution=False,
):
    """FCN-8s on ``encoder`` (an original encoder function or a registry name; vanilla CNN by default).

    Args:
        n_classes: number of classes.
        encoder: ``vanilla_encoder``, ``get_vgg_encoder``, ... or a name such as ``"vgg16"``.
        input_height, input_width: input size (``None`` for any size).
        channels: input channels.
        encoder_weights: ``"imagenet"`` (the default where the encoder has such
            weights), ``None`` or a weights file path.
        full_resolution: centre-crop the output to the input size.
    """
    return _fcn(
        n_classes, encoder, fcn8=True, input_height=input_height, input_width=input_width, channels=channels,
        encoder_weights=encoder_weights, full_resolution=full_resolution, model_name="fcn_8",
    )


def fcn_32(
    n_classes,
    encoder=vanilla_encoder,
    input_height=416,
    input_width=608,
    channels=3,
    *,
    encoder_weights=DEFAULT_ENCODER_WEIGHTS,
    full_resolution=False,
):
    """FCN-32s on ``encoder`` (see :func:`fcn_8`)."""
    return _fcn(
        n_classes, encoder, fcn8=False, input_height=input_height, input_width=input_width, channels=channels,
        encoder_weights=encoder_weights, full_resolution=full_resolution, model_name="fcn_32",
    )


def _named(fcn8, name, encoder, default_size):
    kind = "FCN-8s" if fcn8 else "FCN-32s"
    summary = kind + " on the {encoder} encoder (ImageNet weights by default); input a multiple of 32."
    return legacy_constructor(name, functools.partial(_fcn, fcn8=fcn8), encoder, default_size, summary)


fcn_8_vgg = _named(True, "fcn_8_vgg", get_vgg_encoder, (416, 608))
fcn_32_vgg = _named(False, "fcn_32_vgg", get_vgg_encoder, (416, 608))
fcn_8_resnet50 = _named(True, "fcn_8_resnet50", get_resnet50_encoder, (416, 608))
fcn_32_resnet50 = _named(False, "fcn_32_resnet50", get_resnet50_encoder, (416, 608))
fcn_8_mobilenet = _named(True, "fcn_8_mobilenet", get_mobilenet_encoder, (224, 224))
fcn_32_mobilenet = _named(False, "fcn_32_mobilenet", get_mobilenet_encoder, (224, 224))
