"""The original library's model plumbing on top of :func:`~keras_segmentation.models.compose.compose`.

The 22 legacy constructors (``vgg_unet``, ``fcn_8_mobilenet``, ...) keep the
original's protocol: encoder functions return ``(img_input, [f1, ..., f5])`` and
decoders read that list. This module turns that protocol into :func:`compose`
calls, so legacy models are built, saved and rebuilt like every other model.

Example:
    >>> from keras_segmentation.models.legacy import legacy_encoder
    >>> img_input, levels = legacy_encoder("vanilla", 64, 64, None, 3, 1, "demo")
    >>> [tuple(f.shape[1:3]) for f in levels][-1]
    (2, 2)
"""

import keras

from ..errors import ModelConfigError
from .compose import check_channels, check_n_classes, compose
from .encoders import LEVELS, build_encoder, check_input_size, get_encoder
from .head import apply_head
from .segmentation_model import SegmentationModel
from .weights import DEFAULT_ENCODER_WEIGHTS, resolve_encoder_weights


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


#: legacy graphs on these encoders need no multiple of 32 (the original only asserted it for the others)
_ANY_SIZE_ENCODERS = ("vanilla", "resnet50_dilated", "resnet101_dilated")


def legacy_encoder_name(encoder):
    """The registry name of an encoder given as a name or as one of the original encoder functions."""
    if isinstance(encoder, str):
        return get_encoder(encoder).name
    return getattr(encoder, "registry_name", None)


def build_legacy(
    decode_levels,
    encoder,
    *,
    n_classes,
    input_height,
    input_width,
    channels,
    encoder_weights,
    full_resolution,
    model_name,
    build_kwargs,
    divisor=1,
    allow_none=True,
):
    """Assemble a legacy-architecture model.

    Args:
        decode_levels: ``decode_levels([f1, ..., f5]) -> DecoderOutput``.
        encoder: a registry name, one of the original encoder functions, or
            any callable ``encoder(input_height=, input_width=, channels=) ->
            (img_input, [f1, ..., f5])`` (such models get no ``build_config``).
        model_name: the legacy name; it is the ``build_config`` builder.
        build_kwargs: the constructor arguments that rebuild the model.
        divisor: the decoder's input-size multiple; the original's VGG, ResNet
            and MobileNet encoders add their multiple of 32.
    """
    name = legacy_encoder_name(encoder)
    if name is None:
        if not callable(encoder):
            raise ModelConfigError(f"encoder must be a registry name or an encoder function, got {encoder!r}")
        check_n_classes(n_classes)
        img_input, levels = encoder(input_height=input_height, input_width=input_width, channels=channels)
        outputs = apply_head(decode_levels(list(levels)), n_classes, img_input, full_resolution)
        return SegmentationModel(img_input, outputs, model_name=model_name, normalization="sub_mean")
    if name not in _ANY_SIZE_ENCODERS:
        divisor = max(divisor, 32)
    config = {"builder": model_name, "kwargs": dict(build_kwargs)} if model_name else None
    return compose(
        lambda pyramid, inputs: decode_levels(pyramid_list(pyramid)),
        name,
        n_classes=n_classes,
        input_height=input_height,
        input_width=input_width,
        channels=channels,
        encoder_weights=encoder_weights,
        full_resolution=full_resolution,
        model_name=model_name,
        build_config=config,
        divisor=divisor,
        allow_none=allow_none,
        what=model_name or None,
    )


def legacy_constructor(name, assemble, encoder, default_size, summary, *, with_encoder_level=False):
    """One of the original's per-encoder names (``vgg_unet``, ``fcn_8_mobilenet``, ...) as a function.

    The function has the original signature ``(n_classes, input_height, input_width,
    [encoder_level,] channels)`` plus keyword-only ``encoder_weights`` and
    ``full_resolution``, and calls ``assemble(n_classes, encoder, ..., model_name=name)``;
    other keyword-only ``options`` go to ``assemble`` (``decoder_activation`` for the U-Nets).
    """
    height, width = default_size
    if with_encoder_level:

        def constructor(n_classes, input_height=height, input_width=width, encoder_level=3, channels=3, *,
                        encoder_weights=DEFAULT_ENCODER_WEIGHTS, full_resolution=False, **options):
            return assemble(n_classes, encoder, input_height=input_height, input_width=input_width,
                            encoder_level=encoder_level, channels=channels, encoder_weights=encoder_weights,
                            full_resolution=full_resolution, model_name=name, **options)

    else:

        def constructor(n_classes, input_height=height, input_width=width, channels=3, *,
                        encoder_weights=DEFAULT_ENCODER_WEIGHTS, full_resolution=False):
            return assemble(n_classes, encoder, input_height=input_height, input_width=input_width,
                            channels=channels, encoder_weights=encoder_weights,
                            full_resolution=full_resolution, model_name=name)

    constructor.__name__ = constructor.__qualname__ = name
    constructor.__doc__ = (
        f"{summary.format(encoder=encoder.registry_name)}\n\n"
        "    Example:\n"
        f"        >>> model = {name}(n_classes=12, encoder_weights=None)  # doctest: +SKIP\n"
    )
    return constructor

