"""Knowledge distillation: train a small student on a trained teacher's outputs.

* :mod:`.distill`: :func:`distill` (and the original's :func:`perform_distilation`), on ``train()``'s machinery;
* :mod:`.distiller`: the :class:`Distiller` model (a ``compute_loss`` on any Keras backend);
* :mod:`.losses`: ``"kl"``, ``"l1"``, ``"l2"``, ``"pa"`` (pairwise similarity);
* :mod:`.data`: batches with the image sized for each network.

Example:
    >>> from keras_segmentation.distillation import distill
    >>> distill(teacher, student, "unlabelled_images/", checkpoints_path="ckpt/student", epochs=10)  # doctest: +SKIP
"""

from ..losses.distillation import get_distillation_loss, pairwise_distance_loss, pairwise_similarities
from .distill import distill, perform_distilation
from .distiller import Distiller

__all__ = ["distill", "perform_distilation", "Distiller", "get_distillation_loss", "pairwise_distance_loss",
           "pairwise_similarities"]
