"""Wire an encoder, a decoder and the head into a :class:`SegmentationModel`.

:func:`compose` is the one place where models are assembled: ``build_model``
and the 22 legacy constructors all call it, with a decoder function that turns
the encoder pyramid into a :class:`~keras_segmentation.models.head.DecoderOutput`.

Example:
    >>> from keras_segmentation.models.compose import compose
    >>> from keras_segmentation.models.decoders.unet import unet_decoder
    >>> model = compose(lambda pyramid, inputs: unet_decoder(pyramid, inputs), "vanilla",
    ...                 n_classes=3, input_height=64, input_width=64, model_name="demo")
    >>> model.output_shape
    (None, 64, 64, 3)
"""

import keras

from ..errors import ModelConfigError
from .encoders import build_encoder, check_input_size, get_encoder
from .head import apply_head
from .segmentation_model import SegmentationModel
from .weights import resolve_encoder_weights


def check_n_classes(n_classes):
    """Raise ModelConfigError unless ``n_classes`` is an int >= 1."""
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 1:
        raise ModelConfigError(f"n_classes must be a positive int, got {n_classes!r}")


def check_channels(channels):
    """Raise ModelConfigError unless ``channels`` is an int >= 1."""
    if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
        raise ModelConfigError(f"channels must be a positive int, got {channels!r}")


def compose(
    decode,
    encoder,
    *,
    n_classes,
    input_height=None,
    input_width=None,
    channels=3,
    encoder_weights=None,
    full_resolution=False,
    model_name="",
    build_config=None,
    divisor=1,
    allow_none=True,
    what=None,
):
    """Build ``encoder`` on a new input, run ``decode(pyramid, inputs)``, add the head.

    Args:
        decode: ``decode(pyramid, inputs) -> DecoderOutput``.
        encoder: a registered encoder name.
        n_classes, input_height, input_width, channels: the model's shape.
        encoder_weights: ``None``, ``"imagenet"``, a path, or
            :data:`~keras_segmentation.models.weights.DEFAULT_ENCODER_WEIGHTS`.
        full_resolution: bring the output to the input's height and width.
        model_name, build_config: stored on the model.
        divisor, allow_none: input-size rules of this architecture (the
            encoder's own minimum size is checked too).
        what: the architecture's name in error messages.

    Raises:
        ModelConfigError: a bad ``n_classes``, ``channels`` or encoder name.
        InputSizeError: an input size the encoder or this architecture cannot take.
        WeightsError: encoder weights that cannot be loaded.
    """
    check_n_classes(n_classes)
    check_channels(channels)
    spec = get_encoder(encoder)
    what = what or model_name or spec.name
    check_input_size(
        input_height,
        input_width,
        divisor=divisor,
        min_size=spec.min_size,
        what=what,
        allow_none=allow_none,
    )
    weights = resolve_encoder_weights(encoder_weights, spec)
    inputs = keras.Input((input_height, input_width, channels))
    pyramid = build_encoder(spec.name, inputs, weights=weights)
    decoded = decode(pyramid, inputs)
    outputs = apply_head(decoded, n_classes, inputs, full_resolution)
    return SegmentationModel(
        inputs,
        outputs,
        model_name=model_name,
        normalization=spec.normalization,
        build_config=build_config,
    )
