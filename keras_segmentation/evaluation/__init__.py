"""Evaluation: the confusion matrix and the scores read off it, and ``evaluate`` over image/mask pairs.

* :mod:`.metrics`: :class:`ConfusionMatrix`, :func:`segmentation_scores`, :func:`format_scores`,
  the in-training ``mean_iou`` metric;
* :mod:`.evaluate`: :func:`evaluate` (also ``model.evaluate_segmentation(...)``);
* :mod:`.report`: the HTML report ``evaluate(..., report_dir=...)`` writes (:mod:`.curves`: its SVG charts).

Example:
    >>> from keras_segmentation.evaluation import evaluate, format_scores
    >>> print(format_scores(evaluate(checkpoints_path="ckpt/run", inp_images_dir="imgs/", annotations_dir="masks/")))
"""

from ..metrics import ConfusionMatrix, confusion_matrix, segmentation_scores
from .evaluate import evaluate
from .score_tables import format_scores, scores_to_json

__all__ = ["evaluate", "ConfusionMatrix", "confusion_matrix", "format_scores", "scores_to_json", "segmentation_scores"]
