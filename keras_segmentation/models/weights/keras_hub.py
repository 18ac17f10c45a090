"""MiT encoder weights from a local keras-hub preset (``MiTBackbone`` / ``SegFormerBackbone``): nothing is downloaded.

A keras-hub preset directory holds ``model.weights.h5``, written by Keras 3's
saving library: each layer of a functional model is a group named after its
**class** in snake case, numbered in layer order (``overlapping_patching_and_embedding``,
``..._1``, ``hierarchical_transformer_encoder_7``, ``layer_normalization_3``),
sublayers are addressed by attribute name (``attn/q``, ``mlp/dwconv``) and the
variables are ``vars/0``, ``vars/1`` in creation order. A ``SegFormerBackbone``
nests the MiT one level down (``layers/functional/layers/...``); the reader
finds the first patch embedding wherever it is. The MiT layers of
:mod:`keras_segmentation.models.encoders.mit` use the same attribute names, so the k-th patch embedding, block
and stage LayerNorm of the file fill the k-th of the encoder.

Example:
    >>> from keras_segmentation.models.weights.keras_hub import hub_group
    >>> hub_group("hierarchical_transformer_encoder", 0), hub_group("layer_normalization", 3)
    ('hierarchical_transformer_encoder', 'layer_normalization_3')
"""

import re

import keras

from ...errors import WeightsError
from ..encoders.mit import MIT_VARIANTS, MixTransformerBlock, OverlapPatchEmbed, build_mit

#: keras-hub's group name for each MiT layer class of this package
HUB_NAMES = (
    (OverlapPatchEmbed, "overlapping_patching_and_embedding"),
    (MixTransformerBlock, "hierarchical_transformer_encoder"),
    (keras.layers.LayerNormalization, "layer_normalization"),
)
_FIRST_EMBED = re.compile(r"^(.*?)overlapping_patching_and_embedding/proj/vars/0$")


def hub_group(base, index):
    """The group Keras gives the ``index``-th layer of class ``base`` (0: no suffix)."""
    return base if index == 0 else f"{base}_{index}"


def variable_paths(layer, prefix):
    """``[(variable, "prefix/attr/.../vars/j")]`` for every weight of ``layer``, as Keras 3 saves them."""
    children = [(attr, child) for attr, child in sorted(vars(layer).items()) if isinstance(child, keras.layers.Layer)]
    if not children:
        return [(variable, f"{prefix}/vars/{j}") for j, variable in enumerate(layer.weights)]
    return [pair for attr, child in children for pair in variable_paths(child, f"{prefix}/{attr}")]


def _datasets(handle):
    import h5py

    found = {}
    handle.visititems(lambda key, item: found.__setitem__(key, item) if isinstance(item, h5py.Dataset) else None)
    return found


def _targets(model, prefix):
    """``[(variable, path in the file)]`` for the MiT layers of ``model``."""
    counts, pairs = {}, []
    for layer in model.layers:
        base = next((name for cls, name in HUB_NAMES if isinstance(layer, cls)), None)
        if base is None:
            continue
        group = prefix + hub_group(base, counts.get(base, 0))
        counts[base] = counts.get(base, 0) + 1
        paths = {id(variable): key for variable, key in variable_paths(layer, group)}
        pairs += [(variable, paths[id(variable)]) for variable in layer.weights]  # in the layer's own order
    return pairs


def keras_hub_reference(path, variant):
    """A 3-channel MiT-``variant`` encoder holding the weights of keras-hub file ``path``; None if it is not one.

    Raises:
        WeightsError: the file is a keras-hub MiT of another size, or lacks a weight
            (the message names the file and the first weight that does not fit).
    """
    import h5py

    name = f"mit_{variant}"
    try:
        handle = h5py.File(path, "r")
    except OSError:
        return None
    with handle:
        datasets = _datasets(handle)
        prefix = next((m.group(1) for key in sorted(datasets) if (m := _FIRST_EMBED.match(key))), None)
        if prefix is None:
            return None
        block_key = re.compile(rf"{re.escape(prefix)}hierarchical_transformer_encoder(_\d+)?/norm1/vars/0")
        blocks = sum(1 for key in datasets if block_key.fullmatch(key))
        expected = sum(MIT_VARIANTS[variant][1])
        if blocks != expected:
            raise WeightsError(
                f"{path}: a keras-hub MiT with {blocks} transformer blocks; encoder {name!r} has {expected}"
                " (choose the encoder of the preset's size)"
            )
        inputs = keras.Input((None, None, 3))
        model = keras.Model(inputs, build_mit(inputs, variant), name=f"{name}_reference")
        for variable, key in _targets(model, prefix):
            if key not in datasets:
                raise WeightsError(f"{path}: no weight {key!r} for encoder {name!r}; is it a keras-hub MiT/SegFormer preset?")
            value = datasets[key][()]
            if tuple(value.shape) != tuple(variable.shape):
                raise WeightsError(
                    f"{path}: weight {key!r} has shape {tuple(value.shape)}, encoder {name!r} expects {tuple(variable.shape)}"
                )
            variable.assign(value)
    return model
