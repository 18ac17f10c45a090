"""The original module ``keras_segmentation.metrics``; the code lives in :mod:`keras_segmentation.evaluation.metrics`.

Example:
    >>> from keras_segmentation.metrics import get_iou
"""

from .evaluation.metrics import ConfusionMatrix, confusion_matrix, format_scores, get_iou, iou_metric, segmentation_scores

__all__ = ["get_iou", "ConfusionMatrix", "confusion_matrix", "segmentation_scores", "format_scores", "iou_metric"]
