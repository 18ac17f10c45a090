"""U-Net models under their original names (Ronneberger et al., https://arxiv.org/abs/1505.04597).

``unet``, ``vgg_unet``, ``resnet50_unet`` and ``mobilenet_unet`` build the
original library's graph (output at half the input size, e.g. 208x304 for
416x608) from :func:`~keras_segmentation.models.decoders.unet.legacy_unet_decoder`;
``encoder_level`` now works (the original ignored it): it picks the deepest
encoder level used (3 = f4, the original graph). ``full_resolution=True``
upsamples the class scores to the input size. ``decoder_activation=None``
builds the original 0.3.0 release's decoder, which had no ReLU (its master
branch added it; :mod:`keras_segmentation.migrate` picks the one a checkpoint
was trained with). ``unet_mini`` is the original small stand-alone U-Net (full
resolution, inputs multiple of 4).

Example:
    >>> from keras_segmentation.models.unet import unet, unet_mini
    >>> unet(n_classes=3, input_height=64, input_width=64).output_shape
    (None, 32, 32, 3)
    >>> unet_mini(n_classes=3, input_height=32, input_width=48).output_shape
    (None, 32, 48, 3)
"""

import keras
from keras import layers

from ..errors import ModelConfigError
from .basic_models import vanilla_encoder
from .compose import check_channels, check_n_classes
from .decoders.unet import legacy_unet_decoder
from .encoders import check_input_size
from .head import segmentation_head
from .legacy import build_legacy, legacy_constructor
from .mobilenet import get_mobilenet_encoder
from .resnet50 import get_resnet50_encoder
from .segmentation_model import SegmentationModel
from .vgg16 import get_vgg_encoder
from .weights import DEFAULT_ENCODER_WEIGHTS

__all__ = ["unet_mini", "_unet", "unet", "vgg_unet", "resnet50_unet", "mobilenet_unet"]

MERGE_AXIS = -1


def unet_mini(n_classes, input_height=360, input_width=480, channels=3, *, encoder_weights=None, full_resolution=False):
    """The original small U-Net (32-64-128 filters, dropout 0.2); inputs must be multiples of 4.

    ``encoder_weights`` (must be None: there is no pretrained encoder) and
    ``full_resolution`` (the output is always full size) are accepted for a
    signature uniform with the other constructors.
    """
    _no_encoder_weights("unet_mini", encoder_weights)
    check_n_classes(n_classes)
    check_channels(channels)
    check_input_size(input_height, input_width, divisor=4, min_size=4, what="unet_mini")
    img_input = keras.Input((input_height, input_width, channels))

    def conv(x, filters, name=None):
        return layers.Conv2D(filters, (3, 3), activation="relu", padding="same", name=name)(x)

    conv1 = conv(layers.Dropout(0.2)(conv(img_input, 32)), 32)
    pool1 = layers.MaxPooling2D((2, 2))(conv1)
    conv2 = conv(layers.Dropout(0.2)(conv(pool1, 64)), 64)
    pool2 = layers.MaxPooling2D((2, 2))(conv2)
    conv3 = conv(layers.Dropout(0.2)(conv(pool2, 128)), 128)
    up1 = layers.concatenate([layers.UpSampling2D((2, 2))(conv3), conv2], axis=MERGE_AXIS)
    conv4 = conv(layers.Dropout(0.2)(conv(up1, 64)), 64)
    up2 = layers.concatenate([layers.UpSampling2D((2, 2))(conv4), conv1], axis=MERGE_AXIS)
    conv5 = conv(layers.Dropout(0.2)(conv(up2, 32)), 32, name="seg_feats")
    outputs = segmentation_head(conv5, n_classes, img_input, kernel_size=1)
    config = {
        "builder": "unet_mini",
        "kwargs": {
            "n_classes": n_classes,
            "input_height": input_height,
            "input_width": input_width,
            "channels": channels,
            "full_resolution": full_resolution,
        },
    }
    return SegmentationModel(img_input, outputs, model_name="unet_mini", normalization="sub_mean", build_config=config)


def _no_encoder_weights(name, encoder_weights):
    if encoder_weights is not None and encoder_weights is not DEFAULT_ENCODER_WEIGHTS:
        raise ModelConfigError(f"{name} has no pretrained encoder; pass encoder_weights=None")


def _unet(
    n_classes,
    encoder,
    l1_skip_conn=True,
    input_height=416,
    input_width=608,
    channels=3,
    *,
    encoder_level=3,
    encoder_weights=DEFAULT_ENCODER_WEIGHTS,
    full_resolution=False,
    model_name="",
    decoder_activation="relu",
):
    """The original U-Net assembly on any encoder (function or registry name)."""
    if isinstance(encoder_level, bool) or encoder_level not in (1, 2, 3, 4):
        raise ModelConfigError(f"{model_name or 'unet'}: encoder_level must be 1, 2, 3 or 4, got {encoder_level!r}")
    if decoder_activation not in ("relu", None):
        raise ModelConfigError(f"{model_name or 'unet'}: decoder_activation must be 'relu' or None (the original "
                               f"0.3.0 release's decoder), got {decoder_activation!r}")
    kwargs = {
        "n_classes": n_classes,
        "input_height": input_height,
        "input_width": input_width,
        "encoder_level": encoder_level,
        "channels": channels,
        "full_resolution": full_resolution,
    }
    if decoder_activation is None:
        kwargs["decoder_activation"] = None  # recorded only when not the default: older configs stay as they were
    return build_legacy(
        lambda levels: legacy_unet_decoder(levels, encoder_level, l1_skip_conn, decoder_activation),
        encoder,
        n_classes=n_classes,
        input_height=input_height,
        input_width=input_width,
        channels=channels,
        encoder_weights=encoder_weights,
        full_resolution=full_resolution,
        model_name=model_name,
        build_kwargs=kwargs,
        divisor=2 ** (encoder_level + 1),
    )


_SUMMARY = "U-Net on the {encoder} encoder; output at half the input size unless full_resolution."


def _named(name, encoder, default_size):
    return legacy_constructor(name, _unet, encoder, default_size, _SUMMARY, with_encoder_level=True)


unet = _named("unet", vanilla_encoder, (416, 608))
vgg_unet = _named("vgg_unet", get_vgg_encoder, (416, 608))
resnet50_unet = _named("resnet50_unet", get_resnet50_encoder, (416, 608))
mobilenet_unet = _named("mobilenet_unet", get_mobilenet_encoder, (224, 224))
