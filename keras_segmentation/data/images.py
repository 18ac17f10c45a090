"""Reading images and masks from disk, and turning images into network input.

Conventions (the original library's, kept on purpose):

* :func:`read_image` returns OpenCV's channel order: **BGR** (BGRA with an alpha
  channel), ``uint8`` or ``uint16``, always 3-D ``(H, W, C)``. A NumPy array passed
  instead of a path is taken to be in that order too.
* :func:`normalize_image` converts to float32 and to the order the network sees,
  which is **RGB** for every mode except ``"caffe"`` (BGR, as Keras' caffe-style
  VGG16/ResNet50 weights expect). 16-bit images are first scaled to 0..255.
* :func:`read_mask` returns a 2-D array of class ids.

Multi-band images (TIFFs with any number of bands, and ``.npy`` arrays) are read by
:mod:`keras_segmentation.data.rasters`, which has the band-order, layout and
sample-type rules for them.

Example:
    >>> img = read_image("images/0001.png")                  # (360, 480, 3) uint8, BGR
    >>> x = normalize_image(img, "sub_mean", size=(416, 608)) # (416, 608, 3) float32, RGB
    >>> mask = read_mask("annotations/0001.png")              # (360, 480) uint8 class ids
    >>> read_image("multispectral/0001.tif").shape            # (256, 256, 6) uint16, file order
"""

import os

import cv2
import numpy as np

from ..errors import (
    ChannelMismatchError,
    ImageReadError,
    MaskFormatError,
    MaskValueError,
    ModelConfigError,
)
from .rasters import (
    ARRAY_EXTENSIONS,
    TIFF_EXTENSIONS,
    as_read,
    decode,
    decode_tiff,
    image_samples,
    load_npy,
    mask_dtype,
)

#: Extensions (lower case; matching is case-insensitive) accepted for images and masks.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".npy")
MASK_EXTENSIONS = (".png", ".bmp", ".tif", ".tiff", ".npy")
LOSSY_EXTENSIONS = (".jpg", ".jpeg")

#: The original library's ``read_image_type`` values (OpenCV imread flags).
READ_COLOR, READ_GRAYSCALE, READ_UNCHANGED = 1, 0, -1

#: ImageNet channel means on a 0..255 scale, in BGR order (Caffe / Keras "caffe" mode).
IMAGENET_MEAN_BGR = (103.939, 116.779, 123.68)
#: ImageNet mean and standard deviation on a 0..1 scale, RGB order (PyTorch "torch" mode).
IMAGENET_MEAN_RGB01 = (0.485, 0.456, 0.406)
IMAGENET_STD_RGB01 = (0.229, 0.224, 0.225)

#: Input normalisations, by name. See :func:`normalize_image`.
NORMALIZATIONS = ("sub_mean", "caffe", "sub_and_divide", "tf", "divide", "torch", "none")

#: Channels OpenCV (5.0) resizes in one call (it refuses 129); wider images go in slices.
RESIZE_MAX_CHANNELS = 128


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


def read_mask(source, colour_map=None, *, strict=False):
    """Read a mask as a 2-D array of class ids.

    Rules, in order:

    * JPEG masks are refused: lossy compression changes class ids at edges.
    * Palette (mode ``"P"``) PNGs give their palette **indices** (what tools like
      labelme and the VOC dataset store), not the colours OpenCV would return;
      with a ``colour_map`` their palette colours are looked up instead.
    * Single-channel files give their values (8- or 16-bit).
    * 3-channel files give the **blue** channel (the original library's rule;
      label PNGs saved as gray RGB have B = G = R), unless ``colour_map`` is set,
      in which case each RGB colour is looked up in it.

    Args:
        source: a path, or a 2-D / 3-D array (3-D arrays are BGR).
        colour_map: optional :class:`ColourMap` (or ``{(r, g, b): class_id}``) for
            colour-coded RGB masks.
        strict: refuse colour-coded masks (R, G and B differ) read without a
            ``colour_map`` instead of taking their blue channel.

    Raises:
        MaskFormatError: JPEG mask, a colour not in ``colour_map``, or (``strict``)
            a colour-coded mask without ``colour_map``.
        ImageReadError: the file is missing, empty or corrupt.

    Example:
        >>> read_mask("annotations/0001.png")                  # (360, 480) uint8 class ids
        >>> read_mask("labels/a.png", ColourMap.from_csv("colours.csv"))
    """
    if isinstance(source, np.ndarray):
        return mask_to_class_ids(source, colour_map, strict=strict)
    path = os.fspath(source)
    return mask_to_class_ids(decode_mask(path, palette_colours=colour_map is not None), colour_map, path, strict=strict)


