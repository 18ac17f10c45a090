"""The original library's constructors (``vgg_unet``, ``fcn_8_mobilenet``, ...) declared as data, built by one function.

* :class:`Architecture`: one original graph family (FCN-8, U-Net, ...): how it
  decodes the original's level list ``[f1, ..., f5]``, its options, input-size rules
  and output size. Each is declared beside its modern decoder
  (``decoders/unet.py`` declares :data:`~keras_segmentation.models.decoders.unet.UNET`).
* :func:`legacy_constructor`: one original name as a declaration
  (``vgg_unet = legacy_constructor("vgg_unet", UNET, "vgg16", (416, 608))``), turned
  into a function with the original signature.
* :func:`build_legacy`: the one function behind all of them: it checks the
  options, records the ``build_config`` that rebuilds the model and calls
  :func:`~keras_segmentation.models.compose.compose`.
* :func:`legacy_encoder`: the original encoder-function protocol
  (``(img_input, [f1, ..., f5])``) that ``vanilla_encoder``, ``get_vgg_encoder``, ... keep.

Example:
    >>> from keras_segmentation.models.decoders.unet import UNET
    >>> demo_unet = legacy_constructor("demo_unet", UNET, "vanilla", (64, 64))
    >>> model = demo_unet(3)
    >>> model.output_shape, model.build_config["builder"]
    ((None, 32, 32, 3), 'demo_unet')
"""

import dataclasses
import inspect
from collections.abc import Callable

import keras

from ..errors import ModelConfigError
from .compose import check_channels, check_n_classes, compose
from .encoders import LEVELS, build_encoder, check_input_size, get_encoder
from .head import apply_head
from .segmentation_model import SegmentationModel
from .weights import DEFAULT_ENCODER_WEIGHTS, resolve_encoder_weights

__all__ = ["Architecture", "LegacyModel", "legacy_constructor", "build_legacy", "legacy_encoder", "pyramid_list"]

#: legacy graphs on these encoders need no multiple of 32 (the original only asserted it for the others)
_ANY_SIZE_ENCODERS = ("vanilla", "resnet50_dilated", "resnet101_dilated")

#: the original's ``encoder_level`` default: decoding starts at f4
DEFAULT_ENCODER_LEVEL = 3


# ============================================================ the encoder protocol


def pyramid_list(pyramid):
    """The pyramid as the original's ``[f1, f2, f3, f4, f5]`` list (missing levels are None)."""
    return [pyramid.get(level) for level in LEVELS]


def legacy_encoder(name, input_height, input_width, weights, channels, divisor, what):
    """The original encoder-function protocol: returns ``(img_input, [f1, f2, f3, f4, f5])``."""
    check_channels(channels)
    spec = get_encoder(name)
    check_input_size(input_height, input_width, divisor=divisor, min_size=spec.min_size, what=what)
    inputs = keras.Input((input_height, input_width, channels))
    pyramid = build_encoder(spec.name, inputs, weights=resolve_encoder_weights(weights, spec))
    return inputs, pyramid_list(pyramid)


def legacy_encoder_name(encoder):
    """The registry name of an encoder given as a name or as one of the original encoder functions."""
    if isinstance(encoder, str):
        return get_encoder(encoder).name
    return getattr(encoder, "registry_name", None)


# ============================================================ declarations


@dataclasses.dataclass(frozen=True)
class Architecture:
    """One original graph family on the original encoder protocol.

    Args:
        name: the decoder's name in model tables (``"unet"``, ``"pspnet (Caffe)"``).
        decode: ``decode(levels, n_classes, **options) -> DecoderOutput`` on
            ``levels = [f1, ..., f5]`` (``[image]`` when ``own_encoder``).
        output_size: ``output_size(height, width) -> (out_height, out_width)`` of the default graph.
        summary: the constructors' docstring line (``{encoder}``: the encoder's name).
        encoder_levels: the values ``encoder_level`` may take (default
            :data:`DEFAULT_ENCODER_LEVEL`; it comes before ``channels`` as in the
            original); ``()``: no such argument.
        options: keyword-only options -> their allowed values, the default first;
            ``build_config`` records them when not the default.
        divisor: input sizes must be multiples of this, or ``divisor(encoder_level)``;
            the VGG, ResNet-50 and MobileNet encoders raise it to 32.
        allow_none: whether ``None`` sizes (any size at run time) are accepted.
        full_resolution: ``None``: the caller's ``full_resolution``; a bool: always this
            (the default of the constructors too).
        no_encoder_weights: the end of the error raised when ``encoder_weights`` is
            given (the architecture has no separately pretrained encoder); None: it has.
        own_encoder: the graph starts from the image itself (``unet_mini``).
        features_layer: the layer the original's distillation read features from.
    """

    name: str
    decode: Callable
    output_size: Callable
    summary: str
    encoder_levels: tuple = ()
    options: dict = dataclasses.field(default_factory=dict)
    divisor: int | Callable = 1
    allow_none: bool = True
    full_resolution: bool | None = None
    no_encoder_weights: str | None = None
    own_encoder: bool = False
    features_layer: str = "seg_feats"


