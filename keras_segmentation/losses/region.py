"""Region losses: soft Dice, Jaccard, Tversky and Lovász-softmax, per class over the batch, averaged over the classes present.

Example:
    >>> loss = DiceLoss(ignore_index=11)
"""

import keras
from keras import ops

from .base import PACKAGE, SegmentationLoss


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


@keras.saving.register_keras_serializable(package=PACKAGE)
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


@keras.saving.register_keras_serializable(package=PACKAGE)
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


@keras.saving.register_keras_serializable(package=PACKAGE)
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


@keras.saving.register_keras_serializable(package=PACKAGE)
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
