"""Count the floating-point operations of a model's forward pass from its layer shapes.

``count_flops(model)`` adds, for one image, 2 x the multiply-adds of every
``Conv2D``, ``DepthwiseConv2D``, ``SeparableConv2D``, ``Conv2DTranspose`` and
``Dense`` layer (including layers inside nested models), read from the built
model's static shapes:

* Conv2D: ``H_out * W_out * C_out * kh * kw * C_in / groups``
* DepthwiseConv2D: ``H_out * W_out * C_in * depth_multiplier * kh * kw``
* SeparableConv2D: its depthwise part plus ``H_out * W_out * C_in * depth_multiplier * C_out``
* Conv2DTranspose: ``H_in * W_in * C_in * C_out * kh * kw`` (every input pixel
  scatters one kernel)
* Dense: ``positions * units_in * units_out`` (positions = product of the
  non-batch, non-feature dimensions)

A layer of its own kind (the MiT transformer layers) counts itself with a
``flops(input_shape, output_shape)`` method (attention products included).
Biases, normalisation, activations, pooling and resizing are not counted (they
are a few percent at most). The benchmarks divide this count by the measured
time to report achieved FLOP/s.

Example:
    >>> import keras
    >>> x = keras.Input((8, 8, 3))
    >>> model = keras.Model(x, keras.layers.Conv2D(4, 3, padding="same")(x))
    >>> count_flops(model)  # 2 * 8*8 positions * 4 filters * 3*3*3 weights
    13824
"""

import math

import keras

from ..errors import ModelConfigError

__all__ = ["count_flops", "layer_flops"]


def _spatial(shape):
    return math.prod(int(d) for d in shape[1:-1])


def layer_flops(layer, input_shape, output_shape):
    """Forward FLOPs (2 x multiply-adds) of one call of ``layer`` on one image; 0 for uncounted layers."""
    L = keras.layers
    if callable(getattr(layer, "flops", None)):
        return int(layer.flops(input_shape, output_shape))
    if isinstance(layer, L.Conv2DTranspose):
        kh, kw = layer.kernel_size
        return 2 * _spatial(input_shape) * int(input_shape[-1]) * layer.filters * kh * kw
    if isinstance(layer, L.SeparableConv2D):
        kh, kw = layer.kernel_size
        inner = int(input_shape[-1]) * layer.depth_multiplier
        return 2 * _spatial(output_shape) * inner * (kh * kw + layer.filters)
    if isinstance(layer, L.DepthwiseConv2D):
        kh, kw = layer.kernel_size
        return 2 * _spatial(output_shape) * int(input_shape[-1]) * layer.depth_multiplier * kh * kw
    if isinstance(layer, L.Conv2D):
        kh, kw = layer.kernel_size
        groups = getattr(layer, "groups", 1) or 1
        return 2 * _spatial(output_shape) * layer.filters * kh * kw * int(input_shape[-1]) // groups
    if isinstance(layer, L.Dense):
        positions = math.prod(int(d) for d in input_shape[1:-1]) if len(input_shape) > 2 else 1
        return 2 * positions * int(input_shape[-1]) * layer.units
    return 0


def _calls(layer):
    """(input_shape, output_shape) of each call of ``layer`` in the graph(s) it belongs to."""
    nodes = getattr(layer, "_inbound_nodes", None) or []
    shapes = []
    for node in nodes:
        inputs = node.input_tensors if hasattr(node, "input_tensors") else []
        outputs = node.output_tensors if hasattr(node, "output_tensors") else []
        if not inputs or not outputs:
            continue
        shapes.append((tuple(inputs[0].shape), tuple(outputs[0].shape)))
    if not shapes:
        try:
            shapes.append((tuple(layer.input.shape), tuple(layer.output.shape)))
        except (AttributeError, ValueError):
            pass
    return shapes


def _leaf_layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model) or hasattr(layer, "layers") and isinstance(layer.layers, list):
            yield from _leaf_layers(layer)
        else:
            yield layer


def count_flops(model):
    """Forward-pass FLOPs of ``model`` for one image (an int).

    Raises:
        ModelConfigError: a counted layer has an unknown (``None``) spatial size;
            build the model with a fixed input size to count it.
    """
    total = 0
    for layer in _leaf_layers(model):
        for input_shape, output_shape in _calls(layer):
            unknown = any(d is None for shape in (input_shape[1:], output_shape[1:]) for d in shape)
            if unknown and _is_counted(layer):
                raise ModelConfigError(
                    f"count_flops: layer {layer.name!r} has an unknown size {output_shape}; "
                    "build the model with a fixed input_height and input_width"
                )
            total += layer_flops(layer, input_shape, output_shape)
    return int(total)


def _is_counted(layer):
    L = keras.layers
    if callable(getattr(layer, "flops", None)):
        return True
    return isinstance(layer, (L.Conv2D, L.DepthwiseConv2D, L.SeparableConv2D, L.Conv2DTranspose, L.Dense))
