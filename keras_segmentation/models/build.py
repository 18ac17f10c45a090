"""Models built from the decoder and encoder registries: :func:`build_model` and the named combinations.

* :func:`build_model` puts any decoder of
  :data:`~keras_segmentation.models.decoders.DECODERS` on any registered encoder.
* :data:`NAMED_MODELS` are such combinations known by their own name
  (``segformer_b0`` ... ``segformer_b5``: a MiT encoder and the SegFormer head);
  :func:`build_named_model` builds them.

Example:
    >>> from keras_segmentation.models.build import build_model
    >>> model = build_model("unet", "vanilla", 4, input_height=64, input_width=64)
    >>> model.model_name, model.output_shape
    ('vanilla_unet', (None, 64, 64, 4))
"""

import dataclasses

from ..errors import ModelConfigError
from .compose import compose
from .decoders import DECODERS
from .encoders import get_encoder
from .weights import DEFAULT_ENCODER_WEIGHTS

__all__ = ["build_model", "NAMED_MODELS", "NamedModel", "build_named_model"]


# ============================================================ build_model


def _jsonable(value):
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ModelConfigError(f"decoder options must be plain values (numbers, strings, lists), got {value!r}")


def build_model(
    decoder,
    encoder,
    n_classes,
    input_height=None,
    input_width=None,
    channels=3,
    *,
    encoder_weights=DEFAULT_ENCODER_WEIGHTS,
    full_resolution=True,
    model_name=None,
    **decoder_options,
):
    """Build ``decoder`` on ``encoder``: any decoder of the registry on any registered encoder.

    Args:
        decoder: ``"fcn_8"``, ``"fcn_32"``, ``"segnet"``, ``"unet"``, ``"unetplusplus"``, ``"linknet"``,
            ``"pspnet"``, ``"deeplabv3"``, ``"deeplabv3plus"``, ``"fpn"``, ``"upernet"``, ...
            (see :data:`keras_segmentation.models.decoders.DECODERS`).
        encoder: an encoder name (:func:`list_encoders`), e.g. ``"efficientnetv2b0"``.
        n_classes: number of classes.
        input_height, input_width: input size; ``None`` (default) accepts any
            size at run time.
        channels: input channels (1 for grayscale, 4 for RGBA or more bands);
            pretrained first-layer weights are adapted, not dropped.
        encoder_weights: ``"imagenet"`` (the default where the encoder has such
            weights; ``None`` when ``KERAS_SEGMENTATION_ENCODER_WEIGHTS=none``),
            ``None`` or a local weights file.
        full_resolution: output at the input's height and width (default), or
            at the decoder's native stride (2 for U-Net/U-Net++/LinkNet/SegNet, 4 for
            DeepLabV3+/FPN/UPerNet, the encoder's last stride for PSPNet/DeepLabV3).
        model_name: defaults to ``"<encoder>_<decoder>"``.
        **decoder_options: passed to the decoder (e.g. ``decoder_filters=(128, 64, 32, 16, 8)``
            for U-Net, ``aspp_rates=(3, 6, 9)`` for DeepLabV3+).

    Returns:
        a :class:`~keras_segmentation.models.segmentation_model.SegmentationModel`
        whose ``build_config`` rebuilds it (:func:`rebuild_model`).

    Raises:
        ModelConfigError: unknown decoder/encoder or bad option.
        InputSizeError: input smaller than the encoder allows.
        WeightsError: the weights cannot be downloaded or loaded.

    Example:
        >>> model = build_model("deeplabv3plus", "mobilenetv2", 12, encoder_weights=None)
        >>> model.output_shape
        (None, None, None, 12)
    """
    key = str(decoder).lower()
    if key not in DECODERS:
        raise ModelConfigError(f"unknown decoder {decoder!r}; choose one of: {', '.join(sorted(DECODERS))}")
    spec = get_encoder(encoder)
    decode = DECODERS[key].build
    name = model_name if model_name is not None else f"{spec.name}_{key}"
    strides = {f"P{k}": s for k, s in enumerate(spec.strides, start=1)}
    kwargs = {
        "decoder": key,
        "encoder": spec.name,
        "n_classes": n_classes,
        "input_height": input_height,
        "input_width": input_width,
        "channels": channels,
        "full_resolution": bool(full_resolution),
        "model_name": name,
        **_jsonable(decoder_options),
    }

    def run_decoder(pyramid, inputs):
        try:
            return decode(pyramid, inputs, n_classes, strides, bool(full_resolution), **decoder_options)
        except TypeError as err:
            raise ModelConfigError(f"decoder {key!r}: {err}") from err

    return compose(
        run_decoder,
        spec.name,
        n_classes=n_classes,
        input_height=input_height,
        input_width=input_width,
        channels=channels,
        encoder_weights=encoder_weights,
        full_resolution=bool(full_resolution),
        model_name=name,
        build_config={"builder": "build_model", "kwargs": kwargs},
        what=name,
    )


# ============================================================ named combinations


@dataclasses.dataclass(frozen=True)
class NamedModel:
    """A :func:`build_model` combination known by its own name (``segformer_b0``: MiT-B0 + the SegFormer head)."""

    name: str
    decoder: str
    encoder: str
    options: dict
    description: str


def _named_table():
    rows = []
    for k in range(6):
        filters = 256 if k < 2 else 768
        rows.append(
            NamedModel(
                f"segformer_b{k}",
                "segformer",
                f"mit_b{k}",
                {"decoder_filters": filters},
                f"SegFormer-B{k}: MiT-B{k} encoder + all-MLP head ({filters} filters)",
            )
        )
    return {row.name: row for row in rows}


#: names of build_model combinations -> NamedModel
NAMED_MODELS = _named_table()


def build_named_model(name, n_classes, input_height=None, input_width=None, channels=3, **kwargs):
    """Build a :data:`NAMED_MODELS` entry with :func:`build_model`; ``kwargs`` override its decoder options.

    Example:
        >>> build_named_model("segformer_b0", 3, 64, 64).model_name
        'segformer_b0'
    """
    if name not in NAMED_MODELS:
        raise ModelConfigError(f"unknown named model {name!r}; choose one of: {', '.join(NAMED_MODELS)}")
    entry = NAMED_MODELS[name]
    options = {**entry.options, **kwargs}
    return build_model(entry.decoder, entry.encoder, n_classes, input_height, input_width, channels, model_name=name, **options)
