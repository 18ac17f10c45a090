"""Every model by name: ``build_model`` (any decoder on any encoder), the 22 legacy names, named combinations
(``segformer_b0`` ... ``segformer_b5``), rebuilding.

Example:
    >>> from keras_segmentation.models.registry import build_model, rebuild_model
    >>> model = build_model("unet", "vanilla", 4, input_height=64, input_width=64)
    >>> model.model_name, model.output_shape
    ('vanilla_unet', (None, 64, 64, 4))
    >>> rebuild_model(model.build_config).count_params() == model.count_params()
    True
"""

import dataclasses
import inspect
from collections.abc import Callable

import keras

from ..errors import ModelConfigError
from . import fcn, pspnet, segnet, unet
from .compose import compose
from .decoders import DECODERS
from .encoders import get_encoder
from .weights import DEFAULT_ENCODER_WEIGHTS

__all__ = ["build_model", "resolve_model", "list_models", "rebuild_model", "LEGACY_MODELS", "model_from_name"]
__all__ += ["NAMED_MODELS", "build_named_model"]


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


# ============================================================ legacy names


@dataclasses.dataclass(frozen=True)
class LegacyModel:
    """One of the original ``model_from_name`` entries."""

    name: str
    constructor: Callable
    encoder: str
    decoder: str
    default_size: tuple
    output_size: Callable  # (height, width) -> (out_height, out_width) of the default graph


