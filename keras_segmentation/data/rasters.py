"""Reading multi-band rasters: TIFFs with any number of bands, and ``.npy`` arrays.

Rules for these files (what :func:`~keras_segmentation.data.images.read_image` and
:func:`~keras_segmentation.data.masks.read_mask` return for them):

* TIFFs OpenCV reads (one page of 1, 3 or 4 bands, 8 or 16 bits) are read by OpenCV,
  exactly as before. The others (more than 4 bands, band-per-page stacks, planar
  layouts, float or other sample types) are read with ``tifffile``, with the same
  channel order: 3- and 4-band TIFFs are RGB(A) in the file and come back BGR(A),
  like OpenCV's.
* ``.npy`` files (``np.save``; 2-D or 3-D) are taken as stored, in OpenCV order,
  like arrays passed to ``read_image``.
* Images with **more than 4 bands** have no colour order: their bands stay in file
  order, whatever ``read_image_type`` says (it only turns 1- to 4-band images into
  colour or grayscale).
* Layout (:func:`band_last`): a 3-D array is ``(H, W, C)``, unless the TIFF says
  its samples come first (planar), or it is a TIFF with one band per page, or a
  ``.npy`` array whose first axis is short (at most 16) and shorter than the
  others: those are band-first ``(C, H, W)`` and are transposed.
* Sample types: ``uint8`` and ``uint16`` are kept; floats become ``float32`` and other
  integer types ``float32`` too, values unchanged (never rescaled).

``read_image_type`` / ``flags`` here are OpenCV imread flags (1 colour, 0 grayscale,
-1 unchanged). This module is the lower one: :mod:`keras_segmentation.data.images` and
:mod:`keras_segmentation.data.masks` use it, never the other way round.

Example:
    >>> band_last((6, 256, 256))                     # a band-first .npy array: transposed to (H, W, C)
    (1, 2, 0)
    >>> read_image_size("multispectral/0001.tif")    # from the header, pixels not decoded
    (256, 256)
    >>> describe_file("multispectral/0001.tif")
    'TIFF 6-band uint16'
"""

import io
import os

import cv2
import numpy as np

from ..errors import ImageReadError, MaskFormatError

#: Extensions (lower case; matching is case-insensitive) of the files this module reads.
TIFF_EXTENSIONS = (".tif", ".tiff")
ARRAY_EXTENSIONS = (".npy",)

_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_NPY_MAGIC = b"\x93NUMPY"
_PHOTOMETRIC_PALETTE = 3
#: A 3-D ``.npy`` array whose first axis is this short (and shorter than the others) is band-first.
MAX_LEADING_BANDS = 16


def _read_bytes(path, count=-1):
    """The file's bytes (the first ``count``), as a uint8 array; :class:`ImageReadError` when missing,
    not a file, unreadable or empty."""
    if not os.path.isfile(path):
        raise ImageReadError(f"{path}: file not found" if not os.path.exists(path) else f"{path}: not a file")
    try:
        # np.fromfile handles non-ASCII paths on every platform.
        data = np.fromfile(path, dtype=np.uint8, count=count)
    except OSError as err:
        raise ImageReadError(f"{path}: cannot be read ({err.strerror or err})") from None
    if data.size == 0:
        raise ImageReadError(f"{path}: file is empty (0 bytes)")
    return data


def imdecode(data, flags):
    """``cv2.imdecode``; ``None`` also where OpenCV raises (sizes beyond its limits) instead of returning ``None``."""
    try:
        return cv2.imdecode(data, flags)
    except cv2.error:
        return None


def decode(path, flags, data=None, **tiff):
    """``cv2.imread`` that explains failures instead of returning ``None``; ``tiff``: :func:`decode_tiff`'s options."""
    data = _read_bytes(path) if data is None else data
    if data[:4].tobytes() in _TIFF_MAGIC:
        return decode_tiff(path, flags, **tiff)  # a TIFF under another name: its sample types are read as a TIFF's are
    image = imdecode(data, flags)
    if image is None:
        raise ImageReadError(f"{path}: not a readable image (corrupt, truncated or not an image file)")
    return image


