"""Pretrained encoder weights: where they come from, how they are copied, how channels are adapted.

``encoder_weights`` may be ``None`` (random initialisation), ``"imagenet"``
(downloaded and cached by ``keras.applications`` on first use) or the path of
a local weights file:

* a legacy Keras ``.h5`` file as ``keras.applications`` downloads it (or as the
  original library used: ``vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5``,
  ``resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5``, ...);
* a ``.weights.h5`` / ``.keras`` file saved from a 3-channel
  :func:`~keras_segmentation.models.encoders.build_encoder_model`;
* for encoders with a ``preset_reference`` (MiT): a keras-hub preset directory
  (its ``model.weights.h5``) or such a weights file, read by layer and variable name.

The weights are first loaded into a 3-channel reference model, then copied
layer by layer (matched by name, else by order within the same layer type)
into the encoder. When the encoder has another channel count, the first
convolution's kernel is averaged over its RGB input channels, repeated for
each input channel and scaled by ``3 / channels`` (as segmentation_models.pytorch
does), so grayscale or multispectral inputs keep the pretrained filters; per-channel
input statistics (EfficientNet's ``Normalization`` layer) use the RGB mean for
extra channels.

The constructors that default to ImageNet weights use
:data:`DEFAULT_ENCODER_WEIGHTS`; setting the environment variable
``KERAS_SEGMENTATION_ENCODER_WEIGHTS=none`` turns that default into ``None``
(the test suite does this so it never downloads).

Example:
    >>> import numpy as np
    >>> kernel = np.ones((3, 3, 3, 8), "float32")
    >>> adapt_first_kernel(kernel, 1).shape, float(adapt_first_kernel(kernel, 1)[0, 0, 0, 0])
    ((3, 3, 1, 8), 3.0)
"""

import os
import re

import keras
import numpy as np

from ...errors import ModelConfigError, WeightsError

ENV_VAR = "KERAS_SEGMENTATION_ENCODER_WEIGHTS"
_NO_DOWNLOAD_HINT = "pass encoder_weights=None to train from scratch or a local file path"
_IMAGENET_STD = (0.229, 0.224, 0.225)


class _DefaultWeights(str):
    """The string ``"imagenet"``, marked as "not chosen by the caller"."""

    def __repr__(self):
        return "'imagenet'"


#: Default of ``encoder_weights``: ``"imagenet"``, or ``None`` when $KERAS_SEGMENTATION_ENCODER_WEIGHTS is "none".
DEFAULT_ENCODER_WEIGHTS = _DefaultWeights("imagenet")


def resolve_encoder_weights(weights, spec):
    """Turn an ``encoder_weights`` argument into ``None``, ``"imagenet"`` or a path string.

    Raises:
        ModelConfigError: ImageNet weights requested for an encoder that has none,
            or a value of the wrong type.
    """
    if weights is DEFAULT_ENCODER_WEIGHTS:
        if os.environ.get(ENV_VAR, "").strip().lower() in ("none", "null", "false", "0"):
            return None
        return "imagenet" if spec.has_imagenet else None
    if weights is None:
        return None
    if isinstance(weights, os.PathLike):
        return os.fspath(weights)
    if not isinstance(weights, str):
        raise ModelConfigError(f"encoder_weights must be None, 'imagenet' or a file path, got {weights!r}")
    if weights.lower() == "imagenet":
        if not spec.has_imagenet:
            raise ModelConfigError(
                f"encoder {spec.name!r} has no ImageNet weights; pass encoder_weights=None or a local file path"
            )
        return "imagenet"
    if weights.lower() == "none":
        return None
    return weights


# ============================================================ channel adaptation


def _extend_last_axis(values, channels):
    values = np.asarray(values)
    mean = values.mean(axis=-1, keepdims=True)
    if channels >= values.shape[-1]:
        extra = np.repeat(mean, channels - values.shape[-1], axis=-1)
        return np.concatenate([values, extra], axis=-1)
    return np.repeat(mean, channels, axis=-1)


