"""labelme JSON files -> images, class-id masks and ``classes.txt``.

Rules:

* **Files.** ``source`` is a folder of labelme ``.json`` files (not searched recursively) or one file;
  each gives one image and one mask named after the JSON (``a.json`` -> ``images/a.jpg``, ``annotations/a.png``).
* **Image.** The embedded ``imageData`` (base64) when the JSON has it, else the file ``imagePath``
  names, relative to the JSON's folder. Its size must match the JSON's ``imageHeight``/``imageWidth``.
* **Labels.** Given (``labels``: a file with one name per line, a list, or a comma list): line *i* is
  class *i*, and the first is the background that unlabelled pixels get; a ``__ignore__`` line
  (labelme's own ``labels.txt`` convention) is no class, its shapes are painted 255 (void). A label
  not in the list is an error naming the file. Not given: the labels found in all the files, sorted,
  after class 0 ``background`` (shapes labelled ``background`` or ``_background_`` are class 0).
* **Shapes.** Polygons, rectangles (two corners) and circles (centre, then a point on the circle)
  are filled as labelme's own export fills them (Pillow: pixels on the outline count); parts outside
  the image are clipped. Lines, line strips, points and polygons of fewer than 3 points have no area:
  they are skipped, with one warning per file. Other shape types (such as ``mask``) are an error.
* **Order.** Shapes are painted in file order: a later shape (lower in labelme's list) paints over earlier ones.

Example:
    >>> result = convert_labelme("labelme_jsons/", "dataset/", labels="labels.txt")
    >>> result.class_names[:2], bool(result)
    (['_background_', 'cat'], True)
"""

import base64
import math
import os
import sys
import warnings
from collections import Counter

import numpy as np
from PIL import Image, ImageDraw

from ...errors import ConvertError
from ..class_names import load_class_names
from .common import IGNORE_INDEX, Output, load_json, read_source, require

#: Shape types that are filled; ``_NO_AREA`` ones are skipped with a warning.
SHAPE_TYPES = ("polygon", "rectangle", "circle")
_NO_AREA = ("line", "linestrip", "point", "points")
#: labelme's label for void regions, and the labels taken as class 0.
IGNORE_LABEL = "__ignore__"
BACKGROUND_LABELS = ("background", "_background_")


def convert_labelme(source, out_dir, *, labels=None, overwrite=False):
    """Convert labelme JSON files into ``out_dir`` (see the module's rules); returns a ``ConvertResult``.

    Raises:
        ConvertError: bad JSON, an unknown shape type or malformed points, a label missing from
            ``labels``, a missing or unreadable image; the message names the file.
    """
    source = os.fspath(source)
    paths = require(_json_files(source), source, "labelme .json files")
    used = {path: {shape["label"] for shape in _document(path)["shapes"]} for path in paths}
    ids, names = _class_ids(sorted(set().union(*used.values())), labels)
    for path, path_labels in used.items():
        if path_labels - set(ids):
            raise ConvertError(
                f"{path}: labels {sorted(path_labels - set(ids))} are not in the label list "
                f"{labels if isinstance(labels, (str, os.PathLike)) else 'given'}; add them or fix the shapes"
            )
    out = Output(out_dir, names, overwrite)
    for path in paths:
        document = _document(path)
        stem = os.path.splitext(os.path.basename(path))[0]
        size = out.write_image(stem, _image_bytes(path, document), path)
        expected = (document.get("imageHeight") or size[0], document.get("imageWidth") or size[1])
        if tuple(expected) != tuple(size):
            raise ConvertError(
                f"{path}: the image is {size[1]}x{size[0]} but the JSON says {expected[1]}x{expected[0]} (width x height)"
            )
        out.write_mask(stem, _rasterise(path, document["shapes"], ids, size))
    return out.finish("labelme", source)


def _json_files(source):
    if os.path.isfile(source):
        return [source]
    if not os.path.isdir(source):
        raise ConvertError(f"{source}: not found (give a folder of labelme .json files, or one file)")
    names = sorted(n for n in os.listdir(source) if n.lower().endswith(".json") and not n.startswith("."))
    return [os.path.join(source, name) for name in names]