def band_last(shape, axes=None):
    """The axis order that makes an array of ``shape`` ``(H, W, C)``, or ``None`` when it is not an image.

    The layout rule for TIFF and ``.npy`` files (leading axes of length 1 are dropped first):

    * 2-D is ``(H, W)``, one band.
    * A TIFF says where its samples are (``axes``, tifffile's, e.g. ``"YXS"`` or
      ``"SYX"`` for a planar TIFF). A TIFF stack of one band per page (``"QYX"``)
      is ``(C, H, W)`` when it has fewer pages than rows and columns, else it is an
      ``(H, W, C)`` array written one row per page (tifffile's default for it).
    * A ``.npy`` array (``axes`` ``None``) is ``(H, W, C)``, unless its first axis
      is at most :data:`MAX_LEADING_BANDS` and shorter than both others: then it
      is band-first ``(C, H, W)``.

    Example:
        >>> band_last((6, 256, 256)), band_last((256, 256, 6)), band_last((2, 3, 4, 5))
        ((1, 2, 0), (0, 1, 2), None)
    """
    shape, axes = list(shape), axes
    while len(shape) > 3 and shape[0] == 1:
        shape, axes = shape[1:], axes[1:] if axes else axes
    if len(shape) == 2:
        return (0, 1)
    if len(shape) != 3 or 0 in shape:
        return None
    if axes and "S" in axes:
        return (1, 2, 0) if axes.startswith("S") else (0, 1, 2)
    shortest_first = shape[0] < shape[1] and shape[0] < shape[2]
    if shortest_first and (axes or shape[0] <= MAX_LEADING_BANDS):
        return (1, 2, 0)
    return (0, 1, 2)


def _hwc_shape(shape, axes, path):
    """``(height, width, bands)`` of an array of ``shape`` by :func:`band_last`; :class:`ImageReadError` if none."""
    order = band_last(shape, axes)
    if order is None or 0 in shape:
        raise ImageReadError(
            f"{path}: holds an array of shape {tuple(shape)}, not an image; "
            "expected (height, width), (height, width, bands) or (bands, height, width)"
        )
    kept = tuple(shape)[len(shape) - len(order):]
    return tuple(kept[i] for i in order) + ((1,) if len(order) == 2 else ())


def image_samples(array, path, axes=None, mask=False):
    """``array`` as ``(H, W, C)`` in a supported type: uint8 / uint16 kept, other numbers float32.

    Masks keep their type (:func:`mask_dtype` checks it).
    """
    height, width, bands = _hwc_shape(array.shape, axes, path)
    order = band_last(array.shape, axes)
    array = array.reshape(array.shape[array.ndim - len(order):])
    image = array.transpose(order) if len(order) == 3 else array
    image = np.ascontiguousarray(image.reshape(height, width, bands))
    if mask or image.dtype in (np.uint8, np.uint16):
        return image
    if image.dtype == np.bool_ or np.issubdtype(image.dtype, np.integer) or np.issubdtype(image.dtype, np.floating):
        return image.astype(np.float32)
    raise ImageReadError(f"{path}: samples of type {image.dtype} are not image values; save integers or floats")


def as_read(image, flags):
    """What ``read_image_type`` makes of an ``(H, W, C)`` image in OpenCV order read without OpenCV.

    1 to 4 bands are gray, gray+alpha, BGR and BGRA, converted as OpenCV does
    (colour: 3 channels; grayscale: 1 channel; 16 bits become 8, rounding
    ``value / 257``); floats stay floats. More than 4 bands, or
    unchanged (``-1``): returned as they are.
    """
    channels = image.shape[2]
    if flags == cv2.IMREAD_UNCHANGED or channels > 4:
        return image
    if image.dtype == np.uint16:
        image = np.rint(image / 257.0).astype(np.uint8)
    if flags == cv2.IMREAD_GRAYSCALE:
        if channels <= 2:
            return np.ascontiguousarray(image[:, :, :1])
        return cv2.cvtColor(np.ascontiguousarray(image[:, :, :3]), cv2.COLOR_BGR2GRAY)[:, :, None]
    if channels <= 2:
        return np.repeat(image[:, :, :1], 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3])


