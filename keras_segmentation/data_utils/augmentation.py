"""The original ``keras_segmentation.data_utils.augmentation`` API, on Albumentations.

Example:
    >>> image, mask = augment_seg(image, mask, "aug_geometric")
    >>> images, mask = augment_seg(image, mask, other_imgs=[depth])    # [image, depth], mask
"""

from functools import partial

from ..data.augmentation import AUGMENTATION_NAMES, build_pipeline, get_augmenter

#: Pipeline builders by name: ``augmentation_functions["aug_all"]()`` is an Albumentations transform.
augmentation_functions = {name: partial(build_pipeline, name) for name in AUGMENTATION_NAMES}


def augment_seg(img, seg, augmentation_name="aug_all", other_imgs=None):
    """Augment an image and its mask with a named pipeline (fresh randomness on every call).

    Returns ``(image, mask)``, or ``([image, *other_imgs], mask)`` when ``other_imgs`` is given.
    """
    return _result(get_augmenter(augmentation_name)(img, seg, other_imgs))


def custom_augment_seg(img, seg, augmentation_function, other_imgs=None):
    """Like :func:`augment_seg` with a custom augmentation (see :func:`get_augmenter`)."""
    return _result(get_augmenter(custom_augmentation=augmentation_function)(img, seg, other_imgs))


def _result(augmented):
    image, mask, others = augmented
    return (image if others is None else [image, *others]), mask