def decode_mask(path, palette_colours=False):
    """A mask file's pixels, before they become class ids (see :func:`mask_to_class_ids`).

    Returns the 2-D palette indices of a palette PNG or TIFF (its BGR colours when
    ``palette_colours``), otherwise the pixels unchanged: 2-D for single-band
    files, BGR(A) for colour files. TIFFs OpenCV cannot read go through
    ``tifffile``, and ``.npy`` files hold the array itself (2-D, or 3-D in
    OpenCV order). Integer-valued float or signed pixels become unsigned integers.

    Raises:
        MaskFormatError: the file is a JPEG (lossy, so its class ids are unreliable),
            has more than 4 bands, or holds negative or fractional values.
        ImageReadError: the file is missing, empty or cannot be decoded.
    """
    path = os.fspath(path)
    if path.lower().endswith(LOSSY_EXTENSIONS):
        raise MaskFormatError(
            f"{path}: JPEG masks are not supported, lossy compression changes class ids "
            "at object edges; save masks as PNG or BMP"
        )
    if _is_palette_png(path):
        return _read_palette_png(path, palette_colours)
    extension = os.path.splitext(path)[1].lower()
    if extension in ARRAY_EXTENSIONS:
        pixels = image_samples(load_npy(path), path, mask=True)
    elif extension in TIFF_EXTENSIONS:
        pixels = decode_tiff(path, READ_UNCHANGED, palette_indices=not palette_colours, mask=True)
    else:  # a TIFF under another name is read as a TIFF too
        pixels = decode(path, READ_UNCHANGED, palette_indices=not palette_colours, mask=True)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    if pixels.ndim == 3 and pixels.shape[2] > 4:
        raise MaskFormatError(
            f"{path}: mask has {pixels.shape[2]} bands; a mask is one band of class ids (or an RGB colour image)"
        )
    return mask_dtype(pixels, path)


def mask_to_class_ids(pixels, colour_map=None, name="<array>", *, strict=False):
    """Class ids ``(H, W)`` from decoded mask pixels (2-D, or 3-D in BGR(A) order).

    Single-channel pixels are the ids; colour pixels are looked up in
    ``colour_map`` when given, otherwise their blue channel is used (``strict``:
    refused with :class:`MaskFormatError` when the channels differ).
    """
    if pixels.ndim == 2:
        return pixels
    if pixels.shape[2] <= 2:  # gray, or gray + alpha
        return pixels[:, :, 0]
    if colour_map is not None:
        if not isinstance(colour_map, ColourMap):
            colour_map = ColourMap(colour_map)
        return colour_map.encode(pixels[:, :, 2::-1], name)
    if strict and is_colour_coded(pixels):
        raise MaskFormatError(f"{name}: {COLOUR_MASK_PROBLEM}")
    return pixels[:, :, 0]


#: Why a colour-coded mask read without a colour map is refused (shared by every reader).
COLOUR_MASK_PROBLEM = (
    "mask is colour-coded (its R, G and B differ), so the blue-channel class ids are wrong; "
    "give a colour map (colour_map= or --colormap, an r,g,b,class CSV) or save single-channel class ids"
)


def is_colour_coded(pixels):
    """True for colour mask pixels whose channels differ somewhere (gray masks saved as RGB have B = G = R)."""
    if pixels.ndim != 3 or pixels.shape[2] < 3:
        return False
    blue = pixels[:, :, 0]
    return not (np.array_equal(blue, pixels[:, :, 1]) and np.array_equal(blue, pixels[:, :, 2]))


def mask_values_problem(values, n_classes, ignore_index=None, pixels=None):
    """What is wrong with mask ``values`` outside ``[0, n_classes)``, with the likely fix; ``None`` if nothing.

    The one wording every reader uses (verify, the training loader, evaluate).

    Args:
        values: the distinct values present in a mask.
        pixels: how many pixels hold the bad values (shown when given).

    Example:
        >>> mask_values_problem([0, 255], 2).split(";")[0]
        'values [255] >= n_classes=2'
    """
    values = sorted({int(v) for v in values})
    bad = [v for v in values if v >= n_classes and v != ignore_index]
    if not bad:
        return None
    shown = str(bad) if len(bad) <= 10 else f"[{', '.join(map(str, bad[:10]))}, ... ({len(bad)} values)]"
    message = f"values {shown} >= n_classes={n_classes}" + (f" ({pixels:,} pixels)" if pixels is not None else "")
    if set(values) <= {0, 255}:
        return message + (
            "; this is a binary mask saved as 0/255: divide it by 255 (e.g. cv2.imwrite(path, mask // 255)) "
            "to get classes 0/1 with n_classes=2 (n_classes=256 would be wrong)"
        )
    if bad == [255]:
        return message + "; if 255 marks void/unlabelled pixels, pass ignore_index=255"
    return message + f"; set n_classes to at least {bad[-1] + 1} if these are real classes, or fix the masks"


