"""Losses for sparse class maps and softmax probabilities (any Keras backend).

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
    >>> model.compile(optimizer="adam", loss=loss)   # doctest: +S

The distillation losses (teacher against student) are :mod:`.distillation`.
"""

from .base import SegmentationLoss, per_replica
from .by_name import LOSS_NAMES, CombinedLoss, get_loss
from .pixel import CrossEntropyLoss, FocalLoss, masked_categorical_crossentropy
from .region import DiceLoss, JaccardLoss, LovaszSoftmaxLoss, SoftOverlapLoss, TverskyLoss

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
    "per_replica",
    "LOSS_NAMES",
]
