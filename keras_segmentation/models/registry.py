"""Every model by name: the 22 original names, resolving, listing, counting and rebuilding.

* :data:`LEGACY_MODELS` / :data:`model_from_name`: the original names, collected
  from their declarations beside their decoders (``decoders/fcn.py``,
  ``decoders/pspnet.py``, ``decoders/unet.py``, ``decoders/segnet.py``).
* :func:`resolve_model`: a model given by name (an original name, a named
  combination, or a decoder on an encoder), as ``train(model=...)`` does.
* :func:`list_models` and :func:`count_model`: the model tables.
* :func:`rebuild_model`: a model from its ``build_config``.

:func:`~keras_segmentation.models.build.build_model` and the named combinations
live in :mod:`keras_segmentation.models.build`.

Example:
    >>> from keras_segmentation.models.registry import build_model, rebuild_model
    >>> model = build_model("unet", "vanilla", 4, input_height=64, input_width=64)
    >>> rebuild_model(model.build_config).count_params() == model.count_params()
    True
"""

import inspect

import keras

from ..errors import ModelConfigError
from .build import NAMED_MODELS, build_model, build_named_model
from .decoders import DECODERS, fcn, pspnet, segnet, unet

__all__ = [
    "LEGACY_MODELS", "model_from_name", "resolve_model", "list_models", "count_model", "rebuild_model",
    "build_model", "NAMED_MODELS", "build_named_model",  # from .build, where resolve_model finds them
]

_CONSTRUCTORS = (*fcn.CONSTRUCTORS, *pspnet.CONSTRUCTORS, *unet.CONSTRUCTORS, *segnet.CONSTRUCTORS)

#: the 22 original names -> :class:`~keras_segmentation.models.legacy_models.LegacyModel`
LEGACY_MODELS = {constructor.__name__: constructor.legacy_model for constructor in _CONSTRUCTORS}

#: the original registry: name -> constructor ``(n_classes, input_height=, input_width=, ..., channels=3)``
model_from_name = {constructor.__name__: constructor for constructor in _CONSTRUCTORS}


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
