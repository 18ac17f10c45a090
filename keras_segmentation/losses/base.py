"""The base of the segmentation losses: argument checks, flattening, masking, class means; the replica scale.

Subclasses implement ``compute`` on flat tensors (:mod:`.pixel`, :mod:`.region`).

Example:
    >>> class Mine(SegmentationLoss):   # doctest: +SKIP
    ...     def compute(self, onehot, probs, mask): ...
"""

import keras
import numpy as np
from keras import ops

from ..errors import ModelConfigError

#: the package name every loss registers under with Keras
PACKAGE = "keras_segmentation"


class SegmentationLoss(keras.losses.Loss):
    """Base class: validates the arguments and flattens the inputs.

    Subclasses implement :meth:`compute` on flat tensors.

    Args:
        class_weights: optional sequence of ``n_classes`` non-negative floats.
        ignore_index: optional label whose pixels are left out.
        epsilon: probabilities are clipped to ``[epsilon, 1 - epsilon]`` before a log.
        name, reduction, dtype: as for ``keras.losses.Loss``.
    """

    def __init__(
        self, class_weights=None, ignore_index=None, epsilon=1e-7, name=None, reduction="sum_over_batch_size",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.class_weights = check_class_weights(class_weights)
        if ignore_index is not None and (
            isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer))
        ):
            raise ModelConfigError(f"ignore_index must be an integer label or None, got {ignore_index!r}")
        self.ignore_index = None if ignore_index is None else int(ignore_index)
        self.epsilon = float(epsilon)

    def call(self, y_true, y_pred):
        n_classes = y_pred.shape[-1]
        if n_classes is None:
            raise ModelConfigError(f"{self.name}: the last axis of y_pred (the classes) must have a known size")
        if self.class_weights is not None and len(self.class_weights) != n_classes:
            raise ModelConfigError(
                f"{self.name}: class_weights has {len(self.class_weights)} values "
                f"but the model predicts {n_classes} classes"
            )
        if len(y_true.shape) == len(y_pred.shape):
            if y_true.shape[-1] != 1:
                raise ModelConfigError(
                    f"{self.name}: labels must be integer class maps (batch, h, w), got shape {tuple(y_true.shape)}"
                )
            y_true = ops.squeeze(y_true, axis=-1)
        # Flat, contiguous (N, C) / (N,) tensors: this also avoids the "grad_input must be
        # contiguous" error of PyTorch's 4-D losses (pytorch#175084).
        probs = ops.reshape(ops.cast(y_pred, "float32"), (-1, n_classes))
        labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        valid = ops.logical_and(ops.greater_equal(labels, 0), ops.less(labels, n_classes))
        if self.ignore_index is not None:
            valid = ops.logical_and(valid, ops.not_equal(labels, self.ignore_index))
        valid = ops.cast(valid, "float32")
        # Masked-out pixels get an all-zero one-hot row: they drop out of every sum.
        onehot = ops.one_hot(ops.where(valid > 0, labels, 0), n_classes, dtype="float32") * valid[:, None]
        return per_replica(self.compute(probs, onehot, valid))

    def compute(self, probs, onehot, valid):
        """The loss from ``probs`` (N, C), one-hot targets (N, C) and the pixel mask (N,)."""
        raise NotImplementedError

    def _weights(self, n_classes):
        if self.class_weights is None:
            return ops.ones((n_classes,), dtype="float32")
        return ops.convert_to_tensor(np.asarray(self.class_weights, dtype="float32"))

    def _pixel_mean(self, pixel_losses, onehot, valid):
        """Mean of ``pixel_losses`` (N,) over counted pixels, weighted by the true class's weight."""
        if self.class_weights is None:
            weights = valid
        else:
            weights = ops.sum(onehot * self._weights(onehot.shape[-1])[None, :], axis=-1)
        return ops.sum(weights * pixel_losses) / ops.maximum(ops.sum(weights), self.epsilon)

    def _class_mean(self, class_losses, onehot):
        """Weighted mean of ``class_losses`` (C,) over the classes present in the batch."""
        present = ops.cast(ops.sum(onehot, axis=0) > 0, "float32")
        weights = present * self._weights(onehot.shape[-1])
        return ops.sum(weights * class_losses) / ops.maximum(ops.sum(weights), self.epsilon)

    def get_config(self):
        config = super().get_config()
        config.update(class_weights=self.class_weights, ignore_index=self.ignore_index, epsilon=self.epsilon)
        return config


def per_replica(loss):
    """A replica's share of a scalar ``loss`` under ``tf.distribute`` (divided by the replicas in sync).

    Keras scales losses it reduces itself, but not a scalar a loss returns already
    reduced, as these do: without this, replicas' gradients would add up to
    ``replicas`` times the single-device gradient. Other backends: unchanged.
    """
    if keras.backend.backend() != "tensorflow":
        return loss
    import tensorflow as tf

    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss if replicas == 1 else loss / replicas


def check_class_weights(class_weights):
    """``class_weights`` as a list of floats (``None`` stays ``None``); one-line error for negative or non-finite values.

    Example:
        >>> check_class_weights([1, 2.5])
        [1.0, 2.5]
    """
    if class_weights is None:
        return None
    values = np.asarray(class_weights, dtype=np.float64)
    if values.ndim != 1 or not values.size or not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ModelConfigError(f"class_weights must be a sequence of non-negative finite floats, got {class_weights!r}")
    return [float(v) for v in values]
