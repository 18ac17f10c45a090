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
    inputs = {name: _sources(entry.get("inbound_nodes", [])) for name, entry in layers.items()}
    uses = {}
    for source in [*(name for names in inputs.values() for name in names), *_sources(config.get("output_layers", []))]:
        uses[source] = uses.get(source, 0) + 1
    pairs = {}
    for name, entry in layers.items():
        if (entry["class_name"] != "BatchNormalization" or len(entry.get("inbound_nodes", [])) != 1
                or entry["config"].get("axis") not in (-1, 3, [-1], [3]) or len(inputs[name]) != 1):
            continue
        conv = inputs[name][0]
        if conv in layers and uses[conv] == 1 and _folds(layers[conv]):
            pairs[name] = conv
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
    """Give ``folded`` (from :func:`fold_batch_norms`, or any copy of ``model`` built from its config) ``model``'s
    current weights, layer by layer by name, ``pairs`` folded. Variables are assigned from variables, with no
    round trip through NumPy: on FPN-ResNet50 (AMD EPYC, 2 cores, median of 5) 37 ms for an unfolded copy and 59 ms
    for a folded one, against 78 ms for ``set_weights(get_weights())``; a ``predict`` per image pays it at each call."""
    from keras import ops

    sources = {layer.name: layer for layer in model.layers}
    batch_norm_of = {conv: bn for bn, conv in pairs.items()}
    for layer in folded.layers:
        if layer.name in pairs or not layer.weights:
            continue
        source = sources[layer.name]
        values = (folded_kernel_and_bias(source, sources[batch_norm_of[layer.name]])
                  if layer.name in batch_norm_of else source.weights)
        for variable, value in zip(layer.weights, values):
            variable.assign(ops.copy(value))  # a copy: JAX would otherwise share (and may free) the source's array


def folded_kernel_and_bias(conv, batch_norm):
    """``[kernel, bias]`` of ``conv`` followed by ``batch_norm`` at prediction, as one convolution (tensors in the
    variables' dtype).

    Example:
        >>> kernel, bias = folded_kernel_and_bias(model.get_layer("Conv1"), model.get_layer("bn_Conv1"))
    """
    from keras import ops

    scale = ops.rsqrt(ops.convert_to_tensor(batch_norm.moving_variance) + batch_norm.epsilon)
    if batch_norm.scale:
        scale = scale * batch_norm.gamma
    shift = -batch_norm.moving_mean * scale
    if batch_norm.center:
        shift = shift + batch_norm.beta
    kernel = ops.convert_to_tensor(conv.kernel)
    if hasattr(conv, "depth_multiplier"):  # depthwise (h, w, in, multiplier): output channel i * multiplier + m
        kernel = kernel * ops.reshape(scale, tuple(kernel.shape[2:]))
    else:
        kernel = kernel * scale
    return [kernel, conv.bias * scale + shift if conv.use_bias else shift]


__all__ = ["fold_batch_norms", "foldable_pairs", "load_folded_weights", "folded_kernel_and_bias", "FOLDABLE"]
