"""Label Studio's region shapes: a mask as brush RLE (:func:`mask_to_rle`) or as polygon outlines (:func:`outlines`).

The brush RLE is how a ``brushlabels`` result carries its mask (``value: {"format": "rle", "rle": [...]}``).

The format is thi.ng's ``rle-pack`` (what Label Studio's editor decodes), applied to the mask as an RGBA image
flattened row by row, each pixel's value repeated in its four channels (0 or 255; the editor reads the alpha):

* a header: the number of values (32 bits), the word size minus one (5 bits: 8-bit words, ``00111``), and four
  run-length field widths minus one (4 bits each: 3, 4, 8 and 16 bits, ``0010 0011 0111 1111``);
* then one chunk per run of equal values: a flag bit (1: a repeated value, 0: literal values), two bits choosing
  the width of the length field, the run length minus one in that width, then the value (8 bits; a literal chunk
  carries one value per position);
* bits are written most significant first, and the stream is padded with zero bits to whole bytes.

:func:`encode_rle` writes what ``label_studio_converter.brush.encode_rle`` writes, byte for byte: a run of one
value is a literal chunk of length one, a run of 2-8 values takes the 3-bit length field, 9-16 the 4-bit one,
17-256 the 8-bit one, longer runs the 16-bit one (split into pieces of 65,536, the last piece the rest), and the
padding is 1 to 8 zero bits (a whole zero byte when the bits already fill whole bytes). :func:`decode_rle` reads
any ``rle-pack`` stream (literal runs of several values, other word sizes), as the editor does.

Example:
    >>> rle = mask_to_rle(np.array([[False, True]]))        # one row, two pixels
    >>> rle
    [0, 0, 0, 8, 57, 27, 252, 96, 17, 255, 128]
    >>> rle_to_mask(rle, 1, 2)
    array([[False,  True]])
"""

import cv2
import numpy as np

from ..errors import ServeError

#: The widths of the run-length field (bits) that the header announces and the encoder chooses among.
RLE_SIZES = (3, 4, 8, 16)
#: Bits per value.
WORD_SIZE = 8
#: The longest run one chunk carries (a 16-bit length field).
_LONGEST = 2**16
#: Chunks turned into bits at once: bounds the encoder's temporary memory on noisy masks.
_BLOCK = 1 << 18