def _document(path):
    """The JSON of a labelme file, its shapes checked (label, type, points)."""
    document = load_json(path)
    if not isinstance(document, dict) or not isinstance(document.get("shapes"), list):
        raise ConvertError(f"{path}: not a labelme file (no 'shapes' list)")
    for number, shape in enumerate(document["shapes"]):
        where = f"{path}: shape {number}"
        if not isinstance(shape, dict) or not isinstance(shape.get("label"), str):
            raise ConvertError(f"{where}: no 'label' text")
        where += f" ({shape['label']})" if shape["label"].isprintable() else f" ({shape['label']!r})"  # stays one line
        kind = shape.setdefault("shape_type", "polygon") or "polygon"
        shape["shape_type"] = kind
        if kind not in SHAPE_TYPES + _NO_AREA:
            raise ConvertError(f"{where}: shape type {kind!r} is not supported ({', '.join(SHAPE_TYPES)})")
        points = shape.get("points")
        if not isinstance(points, list) or not all(_is_point(p) for p in points):
            raise ConvertError(f"{where}: 'points' must be a list of [x, y] numbers")
        if kind in ("rectangle", "circle") and len(points) != 2:
            raise ConvertError(f"{where}: a {kind} has 2 points, not {len(points)}")
    return document


def _is_point(point):
    return (
        isinstance(point, (list, tuple)) and len(point) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) <= sys.float_info.max for v in point)
    )


def _class_ids(found, labels):
    """``({label: mask value}, class names)`` from the labels found, or the ``labels`` given."""
    if labels is None:
        names = ["background"] + [label for label in found if label not in BACKGROUND_LABELS + (IGNORE_LABEL,)]
        ids = {name: i for i, name in enumerate(names)}
        ids.update(dict.fromkeys(BACKGROUND_LABELS, 0))
    else:
        names = [name for name in load_class_names(labels) if name != IGNORE_LABEL]
        if not names:
            raise ConvertError(f"label list {labels}: no class names (the first is the background)")
        repeated = sorted(name for name, n in Counter(names).items() if n > 1)
        if repeated:
            raise ConvertError(f"label list {labels}: {repeated} appear more than once")
        ids = {name: i for i, name in enumerate(names)}
    ids[IGNORE_LABEL] = IGNORE_INDEX
    return ids, names


def _image_bytes(path, document):
    if document.get("imageData"):
        try:
            return base64.b64decode(document["imageData"], validate=True)
        except (ValueError, TypeError):  # binascii.Error is a ValueError, and so is a non-ASCII string
            raise ConvertError(f"{path}: 'imageData' is not valid base64") from None
    image_path = document.get("imagePath")
    if not isinstance(image_path, str) or not image_path:
        raise ConvertError(f"{path}: no 'imageData' and no 'imagePath': cannot find the image")
    full = os.path.join(os.path.dirname(path), image_path)
    if not os.path.exists(full):  # saved on Windows
        full = os.path.join(os.path.dirname(path), *image_path.split("\\"))
    return read_source(full)


def _rasterise(path, shapes, ids, size):
    """The class-id mask of ``shapes`` on an image of ``size`` (height, width), later shapes on top."""
    mask = np.zeros(size, np.uint8)
    skipped = Counter()
    for shape in shapes:
        kind, points = shape["shape_type"], [tuple(map(float, p)) for p in shape["points"]]
        if kind in _NO_AREA or len(points) < 3 and kind == "polygon":
            skipped[kind if kind in _NO_AREA else "polygon of < 3 points"] += 1
            continue
        mask[_fill(kind, points, size)] = ids[shape["label"]]
    if skipped:
        shown = ", ".join(f"{n} {kind}" for kind, n in sorted(skipped.items()))
        warnings.warn(f"{path}: skipped {sum(skipped.values())} shape(s) without area ({shown})", stacklevel=3)
    return mask


def _fill(kind, points, size):
    """Boolean ``(height, width)`` array of the pixels one shape covers (drawn as labelme draws it)."""
    canvas = Image.new("L", (size[1], size[0]), 0)
    draw = ImageDraw.Draw(canvas)
    if kind == "polygon":
        draw.polygon(points, outline=1, fill=1)
    elif kind == "rectangle":
        (x0, y0), (x1, y1) = points
        draw.rectangle([min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)], outline=1, fill=1)
    else:
        (cx, cy), (px, py) = points
        radius = math.hypot(px - cx, py - cy)
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], outline=1, fill=1)
    return np.asarray(canvas) > 0
