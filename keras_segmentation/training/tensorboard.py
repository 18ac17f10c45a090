"""TensorBoard logs of a training run: ``train(..., tensorboard_dir=DIR)``.

Writes, per epoch, under ``DIR``:

* ``train/`` and ``validation/``: the scalars of :class:`keras.callbacks.TensorBoard`
  (``epoch_loss``, ``epoch_<metric>``, ``epoch_learning_rate``);
* ``images/``: ``predictions/<image name>``, ``image | prediction overlay`` for the first
  few validation images (training images when there is no validation set).

Writing summaries needs the ``tensorboard`` package (the ``[tensorboard]`` extra):
TensorFlow's ``tf.summary.scalar`` / ``image`` raise without it. They run on every
Keras backend, because TensorFlow is always installed; the model's own
computations stay on the chosen backend.

Example:
    >>> train(model, "imgs/", "masks/", epochs=5, tensorboard_dir="logs/run1")   # doctest: +SKIP
    >>> # then: tensorboard --logdir logs
"""

import os

import cv2
import keras
import numpy as np

from ..data.pairing import base_name
from ..data.visualize import get_colored_segmentation_image, overlay_seg_image, to_display_image
from ..errors import SegmentationError

#: widest panel written to TensorBoard, in pixels (larger images are shrunk)
MAX_WIDTH = 384


def tensorboard_callbacks(log_dir, image_paths, read_image_type=1, preprocessing=None, n_images=3):
    """The scalar callback and a :class:`PredictionImages` for the first ``n_images`` of ``image_paths``.

    Raises:
        SegmentationError: the ``tensorboard`` package is not installed.
    """
    try:
        import tensorboard  # noqa: F401 - tf.summary's scalar and image writers live there
    except ImportError:
        raise SegmentationError(
            f"tensorboard_dir={os.fspath(log_dir)!r}: writing TensorBoard logs needs the tensorboard package: "
            "pip install keras-segmentation[tensorboard]"
        ) from None
    scalars = keras.callbacks.TensorBoard(os.fspath(log_dir), write_graph=False)
    callbacks = [scalars]
    if n_images and image_paths:
        callbacks.append(PredictionImages(os.path.join(os.fspath(log_dir), "images"), list(image_paths)[:n_images],
                                          read_image_type, preprocessing))
    return callbacks


class PredictionImages(keras.callbacks.Callback):
    """After each epoch, writes ``image | prediction overlay`` of a few images as TensorBoard images.

    Example:
        >>> model.fit(data, callbacks=[PredictionImages("logs/images", ["val/a.png"])])   # doctest: +SKIP
    """

    def __init__(self, log_dir, image_paths, read_image_type=1, preprocessing=None):
        super().__init__()
        self.log_dir = log_dir
        self.image_paths = image_paths
        self.read_image_type = read_image_type
        self.preprocessing = preprocessing
        self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf

        from ..inference.predictor import Predictor

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.log_dir)
        predictor = Predictor(self.model, self.read_image_type, self.preprocessing, batch_size=len(self.image_paths))
        with self._writer.as_default():
            for result in predictor.run(self.image_paths):
                if result.error is None:
                    panel = prediction_panel(result.image, result.labels, self.model.n_classes)
                    tf.summary.image(f"predictions/{base_name(self.image_paths[result.index])}",
                                     panel[None, :, :, ::-1], step=epoch)  # BGR -> RGB
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def prediction_panel(image, labels, n_classes, max_width=MAX_WIDTH):
    """``image | prediction overlay`` side by side (BGR uint8), each at most ``max_width`` wide.

    Example:
        >>> prediction_panel(np.zeros((8, 8, 3), np.uint8), np.ones((8, 8), np.uint8), 2).shape
        (8, 16, 3)
    """
    image = to_display_image(image)
    if image.shape[1] > max_width:
        size = (max_width, max(1, round(image.shape[0] * max_width / image.shape[1])))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        labels = cv2.resize(np.asarray(labels, np.uint16), size, interpolation=cv2.INTER_NEAREST)
    coloured = get_colored_segmentation_image(labels, n_classes)
    return np.hstack([image, overlay_seg_image(image, coloured)])
