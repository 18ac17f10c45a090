"""Pretrained weights, all in one place: encoder weights, keras-hub MiT presets and the released whole models.

* :mod:`.encoder`: ``encoder_weights`` of every model: ``"imagenet"``
  (``keras.applications``), a local ``.h5`` / ``.weights.h5`` file, channel
  adaptation, copying by layer name. Its public names are re-exported here.
* :mod:`.keras_hub`: MiT encoder weights read from a local keras-hub preset.
* :mod:`.releases`: the original library's released PSPNet models
  (:mod:`keras_segmentation.pretrained` re-exports them).

Example:
    >>> from keras_segmentation.models.weights import DEFAULT_ENCODER_WEIGHTS
    >>> DEFAULT_ENCODER_WEIGHTS
    'imagenet'
"""

from .encoder import (
    DEFAULT_ENCODER_WEIGHTS,
    ENV_VAR,
    adapt_first_kernel,
    copy_weights,
    load_encoder_weights,
    read_legacy_h5,
    resolve_encoder_weights,
)

__all__ = [
    "DEFAULT_ENCODER_WEIGHTS",
    "ENV_VAR",
    "resolve_encoder_weights",
    "load_encoder_weights",
    "adapt_first_kernel",
    "copy_weights",
    "read_legacy_h5",
]
