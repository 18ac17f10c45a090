"""Mixed precision: run a model's layers in bfloat16 or float16, keep the weights, softmax and losses in float32.

``precision=`` of ``train``, ``predict``, ``predict_multiple``, ``evaluate`` (CLI ``--precision``):

* ``"float32"``: everything in float32 (the default);
* ``"mixed_bfloat16"`` / ``"mixed_float16"``: Keras' mixed policies: variables stay
  float32 (so checkpoints load in any precision), layers compute in 16 bits, and the
  model's output layer (the softmax) computes in float32; the library's losses and
  metrics cast to float32 themselves;
* ``"auto"``: ``"mixed_bfloat16"`` where the hardware computes bfloat16 natively
  (CPU flags ``avx512_bf16`` or ``amx_bf16``, or a GPU of compute capability 8.0 or
  more), else ``"float32"``.

A model built in one precision is rebuilt from its config in another, with the same
weights (:func:`with_precision`); the given model is not changed.

Example:
    >>> fast = with_precision(model, resolve_precision("auto"))
    >>> fast.layers[1].dtype_policy.name, fast.output.dtype
    ('mixed_bfloat16', 'float32')
"""

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


def gpu_compute_capabilities():
    """``(major, minor)`` of each GPU TensorFlow sees (empty on other backends or without GPUs)."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return []
    import tensorflow as tf

    details = [tf.config.experimental.get_device_details(g) for g in tf.config.list_physical_devices("GPU")]
    return [tuple(d["compute_capability"]) for d in details if d.get("compute_capability")]


def resolve_precision(precision, flags=None, gpus=None):
    """The Keras dtype policy name for ``precision`` (``"auto"`` looks at the hardware: ``flags``, ``gpus``).

    Example:
        >>> resolve_precision("auto", flags={"avx512f", "avx512_bf16"}, gpus=[])
        'mixed_bfloat16'
    """
    if precision not in PRECISIONS:
        raise ModelConfigError(f"precision={precision!r}: choose one of {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision
    gpus = gpu_compute_capabilities() if gpus is None else gpus
    if gpus:
        return "mixed_bfloat16" if all(tuple(c) >= (8, 0) for c in gpus) else "float32"
    flags = cpu_flags() if flags is None else flags
    return "mixed_bfloat16" if any(f in flags for f in BF16_CPU_FLAGS) else "float32"


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


def _set_policy(config, precision, float32_layers):
    """Set every layer's ``dtype`` in a (nested) model config, in place; ``float32_layers`` stay float32."""
    from .models.saving import layer_configs

    for layer in layer_configs(config):
        inner = layer["config"]
        if "dtype" in inner and layer["class_name"] != "InputLayer":
            inner["dtype"] = "float32" if inner.get("name") in float32_layers else precision


__all__ = ["PRECISIONS", "resolve_precision", "with_precision", "model_precision", "cpu_flags"]
