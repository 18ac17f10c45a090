"""Training losses for sparse class maps and softmax probabilities (any Keras backend).

Every loss takes ``y_true``: integer class ids ``(batch, h, w)`` (or ``(batch, h, w, 1)``)
and ``y_pred``: softmax probabilities ``(batch, h, w, n_classes)``, and returns one
number for the whole batch: pixel losses (cross-entropy, focal) are averaged over
the counted pixels of the batch; region losses (Dice, Jaccard, Tversky, Lovász) are
computed per class over the batch and averaged over the classes present in the
batch's ground truth.

Shared arguments:

* ``class_weights``: one float per class. Pixel losses weight each pixel by its
  true class's weight (and divide by the sum of the weights, so the scale does not
  depend on the weights); region losses take a weighted mean over classes.
* ``ignore_index``: a label whose pixels contribute nothing. It may be outside the
  classes (255) or one of them (11 = CamVid's void with 12 classes): either way
  those pixels are masked out of every sum. Labels outside ``[0, n_classes)`` are
  masked out too (the data loader rejects them before training; inside a compiled
  graph the loss cannot raise).

All are registered Keras serialisables, so a model compiled with them saves and
loads without ``custom_objects``.

Example:
    >>> loss = get_loss("ce+dice", n_classes=12, ignore_index=11)
    >>> model.compile(optimizer="adam", loss=loss)   # doctest: +SKIP
"""

import keras
import numpy as np
from keras import ops

from ..errors import ModelConfigError

__all__ = [
    "CrossEntropyLoss",
    "DiceLoss",
    "FocalLoss",
    "JaccardLoss",
    "TverskyLoss",
    "LovaszSoftmaxLoss",
    "CombinedLoss",
    "SegmentationLoss",
    "SoftOverlapLoss",
    "get_loss",
    "masked_categorical_crossentropy",
    "LOSS_NAMES",
]

_PACKAGE = "keras_segmentation"


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
        self.class_weights = _check_class_weights(class_weights)
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


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CrossEntropyLoss(SegmentationLoss):
    """Categorical cross-entropy ``-log p[true class]`` for sparse labels.

    Example:
        >>> loss = CrossEntropyLoss(class_weights=[0.5, 2.0], ignore_index=255)
        >>> float(loss(np.array([[[0, 1, 255]]]), np.full((1, 1, 3, 2), 0.5)))  # doctest: +ELLIPSIS
        0.693...
    """

    def __init__(
        self, class_weights=None, ignore_index=None, epsilon=1e-7, name="cross_entropy",
        reduction="sum_over_batch_size", dtype=None,
    ):
        super().__init__(class_weights, ignore_index, epsilon, name=name, reduction=reduction, dtype=dtype)

    def compute(self, probs, onehot, valid):
        p_true = ops.sum(probs * onehot, axis=-1)
        return self._pixel_mean(-ops.log(ops.clip(p_true, self.epsilon, 1.0)), onehot, valid)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class FocalLoss(SegmentationLoss):
    """Focal loss ``-(1 - p)^gamma log p`` (Lin et al., 2017, https://arxiv.org/abs/1708.02002).

    ``gamma=0`` gives cross-entropy; ``class_weights`` play the role of the paper's alpha.

    Example:
        >>> loss = FocalLoss(gamma=2.0, ignore_index=255)
        >>> float(loss(np.array([[[0, 255]]]), np.full((1, 1, 2, 2), 0.5)))  # doctest: +ELLIPSIS
        0.173...
    """

    def __init__(
        self, gamma=2.0, class_weights=None, ignore_index=None, epsilon=1e-7, name="focal",
        reduction="sum_over_batch_size", dtype=None,
    ):
        super().__init__(class_weights, ignore_index, epsilon, name=name, reduction=reduction, dtype=dtype)
        self.gamma = float(gamma)

    def compute(self, probs, onehot, valid):
        p_true = ops.clip(ops.sum(probs * onehot, axis=-1), self.epsilon, 1.0 - self.epsilon)
        return self._pixel_mean(-ops.power(1.0 - p_true, self.gamma) * ops.log(p_true), onehot, valid)

    def get_config(self):
        return {**super().get_config(), "gamma": self.gamma}


