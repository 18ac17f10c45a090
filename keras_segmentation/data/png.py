"""Checking a PNG file's integrity and reading its header without decoding the pixels.

Every PNG chunk carries a CRC-32 of its contents, and a complete file ends with
an ``IEND`` chunk, so walking the chunks finds truncated and corrupted files at
the cost of one read and a checksum: far cheaper than inflating and unfiltering
the image. ``verify_dataset`` uses it for images (masks are decoded anyway,
since their values are checked).

Example:
    >>> info = inspect_png("images/0001.png")
    >>> info.height, info.width, info.mode, info.channels, info.bit_depth
    (360, 480, 'RGB', 3, 8)
"""

import os
import struct
import zlib
from dataclasses import dataclass

from ..errors import ImageReadError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_MODES = {0: ("L", 1), 2: ("RGB", 3), 3: ("P", 1), 4: ("LA", 2), 6: ("RGBA", 4)}


@dataclass(frozen=True)
class PngInfo:
    """What the header of a PNG says: size, colour type and bit depth."""

    width: int
    height: int
    bit_depth: int
    colour_type: int
    mode: str
    channels: int


def is_png(path):
    """True when the file starts with the PNG signature."""
    try:
        with open(path, "rb") as handle:
            return handle.read(8) == PNG_SIGNATURE
    except OSError:
        return False


def inspect_png(path):
    """Check every chunk's CRC and the final ``IEND``; return the :class:`PngInfo`.

    Raises:
        ImageReadError: not a PNG, empty, truncated, or a chunk is corrupt.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as err:
        raise ImageReadError(f"{path}: cannot be read ({err.strerror or err})") from None
    if not data:
        raise ImageReadError(f"{path}: file is empty (0 bytes)")
    if not data.startswith(PNG_SIGNATURE):
        raise ImageReadError(f"{path}: not a PNG file")
    view = memoryview(data)
    offset, info, seen_data = len(PNG_SIGNATURE), None, False
    while True:
        if offset + 12 > len(data):
            raise ImageReadError(f"{path}: truncated PNG (ends inside a chunk, no IEND)")
        length, kind = struct.unpack_from(">I4s", data, offset)
        end = offset + 12 + length
        if end > len(data):
            raise ImageReadError(f"{path}: truncated PNG ({_chunk_name(kind)} chunk cut short)")
        (crc,) = struct.unpack_from(">I", data, end - 4)
        if zlib.crc32(view[offset + 4 : end - 4]) != crc:
            raise ImageReadError(f"{path}: corrupt PNG (bad checksum in {_chunk_name(kind)} chunk)")
        if kind == b"IHDR":
            info = _header(path, data[offset + 8 : offset + 8 + length])
        elif kind == b"IDAT":
            seen_data = True
        elif kind == b"IEND":
            break
        offset = end
    if info is None or not seen_data:
        raise ImageReadError(f"{path}: not a valid PNG (no {'IHDR' if info is None else 'IDAT'} chunk)")
    return info


def _chunk_name(kind):
    """A printable chunk type (a corrupt file may hold any bytes there)."""
    return kind.decode("ascii") if kind.isalpha() else repr(kind)


def _header(path, chunk):
    if len(chunk) != 13:
        raise ImageReadError(f"{path}: not a valid PNG (IHDR of {len(chunk)} bytes)")
    width, height, bit_depth, colour_type = struct.unpack(">IIBB", chunk[:10])
    if colour_type not in _MODES or width == 0 or height == 0:
        raise ImageReadError(f"{path}: not a valid PNG (colour type {colour_type}, {width}x{height})")
    mode, channels = _MODES[colour_type]
    if bit_depth == 16 and mode == "L":
        mode = "I;16"
    return PngInfo(width, height, bit_depth, colour_type, mode, channels)
