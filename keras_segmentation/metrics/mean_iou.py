"""The mean IoU Keras reports during training, scored by the rules of :mod:`.confusion`.

Example:
    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",   # doctest: +SKIP
    ...               metrics=[iou_metric(12, ignore_index=11)])
"""

import numpy as np

from ..errors import ModelConfigError
from .confusion import check_n_classes, ignored_class


def iou_metric(n_classes, ignore_index=None, name="mean_iou"):
    """A Keras metric reporting mean IoU during ``fit``, scored as :func:`segmentation_scores` does.

    It is ``keras.metrics.IoU`` (a built-in, so saved models load without
    ``custom_objects``) set up for this library's convention: sparse integer
    labels, softmax probabilities that it arg-maxes, pixels labelled
    ``ignore_index`` left out (other labels outside ``[0, n_classes)`` are skipped
    too, from Keras 3.15 on). It averages over the classes present in the ground
    truth or the prediction, except class ``ignore_index`` when that is a class id:
    that class is never averaged, and a pixel predicted as it counts as a miss of
    its true class (``target_class_ids`` = every class but ``ignore_index``).

    Raises:
        ModelConfigError: ``n_classes`` is not a positive integer, ``ignore_index``
            is not an integer, or no class is left to score (``n_classes=1`` with
            ``ignore_index=0``).

    Example:
        >>> from keras_segmentation.losses import get_loss
        >>> model.compile(optimizer="adam", loss=get_loss("ce", 12, ignore_index=11),  # doctest: +SKIP
        ...               metrics=["accuracy", iou_metric(12, ignore_index=11)])
    """
    import keras

    n_classes = check_n_classes(n_classes)
    if ignore_index is not None:
        if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
            raise ModelConfigError(f"ignore_index={ignore_index!r}: must be an integer label (e.g. 255) or None")
        ignore_index = int(ignore_index)
    ignored = ignored_class(ignore_index, n_classes)
    targets = [c for c in range(n_classes) if c != ignored]
    if not targets:
        raise ModelConfigError(
            f"iou_metric: ignore_index={ignore_index} leaves none of the {n_classes} class(es) to score; "
            "give the model at least one class besides the ignored one"
        )
    return keras.metrics.IoU(
        num_classes=n_classes,
        target_class_ids=targets,
        ignore_class=ignore_index,
        sparse_y_true=True,
        sparse_y_pred=False,
        name=name,
    )
