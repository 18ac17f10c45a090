"""Encoders built from ``keras.applications`` families, described by one table.

Each row names the application, the layers whose outputs (or, with a leading
``<``, whose inputs) are the pyramid levels P1..P4 (P5 is the network's final
feature map) and the input normalisation its ImageNet weights expect.

Families that normalise inside the network (EfficientNet, EfficientNetV2,
ConvNeXt, MobileNetV3) take raw 0-255 RGB (normalisation ``"none"``). Their
built-in preprocessing is replaced by one ``Rescaling`` layer with the same
per-channel constants, extended to any channel count (extra channels use the
mean of the RGB constants), so 1- and 4-channel inputs work. EfficientNet (v1)
keeps Keras' own ``Rescaling`` + ``Normalization`` layers (they have no switch);
its ImageNet statistics are loaded into that ``Normalization`` layer.

Example:
    >>> from keras_segmentation.models.encoders.applications import APPLICATION_ENCODERS
    >>> APPLICATION_ENCODERS["efficientnetb0"]["application"]
    'EfficientNetB0'
"""

import warnings

import keras
from keras import layers

_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)

#: per-channel (scale, offset) applied to 0-255 RGB pixels
TORCH_RESCALE = (tuple(1.0 / (255.0 * s) for s in _STD), tuple(-m / s for m, s in zip(_MEAN, _STD)))
TF_RESCALE = ((1.0 / 127.5,) * 3, (-1.0,) * 3)
V2_RESCALE = ((1.0 / 128.0,) * 3, (-1.0,) * 3)


def _row(application, taps, normalization, channels, rescale=None, kwargs=None, min_size=32, family=None):
    return {
        "application": application,
        "taps": taps,
        "normalization": normalization,
        "channels": channels,
        "rescale": rescale,
        "kwargs": kwargs or {},
        "min_size": min_size,
        "family": family or application,
    }