def load_npy(path, mmap=False):
    """The array in a ``.npy`` file (never unpickled; ``mmap``: header only); :class:`ImageReadError` if unreadable."""
    head = _read_bytes(path, 8).tobytes()
    if not head.startswith(_NPY_MAGIC):
        kind = "a .npz archive (save one array per .npy file)" if head.startswith(b"PK") else "not a NumPy .npy file"
        raise ImageReadError(f"{path}: {kind}")
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except Exception as err:  # noqa: BLE001 - NumPy's header parser raises many types (SyntaxError, TokenError, ...)
        reason = _one_line(err)
        if "pickle" in reason.lower() or "object" in reason.lower():
            reason = "it holds Python objects, not numbers (saved with allow_pickle); save a numeric array"
        elif "EOF" in reason or "mmap length" in reason:
            reason = f"it is shorter than its header says, probably truncated ({reason})"
        raise ImageReadError(f"{path}: not a readable .npy file: {reason}") from None


def _tiff_header(source, path):
    """``(shape, axes, dtype, photometric)`` of a TIFF's first series (``source``: the path or a file object)."""
    import tifffile

    try:
        with tifffile.TiffFile(source) as tif:
            series = tif.series[0]
            return tuple(series.shape), series.axes, np.dtype(series.dtype), int(tif.pages[0].photometric)
    except Exception as err:  # tifffile raises many types (struct.error, IndexError, ...) for damaged headers
        raise ImageReadError(f"{path}: not a readable TIFF ({_tiff_problem(err)})") from None


def rgb_to_bgr(pixels):
    """``(H, W, 3 or 4)`` RGB(A) samples in OpenCV's BGR(A) order (a new array; alpha stays last)."""
    return np.concatenate([pixels[:, :, 2::-1], pixels[:, :, 3:]], axis=2)


def decode_tiff(path, flags, palette_indices=False, mask=False):
    """A TIFF's pixels: OpenCV for what it reads (one page of 1, 3 or 4 bands, 8/16 bits), ``tifffile`` for the rest.

    Returns what OpenCV returns (2-D or 3-D); from tifffile, ``(H, W, C)`` after
    ``flags`` (images) or unchanged (masks), 3/4 bands in BGR(A) order. Palette
    TIFFs give their indices when ``palette_indices``.
    """
    data = _read_bytes(path)
    if data[:4].tobytes() not in _TIFF_MAGIC:
        return decode(path, flags, data)  # another format under a .tif name: OpenCV knows it by its content
    try:
        shape, axes, dtype, photometric = _tiff_header(io.BytesIO(data.tobytes()), path)
    except ImageReadError:
        image = imdecode(data, flags)  # OpenCV may still read what tifffile refuses
        if image is None:
            raise
        return image
    indices = palette_indices and photometric == _PHOTOMETRIC_PALETTE
    opencv_reads = axes == "YX" or (axes == "YXS" and shape[2] in (3, 4))  # it drops a 2nd band
    if opencv_reads and dtype in (np.uint8, np.uint16) and not indices:
        image = imdecode(data, flags)
        if image is not None:
            return image
    import tifffile

    try:
        with tifffile.TiffFile(io.BytesIO(data.tobytes())) as tif:
            array = tif.series[0].asarray()
    except Exception as err:  # truncated strips, missing codecs: many exception types
        image = imdecode(data, flags) if indices else None  # OpenCV still gives a palette's colours
        if image is None:
            raise ImageReadError(f"{path}: not a readable TIFF ({_tiff_problem(err)})") from None
        return image
    image = image_samples(np.asarray(array), path, axes, mask)
    if image.shape[2] in (3, 4):
        image = rgb_to_bgr(image)  # as OpenCV
    return image if mask else as_read(image, flags)