def encode_rle(values):
    """Label Studio's RLE (a list of byte values) of the 1-D array ``values`` (integers 0-255).

    Raises:
        ServeError: an empty array, or a value outside 0-255.
    """
    values = np.asarray(values).ravel()
    if values.size == 0 or values.size >= 2**32:
        raise ServeError(f"brush RLE: {values.size} values; it encodes 1 to 2**32 - 1", 500)
    if values.min() < 0 or values.max() >= 2**WORD_SIZE:
        raise ServeError(f"brush RLE: values from {values.min()} to {values.max()}; it encodes 0-255", 500)
    starts = np.concatenate([[0], np.flatnonzero(values[1:] != values[:-1]) + 1])
    lengths = np.diff(np.append(starts, values.size))
    run_values = values[starts].astype(np.uint32)

    long = lengths > 256
    pieces = np.where(long, (lengths - 1) // _LONGEST + 1, 1)
    run = np.repeat(np.arange(lengths.size), pieces)  # the run each chunk belongs to
    last = np.cumsum(pieces) - 1                        # its last chunk
    is_last = np.zeros(run.size, bool)
    is_last[last] = True
    length = np.where(is_last, lengths[run] - (pieces[run] - 1) * _LONGEST, _LONGEST)
    size_index = np.where(long[run], 3, np.searchsorted([8, 16, 256], length))
    repeated = long[run] | (length > 1)

    header_values = [values.size, WORD_SIZE - 1, *(size - 1 for size in RLE_SIZES)]
    header_widths = [32, 5, *([4] * len(RLE_SIZES))]
    parts = [_bits(np.array(header_values, np.uint32), np.array(header_widths, np.int64))]
    widths = np.array(RLE_SIZES)[size_index]
    for begin in range(0, run.size, _BLOCK):
        block = slice(begin, begin + _BLOCK)
        fields = np.stack([repeated[block], size_index[block], length[block] - 1, run_values[run[block]]], 1)
        field_widths = np.stack(np.broadcast_arrays(1, 2, widths[block], WORD_SIZE), 1)
        parts.append(_bits(fields.astype(np.uint32).ravel(), field_widths.ravel()))
    bits = np.concatenate(parts)
    padded = np.packbits(bits).tolist()  # zero bits up to a whole byte
    if bits.size % 8 == 0:
        padded.append(0)  # the reference pads 8 bits when there is nothing to pad
    return padded


def decode_rle(rle):
    """The 1-D array a Label Studio RLE ``rle`` (bytes, or a list of byte values) holds.

    Raises:
        ServeError: ``rle`` ends before the number of values its header announces.
    """
    bits = np.unpackbits(np.asarray(bytearray(rle) if isinstance(rle, (bytes, bytearray)) else rle, np.uint8))
    position = 0

    def read(width):
        nonlocal position
        if position + width > bits.size:
            raise ServeError(f"brush RLE: ends after {bits.size} bits, before the values its header announces", 400)
        field = bits[position:position + width]
        position += width
        return int(field @ (1 << np.arange(width - 1, -1, -1, dtype=np.int64))) if width else 0

    count, word_size = read(32), read(5) + 1
    sizes = [read(4) + 1 for _ in range(4)]
    out = np.zeros(count, np.uint8 if word_size <= 8 else np.uint16 if word_size <= 16 else np.uint32)
    index = 0
    while index < count:
        repeated = read(1)
        end = min(count, index + 1 + read(sizes[read(2)]))
        if repeated:
            out[index:end] = read(word_size)
        else:
            for i in range(index, end):
                out[i] = read(word_size)
        index = end
    return out


def mask_to_rle(mask):
    """The RLE of the 2-D boolean ``mask`` as Label Studio's brush: an RGBA image, 255 where ``mask`` is set."""
    pixels = np.where(np.asarray(mask, bool), 255, 0).astype(np.uint8).ravel()
    return encode_rle(np.repeat(pixels, 4))


def rle_to_mask(rle, height, width):
    """The boolean ``(height, width)`` mask of a brush RLE (its alpha channel set)."""
    values = decode_rle(rle)
    if values.size != height * width * 4:
        raise ServeError(f"brush RLE: {values.size} values, not the {height}x{width}x4 of the image", 400)
    return values.reshape(height, width, 4)[..., 3] > 0


def _bits(values, widths):
    """The bits (uint8 0/1, most significant first) of each value in its width, one after the other."""
    field = np.repeat(np.arange(values.size), widths)
    offset = np.arange(field.size) - np.repeat(np.cumsum(widths) - widths, widths)
    shift = (widths[field] - 1 - offset).astype(np.uint32)
    return ((values[field] >> shift) & 1).astype(np.uint8)


def outlines(mask):
    """The outer outlines of ``mask``'s regions as Label Studio's points, ``[[x %, y %], ...]``: through the centres
    of the boundary pixels; a region one pixel thin (a line, a lone pixel) is the one-pixel-wide band around it.

    Example:
        >>> outlines(np.pad(np.ones((2, 2), bool), 1))
        [[[37.5, 37.5], [37.5, 62.5], [62.5, 62.5], [62.5, 37.5]]]
    """
    height, width = mask.shape
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    polygons = []
    for contour in contours:
        points = contour[:, 0, :].astype(np.float64) + 0.5  # pixel (x, y) -> the centre of its square
        if len(points) <= 2:
            start, end = points[0], points[-1]
            along = end - start
            along = along / np.hypot(*along) / 2 if along.any() else np.array([0.5, 0.0])
            across = np.array([-along[1], along[0]])
            points = np.array([start - along - across, end + along - across, end + along + across,
                               start - along + across])
        percent = points / [width, height] * 100
        polygons.append([[round(float(x), 4), round(float(y), 4)] for x, y in percent])
    return polygons
