"""The library's own Keras layers: resizing to another tensor's size and adaptive pooling.

Both work on every Keras backend, with static or unknown (``None``) input
sizes, and are registered with Keras so saved models load without
``custom_objects``. They replace the original library's ``Lambda`` layers
(which break safe-mode loading) and its TensorFlow-only ``Interp`` layer.

Bilinear resizing follows ``keras.ops.image.resize`` (half-pixel centres, no
antialiasing): when the target size is known it calls that op; when it is only
known at run time (TensorFlow graphs with ``None`` sizes) it applies the same
interpolation as two small matrix products.

Example:
    >>> import keras
    >>> from keras_segmentation.models.layers import ResizeLike
    >>> image = keras.Input((None, None, 3))
    >>> coarse = keras.layers.Conv2D(4, 3, strides=4, padding="same")(image)
    >>> ResizeLike()([coarse, image]).shape
    (None, None, None, 4)
"""

import operator

import keras
from keras import ops

from ..errors import ModelConfigError

__all__ = ["ResizeLike", "AdaptiveAveragePooling2D", "resize_like"]


# ============================================================== helpers
def _check_bins(bins):
    """``bins`` as ``(rows, cols)`` positive ints, or :class:`ModelConfigError`."""
    try:
        pair = tuple(operator.index(b) for b in bins) if isinstance(bins, (list, tuple)) else (operator.index(bins),) * 2
    except TypeError:
        pair = ()
    if isinstance(bins, bool) or len(pair) != 2 or min(pair) < 1:
        raise ModelConfigError(
            f"AdaptiveAveragePooling2D: bins={bins!r}; use a positive int or a pair (rows, cols) of them"
        )
    return pair


def _is_static(*sizes):
    return all(isinstance(size, int) for size in sizes)


def _interpolation_matrix(out_size, in_size, dtype):
    """``(out_size, in_size)`` bilinear weights with half-pixel centres."""
    out_f = ops.cast(out_size, "float32")
    in_f = ops.cast(in_size, "float32")
    src = (ops.cast(ops.arange(out_size), "float32") + 0.5) * (in_f / out_f) - 0.5
    src = ops.clip(src, 0.0, in_f - 1.0)
    low = ops.floor(src)
    frac = ops.expand_dims(ops.cast(src - low, dtype), 1)
    low_i = ops.cast(low, "int32")
    high_i = ops.minimum(low_i + 1, ops.cast(in_size, "int32") - 1)
    return ops.one_hot(low_i, in_size, dtype=dtype) * (1.0 - frac) + ops.one_hot(high_i, in_size, dtype=dtype) * frac


def _nearest_indices(out_size, in_size):
    """Source rows for nearest-neighbour resizing (half-pixel centres)."""
    scale = ops.cast(in_size, "float32") / ops.cast(out_size, "float32")
    src = ops.floor((ops.cast(ops.arange(out_size), "float32") + 0.5) * scale)
    return ops.minimum(ops.cast(src, "int32"), ops.cast(in_size, "int32") - 1)


def _pooling_matrix(bins, in_size, dtype):
    """``(bins, in_size)`` averaging weights of adaptive average pooling."""
    in_f = ops.cast(in_size, "float32")
    index = ops.cast(ops.arange(bins), "float32")
    start = ops.floor(index * in_f / bins)
    end = ops.ceil((index + 1.0) * in_f / bins)
    pos = ops.cast(ops.arange(in_size), "float32")
    inside = ops.logical_and(pos[None, :] >= start[:, None], pos[None, :] < end[:, None])
    return ops.cast(inside, dtype) / ops.cast(end - start, dtype)[:, None]


def resize_images(x, height, width, interpolation="bilinear"):
    """Resize a ``(B, H, W, C)`` tensor to ``(height, width)``; the sizes may be tensors."""
    shape = ops.shape(x)
    if interpolation == "nearest":
        # Two gathers, not TensorFlow's nearest resize: XLA on CPU cannot compile that op's gradient.
        x = ops.take(x, _nearest_indices(height, shape[1]), axis=1)
        return ops.take(x, _nearest_indices(width, shape[2]), axis=2)
    if _is_static(height, width):
        return ops.image.resize(x, (height, width), interpolation=interpolation)
    rows = _interpolation_matrix(height, shape[1], x.dtype)
    cols = _interpolation_matrix(width, shape[2], x.dtype)
    x = ops.einsum("oh,bhwc->bowc", rows, x)
    return ops.einsum("pw,bowc->bopc", cols, x)


# =============================================================== layers
@keras.saving.register_keras_serializable(package="keras_segmentation")
class ResizeLike(keras.layers.Layer):
    """Resize ``inputs[0]`` to the height and width of ``inputs[1]``.

    Args:
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.

    Example:
        >>> import keras
        >>> x = keras.Input((8, 8, 5)); ref = keras.Input((32, 30, 3))
        >>> ResizeLike()([x, ref]).shape
        (None, 32, 30, 5)
    """

    def __init__(self, interpolation="bilinear", **kwargs):
        super().__init__(**kwargs)
        if interpolation not in ("bilinear", "nearest"):
            raise ModelConfigError(f"ResizeLike: interpolation={interpolation!r}; use 'bilinear' or 'nearest'")
        self.interpolation = interpolation

    def call(self, inputs):
        x, reference = inputs
        ref_shape = ops.shape(reference)
        x_shape = ops.shape(x)
        height, width = ref_shape[1], ref_shape[2]
        if _is_static(height, width, x_shape[1], x_shape[2]) and (height, width) == tuple(x_shape[1:3]):
            return x
        return resize_images(x, height, width, self.interpolation)

    def compute_output_shape(self, input_shape):
        x_shape, ref_shape = input_shape
        return (x_shape[0], ref_shape[1], ref_shape[2], x_shape[3])

    def get_config(self):
        config = super().get_config()
        config["interpolation"] = self.interpolation
        return config


@keras.saving.register_keras_serializable(package="keras_segmentation")
class AdaptiveAveragePooling2D(keras.layers.Layer):
    """Average-pool a ``(B, H, W, C)`` tensor into ``bins x bins`` cells, whatever H and W are.

    Cell ``i`` covers rows ``floor(i*H/bins)`` to ``ceil((i+1)*H/bins)`` (as
    PyTorch's ``AdaptiveAvgPool2d``); when ``bins`` divides H this is plain
    average pooling with kernel and stride ``H // bins``.

    Args:
        bins: number of cells per side (an int), or ``(rows, cols)``.

    Example:
        >>> import keras
        >>> AdaptiveAveragePooling2D(6)(keras.Input((None, None, 8))).shape
        (None, 6, 6, 8)
    """

    def __init__(self, bins, **kwargs):
        super().__init__(**kwargs)
        self.bins = _check_bins(bins)

    def call(self, x):
        shape = ops.shape(x)
        rows = _pooling_matrix(self.bins[0], shape[1], x.dtype)
        cols = _pooling_matrix(self.bins[1], shape[2], x.dtype)
        x = ops.einsum("ih,bhwc->biwc", rows, x)
        return ops.einsum("jw,biwc->bijc", cols, x)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.bins[0], self.bins[1], input_shape[3])

    def get_config(self):
        config = super().get_config()
        config["bins"] = list(self.bins)
        return config


def resize_like(x, reference, interpolation="bilinear", name=None):
    """Resize ``x`` to ``reference``'s spatial size; a no-op when both sizes are known and equal."""
    if tuple(x.shape[1:3]) == tuple(reference.shape[1:3]) and None not in tuple(x.shape[1:3]):
        return x
    return ResizeLike(interpolation=interpolation, name=name)([x, reference])
