"""The encoder registry: every backbone by name, each exposing the same feature pyramid.

An encoder turns an image tensor into a **pyramid**, a dict of feature maps
keyed ``"P1"`` ... ``"P5"``: ``P<k>`` is the output of stage *k*, at stride
``2**k`` (stride 2 to 32) for ordinary encoders. Dilated encoders stop
downsampling at stride 8 (their ``strides`` say so), and an encoder without a
stride-2 stage (ConvNeXt, MiT) has no ``"P1"`` key. Decoders read only the pyramid,
so any decoder runs on any encoder.

Each :class:`EncoderSpec` also records the input normalisation its pretrained
weights expect (a name of :func:`keras_segmentation.data.normalization.normalize_image`)
and where its ImageNet weights come from.

Example:
    >>> from keras_segmentation.models.encoders import build_encoder_model, list_encoders
    >>> "efficientnetv2b0" in [row["name"] for row in list_encoders()]
    True
    >>> encoder = build_encoder_model("vanilla", 64, 64)
    >>> {level: tuple(t.shape[1:3]) for level, t in encoder.output.items()}["P5"]
    (2, 2)
"""

import dataclasses
import math
from collections.abc import Callable

import keras

from ...errors import InputSizeError, ModelConfigError
from ..weights import load_encoder_weights
from ..weights.keras_hub import keras_hub_reference
from . import applications, legacy, mit

__all__ = [
    "EncoderSpec",
    "ENCODERS",
    "register_encoder",
    "get_encoder",
    "build_encoder",
    "build_encoder_model",
    "list_encoders",
    "check_input_size",
]

LEVELS = ("P1", "P2", "P3", "P4", "P5")


@dataclasses.dataclass(frozen=True)
class EncoderSpec:
    """How to build one encoder and where its pretrained weights come from.

    Args:
        name: registry key (lower case).
        family: architecture family, for tables.
        build: ``build(inputs) -> {"P1": tensor, ...}``; creates the layers on ``inputs``.
        normalization: the input normalisation the pretrained weights expect.
        channels: feature channels of P1..P5 (``None`` where a level is missing).
        strides: stride of P1..P5.
        min_size: smallest input height/width.
        divisor: input sizes must be multiples of this (1: any size).
        imagenet: ``imagenet() -> keras.Model``: a 3-channel model holding the
            ImageNet weights (downloaded and cached by ``keras.applications``), or None.
        reference: ``reference(path) -> keras.Model``: a 3-channel model with the
            weights of a local file, or None to read legacy ``.h5`` files by layer name.
        name_map: maps a layer name of this encoder to the reference's name, when they differ.
        preset_reference: ``preset_reference(path) -> keras.Model or None``: a 3-channel model holding
            the weights of a file in another library's layout (a keras-hub preset), None when it is not one.
        description: one line for tables.
    """

    name: str
    family: str
    build: Callable
    normalization: str
    channels: tuple
    strides: tuple = (2, 4, 8, 16, 32)
    min_size: int = 32
    divisor: int = 1
    imagenet: Callable | None = None
    reference: Callable | None = None
    name_map: Callable | None = None
    preset_reference: Callable | None = None
    description: str = ""

    @property
    def has_imagenet(self):
        return self.imagenet is not None


#: name -> EncoderSpec
ENCODERS = {}


def register_encoder(spec):
    """Add an :class:`EncoderSpec` to the registry (replacing one of the same name); returns it."""
    if not isinstance(spec, EncoderSpec):
        raise ModelConfigError(f"register_encoder expects an EncoderSpec, got {type(spec).__name__}")
    ENCODERS[spec.name] = spec
    return spec


def get_encoder(name):
    """The :class:`EncoderSpec` registered as ``name``.

    Raises:
        ModelConfigError: unknown name (the message lists the known ones).
    """
    key = str(name).lower()
    if key not in ENCODERS:
        raise ModelConfigError(f"unknown encoder {name!r}; choose one of: {', '.join(sorted(ENCODERS))}")
    return ENCODERS[key]


