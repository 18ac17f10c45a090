"""Hypothesis strategies of the property tests, and their one check (``from generated import ...``).

Every property has the same shape: whatever the input, the library either returns
a sensible value or raises a :class:`SegmentationError` whose message is one line
naming the file (or option) at fault; any other exception is a bug.
"""

import io
import json
import pathlib
import struct
import sys
import warnings
import zlib

import numpy as np
import tifffile
from hypothesis import strategies as st
from PIL import Image

from keras_segmentation.errors import SegmentationError

# The convert tests' image writer serves these tests too; tests/convert is not on sys.path when only
# tests/properties runs.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "convert"))
from convertfiles import H, W, image_png  # noqa: E402, F401  (re-exported to the property tests)

MODES = ("L", "LA", "P", "RGB", "RGBA", "I;16", "I", "F", "1")
FORMATS = {"PNG": ".png", "JPEG": ".jpg", "TIFF": ".tif", "BMP": ".bmp"}
#: Extensions a generated file may be given, whatever it holds (the readers' own, upper case, and others).
EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".npy", ".PNG", ".Tif", ".txt", "")
DTYPES = ("uint8", "uint16", "int8", "int16", "int32", "int64", "uint32", "float16", "float32", "float64", "bool",
          "complex64", "timedelta64[s]", "<U2")


def assert_one_line_error(err, *names):
    """``err`` is a SegmentationError with a one-line message naming one of ``names`` (paths, options)."""
    if not isinstance(err, SegmentationError):
        raise AssertionError(f"not a SegmentationError: {type(err).__name__}: {err}") from err
    message = str(err)
    assert message and "\n" not in message and "\r" not in message, repr(message)
    assert any(str(name) in message for name in names), (names, message)
    return message


def attempt(call, *names):
    """``call()``, or ``None`` once :func:`assert_one_line_error` has checked what it raised."""
    try:
        return call()
    except Exception as err:  # noqa: BLE001 - any other exception fails the check
        assert_one_line_error(err, *names)
        return None


def write_file(folder, name, data):
    """Write the bytes ``data`` to ``folder/name`` (the folder made if needed); returns the path as a string."""
    path = pathlib.Path(folder, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return str(path)


def _saves(mode, fmt):
    try:
        Image.new(mode, (1, 1)).save(io.BytesIO(), fmt)
    except (OSError, ValueError, KeyError):
        return False
    return True


#: The (PIL mode, format) pairs Pillow writes: every bit depth from 1-bit to 32-bit float.
SAVABLE = [(mode, fmt) for mode in MODES for fmt in FORMATS if _saves(mode, fmt)]


@st.composite
def pil_files(draw):
    """``(bytes, natural extension)`` of a 1..6 px image in any mode Pillow writes in any format."""
    mode, fmt = draw(st.sampled_from(SAVABLE))
    height, width, seed = draw(st.integers(1, 6)), draw(st.integers(1, 6)), draw(st.integers(0, 2**16))
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 4), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(buffer, fmt)
    return buffer.getvalue(), FORMATS[fmt]


@st.composite
def array_files(draw):
    """``(bytes, extension)`` of a ``.npy`` file or a tifffile TIFF holding any array: 0-sized, many bands, odd types."""
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = tuple(draw(st.lists(st.integers(0, 5), min_size=1, max_size=4)))
    array = np.random.default_rng(draw(st.integers(0, 2**16))).integers(-3, 300, shape).astype(dtype)
    buffer = io.BytesIO()
    if draw(st.booleans()) or dtype.kind in "cmU" or 0 in shape or len(shape) not in (2, 3):  # what tifffile writes
        np.save(buffer, array, allow_pickle=False)
        return buffer.getvalue(), ".npy"
    with warnings.catch_warnings():  # tifffile's notice that it may one day store 3-D arrays differently
        warnings.simplefilter("ignore", DeprecationWarning)
        tifffile.imwrite(buffer, array)
    return buffer.getvalue(), ".tif"


def with_png_size(data, width, height):
    """A PNG's bytes with the width and height its IHDR chunk states replaced (CRC fixed): a header that lies."""
    if not data.startswith(b"\x89PNG") or data[12:16] != b"IHDR":
        return data
    header = data[12:16] + struct.pack(">II", width, height) + data[24:29]
    return data[:12] + header + struct.pack(">I", zlib.crc32(header)) + data[33:]


@st.composite
def image_files(draw):
    """``(bytes, extension)`` of a file users may feed as an image or mask: generated, then perhaps damaged."""
    data, extension = draw(st.one_of(pil_files(), array_files(), st.tuples(st.binary(max_size=64), st.just(".png"))))
    damage = draw(st.sampled_from(("none", "cut", "flip", "size")))
    if damage == "cut" and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif damage == "flip" and data:
        index = draw(st.integers(0, len(data) - 1))
        data = data[:index] + bytes([data[index] ^ draw(st.integers(1, 255))]) + data[index + 1 :]
    elif damage == "size":
        sizes = st.sampled_from((0, 1, 2, 65535, 2**31 - 1))
        data = with_png_size(data, draw(sizes), draw(sizes))
    if draw(st.booleans()):
        extension = draw(st.sampled_from(EXTENSIONS))
    return data, extension


#: Any JSON value (NaN and huge integers included: Python's json reads and writes them).
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6)
    | st.sampled_from((10**400, -(10**400), 1e308, -1e308)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


def maybe(strategy):
    """``strategy`` most of the time, any JSON value otherwise (a wrong type, a null)."""
    return st.one_of(strategy, strategy, strategy, json_values)


def write_json(path, value):
    """Write ``value`` as JSON (NaN and Infinity allowed, as Python writes them); returns the path."""
    pathlib.Path(path).write_text(json.dumps(value), encoding="utf-8")
    return path