class SoftOverlapLoss(SegmentationLoss):
    """Base of the Tversky, Dice and Jaccard losses: ``1 - (TP + s) / (TP + alpha FP + beta FN + s)``.

    TP, FP and FN are soft counts (sums of probabilities) per class over the batch;
    the per-class losses are averaged over the classes present in the batch.
    """

    def __init__(
        self, alpha, beta, smooth=1.0, class_weights=None, ignore_index=None, epsilon=1e-7, name=None,
        reduction="sum_over_batch_size", dtype=None,
    ):
        super().__init__(class_weights, ignore_index, epsilon, name=name, reduction=reduction, dtype=dtype)
        self.alpha, self.beta, self.smooth = float(alpha), float(beta), float(smooth)
        self._index_smooth = self.smooth

    def compute(self, probs, onehot, valid):
        masked = probs * valid[:, None]
        tp = ops.sum(masked * onehot, axis=0)
        fp = ops.sum(masked, axis=0) - tp
        fn = ops.sum(onehot, axis=0) - tp
        s = self._index_smooth
        index = (tp + s) / (tp + self.alpha * fp + self.beta * fn + s)
        return self._class_mean(1.0 - index, onehot)

    def get_config(self):
        return {**super().get_config(), "smooth": self.smooth}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class TverskyLoss(SoftOverlapLoss):
    """Tversky loss ``1 - (TP + s) / (TP + alpha FP + beta FN + s)`` per class, soft counts.

    Salehi et al., 2017 (https://arxiv.org/abs/1706.05721); the defaults are the
    paper's best (alpha=0.3, beta=0.7: missed pixels cost more than false alarms).
    alpha = beta = 0.5 is the Dice loss; alpha = beta = 1 the Jaccard loss.

    Args:
        alpha: weight of false positives. beta: weight of false negatives.
        smooth: added to numerator and denominator.

    Example:
        >>> loss = TverskyLoss(alpha=0.3, beta=0.7)
        >>> float(loss(np.array([[[0, 1]]]), np.eye(2)[None, None]))  # perfect prediction
        0.0
    """

    def __init__(
        self, alpha=0.3, beta=0.7, smooth=1.0, class_weights=None, ignore_index=None, epsilon=1e-7, name="tversky",
        reduction="sum_over_batch_size", dtype=None,
    ):
        super().__init__(
            alpha, beta, smooth, class_weights, ignore_index, epsilon, name=name, reduction=reduction, dtype=dtype,
        )

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "beta": self.beta}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class DiceLoss(SoftOverlapLoss):
    """Soft Dice loss ``1 - (2 TP + s) / (2 TP + FP + FN + s)`` per class (Milletari et al., 2016).

    Example:
        >>> loss = DiceLoss(ignore_index=255)
        >>> float(loss(np.array([[[0, 1, 255]]]), np.eye(2)[[0, 1, 0]][None, None]))
        0.0
    """

    def __init__(
        self, smooth=1.0, class_weights=None, ignore_index=None, epsilon=1e-7, name="dice",
        reduction="sum_over_batch_size", dtype=None,
    ):
        super().__init__(
            0.5, 0.5, smooth, class_weights, ignore_index, epsilon, name=name, reduction=reduction, dtype=dtype,
        )
        # (2TP + s) / (2TP + FP + FN + s) = (TP + s/2) / (TP + FP/2 + FN/2 + s/2)
        self._index_smooth = self.smooth / 2


@keras.saving.register_keras_serializable(package=_PACKAGE)
class JaccardLoss(SoftOverlapLoss):
    """Soft Jaccard (IoU) loss ``1 - (TP + s) / (TP + FP + FN + s)`` per class.

    Example:
        >>> loss = JaccardLoss()
        >>> float(loss(np.array([[[0, 1]]]), np.eye(2)[None, None]))
        0.0
    """

    def __init__(
        self, smooth=1.0, class_weights=None, ignore_index=None, epsilon=1e-7, name="jaccard",
        reduction="sum_over_batch_size", dtype=None,
    ):
        super().__init__(
            1.0, 1.0, smooth, class_weights, ignore_index, epsilon, name=name, reduction=reduction, dtype=dtype,
        )


