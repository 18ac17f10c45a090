"""Pascal VOC segmentation folders (colour or palette PNG masks) -> images, class-id masks and ``classes.txt``.

Layout read (VOC's, which CVAT's "Segmentation mask 1.1" export shares, see :mod:`.cvat`)::

    source/JPEGImages/<stem>.jpg                 images (any extension the library reads; or ``images=``)
    source/SegmentationClass/<stem>.png          masks: palette PNGs (VOC) or RGB PNGs (CVAT)
    source/labelmap.txt                          optional: "name:r,g,b:parts:actions" lines
    source/ImageSets/Segmentation/<split>.txt    optional: the stems of a split (``split=``)

Rules:

* **Colours.** Each mask pixel's colour (a palette PNG's palette colour, an RGB PNG's colour) is
  looked up in ``labelmap.txt`` (``labelmap=``, else ``source/labelmap.txt`` when present; line *i*
  is class *i*, ``#`` lines skipped) or, without one, in the VOC palette of the 21 VOC classes
  (:data:`VOC_CLASSES`, background first). A colour in neither is an error naming it and the file.
* **Border.** The VOC border colour (224, 224, 192) (palette index 255) becomes 255, void (see
  :data:`~.common.IGNORE_INDEX`), unless the labelmap gives that colour to a class.
* **Which files.** Every mask (of ``split`` when given) with its image; a mask without an image is an
  error; images without a mask are left out (VOC has many more images than masks).

Example:
    >>> result = convert_voc("VOCdevkit/VOC2012", "dataset/", split="train")
    >>> result.class_names[:3], bool(result)
    (['background', 'aeroplane', 'bicycle'], True)
"""

import os

import numpy as np

from ...errors import ConvertError, MaskFormatError
from ..images import IMAGE_EXTENSIONS
from ..masks import ColourMap, decode_mask
from ..pairing import base_name, list_files
from .common import IGNORE_INDEX, Output, read_source, require

#: The 20 VOC object classes after background; class *i* has colour :func:`voc_colour` (i).
VOC_CLASSES = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
)
BORDER_COLOUR = (224, 224, 192)


def convert_voc(source, out_dir, *, labelmap=None, images=None, split=None, overwrite=False):
    """Convert a Pascal VOC folder into ``out_dir`` (see the module's rules); returns a ``ConvertResult``.

    Raises:
        ConvertError: a colour in no labelmap, a malformed ``labelmap.txt``, a mask without image,
            an unknown split; the message names the file.
    """
    source = os.fspath(source)
    if labelmap is None and os.path.isfile(os.path.join(source, "labelmap.txt")):
        labelmap = os.path.join(source, "labelmap.txt")
    if labelmap is None:
        entries = [(name, voc_colour(i)) for i, name in enumerate(VOC_CLASSES)]
        return convert_colour_masks("voc", source, out_dir, entries, "the VOC palette", images, split, overwrite)
    return convert_colour_masks("voc", source, out_dir, read_labelmap(labelmap), labelmap, images, split, overwrite)


def voc_colour(index):
    """The VOC palette's ``(r, g, b)`` for ``index`` (bits of the index spread over the colour's high bits).

    Example:
        >>> voc_colour(1), voc_colour(15), voc_colour(255)
        ((128, 0, 0), (192, 128, 128), (224, 224, 192))
    """
    rgb = [0, 0, 0]
    for shift in range(8):
        for channel in range(3):
            rgb[channel] |= ((index >> (3 * shift + channel)) & 1) << (7 - shift)
    return tuple(rgb)


def read_labelmap(path):
    """``[(name, (r, g, b))]`` from a CVAT / VOC ``labelmap.txt`` (``name:r,g,b:parts:actions`` lines).

    Raises:
        ConvertError: a line without a colour, or a colour given to two labels; naming the line.
    """
    entries, seen = [], {}
    for number, line in enumerate(read_source(path).decode("utf-8", "replace").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.strip().split(":") + [""]
        name, colour = (":".join(fields[:-4]), fields[-4]) if len(fields) >= 5 else fields[:2]
        try:
            rgb = tuple(int(v) for v in colour.split(","))
        except ValueError:
            rgb = ()
        if len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
            raise ConvertError(f"{path}:{number}: expected 'name:r,g,b:parts:actions', got {line.strip()!r}")
        if rgb in seen:
            raise ConvertError(f"{path}:{number}: colour {rgb} of {name!r} is already {seen[rgb]!r}'s")
        seen[rgb] = name
        entries.append((name, rgb))
    return require(entries, path, "'name:r,g,b' lines")


def convert_colour_masks(source_format, source, out_dir, entries, colours_from, images, split, overwrite):
    """Convert ``source/SegmentationClass`` colour masks, whose colours ``entries`` ``[(name, rgb)]`` name, with their images."""
    colours = {rgb: class_id for class_id, (_, rgb) in enumerate(entries)}
    colours.setdefault(BORDER_COLOUR, IGNORE_INDEX)
    colour_map = ColourMap(colours)
    masks_path = os.path.join(source, "SegmentationClass")
    masks = list_files(masks_path, (".png", ".bmp"), "masks folder")
    if split is not None:
        masks = _in_split(source, split, masks)
    masks = require(masks, masks_path, "PNG masks")
    images = os.fspath(images) if images is not None else os.path.join(source, "JPEGImages")
    image_files = {base_name(path): path for path in reversed(list_files(images, IMAGE_EXTENSIONS, "images folder"))}
    out = Output(out_dir, [name for name, _ in entries], overwrite)
    for mask_path in masks:
        stem = base_name(mask_path)
        if stem not in image_files:
            raise ConvertError(f"{mask_path}: no image named {stem}.* in {images}")
        out.write_image(stem, read_source(image_files[stem]), image_files[stem])
        pixels = np.atleast_3d(decode_mask(mask_path, palette_colours=True))
        if pixels.shape[2] < 3:  # gray, or gray + alpha
            pixels = np.repeat(pixels[:, :, :1], 3, axis=2)
        try:
            out.write_mask(stem, colour_map.encode(pixels[:, :, 2::-1], mask_path))
        except MaskFormatError as err:
            raise ConvertError(f"{err} (colours from {colours_from})") from None
    return out.finish(source_format, source)


def _in_split(source, split, masks):
    path = os.path.join(source, "ImageSets", "Segmentation", f"{split}.txt")
    if not os.path.isfile(path):
        raise ConvertError(f"split {split!r}: {path} not found")
    stems = {line.strip() for line in read_source(path).decode("utf-8", "replace").splitlines() if line.strip()}
    missing = sorted(stems - {base_name(mask) for mask in masks})
    if missing:
        raise ConvertError(f"{path}: {len(missing)} listed name(s) have no mask in SegmentationClass (first: {missing[0]})")
    return [mask for mask in masks if base_name(mask) in stems]