def _half(h, w):
    return (h // 2, w // 2)


def _quarter(h, w):
    return (h // 4, w // 4)


def _same(h, w):
    return (h, w)


def _plus(n):
    return lambda h, w: (h + n, w + n)


def _legacy_table():
    rows = [
        ("fcn_8", fcn.fcn_8, "vanilla", "fcn_8", (416, 608), _plus(8)),
        ("fcn_32", fcn.fcn_32, "vanilla", "fcn_32", (416, 608), _plus(32)),
        ("fcn_8_vgg", fcn.fcn_8_vgg, "vgg16", "fcn_8", (416, 608), _plus(8)),
        ("fcn_32_vgg", fcn.fcn_32_vgg, "vgg16", "fcn_32", (416, 608), _plus(32)),
        ("fcn_8_resnet50", fcn.fcn_8_resnet50, "resnet50", "fcn_8", (416, 608), _plus(8)),
        ("fcn_32_resnet50", fcn.fcn_32_resnet50, "resnet50", "fcn_32", (416, 608), _plus(32)),
        ("fcn_8_mobilenet", fcn.fcn_8_mobilenet, "mobilenet", "fcn_8", (224, 224), _plus(8)),
        ("fcn_32_mobilenet", fcn.fcn_32_mobilenet, "mobilenet", "fcn_32", (224, 224), _plus(32)),
        ("pspnet", pspnet.pspnet, "vanilla", "pspnet", (384, 576), _quarter),
        ("vgg_pspnet", pspnet.vgg_pspnet, "vgg16", "pspnet", (384, 576), _quarter),
        ("resnet50_pspnet", pspnet.resnet50_pspnet, "resnet50", "pspnet", (384, 576), _quarter),
        ("pspnet_50", pspnet.pspnet_50, "resnet50_dilated", "pspnet (Caffe)", (473, 473), _same),
        ("pspnet_101", pspnet.pspnet_101, "resnet101_dilated", "pspnet (Caffe)", (473, 473), _same),
        ("unet_mini", unet.unet_mini, "(own)", "unet (mini)", (360, 480), _same),
        ("unet", unet.unet, "vanilla", "unet", (416, 608), _half),
        ("vgg_unet", unet.vgg_unet, "vgg16", "unet", (416, 608), _half),
        ("resnet50_unet", unet.resnet50_unet, "resnet50", "unet", (416, 608), _half),
        ("mobilenet_unet", unet.mobilenet_unet, "mobilenet", "unet", (224, 224), _half),
        ("segnet", segnet.segnet, "vanilla", "segnet", (416, 608), _half),
        ("vgg_segnet", segnet.vgg_segnet, "vgg16", "segnet", (416, 608), _half),
        ("resnet50_segnet", segnet.resnet50_segnet, "resnet50", "segnet", (416, 608), _half),
        ("mobilenet_segnet", segnet.mobilenet_segnet, "mobilenet", "segnet", (224, 224), _half),
    ]
    return {row[0]: LegacyModel(*row) for row in rows}


#: the 22 original names -> LegacyModel
LEGACY_MODELS = _legacy_table()

#: the original registry: name -> constructor ``(n_classes, input_height=, input_width=, ..., channels=3)``
model_from_name = {name: entry.constructor for name, entry in LEGACY_MODELS.items()}


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


def resolve_model(name, n_classes, input_height=None, input_width=None, channels=3, encoder=None):
    """Build a model given by name, as ``train(model="vgg_unet", ...)`` and the CLI's ``--model_name`` do.

    ``name`` is one of the 22 legacy names, a :data:`NAMED_MODELS` name (``segformer_b0``),
    or a decoder name when ``encoder`` is given (then :func:`build_model`). Sizes left
    ``None`` take the model's defaults (any size for named models).

    Raises:
        ModelConfigError: unknown name, or ``n_classes`` missing.

    Example:
        >>> resolve_model("unet_mini", 3, 64, 64).output_shape
        (None, 64, 64, 3)
    """
    if n_classes is None:
        raise ModelConfigError(f"n_classes is required when the model is given by name ({name!r})")
    if encoder is not None:
        return build_model(name, encoder, n_classes, input_height, input_width, channels)
    if name in NAMED_MODELS:
        return build_named_model(name, n_classes, input_height, input_width, channels)
    if name not in model_from_name:
        raise ModelConfigError(
            f"unknown model name {name!r}; known: {', '.join(sorted([*model_from_name, *NAMED_MODELS]))} "
            f"(or a decoder {', '.join(sorted(DECODERS))} with an encoder)"
        )
    sizes = {k: v for k, v in (("input_height", input_height), ("input_width", input_width)) if v}
    if channels != 3:
        sizes["channels"] = channels
    return model_from_name[name](n_classes, **sizes)


def list_models():
    """One dict per model name: the 22 legacy names, then ``build_model`` decoders, then the named combinations.

    Each row: ``name``, ``builder`` ("legacy" or "build_model"), ``encoder``,
    ``decoder``, ``default_input`` ((h, w) or None = any), ``output`` ((h, w) at
    the default input; for ``build_model`` rows ``"input"``, the size with
    ``full_resolution=True``, and the decoder's ``native_stride`` without it),
    ``description``. Nothing is built;
    :func:`count_model` adds parameters and FLOPs.

    Example:
        >>> row = [r for r in list_models() if r["name"] == "vgg_unet"][0]
        >>> row["default_input"], row["output"]
        ((416, 608), (208, 304))
    """
    rows = []
    for name, entry in LEGACY_MODELS.items():
        rows.append(
            {
                "name": name,
                "builder": "legacy",
                "encoder": entry.encoder,
                "decoder": entry.decoder,
                "default_input": entry.default_size,
                "output": entry.output_size(*entry.default_size),
                "description": f"original keras_segmentation model {name!r}",
            }
        )
    for decoder, spec in DECODERS.items():
        stride = spec.native_stride
        rows.append(
            {
                "name": f"<encoder>_{decoder}",
                "builder": "build_model",
                "encoder": "any",
                "decoder": decoder,
                "default_input": None,
                "output": "input" + ("" if stride == 1 else f" (native 1/{stride})"),
                "native_stride": stride,
                "description": spec.description,
            }
        )
    for name, entry in NAMED_MODELS.items():
        stride = DECODERS[entry.decoder].native_stride
        rows.append(
            {
                "name": name,
                "builder": "named",
                "encoder": entry.encoder,
                "decoder": entry.decoder,
                "default_input": None,
                "output": f"input (native 1/{stride})",
                "native_stride": stride,
                "description": entry.description,
            }
        )
    return rows


def count_model(name, n_classes=12, input_height=None, input_width=None, encoder="vanilla"):
    """Build one model without pretrained weights and measure it.

    ``name`` is a legacy name, a named combination or a decoder name (built on ``encoder``). Returns
    ``{"params", "output", "gflops"}`` at the given (or default) input size.
    """
    from .flops import count_flops

    if name in LEGACY_MODELS:
        entry = LEGACY_MODELS[name]
        height, width = input_height or entry.default_size[0], input_width or entry.default_size[1]
        model = rebuild_model(
            {"builder": name, "kwargs": {"n_classes": n_classes, "input_height": height, "input_width": width}}
        )
    elif name in NAMED_MODELS:
        model = build_named_model(name, n_classes, input_height or 416, input_width or 608, encoder_weights=None)
    else:
        model = build_model(
            name, encoder, n_classes, input_height or 416, input_width or 608, encoder_weights=None
        )
    result = {
        "params": int(model.count_params()),
        "output": (model.output_height, model.output_width),
        "gflops": count_flops(model) / 1e9,
    }
    del model
    keras.backend.clear_session()
    return result


# ============================================================ rebuilding


def rebuild_model(build_config, encoder_weights=None):
    """Rebuild the architecture described by a model's ``build_config``, without downloading weights.

    Args:
        build_config: ``{"builder": "<legacy name>" or "build_model", "kwargs": {...}}``.
        encoder_weights: passed to the constructor (default ``None``: no download).

    Raises:
        ModelConfigError: a missing or unknown builder.

    Example:
        >>> from keras_segmentation.models.unet import unet
        >>> rebuild_model(unet(3, 64, 64).build_config).output_shape
        (None, 32, 32, 3)
    """
    if not isinstance(build_config, dict) or "builder" not in build_config:
        raise ModelConfigError(
            "this model has no build_config (it was built by hand or with a custom encoder); "
            "rebuild it in code and load its weights"
        )
    builder = build_config["builder"]
    kwargs = dict(build_config.get("kwargs") or {})
    if builder == "build_model":
        return build_model(**kwargs, encoder_weights=encoder_weights)
    if builder not in model_from_name:
        raise ModelConfigError(
            f"unknown builder {builder!r} in build_config; expected 'build_model' or one of {', '.join(model_from_name)}"
        )
    constructor = model_from_name[builder]
    if "encoder_weights" in inspect.signature(constructor).parameters:
        kwargs["encoder_weights"] = encoder_weights
    return constructor(**kwargs)