def check_mask_values(mask, n_classes, ignore_index=None, name="<array>"):
    """Raise :class:`MaskValueError` (naming ``name``) when ``mask`` holds ids outside ``[0, n_classes)``."""
    if int(mask.max(initial=0)) < n_classes:
        return
    values, counts = np.unique(mask, return_counts=True)
    pixels = int(sum(int(c) for v, c in zip(values, counts) if v >= n_classes and v != ignore_index))
    problem = mask_values_problem(values, n_classes, ignore_index, pixels)
    if problem:
        raise MaskValueError(f"{name}: {problem}")


class ColourMap:
    """Maps the RGB colours of colour-coded masks to class ids.

    Example:
        >>> cmap = ColourMap({(0, 0, 0): 0, (128, 0, 0): 1})
        >>> cmap = ColourMap.from_csv("colours.csv")   # lines "r,g,b,class_id"
    """

    def __init__(self, colours):
        self.colours = {tuple(int(v) for v in rgb): int(cls) for rgb, cls in dict(colours).items()}
        if not self.colours:
            raise MaskFormatError("colour map is empty: give at least one (r, g, b) -> class_id entry")
        keys = np.array(list(self.colours), dtype=np.int64).reshape(-1, 3)
        self._packed = (keys[:, 0] << 16) | (keys[:, 1] << 8) | keys[:, 2]
        self._ids = np.array(list(self.colours.values()), dtype=np.int64)
        order = np.argsort(self._packed)
        self._packed, self._ids = self._packed[order], self._ids[order]

    @classmethod
    def from_csv(cls, path):
        """Read ``r,g,b,class_id`` lines (a header line and ``#`` comments are skipped)."""
        colours = {}
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                fields = [f.strip() for f in line.split(",")]
                try:
                    r, g, b, class_id = (int(f) for f in fields)
                except ValueError:
                    if number == 1:
                        continue  # header
                    raise MaskFormatError(f"{path}:{number}: expected 'r,g,b,class_id', got {line!r}") from None
                colours[(r, g, b)] = class_id
        if not colours:
            raise MaskFormatError(f"{path}: no 'r,g,b,class_id' lines found")
        return cls(colours)

    def encode(self, rgb, name="<array>"):
        """Turn an ``(H, W, 3)`` RGB array into ``(H, W)`` class ids."""
        rgb = rgb.astype(np.int64)
        packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
        index = np.searchsorted(self._packed, packed).clip(0, len(self._packed) - 1)
        known = self._packed[index] == packed
        if not known.all():
            unknown = np.unique(packed[~known])[:5]
            shown = ", ".join(f"({v >> 16},{(v >> 8) & 255},{v & 255})" for v in unknown)
            raise MaskFormatError(f"{name}: colours not in the colour map: {shown}")
        dtype = np.uint8 if self._ids.max(initial=0) < 256 else np.uint16
        return self._ids[index].astype(dtype)


def normalize_image(image, normalization="sub_mean", size=None, interpolation=cv2.INTER_LINEAR):
    """Resize (optionally) and normalise an image for the network.

    Args:
        image: ``(H, W, C)`` array in BGR(A) order, as :func:`read_image` returns.
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


def _is_palette_png(path):
    """True when ``path`` is a PNG whose colour type is 3 (indexed colour)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(26)
    except OSError:
        return False
    return len(head) == 26 and head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR" and head[25] == 3


def _read_palette_png(path, colours):
    """Palette indices (2-D) of a palette PNG, or its colours in BGR order when ``colours``."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            if colours:
                return np.ascontiguousarray(np.asarray(img.convert("RGB"))[:, :, ::-1])
            return np.asarray(img)
    except (OSError, UnidentifiedImageError, SyntaxError, Image.DecompressionBombError) as err:
        raise ImageReadError(f"{path}: not a readable image ({err})") from None


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
