"""The original module ``keras_segmentation.model_compression``; the code lives in :mod:`keras_segmentation.distillation`.

Example:
    >>> from keras_segmentation.model_compression import perform_distilation, Distiller
"""

from .distillation.distill import perform_distilation
from .distillation.distiller import Distiller
from .losses.distillation import pairwise_distance_loss as pairwise_dist_loss
from .losses.distillation import pairwise_similarities as get_pariwise_similarities

__all__ = ["perform_distilation", "Distiller", "pairwise_dist_loss", "get_pariwise_similarities"]