@dataclasses.dataclass(frozen=True)
class LegacyModel:
    """One of the original ``model_from_name`` entries: an architecture on an encoder, at a default size.

    ``encoder_argument``: the constructor takes the encoder as its second argument
    (``fcn_8(n_classes, encoder=...)``), with ``encoder`` as the default.
    """

    name: str
    architecture: Architecture
    encoder: str
    default_size: tuple
    encoder_argument: bool = False

    @property
    def decoder(self):
        """The decoder's name in model tables."""
        return self.architecture.name

    def output_size(self, height, width):
        """The output size of the default graph at ``height`` x ``width``."""
        return self.architecture.output_size(height, width)


# ============================================================ building


def _checked_options(architecture, what, options):
    allowed = dict(architecture.options)
    if architecture.encoder_levels:
        allowed = {"encoder_level": architecture.encoder_levels, **allowed}
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ModelConfigError(f"{what}: unknown option(s) {', '.join(unknown)}; known: {', '.join(allowed) or 'none'}")
    checked = {}
    for key, choices in allowed.items():
        value = options.get(key, DEFAULT_ENCODER_LEVEL if key == "encoder_level" else choices[0])
        if isinstance(value, bool) != isinstance(choices[0], bool) or value not in choices:
            raise ModelConfigError(f"{what}: {key} must be one of {', '.join(map(repr, choices))}, got {value!r}")
        checked[key] = value
    return checked


def _build_config(architecture, name, shape, full_resolution, options, encoder):
    """The ``build_config`` that rebuilds the model: the constructor's arguments, options off their default."""
    kwargs = {key: shape[key] for key in ("n_classes", "input_height", "input_width")}
    if architecture.encoder_levels:
        kwargs["encoder_level"] = options["encoder_level"]
    kwargs.update(channels=shape["channels"], full_resolution=full_resolution)
    if encoder is not None:
        kwargs["encoder"] = encoder
    kwargs.update({key: options[key] for key, choices in architecture.options.items() if options[key] != choices[0]})
    return {"builder": name, "kwargs": kwargs}


