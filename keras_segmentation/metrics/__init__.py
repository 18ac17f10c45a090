"""Segmentation metrics (the original module ``keras_segmentation.metrics``, now a package below training and evaluation).

:mod:`.confusion`: the confusion matrix and every score derived from it (NumPy); :mod:`.mean_iou`: the mean IoU
Keras reports during training. The text table and JSON form of the scores are
:mod:`keras_segmentation.evaluation.score_tables`.

Example:
    >>> from keras_segmentation.metrics import get_iou
"""

from .confusion import ConfusionMatrix, confusion_matrix, get_iou, segmentation_scores
from .mean_iou import iou_metric

__all__ = ["get_iou", "ConfusionMatrix", "confusion_matrix", "segmentation_scores", "iou_metric"]
