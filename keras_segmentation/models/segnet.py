"""SegNet-style models under their original names (https://arxiv.org/abs/1511.00561).

The original library's decoder (no pooling indices, no ReLU) on
``levels[encoder_level]`` with three x2 upsamplings: output at half the input
size for the default ``encoder_level=3``. ``full_resolution=True`` resizes the
class scores to the input size.

Example:
    >>> from keras_segmentation.models.segnet import segnet
    >>> segnet(n_classes=3, input_height=64, input_width=64).output_shape
    (None, 32, 32, 3)
"""

from ..errors import ModelConfigError
from .basic_models import vanilla_encoder
from .decoders.segnet import legacy_segnet_decoder
from .legacy import build_legacy, legacy_constructor
from .mobilenet import get_mobilenet_encoder
from .resnet50 import get_resnet50_encoder
from .vgg16 import get_vgg_encoder
from .weights import DEFAULT_ENCODER_WEIGHTS

__all__ = ["segnet_decoder", "_segnet", "segnet", "vgg_segnet", "resnet50_segnet", "mobilenet_segnet"]


def segnet_decoder(f, n_classes, n_up=3):
    """The original ``segnet_decoder``: decoder convolutions plus the 3x3 classifier (class scores)."""
    from keras import layers

    if n_up < 2:
        raise ModelConfigError(f"segnet_decoder: n_up must be >= 2, got {n_up}")
    return layers.Conv2D(n_classes, (3, 3), padding="same")(legacy_segnet_decoder(f, n_up).x)


def _segnet(
    n_classes,
    encoder,
    input_height=416,
    input_width=608,
    encoder_level=3,
    channels=3,
    *,
    encoder_weights=DEFAULT_ENCODER_WEIGHTS,
    full_resolution=False,
    model_name="",
):
    """The original SegNet assembly on any encoder (function or registry name)."""
    if isinstance(encoder_level, bool) or encoder_level not in (0, 1, 2, 3, 4):
        raise ModelConfigError(f"{model_name or 'segnet'}: encoder_level must be 0-4, got {encoder_level!r}")
    kwargs = {
        "n_classes": n_classes,
        "input_height": input_height,
        "input_width": input_width,
        "encoder_level": encoder_level,
        "channels": channels,
        "full_resolution": full_resolution,
    }
    return build_legacy(
        lambda levels: legacy_segnet_decoder(levels[encoder_level], n_up=3),
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


_SUMMARY = "SegNet-style model on the {encoder} encoder; output at half the input size unless full_resolution."


def _named(name, encoder, default_size):
    return legacy_constructor(name, _segnet, encoder, default_size, _SUMMARY, with_encoder_level=True)


segnet = _named("segnet", vanilla_encoder, (416, 608))
vgg_segnet = _named("vgg_segnet", get_vgg_encoder, (416, 608))
resnet50_segnet = _named("resnet50_segnet", get_resnet50_encoder, (416, 608))
mobilenet_segnet = _named("mobilenet_segnet", get_mobilenet_encoder, (224, 224))
