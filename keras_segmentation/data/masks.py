"""Reading masks as 2-D class ids: palette PNGs (and their colours), colour-coded masks (:class:`ColourMap`), class-id
checks.

Conventions (the original library's, kept on purpose): :func:`read_mask` returns a
2-D array of class ids; a 3-channel mask gives its **blue** channel unless a colour
map is given. Every reader (verify, the training loader, evaluate) words a class id
outside ``[0, n_classes)`` the same way (:func:`mask_values_problem`).

Example:
    >>> mask = read_mask("annotations/0001.png")              # (360, 480) uint8 class ids
    >>> read_mask("labels/a.png", ColourMap.from_csv("colours.csv")).shape
    (360, 480)
    >>> check_mask_values(mask, n_classes=12, name="annotations/0001.png")
"""

import os

import numpy as np

from ..errors import ImageReadError, MaskFormatError, MaskValueError
from .images import LOSSY_EXTENSIONS, READ_UNCHANGED
from .rasters import ARRAY_EXTENSIONS, TIFF_EXTENSIONS, decode, decode_tiff, image_samples, load_npy, mask_dtype


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


def mask_palette(path):
    """The ``(r, g, b)`` colour of each palette index of a palette PNG mask, or ``None`` for any other mask.

    Raises:
        ImageReadError: a palette PNG that cannot be read.

    Example:
        >>> mask_palette("voc/SegmentationClass/2007_000032.png")[:2]
        [(0, 0, 0), (128, 0, 0)]
    """
    path = os.fspath(path)
    if not _is_palette_png(path):
        return None
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            palette = img.getpalette() or []
    except (OSError, UnidentifiedImageError, SyntaxError, Image.DecompressionBombError) as err:
        raise ImageReadError(f"{path}: not a readable image ({err})") from None
    return [tuple(palette[i : i + 3]) for i in range(0, len(palette) - 2, 3)]


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
