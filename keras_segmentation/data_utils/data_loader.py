"""The original ``keras_segmentation.data_utils.data_loader`` API, on :mod:`keras_segmentation.data`.

Differences from the original, on purpose:

* importing it does not reseed Python's ``random`` (``DATA_LOADER_SEED`` is only a constant);
* extensions match case-insensitively, and pairing reports every problem at once;
* :func:`get_image_array` returns channels-last by default (see its docstring);
* :func:`get_segmentation_array` one-hot labels are float32, built without a Python loop.

Example:
    >>> pairs = get_pairs_from_paths("data/images_prepped_train", "data/annotations_prepped_train")
    >>> x = get_image_array(pairs[0][0], 608, 416)                 # (416, 608, 3) float32
    >>> y = get_segmentation_array(pairs[0][1], 12, 304, 208)      # (208 * 304, 12) float32
"""

import cv2
import numpy as np

from ..data.images import IMAGE_EXTENSIONS, MASK_EXTENSIONS, read_image
from ..data.masks import read_mask
from ..data.normalization import normalize_image
from ..data.pairing import get_pairs_from_paths, list_files
from ..data.verify import verify_segmentation_dataset
from ..data.visualize import class_colors
from ..errors import DataLoaderError

#: The original's constant. Nothing is reseeded with it: pass seeds explicitly.
DATA_LOADER_SEED = 0
ACCEPTABLE_IMAGE_FORMATS = list(IMAGE_EXTENSIONS)
ACCEPTABLE_SEGMENTATION_FORMATS = list(MASK_EXTENSIONS)

__all__ = [
    "ACCEPTABLE_IMAGE_FORMATS",
    "ACCEPTABLE_SEGMENTATION_FORMATS",
    "DATA_LOADER_SEED",
    "DataLoaderError",
    "class_colors",
    "get_image_array",
    "get_image_list_from_path",
    "get_pairs_from_paths",
    "get_segmentation_array",
    "image_segmentation_generator",
    "verify_segmentation_dataset",
]


def get_image_list_from_path(images_path):
    """Sorted paths of the image files in ``images_path`` (not recursive)."""
    return list_files(images_path, IMAGE_EXTENSIONS)


def get_image_array(image_input, width, height, imgNorm="sub_mean", ordering="channels_last", read_image_type=1):
    """Read (path or BGR array), resize to ``width`` x ``height`` and normalise an image; float32.

    ``imgNorm`` is any :func:`~keras_segmentation.data.normalization.normalize_image` mode
    (the original's ``"sub_mean"``, ``"sub_and_divide"``, ``"divide"``, and more).

    ``ordering="channels_first"`` gives ``(C, H, W)``; any other value ``(H, W, C)``.
    The original defaulted to ``"channels_first"`` although every caller in the
    library passed ``IMAGE_ORDERING = "channels_last"``; the default is now
    channels-last, so a direct call returns what the models take.

    Example:
        >>> get_image_array(np.zeros((10, 20, 3), np.uint8), 8, 4).shape
        (4, 8, 3)
    """
    image = normalize_image(read_image(image_input, read_image_type), imgNorm, size=(height, width))
    if ordering == "channels_first":
        image = np.rollaxis(image, 2, 0)
    return image


def get_segmentation_array(image_input, nClasses, width, height, no_reshape=False, read_image_type=1):
    """One-hot labels of a mask (path or array), resized (nearest) to ``width`` x ``height``; float32.

    Returns ``(height * width, nClasses)``, or ``(height, width, nClasses)`` with
    ``no_reshape``. Values ``>= nClasses`` give all-zero rows, as in the original.
    ``read_image_type`` is accepted for compatibility and not used: masks are
    always read as class ids (see :func:`~keras_segmentation.data.masks.read_mask`).

    Example:
        >>> get_segmentation_array(np.array([[0, 1], [1, 5]], np.uint8), 2, 2, 2).tolist()
        [[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
    """
    mask = read_mask(image_input)
    if mask.shape[:2] != (height, width):
        mask = cv2.resize(mask, (width, height), interpolation=cv2.INTER_NEAREST)
    labels = (mask[:, :, None] == np.arange(nClasses)).astype(np.float32)
    return labels if no_reshape else labels.reshape(height * width, nClasses)


def image_segmentation_generator(*args, **kwargs):
    """The original's endless batch generator: :func:`keras_segmentation.data.loader.image_segmentation_generator`.

    Imported when called, so this module stays free of Keras (the original's names load fast).
    """
    from ..data.loader import image_segmentation_generator as generator

    return generator(*args, **kwargs)
