"""Turning images into network input: resizing (any channel count) and the input normalisations.

:func:`normalize_image` converts to float32 and to the order the network sees,
which is **RGB** for every mode except ``"caffe"`` (BGR, as Keras' caffe-style
VGG16/ResNet50 weights expect). 16-bit images are first scaled to 0..255.

Example:
    >>> img = read_image("images/0001.png")                  # (360, 480, 3) uint8, BGR (data.images)
    >>> x = normalize_image(img, "sub_mean", size=(416, 608)) # (416, 608, 3) float32, RGB
"""

import cv2
import numpy as np

from ..errors import ModelConfigError

#: ImageNet channel means on a 0..255 scale, in BGR order (Caffe / Keras "caffe" mode).
IMAGENET_MEAN_BGR = (103.939, 116.779, 123.68)
#: ImageNet mean and standard deviation on a 0..1 scale, RGB order (PyTorch "torch" mode).
IMAGENET_MEAN_RGB01 = (0.485, 0.456, 0.406)
IMAGENET_STD_RGB01 = (0.229, 0.224, 0.225)

#: Input normalisations, by name. See :func:`normalize_image`.
NORMALIZATIONS = ("sub_mean", "caffe", "sub_and_divide", "tf", "divide", "torch", "none")

#: Channels OpenCV (5.0) resizes in one call (it refuses 129); wider images go in slices.
RESIZE_MAX_CHANNELS = 128


def normalize_image(image, normalization="sub_mean", size=None, interpolation=cv2.INTER_LINEAR):
    """Resize (optionally) and normalise an image for the network.

    Args:
        image: ``(H, W, C)`` array in BGR(A) order, as :func:`~keras_segmentation.data.images.read_image` returns.
        normalization: one of

            * ``"sub_mean"``: the original library's default: RGB order, ImageNet
              means subtracted (0..255 scale).
            * ``"caffe"``: BGR order, ImageNet means subtracted (Keras VGG16 / ResNet50).
            * ``"sub_and_divide"`` or ``"tf"``: RGB scaled to [-1, 1] (MobileNet, Xception).
            * ``"divide"``: RGB scaled to [0, 1].
            * ``"torch"``: RGB, ImageNet mean/std on the 0..1 scale (DenseNet).
            * ``"none"``: RGB, 0..255 floats (models with built-in rescaling).

            Scale: ``uint8`` is 0..255 and ``uint16`` is first scaled to 0..255
            (so ``"divide"`` divides by the type's maximum); floats are taken as
            they are, on that 0..255 scale (never rescaled: store float bands on
            0..255, or use ``"none"`` to feed their values unchanged).

            Channels: only 3- and 4-channel images are colour (BGR(A), turned
            into RGB(A) and given the per-colour means and deviations, alpha the
            average). Other channel counts (grayscale, 2 bands, multispectral)
            keep their order and get the average of the three means and
            deviations on every band, since their bands are not colours.
        size: ``(height, width)`` to resize to, or ``None``.

    Returns:
        float32 ``(height, width, C)`` array.

    Raises:
        ModelConfigError: (also a ``ValueError``) unknown ``normalization``.

    Example:
        >>> normalize_image(np.zeros((4, 4, 6), np.uint16), "divide").shape
        (4, 4, 6)
    """
    if normalization not in NORMALIZATIONS:
        raise ModelConfigError(
            f"normalization={normalization!r}: unknown normalization; choose one of {', '.join(NORMALIZATIONS)}"
        )
    if size is not None and tuple(image.shape[:2]) != tuple(size):
        image = resize_image(image, size, interpolation)
    x = image.astype(np.float32)
    if image.dtype == np.uint16:
        x *= 255.0 / 65535.0
    channels = x.shape[2]
    if channels in (3, 4) and normalization != "caffe":
        x[:, :, :3] = x[:, :, 2::-1]  # BGR(A) -> RGB(A)
    if normalization in ("sub_mean", "caffe"):
        mean = IMAGENET_MEAN_BGR if normalization == "caffe" else IMAGENET_MEAN_BGR[::-1]
        _per_channel(x, np.subtract, mean)
    elif normalization in ("sub_and_divide", "tf"):
        x /= 127.5
        x -= 1.0
    elif normalization == "divide":
        x /= 255.0
    elif normalization == "torch":
        x /= 255.0
        _per_channel(x, np.subtract, IMAGENET_MEAN_RGB01)
        _per_channel(x, np.divide, IMAGENET_STD_RGB01)
    return x


def resize_image(image, size, interpolation=cv2.INTER_LINEAR):
    """Resize ``(H, W, C)`` to ``size = (height, width)``, any number of channels; stays 3-D.

    Example:
        >>> resize_image(np.zeros((8, 8, 200), np.float32), (4, 4)).shape
        (4, 4, 200)
    """
    dsize = (int(size[1]), int(size[0]))
    if image.ndim == 3 and image.shape[2] > RESIZE_MAX_CHANNELS:
        parts = [
            np.atleast_3d(cv2.resize(image[:, :, i : i + RESIZE_MAX_CHANNELS], dsize, interpolation=interpolation))
            for i in range(0, image.shape[2], RESIZE_MAX_CHANNELS)
        ]
        return np.concatenate(parts, axis=2)
    return np.atleast_3d(cv2.resize(image, dsize, interpolation=interpolation))


def _per_channel(x, op, values):
    """Apply ``op`` in place with one value per RGB channel of colour images, the average on other bands."""
    if x.shape[2] in (3, 4):
        op(x[:, :, :3], np.asarray(values, np.float32), out=x[:, :, :3])
        if x.shape[2] > 3:
            op(x[:, :, 3:], np.float32(np.mean(values)), out=x[:, :, 3:])
    else:
        op(x, np.float32(np.mean(values)), out=x)