def _tiff_problem(err):
    """Why tifffile could not read a TIFF, in words (with the fix for a missing codec)."""
    reason = _one_line(err)
    if "imagecodecs" in reason:
        return f"{reason}: its compression needs the imagecodecs package, `pip install imagecodecs`"
    if "failed to read" in reason or isinstance(err, (EOFError, IndexError)) or type(err).__name__ == "error":
        return f"{reason}; the file looks truncated"
    return reason


def _one_line(err):
    text = " ".join(str(err).split()).strip("'\"")
    return text or type(err).__name__


def mask_dtype(pixels, path):
    """Mask pixels as unsigned integers: whole-number floats and non-negative signed ids are converted.

    Raises:
        MaskFormatError: negative or fractional values, or a non-numeric type.
    """
    if pixels.dtype in (np.uint8, np.uint16):
        return pixels
    kind = pixels.dtype
    if kind.kind not in "biuf":  # NumPy counts timedelta64 as an integer type
        raise MaskFormatError(f"{path}: mask samples of type {kind} are not class ids; save integers")
    if pixels.size == 0:
        return pixels.astype(np.uint8)
    low, high = pixels.min(), pixels.max()
    if np.issubdtype(kind, np.floating) and not (np.isfinite(high) and np.array_equal(pixels, np.floor(pixels))):
        raise MaskFormatError(f"{path}: mask holds fractional values ({kind}); a mask holds whole-number class ids")
    if low < 0:
        raise MaskFormatError(f"{path}: mask holds negative values (down to {low}); class ids start at 0")
    high = int(high)
    return pixels.astype(np.uint8 if high < 256 else np.uint16 if high < 65536 else np.int64)


def _file_header(path):
    """``((height, width, bands), dtype, "TIFF" / "npy")`` of a TIFF or ``.npy`` file from its header, else ``None``."""
    extension = os.path.splitext(path)[1].lower()
    if extension in ARRAY_EXTENSIONS:
        array = load_npy(path, mmap=True)
        return _hwc_shape(array.shape, None, path), array.dtype, "npy"
    if extension in TIFF_EXTENSIONS:
        if _read_bytes(path, 4).tobytes() in _TIFF_MAGIC:
            shape, axes, dtype, _ = _tiff_header(path, path)  # tifffile seeks: the pixels are not read
            return _hwc_shape(shape, axes, path), dtype, "TIFF"
    return None


def read_image_size(path):
    """``(height, width)`` of an image file from its header, without decoding the pixels.

    Raises:
        ImageReadError: the file is missing or its header cannot be read.

    Example:
        >>> read_image_size("bands/0001.tif")
        (256, 256)
    """
    path = os.fspath(path)
    header = _file_header(path)
    if header is not None:
        return header[0][:2]
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return img.size[1], img.size[0]
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise ImageReadError(f"{path}: not a readable image ({_one_line(err)})") from None


def describe_file(path):
    """A file's format in a word, for reports: PIL's mode (``RGB``, ``L``, ``I;16``...), or for ``.npy`` files and
    TIFFs PIL does not read whole (more bands, one band per page) ``"TIFF 6-band uint16"``; else ``"unreadable"``.
    """
    from PIL import Image, UnidentifiedImageError

    path = os.fspath(path)
    try:
        header = _file_header(path)
    except ImageReadError:
        header = None
    mode = None
    if not path.lower().endswith(ARRAY_EXTENSIONS):
        try:
            with Image.open(path) as img:
                mode, bands = img.mode, len(img.getbands())
        except (OSError, UnidentifiedImageError, SyntaxError, ValueError, Image.DecompressionBombError):
            pass
    if mode is not None and (header is None or header[0][2] == bands):
        return mode
    if header is None:
        return "unreadable"
    (_, _, bands), dtype, kind = header
    return f"{kind} {bands}-band {dtype}"