def build_legacy(
    architecture,
    encoder,
    n_classes,
    input_height,
    input_width,
    channels=3,
    *,
    encoder_weights=DEFAULT_ENCODER_WEIGHTS,
    full_resolution=False,
    name="",
    encoder_in_config=False,
    **options,
):
    """Build ``architecture`` on ``encoder``: the one function behind every original constructor.

    Args:
        architecture: an :class:`Architecture`.
        encoder: a registry name, one of the original encoder functions, or any
            callable ``encoder(input_height=, input_width=, channels=) ->
            (img_input, [f1, ..., f5])`` (such models get no ``build_config``).
        n_classes, input_height, input_width, channels: the model's shape.
        encoder_weights: ``"imagenet"``, ``None`` or a weights file path.
        full_resolution: bring the output to the input's size.
        name: the model name; it is the ``build_config`` builder (``""``: no ``build_config``).
        encoder_in_config: record the encoder in ``build_config`` (constructors
            that take it as an argument: ``fcn_8``, ``fcn_32``).
        **options: the architecture's options (``encoder_level``, ...).

    Raises:
        ModelConfigError: a bad option, ``n_classes``, ``channels`` or encoder.
        InputSizeError: an input size the architecture or encoder cannot take.
    """
    what = name or architecture.name
    if architecture.no_encoder_weights and encoder_weights is not None and encoder_weights is not DEFAULT_ENCODER_WEIGHTS:
        raise ModelConfigError(f"{what} {architecture.no_encoder_weights}")
    options = _checked_options(architecture, what, options)
    divisor = architecture.divisor(options["encoder_level"]) if callable(architecture.divisor) else architecture.divisor
    registry_name = None if architecture.own_encoder else legacy_encoder_name(encoder)
    shape = {"n_classes": n_classes, "input_height": input_height, "input_width": input_width, "channels": channels}
    config = None  # a model on a custom encoder function cannot be rebuilt
    if name and (registry_name is not None or architecture.own_encoder):
        recorded_encoder = registry_name if encoder_in_config else None
        config = _build_config(architecture, name, shape, full_resolution, options, recorded_encoder)
    if architecture.full_resolution is not None:
        full_resolution = architecture.full_resolution
    if architecture.no_encoder_weights:
        encoder_weights = None

    def decode(levels):
        return architecture.decode(levels, n_classes, **options)

    if registry_name is not None:
        return compose(
            lambda pyramid, inputs: decode(pyramid_list(pyramid)),
            registry_name,
            n_classes=n_classes,
            input_height=input_height,
            input_width=input_width,
            channels=channels,
            encoder_weights=encoder_weights,
            full_resolution=full_resolution,
            model_name=name,
            build_config=config,
            divisor=divisor if registry_name in _ANY_SIZE_ENCODERS else max(divisor, 32),
            allow_none=architecture.allow_none,
            what=name or None,
        )
    check_n_classes(n_classes)
    if architecture.own_encoder:
        check_channels(channels)
        check_input_size(input_height, input_width, divisor=divisor, min_size=divisor, what=what)
        img_input = keras.Input((input_height, input_width, channels))
        levels = [img_input]
    elif callable(encoder):
        img_input, levels = encoder(input_height=input_height, input_width=input_width, channels=channels)
    else:
        raise ModelConfigError(f"encoder must be a registry name or an encoder function, got {encoder!r}")
    outputs = apply_head(decode(list(levels)), n_classes, img_input, full_resolution)
    return SegmentationModel(img_input, outputs, model_name=name, normalization="sub_mean", build_config=config)


def legacy_constructor(name, architecture, encoder, default_size, *, encoder_argument=False):
    """Declare one original name: ``architecture`` on ``encoder`` at ``default_size``; returns its constructor.

    The constructor has the original signature ``(n_classes, [encoder,]
    input_height, input_width, [encoder_level,] channels)`` plus keyword-only
    ``encoder_weights``, ``full_resolution`` and the architecture's options, and
    calls :func:`build_legacy`. Its declaration is ``constructor.legacy_model``.
    """
    model = LegacyModel(name, architecture, encoder, tuple(default_size), encoder_argument)
    parameter = inspect.Parameter
    positional = [("n_classes", parameter.empty)]
    if encoder_argument:
        positional.append(("encoder", encoder))
    positional += [("input_height", model.default_size[0]), ("input_width", model.default_size[1])]
    if architecture.encoder_levels:
        positional.append(("encoder_level", DEFAULT_ENCODER_LEVEL))
    positional.append(("channels", 3))
    keywords = {
        "encoder_weights": None if architecture.no_encoder_weights else DEFAULT_ENCODER_WEIGHTS,
        "full_resolution": bool(architecture.full_resolution),
        **{key: choices[0] for key, choices in architecture.options.items()},
    }
    signature = inspect.Signature(
        [parameter(key, parameter.POSITIONAL_OR_KEYWORD, default=value) for key, value in positional]
        + [parameter(key, parameter.KEYWORD_ONLY, default=value) for key, value in keywords.items()]
    )

    def constructor(*args, **kwargs):
        arguments = signature.bind(*args, **kwargs)
        arguments.apply_defaults()
        values = dict(arguments.arguments)
        chosen = values.pop("encoder", encoder)
        return build_legacy(architecture, chosen, name=name, encoder_in_config=encoder_argument, **values)

    constructor.__signature__ = signature
    constructor.__name__ = constructor.__qualname__ = name
    constructor.__doc__ = (
        f"{architecture.summary.format(encoder=encoder)}\n\n"
        "    Example:\n"
        f"        >>> model = {name}(n_classes=12, encoder_weights=None)  # doctest: +SKIP\n"
    )
    constructor.legacy_model = model
    constructor.seg_feats_layer_name = architecture.features_layer
    return constructor
