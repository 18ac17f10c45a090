"""Reading images from disk as the network's source pixels, with the channel count a model expects.

Conventions (the original library's, kept on purpose):

* :func:`read_image` returns OpenCV's channel order: **BGR** (BGRA with an alpha
  channel), ``uint8`` or ``uint16``, always 3-D ``(H, W, C)``. A NumPy array passed
  instead of a path is taken to be in that order too.
* :func:`read_image_for_model` reads with the channel count a model takes.

Masks are read by :mod:`keras_segmentation.data.masks`, and images become network
input in :mod:`keras_segmentation.data.normalization`. Multi-band images (TIFFs with
any number of bands, and ``.npy`` arrays) are read by
:mod:`keras_segmentation.data.rasters`, which has the band-order, layout and
sample-type rules for them.

Example:
    >>> img = read_image("images/0001.png")                  # (360, 480, 3) uint8, BGR
    >>> read_image("multispectral/0001.tif").shape            # (256, 256, 6) uint16, file order
    >>> read_image_for_model("gray/0001.png", channels=1).shape
    (360, 480, 1)
"""

import os

import numpy as np

from ..errors import ChannelMismatchError
from .rasters import ARRAY_EXTENSIONS, TIFF_EXTENSIONS, as_read, decode, decode_tiff, image_samples, load_npy

#: Extensions (lower case; matching is case-insensitive) accepted for images and masks.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".npy")
MASK_EXTENSIONS = (".png", ".bmp", ".tif", ".tiff", ".npy")
LOSSY_EXTENSIONS = (".jpg", ".jpeg")

#: The original library's ``read_image_type`` values (OpenCV imread flags).
READ_COLOR, READ_GRAYSCALE, READ_UNCHANGED = 1, 0, -1


def read_image(source, read_image_type=READ_COLOR):
    """Read an image file (or take an array) as a 3-D BGR(A) array.

    JPEG, PNG, BMP and TIFF files are read; TIFFs may have any number of bands
    and ``.npy`` files hold one array (see :mod:`keras_segmentation.data.rasters`
    for band order, layout and sample types).

    Args:
        source: a path, or an ``ndarray`` already in OpenCV order (2-D arrays
            get a channel axis).
        read_image_type: 1 colour (3 channels), 0 grayscale (1 channel),
            -1 unchanged (keeps alpha, extra channels and 16-bit depth). Images
            with more than 4 bands keep all their bands and their depth in every mode.

    Returns:
        ``(H, W, C)`` array: ``uint8`` or ``uint16``; ``float32`` for float TIFF / ``.npy`` files.

    Raises:
        ImageReadError: the file is missing, empty, cannot be decoded, or holds
            an array that is not an image; the message says which.

    Example:
        >>> read_image("bands/0001.tif", read_image_type=-1).shape   # 6-band TIFF
        (256, 256, 6)
    """
    if isinstance(source, np.ndarray):
        return np.atleast_3d(source) if source.ndim == 2 else source
    path = os.fspath(source)
    extension = os.path.splitext(path)[1].lower()
    if extension in ARRAY_EXTENSIONS:
        return as_read(image_samples(load_npy(path), path), read_image_type)
    if extension in TIFF_EXTENSIONS:
        image = decode_tiff(path, read_image_type)
    else:
        image = decode(path, read_image_type)
    if image.ndim == 2:
        image = image[:, :, None]
    return image


def read_type_for_channels(channels, read_image_type=READ_COLOR):
    """The ``read_image_type`` that gives a ``channels``-channel model its input.

    The default colour read gives 3 channels; for a 1-channel model it becomes
    grayscale, for a 2- or 4+-channel model unchanged. Other types are kept.

    Example:
        >>> read_type_for_channels(6), read_type_for_channels(1), read_type_for_channels(3)
        (-1, 0, 1)
    """
    if read_image_type == READ_COLOR and channels == 1:
        return READ_GRAYSCALE
    if read_image_type == READ_COLOR and channels and channels != 3:
        return READ_UNCHANGED
    return read_image_type


def channel_mismatch(found, channels):
    """What is wrong when an image with ``found`` channels meets a ``channels``-channel model; ``None`` if nothing.

    A 1-channel image fits a 3-channel model (it is repeated).
    """
    if not channels or found == channels or (channels == 3 and found == 1):
        return None
    return (
        f"image has {found} channel(s) but the model expects {channels}; "
        f"build the model with channels={found} or convert the image"
    )


def read_image_for_model(source, channels, read_image_type=READ_COLOR):
    """Read an image with the channel count a model expects.

    The default colour read gives 3 channels; for a 1-channel model it reads
    grayscale instead and for a 2- or 4+-channel model unchanged (all bands of a
    multispectral TIFF), so a model built with ``channels=1``, ``4`` or ``6`` works
    without also setting ``read_image_type`` (see :func:`read_type_for_channels`).

    Raises:
        ChannelMismatchError: the image has a different channel count than ``channels``.

    Example:
        >>> read_image_for_model("bands/0001.tif", channels=6).shape
        (256, 256, 6)
    """
    image = read_image(source, read_type_for_channels(channels, read_image_type))
    problem = channel_mismatch(image.shape[2], channels)
    if problem:
        name = source if isinstance(source, (str, os.PathLike)) else "<array>"
        raise ChannelMismatchError(f"{os.fspath(name)}: {problem}")
    if channels == 3 and image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return image
