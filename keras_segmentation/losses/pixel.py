"""Pixel losses: cross-entropy and focal loss, averaged over the counted pixels of the batch.

Example:
    >>> loss = CrossEntropyLoss(ignore_index=11)
"""

import keras
from keras import ops

from .base import PACKAGE, SegmentationLoss


@keras.saving.register_keras_serializable(package=PACKAGE)
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


@keras.saving.register_keras_serializable(package=PACKAGE)
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




@keras.saving.register_keras_serializable(package=PACKAGE)
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
