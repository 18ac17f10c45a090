"""How sure a model is, pixel by pixel: uncertainty maps, the per-image score, calibration temperature.

* :mod:`.maps`: ``"entropy"``, ``"margin"`` and ``"tta"`` (augmentation disagreement) maps in [0, 1],
  :func:`~.maps.with_temperature`, :func:`~.maps.model_temperature`, :func:`~.maps.check_temperature`,
  :func:`~.maps.log_probabilities`, :func:`~.maps.image_score`.

Example:
    >>> from keras_segmentation.uncertainty import uncertainty_map, image_score
    >>> score = image_score(uncertainty_map("entropy", probabilities))       # doctest: +SKIP
"""

from .maps import (
                   METHODS,
                   check_method,
                   check_temperature,
                   disagreement,
                   entropy,
                   image_score,
                   log_probabilities,
                   margin,
                   model_temperature,
                   raw_entropy,
                   uncertainty_map,
                   with_temperature,
)

__all__ = ["METHODS", "check_method", "check_temperature", "disagreement", "entropy", "image_score",
           "log_probabilities", "margin", "model_temperature", "raw_entropy", "uncertainty_map", "with_temperature"]