def adapt_first_kernel(kernel, channels):
    """Adapt an RGB convolution kernel ``(kh, kw, 3, out)`` to ``channels`` input channels.

    The RGB kernel is averaged over its input channels, repeated ``channels``
    times and scaled by ``3 / channels``: a grayscale image copied to three
    channels gives the same response as the 1-channel kernel on the gray image.
    """
    kernel = np.asarray(kernel)
    mean = kernel.mean(axis=2, keepdims=True)
    return (np.repeat(mean, channels, axis=2) * (kernel.shape[2] / channels)).astype(kernel.dtype)


def _adapt(array, target_shape, layer, channels):
    array = np.asarray(array)
    target_shape = tuple(target_shape)
    if array.shape == target_shape:
        return array
    if (
        array.ndim == 4
        and len(target_shape) == 4
        and array.shape[2] == 3
        and target_shape[2] == channels
        and array.shape[:2] == target_shape[:2]
        and array.shape[3] == target_shape[3]
    ):
        return adapt_first_kernel(array, channels)
    if (
        isinstance(layer, keras.layers.Normalization)
        and array.ndim == len(target_shape)
        and array.shape[:-1] == target_shape[:-1]
        and target_shape[-1] == channels
    ):
        return _extend_last_axis(array, channels).astype(array.dtype)
    raise WeightsError(
        f"layer {layer.name!r}: pretrained weights have shape {array.shape}, the model expects {target_shape}"
    )


# ==================================================================== sources


def _model_entries(model):
    return [(layer.name, type(layer).__name__, layer.get_weights()) for layer in model.layers if layer.weights]


def read_legacy_h5(path):
    """Read a legacy Keras HDF5 weights file as ``[(layer_name, None, [arrays])]``, or None if it is not one."""
    import h5py

    try:
        handle = h5py.File(path, "r")
    except OSError:
        return None
    with handle:
        group = handle["model_weights"] if "model_weights" in handle else handle
        if "layer_names" not in group.attrs:
            return None
        entries = []
        for raw in group.attrs["layer_names"]:
            name = raw.decode("utf8") if isinstance(raw, bytes) else str(raw)
            layer_group = group[name]
            weight_names = [
                w.decode("utf8") if isinstance(w, bytes) else str(w) for w in layer_group.attrs.get("weight_names", [])
            ]
            arrays = [np.asarray(layer_group[w]) for w in weight_names]
            if arrays:
                entries.append((name, None, arrays))
        return entries


def _download_imagenet(spec):
    try:
        return spec.imagenet()
    except Exception as err:  # noqa: BLE001 - any download/IO failure becomes one WeightsError
        text = " ".join(str(err).split())
        found = re.search(r"https?://[^\s'\"]+", text)
        url = found.group(0).rstrip(":.,;)") if found else "the keras.applications download URL"
        reason = type(err).__name__
        raise WeightsError(
            f"could not download the ImageNet weights of encoder {spec.name!r} from {url} ({reason}); {_NO_DOWNLOAD_HINT}"
        ) from err


def _file_entries(spec, path):
    legacy = read_legacy_h5(path) if path.endswith((".h5", ".hdf5")) and not path.endswith(".weights.h5") else None
    try:
        preset = spec.preset_reference(path) if spec.preset_reference is not None and legacy is None else None
        if preset is not None:
            return _model_entries(preset)
        if legacy is not None and spec.reference is None:
            return legacy
        if legacy is not None:
            return _model_entries(spec.reference(path))
        inputs = keras.Input((None, None, 3))
        reference = keras.Model(inputs, list(spec.build(inputs).values()))
        reference.load_weights(path)
        return _model_entries(reference)
    except WeightsError:
        raise
    except Exception as err:  # noqa: BLE001 - a file that does not fit the encoder
        raise WeightsError(
            f"{path}: cannot load it as weights of encoder {spec.name!r} ({type(err).__name__}: "
            f"{' '.join(str(err).split())[:200]})"
        ) from err


