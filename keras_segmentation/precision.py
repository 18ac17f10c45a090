"""Mixed precision: run a model's layers in bfloat16 or float16, keep the weights, softmax and losses in float32.

``precision=`` of ``train``, ``predict``, ``predict_multiple``, ``evaluate`` (CLI ``--precision``):

* ``"float32"``: everything in float32;
* ``"mixed_bfloat16"`` / ``"mixed_float16"``: Keras' mixed policies: variables stay
  float32 (so checkpoints load in any precision), layers compute in 16 bits, and the
  model's output layer (the softmax) computes in float32; the library's losses and
  metrics cast to float32 themselves;
* ``"auto"`` (the default of training and prediction): ``"mixed_bfloat16"`` where the
  hardware computes bfloat16 natively (a GPU of compute capability 8.0 or more; a CPU
  with ``avx512_bf16`` or ``amx_bf16`` under TensorFlow's oneDNN kernels) and the model
  gains from it, else ``"float32"``. On a CPU, models with SegFormer's Mix Transformer
  blocks stay float32: they trained 0.98x and predicted 0.46x as fast in bfloat16
  (``docs/benchmarks.md``). A model already built in a mixed precision keeps it.
  On CamVid (2-core Xeon with AMX, 45 minutes) bfloat16 trained 52 epochs instead of 26
  and scored 60.3 mIoU against 58.2 (``docs/camvid.md``); predicting five trained
  CamVid models in bfloat16 moved their test mIoU by at most 0.1 (``docs/benchmarks.md``).

A model built in one precision is rebuilt from its config in another, with the same
weights (:func:`with_precision`); the given model is not changed.

Example:
    >>> fast = with_precision(model, resolve_precision("auto", model=model))
    >>> fast.layers[1].dtype_policy.name, fast.output.dtype
    ('mixed_bfloat16', 'float32')
"""

import os
import warnings
import weakref

from .errors import ModelConfigError

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16", "auto")
#: CPU flags (``/proc/cpuinfo``) of native bfloat16 arithmetic
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(path="/proc/cpuinfo"):
    """The CPU's feature flags (empty where ``/proc/cpuinfo`` does not exist)."""
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


#: CPU flags with which TensorFlow turns its oneDNN kernels on by itself (x86 Linux builds)
ONEDNN_CPU_FLAGS = ("avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8", "avx_vnni")


def onednn_enabled(flags=None, environ=None):
    """Whether TensorFlow runs its oneDNN CPU kernels: ``TF_ENABLE_ONEDNN_OPTS``, else the CPU's flags.

    Example:
        >>> onednn_enabled(flags={"avx2"}, environ={}), onednn_enabled(flags={"avx512_vnni"}, environ={})
        (False, True)
    """
    setting = (os.environ if environ is None else environ).get("TF_ENABLE_ONEDNN_OPTS")
    if setting in ("0", "1"):
        return setting == "1"
    flags = cpu_flags() if flags is None else flags
    return any(flag in flags for flag in ONEDNN_CPU_FLAGS)


