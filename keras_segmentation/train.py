"""The original module ``keras_segmentation.train``; the code lives in :mod:`keras_segmentation.training`.

Example:
    >>> from keras_segmentation.train import train, find_latest_checkpoint
"""

from .checkpoints.names import find_latest_checkpoint
from .losses import masked_categorical_crossentropy
from .training.callbacks import CheckpointsCallback
from .training.loop import train

__all__ = ["train", "find_latest_checkpoint", "CheckpointsCallback", "masked_categorical_crossentropy"]
