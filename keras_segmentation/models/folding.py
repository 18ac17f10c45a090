"""Batch normalisations folded into the convolutions before them, for prediction.

At prediction a ``BatchNormalization`` is a fixed scale and shift per channel. After a ``Conv2D`` or
``DepthwiseConv2D`` with no activation of its own, both fit into the convolution's kernel and bias, and the batch
norm becomes an ``Identity`` of the same name: the same outputs (up to float rounding) with fewer ops. On a CPU in
bfloat16 the batch norms cost more than their arithmetic: Keras computes them in float32, so each one also casts its
input up and its output down (the profile in docs/benchmarks.md, "Where the time goes, ours against SMP").

Example:
    >>> folded, pairs = fold_batch_norms(model)
    >>> pairs["bn_Conv1"]
    'Conv1'
"""

import numpy as np

#: the layer classes a following batch norm folds into (their kernels' last axes are the output channels)
FOLDABLE = ("Conv2D", "DepthwiseConv2D")


def foldable_pairs(config):
    """``{batch norm name: convolution name}`` in a functional model's ``config``: each pair a channels-last
    ``Conv2D`` or ``DepthwiseConv2D`` with a linear activation, called once, whose output feeds nothing but one
    ``BatchNormalization`` over the channels, itself called once.

    Example:
        >>> foldable_pairs(model.get_config())["bn_Conv1"]
        'Conv1'
    """
    layers = {entry["config"]["name"]: entry for entry in config.get("layers", [])}
    uses = {}
    for entry in layers.values():
        for source in _sources(entry.get("inbound_nodes", [])):
            uses[source] = uses.get(source, 0) + 1
    for source in _sources(config.get("output_layers", [])):
        uses[source] = uses.get(source, 0) + 1
    pairs = {}
    for name, entry in layers.items():
        sources = _sources(entry.get("inbound_nodes", []))
        if entry["class_name"] != "BatchNormalization" or len(entry.get("inbound_nodes", [])) != 1:
            continue
        if entry["config"].get("axis") not in (-1, 3, [-1], [3]) or len(sources) != 1:
            continue
        conv = layers.get(sources[0])
        if conv is not None and uses[sources[0]] == 1 and _folds(conv):
            pairs[name] = sources[0]
    return pairs


def _folds(entry):
    config = entry["config"]
    return (entry["class_name"] in FOLDABLE and len(entry.get("inbound_nodes", [])) == 1
            and config.get("activation", "linear") == "linear"
            and config.get("data_format", "channels_last") == "channels_last")


def _sources(value):
    """The names of the layers whose outputs ``value`` (inbound nodes, output layers) refers to, once per use."""
    if isinstance(value, dict):
        history = value.get("config", {}).get("keras_history") if isinstance(value.get("config"), dict) else None
        if value.get("class_name") == "__keras_tensor__" and history:
            return [history[0]]
        return [name for inner in value.values() for name in _sources(inner)]
    if isinstance(value, (list, tuple)):
        if len(value) == 3 and isinstance(value[0], str) and all(isinstance(v, int) for v in value[1:]):
            return [value[0]]  # an output layer entry: [name, node index, tensor index]
        return [name for inner in value for name in _sources(inner)]
    return []


def fold_batch_norms(model):
    """``(folded copy, pairs)`` of a functional ``model``: every pair of :func:`foldable_pairs` folded, its batch
    norm an ``Identity``; ``(model, {})`` when nothing folds. :func:`load_folded_weights` refreshes the copy after
    ``model``'s weights change.

    Example:
        >>> folded, pairs = fold_batch_norms(model)
        >>> np.allclose(folded.predict(x), model.predict(x), atol=1e-4)
        True
    """
    config = model.get_config()
    pairs = foldable_pairs(config)
    if not pairs:
        return model, {}
    convolutions = set(pairs.values())
    for entry in config["layers"]:
        name = entry["config"]["name"]
        if name in pairs:
            entry.update(module="keras.layers", class_name="Identity", registered_name=None,
                         config={"name": name, "trainable": False, "dtype": entry["config"].get("dtype")})
            for node in entry["inbound_nodes"]:
                node["kwargs"] = {}
        elif name in convolutions:
            entry["config"]["use_bias"] = True
    folded = model.__class__.from_config(config)
    load_folded_weights(folded, model, pairs)
    return folded, pairs


def load_folded_weights(folded, model, pairs):
    """Give ``folded`` (from :func:`fold_batch_norms`) ``model``'s current weights, ``pairs`` folded."""
    sources = {layer.name: layer for layer in model.layers}
    batch_norm_of = {conv: bn for bn, conv in pairs.items()}
    for layer in folded.layers:
        if layer.name in pairs or not layer.weights:
            continue
        source = sources[layer.name]
        if layer.name in batch_norm_of:
            layer.set_weights(folded_kernel_and_bias(source, sources[batch_norm_of[layer.name]]))
        else:
            layer.set_weights(source.get_weights())


def folded_kernel_and_bias(conv, batch_norm):
    """``[kernel, bias]`` of ``conv`` followed by ``batch_norm`` at prediction, as one convolution.

    Example:
        >>> kernel, bias = folded_kernel_and_bias(model.get_layer("Conv1"), model.get_layer("bn_Conv1"))
    """
    mean = np.asarray(batch_norm.moving_mean, np.float64)
    scale = 1.0 / np.sqrt(np.asarray(batch_norm.moving_variance, np.float64) + batch_norm.epsilon)
    if batch_norm.scale:
        scale = scale * np.asarray(batch_norm.gamma, np.float64)
    shift = -mean * scale
    if batch_norm.center:
        shift = shift + np.asarray(batch_norm.beta, np.float64)
    kernel = np.asarray(conv.kernel, np.float64)
    bias = np.asarray(conv.bias, np.float64) if conv.use_bias else np.zeros(scale.shape)
    if hasattr(conv, "depth_multiplier"):  # depthwise (h, w, in, multiplier): output channel i * multiplier + m
        kernel = kernel * scale.reshape(kernel.shape[2:])
    else:
        kernel = kernel * scale
    dtype = conv.kernel.dtype
    return [kernel.astype(dtype), (bias * scale + shift).astype(dtype)]


__all__ = ["fold_batch_norms", "foldable_pairs", "load_folded_weights", "folded_kernel_and_bias", "FOLDABLE"]