def gpu_compute_capabilities():
    """``(major, minor)`` of each GPU TensorFlow sees (empty on other backends or without GPUs)."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return []
    import tensorflow as tf

    details = [tf.config.experimental.get_device_details(g) for g in tf.config.list_physical_devices("GPU")]
    return [tuple(d["compute_capability"]) for d in details if d.get("compute_capability")]


def tensorflow_on_cpu():
    """True on the TensorFlow backend without a GPU (where Keras' ``jit_compile="auto"`` would leave XLA off)."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return not tf.config.list_physical_devices("GPU")


def resolve_precision(precision, flags=None, gpus=None, backend=None, environ=None, model=None):
    """The Keras dtype policy name for ``precision``.

    ``"auto"`` looks at the hardware (``flags``, ``gpus``), the Keras ``backend``,
    ``environ`` and the ``model``: bfloat16 on GPUs of compute capability 8.0 or more; on
    a CPU, only on TensorFlow with its oneDNN kernels on (through XLA's CPU convolutions
    bfloat16 gained nothing) and for a model without Mix Transformer blocks (measured
    slower in bfloat16 on a CPU).

    Example:
        >>> resolve_precision("auto", flags={"avx512f", "avx512_bf16"}, gpus=[], backend="tensorflow", environ={})
        'mixed_bfloat16'
    """
    if precision not in PRECISIONS:
        raise ModelConfigError(f"precision={precision!r}: choose one of {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision
    gpus = gpu_compute_capabilities() if gpus is None else gpus
    if gpus:
        return "mixed_bfloat16" if all(tuple(c) >= (8, 0) for c in gpus) else "float32"
    if backend is None:
        import keras

        backend = keras.backend.backend()
    flags = cpu_flags() if flags is None else flags
    native = any(f in flags for f in BF16_CPU_FLAGS) and backend == "tensorflow" and onednn_enabled(flags, environ)
    return "mixed_bfloat16" if native and not (model is not None and slower_in_bfloat16_on_cpu(model)) else "float32"


def slower_in_bfloat16_on_cpu(model):
    """Whether ``model`` has Mix Transformer (SegFormer) blocks, which ran slower in bfloat16 on a CPU."""
    from .models.encoders.mit import MixTransformerBlock

    def blocks(layer):
        return isinstance(layer, MixTransformerBlock) or any(blocks(inner) for inner in getattr(layer, "layers", ()))

    return blocks(model)


def model_precision(model):
    """The dtype policy name the model's layers compute with (its first layer that has weights)."""
    for layer in model.layers:
        if layer.weights:
            return layer.dtype_policy.name
    return "float32"


def with_precision(model, precision):
    """``model`` itself when it already computes in ``precision``, else a copy built in it with the same weights."""
    if precision is None or precision == model_precision(model):
        return model
    config = model.get_config()
    entries = config.get("output_layers", [])
    entries = [entries] if entries and isinstance(entries[0], str) else entries  # one output: [name, 0, 0]
    outputs = {entry[0] for entry in entries}
    _set_policy(config, precision, outputs)
    copy = model.__class__.from_config(config)
    copy.set_weights(model.get_weights())
    return copy


def target_precision(model, precision):
    """The dtype policy :func:`in_precision` gives ``model`` for ``precision``.

    Example:
        >>> target_precision(with_precision(model, "mixed_float16"), "auto")  # a mixed model keeps its own
        'mixed_float16'
    """
    if precision is None or (precision == "auto" and model_precision(model) != "float32"):
        return model_precision(model)
    return resolve_precision(precision, model=model)


def in_precision(model, precision, target=None):
    """The model ``train`` fits, or predictions run, for ``precision`` (``None``: ``model`` as it is).

    ``"auto"`` leaves as they are a model built in a mixed precision and, with a warning, a
    model Keras cannot rebuild from its config (a layer without a config); a precision asked
    for by name raises instead. ``target``: :func:`target_precision`, where already known.

    Example:
        >>> model_precision(in_precision(model, "auto"))  # doctest: +SKIP
        'mixed_bfloat16'
    """
    target = target_precision(model, precision) if target is None else target
    try:
        return with_precision(model, target)  # the model itself where it computes in target already
    except (NotImplementedError, TypeError, ValueError) as err:  # a layer without a config, or one from_config rejects
        if precision != "auto":
            raise
        warnings.warn(f"{model.name} cannot be rebuilt in {target} ({type(err).__name__}: {err}); "
                      f"it computes in {model_precision(model)}", stacklevel=3)
        return model


_prediction_copies = weakref.WeakKeyDictionary()  # model -> {(policy, folds): (copy or None: the model, folded pairs)}


def for_prediction(model, precision):
    """:func:`in_precision` for predicting, with its batch norms folded into their convolutions
    (:mod:`keras_segmentation.models.folding`; not for ``precision=None``, the model as it is). One
    copy per model and policy, kept while the model lives and given the model's current weights at
    each call (so a ``predict`` per image does not rebuild the model, and a model trained further
    predicts with its new weights).

    Example:
        >>> for_prediction(model, "mixed_bfloat16") is for_prediction(model, "mixed_bfloat16")
        True
    """
    copies = _prediction_copies.setdefault(model, {})
    target = target_precision(model, precision)
    key = (target, precision is not None)  # precision=None: the model as it is, not folded
    if key not in copies:
        working = in_precision(model, precision, target)
        pairs = {}
        if precision is not None:
            working, pairs = _folded(working)
        copies[key] = (None if working is model else working, pairs)
        return working
    copy, pairs = copies[key]
    if copy is None:
        return model
    from .models.folding import load_folded_weights

    load_folded_weights(copy, model, pairs)
    return copy


def _folded(model):
    """:func:`~keras_segmentation.models.folding.fold_batch_norms`, or ``(model, {})`` for a model Keras cannot
    rebuild from its config (a subclassed model, a layer without a config)."""
    from .models.folding import fold_batch_norms

    try:
        return fold_batch_norms(model)
    except (NotImplementedError, TypeError, ValueError, KeyError):
        return model, {}


def _set_policy(config, precision, float32_layers):
    """Set every layer's ``dtype`` in a (nested) model config, in place; ``float32_layers`` stay float32."""
    from .models.model_utils import layer_configs

    for layer in layer_configs(config):
        inner = layer["config"]
        if "dtype" in inner and layer["class_name"] != "InputLayer":
            inner["dtype"] = "float32" if inner.get("name") in float32_layers else precision


__all__ = ["PRECISIONS", "resolve_precision", "with_precision", "target_precision", "in_precision", "for_prediction",
           "model_precision", "slower_in_bfloat16_on_cpu", "cpu_flags", "onednn_enabled"]