def nearest_valid(value, divisor, minimum):
    """The multiples of ``divisor`` (at least ``minimum``) just below and above ``value``."""
    low = max(minimum, (value // divisor) * divisor)
    high = max(minimum, math.ceil(value / divisor) * divisor)
    if high == low:
        high = low + divisor
    return low, high


def check_input_size(height, width, *, divisor=1, min_size=1, what="this model", allow_none=True):
    """Raise :class:`InputSizeError` unless ``height`` and ``width`` suit an architecture.

    Args:
        height, width: the input size (``None`` = decided at run time).
        divisor: sizes must be multiples of this.
        min_size: smallest allowed size.
        what: the architecture, for the message.
        allow_none: whether ``None`` sizes are allowed.

    Example:
        >>> check_input_size(416, 600, divisor=32, what="vgg_unet")
        Traceback (most recent call last):
        ...
        keras_segmentation.errors.InputSizeError: vgg_unet: input_width=600 must be a multiple of 32; the nearest valid values are 576 and 608
    """  # noqa: E501 (doctest output: the exception message must stay on one line)
    for arg, value in (("input_height", height), ("input_width", width)):
        if value is None:
            if not allow_none:
                raise InputSizeError(
                    f"{what}: {arg}=None is not supported; this architecture needs a fixed input size"
                )
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            raise InputSizeError(f"{what}: {arg} must be an int or None, got {value!r}")
        minimum = max(min_size, divisor)
        if value < minimum:
            low, high = nearest_valid(minimum, divisor, minimum)
            raise InputSizeError(f"{what}: {arg}={value} is too small; the smallest valid value is {low}")
        if value % divisor:
            low, high = nearest_valid(value, divisor, minimum)
            raise InputSizeError(
                f"{what}: {arg}={value} must be a multiple of {divisor}; the nearest valid values are {low} and {high}"
            )


def build_encoder(name, inputs, weights=None):
    """Build encoder ``name`` on the input tensor and load ``weights``; returns the pyramid dict.

    Args:
        name: a registered encoder name.
        inputs: a ``keras.Input`` of shape ``(H, W, C)``.
        weights: ``None`` (random), ``"imagenet"`` or the path of a weights file.

    Raises:
        InputSizeError: the input is smaller than the encoder allows.
        WeightsError: the weights cannot be downloaded, read, or do not fit.
    """
    spec = get_encoder(name)
    height, width = inputs.shape[1], inputs.shape[2]
    check_input_size(height, width, divisor=spec.divisor, min_size=spec.min_size, what=f"encoder {spec.name!r}")
    pyramid = spec.build(inputs)
    if weights is not None:
        model = keras.Model(inputs, [pyramid[level] for level in LEVELS if level in pyramid])
        load_encoder_weights(spec, model, weights)
    return pyramid


def build_encoder_model(name, input_height=None, input_width=None, channels=3, weights=None):
    """A standalone encoder: a ``keras.Model`` whose output is the pyramid dict.

    Example:
        >>> model = build_encoder_model("mobilenet", 64, 64, channels=1)
        >>> sorted(model.output)
        ['P1', 'P2', 'P3', 'P4', 'P5']
    """
    inputs = keras.Input((input_height, input_width, channels), name="image")
    pyramid = build_encoder(name, inputs, weights=weights)
    return keras.Model(inputs, pyramid, name=f"{get_encoder(name).name}_encoder")


def list_encoders():
    """One dict per registered encoder: name, family, normalization, pretrained, strides, channels.

    Example:
        >>> row = [r for r in list_encoders() if r["name"] == "vgg16"][0]
        >>> row["normalization"], row["channels"]["P5"]
        ('caffe', 512)
    """
    rows = []
    for name in sorted(ENCODERS, key=_sort_key):
        spec = ENCODERS[name]
        rows.append(
            {
                "name": name,
                "family": spec.family,
                "normalization": spec.normalization,
                "pretrained": "imagenet" if spec.has_imagenet else None,
                "strides": {lvl: s for lvl, s, c in zip(LEVELS, spec.strides, spec.channels) if c is not None},
                "channels": {lvl: c for lvl, c in zip(LEVELS, spec.channels) if c is not None},
                "min_size": spec.min_size,
                "description": spec.description,
            }
        )
    return rows


def _sort_key(name):
    order = ("vanilla", "vgg16", "resnet50", "mobilenet", "resnet50_dilated", "resnet101_dilated")
    return (0, order.index(name)) if name in order else (1, name)


# ============================================================ registrations


def _keras_application(name):
    return lambda: applications.application_reference(name, "imagenet")


def _register_builtin():
    register_encoder(
        EncoderSpec(
            "vanilla",
            "Vanilla CNN",
            legacy.build_vanilla,
            "sub_mean",
            (64, 128, 256, 256, 256),
            description="the original library's small CNN (5 conv blocks), no pretrained weights",
        )
    )
    register_encoder(
        EncoderSpec(
            "vgg16",
            "VGG",
            legacy.build_vgg16,
            "caffe",
            (64, 128, 256, 512, 512),
            imagenet=lambda: keras.applications.VGG16(include_top=False, weights="imagenet"),
            reference=lambda path: keras.applications.VGG16(include_top=False, weights=path),
            description="VGG16 (keras.applications layers and weights)",
        )
    )
    register_encoder(
        EncoderSpec(
            "resnet50",
            "ResNet",
            legacy.build_resnet50,
            "caffe",
            (64, 256, 512, 1024, 2048),
            imagenet=lambda: keras.applications.ResNet50(include_top=False, weights="imagenet"),
            name_map=legacy.resnet50_keras_name,
            description="the original library's ResNet-50 (P1 before BN, P2 padded); keras.applications weights",
        )
    )
    register_encoder(
        EncoderSpec(
            "mobilenet",
            "MobileNet",
            legacy.build_mobilenet,
            "tf",
            (64, 128, 256, 512, 1024),
            imagenet=lambda: keras.applications.MobileNet(
                input_shape=(224, 224, 3), include_top=False, weights="imagenet"
            ),
            description="the original library's MobileNet v1 (alpha 1); keras.applications weights",
        )
    )
    for depth in (50, 101):
        register_encoder(
            EncoderSpec(
                f"resnet{depth}_dilated",
                "Dilated ResNet (PSPNet)",
                lambda inputs, depth=depth: legacy.build_dilated_resnet(inputs, depth),
                "caffe",
                (128, 256, 512, 1024, 2048),
                strides=(2, 4, 8, 8, 8),
                description=f"PSPNet's Caffe ResNet-{depth}, dilated to output stride 8 (pspnet_{depth})",
            )
        )
    for name, row in applications.APPLICATION_ENCODERS.items():
        register_encoder(
            EncoderSpec(
                name,
                row["family"],
                lambda inputs, name=name: applications.build_application(name, inputs),
                row["normalization"],
                row["channels"],
                min_size=row["min_size"],
                imagenet=_keras_application(name),
                reference=lambda path, name=name: applications.application_reference(name, path),
                description=f"keras.applications.{row['application']}",
            )
        )
    for variant, (dims, depths) in mit.MIT_VARIANTS.items():
        register_encoder(
            EncoderSpec(
                f"mit_{variant}",
                "MiT",
                lambda inputs, variant=variant: mit.build_mit(inputs, variant),
                "torch",
                (None, *dims),
                preset_reference=lambda path, variant=variant: keras_hub_reference(path, variant),
                description=f"Mix Transformer {variant.upper()} (SegFormer), depths {depths}; weights from a keras-hub preset",
            )
        )


_register_builtin()