@keras.saving.register_keras_serializable(package=_PACKAGE)
class LovaszSoftmaxLoss(SegmentationLoss):
    """Lovász-softmax loss: a convex surrogate of 1 - IoU (Berman et al., 2018).

    For each class present in the batch, the pixel errors ``|onehot - p|`` are sorted
    in decreasing order and dotted with the gradient of the Jaccard loss's Lovász
    extension (https://arxiv.org/abs/1705.08790); the result is averaged over the
    classes. On a one-hot (hard) prediction it equals 1 - IoU of each class.

    Example:
        >>> loss = LovaszSoftmaxLoss()
        >>> float(loss(np.array([[[0, 0, 1]]]), np.eye(2)[[0, 1, 1]][None, None]))  # IoUs 1/2 and 1/2
        0.5
    """

    def __init__(
        self, class_weights=None, ignore_index=None, epsilon=1e-7, name="lovasz_softmax",
        reduction="sum_over_batch_size", dtype=None,
    ):
        super().__init__(class_weights, ignore_index, epsilon, name=name, reduction=reduction, dtype=dtype)

    def compute(self, probs, onehot, valid):
        fg = ops.transpose(onehot)  # (C, N)
        errors = ops.abs(fg - ops.transpose(probs)) * valid[None, :]
        # Masked-out pixels sort last (key -1), where the Jaccard gradient is 0.
        order = ops.argsort(-(errors + valid[None, :] - 1.0), axis=-1)
        errors = ops.take_along_axis(errors, order, axis=-1)
        fg = ops.take_along_axis(fg, order, axis=-1)
        n_fg = ops.sum(fg, axis=-1, keepdims=True)
        intersection = n_fg - ops.cumsum(fg, axis=-1)
        union = n_fg + ops.cumsum(1.0 - fg, axis=-1)
        jaccard = 1.0 - intersection / union
        grad = ops.concatenate([jaccard[:, :1], jaccard[:, 1:] - jaccard[:, :-1]], axis=-1)
        return self._class_mean(ops.sum(errors * grad, axis=-1), onehot)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CombinedLoss(keras.losses.Loss):
    """A weighted sum of losses, e.g. cross-entropy + Dice.

    Args:
        losses: list of loss objects (or registered loss functions).
        weights: one float per loss (default: all 1).

    Example:
        >>> loss = CombinedLoss([CrossEntropyLoss(), DiceLoss()], weights=[1.0, 0.5])
    """

    def __init__(self, losses, weights=None, name="combined_loss", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.losses = [keras.saving.deserialize_keras_object(loss) if isinstance(loss, dict) else loss for loss in losses]
        if not self.losses:
            raise ModelConfigError("CombinedLoss needs at least one loss")
        self.weights = [1.0] * len(self.losses) if weights is None else [float(w) for w in weights]
        if len(self.weights) != len(self.losses):
            raise ModelConfigError(f"CombinedLoss got {len(self.weights)} weights for {len(self.losses)} losses")

    def call(self, y_true, y_pred):
        return sum(w * ops.cast(loss(y_true, y_pred), "float32") for w, loss in zip(self.weights, self.losses))

    def get_config(self):
        return {
            **super().get_config(),
            "losses": [keras.saving.serialize_keras_object(loss) for loss in self.losses],
            "weights": self.weights,
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
def masked_categorical_crossentropy(gt, pr):
    """Cross-entropy that ignores class 0 (the original ``train(ignore_zero_class=True)``).

    ``gt`` is sparse ``(batch, h, w)``, or one-hot with the shape of ``pr`` as in the
    original (all-zero one-hot rows then count as class 0, i.e. are ignored, as they
    were). The original multiplied each pixel's loss by ``1 - gt[..., 0]`` and averaged
    over all pixels; this one averages over the non-zero pixels, so the loss scale does
    not depend on how much background there is.

    Example:
        >>> model.compile(optimizer="adam", loss=masked_categorical_crossentropy)  # doctest: +SKIP
    """
    gt, pr = ops.convert_to_tensor(gt), ops.convert_to_tensor(pr)
    if len(gt.shape) == len(pr.shape) and gt.shape[-1] == pr.shape[-1] and pr.shape[-1] > 1:
        gt = ops.argmax(gt, axis=-1)
    return CrossEntropyLoss(ignore_index=0)(gt, pr)


#: Loss names accepted by :func:`get_loss`, by class.
LOSS_NAMES = {
    "categorical_crossentropy": CrossEntropyLoss,
    "sparse_categorical_crossentropy": CrossEntropyLoss,
    "cross_entropy": CrossEntropyLoss,
    "crossentropy": CrossEntropyLoss,
    "ce": CrossEntropyLoss,
    "dice": DiceLoss,
    "focal": FocalLoss,
    "jaccard": JaccardLoss,
    "iou": JaccardLoss,
    "tversky": TverskyLoss,
    "lovasz": LovaszSoftmaxLoss,
    "lovasz_softmax": LovaszSoftmaxLoss,
}


def get_loss(spec, n_classes, class_weights=None, ignore_index=None):
    """Build a loss from a name, a sum of names, or pass a loss through.

    Args:
        spec: one of

            * a name from :data:`LOSS_NAMES` (``"ce"``, ``"dice"``, ``"focal"``,
              ``"jaccard"``, ``"tversky"``, ``"lovasz"``, ...), case-insensitive;
            * names joined by ``+`` (``"ce+dice"``), or a list of names: their sum;
            * a dict ``{name: weight}``: their weighted sum;
            * a ``keras.losses.Loss`` or any callable: returned unchanged (it keeps
              its own class weights and ignore index).
        n_classes: number of classes (checks ``class_weights``).
        class_weights: optional ``n_classes`` floats, given to every named loss.
        ignore_index: optional label to ignore, given to every named loss.

    Returns:
        A loss object (a :class:`CombinedLoss` for several names).

    Raises:
        ModelConfigError: unknown name, or ``class_weights`` of the wrong length.

    Example:
        >>> get_loss({"ce": 1.0, "dice": 0.5}, n_classes=12, ignore_index=11).weights
        [1.0, 0.5]
    """
    if isinstance(spec, keras.losses.Loss) or (callable(spec) and not isinstance(spec, type)):
        return spec
    weights = _check_class_weights(class_weights)
    if weights is not None and len(weights) != n_classes:
        raise ModelConfigError(f"class_weights has {len(weights)} values for n_classes={n_classes}")
    if isinstance(spec, str):
        spec = {part: 1.0 for part in spec.split("+")}
    elif isinstance(spec, (list, tuple)):
        spec = {part: 1.0 for part in spec}
    if not isinstance(spec, dict) or not spec:
        raise ModelConfigError(f"loss must be a name, a list or dict of names, or a loss object; got {spec!r}")
    losses = []
    for name in spec:
        key = str(name).strip().lower().replace("-", "_")
        if key not in LOSS_NAMES:
            raise ModelConfigError(f"unknown loss {name!r}; choose from {', '.join(sorted(LOSS_NAMES))}")
        losses.append(LOSS_NAMES[key](class_weights=weights, ignore_index=ignore_index))
    if len(losses) == 1 and float(next(iter(spec.values()))) == 1.0:
        return losses[0]
    return CombinedLoss(losses, weights=list(spec.values()))


def _check_class_weights(class_weights):
    if class_weights is None:
        return None
    values = np.asarray(class_weights, dtype=np.float64)
    if values.ndim != 1 or not values.size or not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ModelConfigError(f"class_weights must be a sequence of non-negative finite floats, got {class_weights!r}")
    return [float(v) for v in values]