# =================================================================== copying


def copy_weights(entries, model, name_map=None, what="encoder"):
    """Copy ``entries`` (``[(name, class_name or None, [arrays])]``) into the weighted layers of ``model``.

    Layers are matched by name (or ``name_map(name)``), the rest in order
    within the same layer type. Every weighted layer of ``model`` must be matched.

    Returns:
        the number of layers set.

    Raises:
        WeightsError: layers missing from the source, or shapes that do not fit.
    """
    channels = model.inputs[0].shape[-1]
    targets = [layer for layer in model.layers if layer.weights]
    by_name = {name: index for index, (name, _, _) in enumerate(entries)}
    used, pairs, leftover = set(), [], []
    for layer in targets:
        candidates = [layer.name]
        if name_map is not None and name_map(layer.name):
            candidates.append(name_map(layer.name))
        index = next((by_name[c] for c in candidates if c in by_name and by_name[c] not in used), None)
        if index is None:
            leftover.append(layer)
        else:
            used.add(index)
            pairs.append((layer, entries[index]))
    spare = [entry for index, entry in enumerate(entries) if index not in used]
    # files without layer types (legacy HDF5) pair the leftovers purely in order, when the counts agree
    by_order = len(spare) == len(leftover)
    for layer in leftover:
        kind = type(layer).__name__
        match = next((e for e in spare if e[1] == kind or (e[1] is None and by_order)), None)
        if match is None:
            missing = ", ".join(layer.name for layer in leftover[:5])
            raise WeightsError(f"the pretrained weights have no match for {what} layer(s) {missing}")
        spare.remove(match)
        pairs.append((layer, match))
    for layer, (_, _, arrays) in pairs:
        variables = layer.weights
        if len(arrays) != len(variables):
            raise WeightsError(
                f"layer {layer.name!r}: pretrained weights hold {len(arrays)} arrays, the model expects {len(variables)}"
            )
        _set_weights(layer, [_adapt(a, v.shape, layer, channels) for a, v in zip(arrays, variables)])
    return len(pairs)


def _set_weights(layer, values):
    layer.set_weights(values)
    if isinstance(layer, keras.layers.Normalization) and hasattr(layer, "finalize_state"):
        layer.finalize_state()  # the layer caches its statistics as tensors


def _fold_efficientnet_std(model):
    """Keras' ImageNet EfficientNet divides by sqrt(std) once more after its Normalization layer; fold it in."""
    channels = model.inputs[0].shape[-1]
    factor = np.asarray(_extend_last_axis(np.asarray(_IMAGENET_STD, "float32"), channels), "float32")
    for layer in model.layers:
        if isinstance(layer, keras.layers.Normalization) and len(layer.weights) >= 2:
            values = layer.get_weights()
            values[1] = (values[1] * factor.reshape(values[1].shape)).astype(values[1].dtype)
            _set_weights(layer, values)


def load_encoder_weights(spec, model, weights):
    """Load ``weights`` ("imagenet" or a path) into the encoder layers of ``model``.

    Raises:
        WeightsError: the download failed (offline), the file is missing or does not fit.
    """
    if weights == "imagenet":
        entries = _model_entries(_download_imagenet(spec))
    else:
        path = os.fspath(weights)
        if os.path.isdir(path):  # a keras-hub preset directory
            path = os.path.join(path, "model.weights.h5")
        if not os.path.isfile(path):
            raise WeightsError(f"encoder weights file {path} does not exist; {_NO_DOWNLOAD_HINT}")
        entries = _file_entries(spec, path)
    copy_weights(entries, model, name_map=spec.name_map, what=f"encoder {spec.name!r}")
    if weights == "imagenet" and spec.family == "EfficientNet":
        _fold_efficientnet_std(model)
