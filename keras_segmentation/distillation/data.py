"""Batches for distillation: each image read once, resized and normalised for the student and for the teacher.

Example:
    >>> data = DistillationDataset([("a.png", None), ("b.png", None)], 2, 5, (64, 64), (32, 32), "sub_mean",
    ...                            teacher_size=(128, 128), teacher_normalization="tf")
    >>> (student_images, teacher_images), = data[0]      # (2, 64, 64, 3), (2, 128, 128, 3)
"""

from ..data.loader import SegmentationDataset
from ..data.normalization import normalize_image


class DistillationDataset(SegmentationDataset):
    """A :class:`~keras_segmentation.data.loader.SegmentationDataset` whose input is ``[student images, teacher images]``.

    Pairs are ``(image, None)`` for unlabelled images (batches ``(x,)``) or ``(image, mask)``
    (batches ``(x, masks)``, masks at the student's output size). Order, seeding and resuming
    are the base class's. The other arguments are the base class's (``input_size``,
    ``output_size`` and ``normalization`` are the student's).
    """

    def __init__(self, pairs, batch_size, n_classes, input_size, output_size, normalization, *, teacher_size,
                 teacher_normalization, **kwargs):
        super().__init__(pairs, batch_size, n_classes, input_size, output_size, normalization, **kwargs)
        self.teacher_size = tuple(teacher_size)
        self.teacher_normalization = teacher_normalization

    def __getitem__(self, index):
        x, *masks = super().__getitem__(index)
        return (tuple(x), *masks)  # a tuple: Keras' tf.data signature takes no list

    def model_inputs(self, images):
        image = self.preprocessed(0, images[0])
        return [normalize_image(image, self.normalization, self.input_size),
                normalize_image(image, self.teacher_normalization, self.teacher_size)]
