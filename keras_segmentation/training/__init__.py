"""Training: ``train()``, its callbacks, compiling (optimizer, schedule, XLA), checkpoints and resume, losses, class weights.

* :mod:`.loop`: :func:`train` (also ``model.train(...)``);
* :mod:`.datasets`: verified pairs, sizes, augmentation and batches for ``train``;
* :mod:`.compile`: optimizer, learning-rate schedule, loss and metrics, the XLA fallback;
* :mod:`.callbacks`: epoch checkpoints, stop on NaN, Ctrl-C (the files: :mod:`keras_segmentation.checkpoints`);
* :mod:`.runner`: the epoch loop ``train`` and ``distill`` share (seed, resume, callbacks, final checkpoint);
* :mod:`.distribute`: data-parallel training; :mod:`.collective`: what the workers take from the chief;
* :mod:`.losses`, :mod:`.class_weights`.

Example:
    >>> from keras_segmentation.training import train
    >>> train("unet_mini", "imgs/", "masks/", n_classes=3, checkpoints_path="ckpt/run", epochs=2)
"""

from .callbacks import CheckpointsCallback
from .loop import train

__all__ = ["train", "CheckpointsCallback"]