def _table():
    rows = {}
    rows["vgg19"] = _row(
        "VGG19", tuple(f"block{k}_pool" for k in range(1, 5)), "caffe", (64, 128, 256, 512, 512), family="VGG"
    )
    for depth, (c3, c4) in {101: (4, 23), 152: (8, 36)}.items():
        rows[f"resnet{depth}"] = _row(
            f"ResNet{depth}",
            ("conv1_relu", "conv2_block3_out", f"conv3_block{c3}_out", f"conv4_block{c4}_out"),
            "caffe",
            (64, 256, 512, 1024, 2048),
            family="ResNet",
        )
    for depth, (c3, c4) in {50: (4, 6), 101: (4, 23), 152: (8, 36)}.items():
        rows[f"resnet{depth}v2"] = _row(
            f"ResNet{depth}V2",
            (
                "conv1_conv",
                "conv2_block3_preact_relu",
                f"conv3_block{c3}_preact_relu",
                f"conv4_block{c4}_preact_relu",
            ),
            "tf",
            (64, 256, 512, 1024, 2048),
            family="ResNetV2",
        )
    rows["mobilenetv2"] = _row(
        "MobileNetV2",
        ("block_1_expand_relu", "block_3_expand_relu", "block_6_expand_relu", "block_13_expand_relu"),
        "tf",
        (96, 144, 192, 576, 1280),
        family="MobileNetV2",
    )
    no_pre = {"include_preprocessing": False}
    rows["mobilenetv3small"] = _row(
        "MobileNetV3Small",
        tuple(f"<expanded_conv{s}_depthwise_pad" for s in ("", "_1", "_3", "_8")),
        "none",
        (16, 72, 96, 288, 576),
        TF_RESCALE,
        no_pre,
        family="MobileNetV3",
    )
    rows["mobilenetv3large"] = _row(
        "MobileNetV3Large",
        tuple(f"<expanded_conv_{s}_depthwise_pad" for s in (1, 3, 6, 12)),
        "none",
        (64, 72, 240, 672, 960),
        TF_RESCALE,
        no_pre,
        family="MobileNetV3",
    )
    effnet_channels = {
        0: (96, 144, 240, 672, 1280),
        1: (96, 144, 240, 672, 1280),
        2: (96, 144, 288, 720, 1408),
        3: (144, 192, 288, 816, 1536),
        4: (144, 192, 336, 960, 1792),
        5: (144, 240, 384, 1056, 2048),
        6: (192, 240, 432, 1200, 2304),
        7: (192, 288, 480, 1344, 2560),
    }
    for k, channels in effnet_channels.items():
        rows[f"efficientnetb{k}"] = _row(
            f"EfficientNetB{k}",
            tuple(f"block{b}a_expand_activation" for b in (2, 3, 4, 6)),
            "none",
            channels,
            family="EfficientNet",
        )
    v2_channels = {
        "b0": (16, 32, 48, 112, 1280),
        "b1": (16, 32, 48, 112, 1280),
        "b2": (16, 32, 56, 120, 1408),
        "b3": (16, 40, 56, 136, 1536),
        "s": (24, 48, 64, 160, 1280),
        "m": (24, 48, 80, 176, 1280),
        "l": (32, 64, 96, 224, 1280),
    }
    for k, channels in v2_channels.items():
        rows[f"efficientnetv2{k}"] = _row(
            f"EfficientNetV2{k.upper()}",
            tuple(f"<block{b}a_expand_conv" for b in (2, 3, 4, 6)),
            "none",
            channels,
            TORCH_RESCALE if k.startswith("b") else V2_RESCALE,
            no_pre,
            family="EfficientNetV2",
        )
    convnext_channels = {
        "tiny": (96, 192, 384, 768),
        "small": (96, 192, 384, 768),
        "base": (128, 256, 512, 1024),
        "large": (192, 384, 768, 1536),
        "xlarge": (256, 512, 1024, 2048),
    }
    for size, channels in convnext_channels.items():
        rows[f"convnext{size}"] = _row(
            f"ConvNeXt{size.capitalize().replace('Xlarge', 'XLarge')}",
            (None, *(f"<convnext_{size}_downsampling_block_{i}" for i in range(3))),
            "none",
            (None, *channels),
            TORCH_RESCALE,
            no_pre,
            family="ConvNeXt",
        )
    densenet_channels = {121: (64, 256, 512, 1024, 1024), 169: (64, 256, 512, 1280, 1664), 201: (64, 256, 512, 1792, 1920)}
    for depth, channels in densenet_channels.items():
        rows[f"densenet{depth}"] = _row(
            f"DenseNet{depth}",
            ("conv1_relu", "pool2_relu", "pool3_relu", "pool4_relu"),
            "torch",
            channels,
            family="DenseNet",
        )
    rows["xception"] = _row(
        "Xception",
        ("block1_conv2_act", "block3_sepconv1_act", "block4_sepconv1_act", "block13_sepconv1_act"),
        "tf",
        (64, 128, 256, 728, 2048),
        min_size=71,
        family="Xception",
    )
    return rows


#: name -> description of every keras.applications encoder
APPLICATION_ENCODERS = _table()


def _extend(values, channels):
    """Per-channel constants for ``channels`` inputs (extra channels get the RGB mean)."""
    mean = sum(values) / len(values)
    if channels >= len(values):
        return [float(v) for v in values] + [mean] * (channels - len(values))
    return [mean] * channels


def _construct(row, input_tensor=None, input_shape=None, weights=None):
    application = getattr(keras.applications, row["application"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "usually expects 1 or 3 input channels"
        return application(
            include_top=False, weights=weights, input_tensor=input_tensor, input_shape=input_shape, **row["kwargs"]
        )


def _tap(model, spec):
    if spec.startswith("<"):
        return model.get_layer(spec[1:]).input
    return model.get_layer(spec).output


def build_application(name, inputs):
    """Build encoder ``name`` on ``inputs`` and return its pyramid ``{"P1": ..., "P5": ...}``."""
    row = APPLICATION_ENCODERS[name]
    x = inputs
    if row["rescale"] is not None:
        channels = inputs.shape[-1]
        scale, offset = row["rescale"]
        x = layers.Rescaling(_extend(scale, channels), _extend(offset, channels), name="input_rescaling")(x)
    model = _construct(row, input_tensor=x, input_shape=tuple(inputs.shape[1:]))
    pyramid = {}
    for level, spec in enumerate(row["taps"], start=1):
        if spec is not None:
            pyramid[f"P{level}"] = _tap(model, spec)
    pyramid["P5"] = model.output
    return pyramid


def application_reference(name, weights):
    """A 3-channel ``keras.applications`` model holding ``weights`` ("imagenet" or a file path)."""
    return _construct(APPLICATION_ENCODERS[name], input_shape=(224, 224, 3), weights=weights)
