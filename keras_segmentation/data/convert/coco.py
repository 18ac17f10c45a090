"""COCO instances or stuff JSON -> images, class-id masks and ``classes.txt`` (needs ``pycocotools``: the ``[convert]`` extra).

Rules:

* **Classes.** Class 0 is ``background``: pixels no annotation covers. The categories, in ascending
  category id, are classes 1, 2, ... (ids 1, 3, 90 become classes 1, 2, 3), named as in the file.
* **Regions.** Polygons are rasterised by ``pycocotools`` (as the COCO API does; parts outside the
  image are clipped, polygons of fewer than 3 points skipped); uncompressed RLE (``counts`` a list)
  and compressed RLE (``counts`` a string) are decoded by it.
* **Overlaps.** Larger regions are painted first and smaller ones on top, so an object lying on
  another (a cup on a table) keeps its class; equal areas go in file order, the later on top. The
  area is the region's decoded pixel count (not the ``area`` field).
* **Crowds** (``iscrowd: 1``): ``crowd="class"`` (default) paints them with their category, like any
  region: they are pixels of that class. ``crowd="ignore"`` paints them 255 (void);
  ``crowd="skip"`` leaves them out.
* **Images.** Every entry of ``images`` is converted; ``file_name`` is relative to ``images``
  (default: the JSON's folder) and the output stem is the file name without folders or extension.
  Images without annotations get an all-background mask.

Example:
    >>> result = convert_coco("annotations/instances_val2017.json", "dataset/", images="val2017/")
    >>> result.class_names[:3]
    ['background', 'person', 'bicycle']
"""

import os
from collections import defaultdict

import numpy as np

from ...errors import ConvertError
from .common import IGNORE_INDEX, Output, load_json, read_source, require

#: What ``crowd=`` may be.
CROWD_RULES = ("class", "ignore", "skip")


def convert_coco(source, out_dir, *, images=None, crowd="class", overwrite=False):
    """Convert a COCO JSON file and its images into ``out_dir`` (see the module's rules).

    Raises:
        ConvertError: ``pycocotools`` missing, bad JSON, an annotation naming an unknown image or
            category, a malformed segmentation, a missing or unreadable image; the message names the file.
    """
    mask_api = _mask_api()
    if crowd not in CROWD_RULES:
        raise ConvertError(f"crowd={crowd!r}: choose one of {', '.join(CROWD_RULES)}")
    source = os.fspath(source)
    data = load_json(source)
    if not isinstance(data, dict) or not all(isinstance(data.get(key), list) for key in ("images", "annotations", "categories")):
        raise ConvertError(f"{source}: not a COCO file (needs 'images', 'annotations' and 'categories' lists)")
    for key, fields in (("images", ("id", "file_name")), ("categories", ("id", "name"))):
        for entry in data[key]:
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), int) or not isinstance(entry.get(fields[1]), str):
                raise ConvertError(
                    f"{source}: every entry of '{key}' needs an integer id and a text {fields[1]}, not {entry!r:.60}"
                )
    categories = sorted(data["categories"], key=lambda category: category["id"])
    classes = {category["id"]: i for i, category in enumerate(categories, 1)}
    entries = {entry["id"]: entry for entry in require(data["images"], source, "images")}
    by_image = defaultdict(list)
    for annotation in data["annotations"]:
        if not isinstance(annotation, dict):
            raise ConvertError(f"{source}: every entry of 'annotations' is an object, not {annotation!r:.60}")
        where = f"{source}: annotation {annotation.get('id')!r}"
        if not _listed(annotation.get("image_id"), entries):
            raise ConvertError(f"{where}: image_id {annotation.get('image_id')!r} is not in 'images'")
        if not _listed(annotation.get("category_id"), classes):
            raise ConvertError(f"{where}: category_id {annotation.get('category_id')!r} is not in 'categories'")
        by_image[annotation["image_id"]].append(annotation)
    out = Output(out_dir, ["background"] + [category["name"] for category in categories], overwrite)
    images = os.fspath(images) if images is not None else os.path.dirname(source)
    for image_id, entry in entries.items():
        path = os.path.join(images, entry["file_name"])
        stem = os.path.splitext(os.path.basename(entry["file_name"]))[0]
        size = out.write_image(stem, read_source(path), path)
        if (entry.get("height"), entry.get("width")) != tuple(size):
            raise ConvertError(
                f"{path}: the image is {size[1]}x{size[0]} but {source} says {entry.get('width')}x{entry.get('height')}"
            )
        out.write_mask(stem, _paint(mask_api, source, by_image[image_id], classes, crowd, size))
    return out.finish("coco", source)


def _listed(value, ids):
    """``value`` is a key of ``ids`` (a JSON list or object never is: they cannot be keys)."""
    return not isinstance(value, (list, dict)) and value in ids


def _mask_api():
    try:
        from pycocotools import mask
    except ImportError:
        raise ConvertError("COCO conversion needs pycocotools: pip install 'keras-segmentation[convert]'") from None
    return mask


def _region(mask_api, where, annotation, size):
    """The boolean pixels of one annotation's segmentation on an image of ``size``, or ``None`` when it has none."""
    height, width = size
    segmentation = annotation.get("segmentation")
    try:
        if isinstance(segmentation, list):
            if not all(isinstance(p, list) and len(p) % 2 == 0 for p in segmentation):
                raise ConvertError(f"{where}: polygons must be lists of x, y numbers")
            polygons = [[float(v) for v in p] for p in segmentation if len(p) >= 6]
            if not polygons:
                return None
            rle = mask_api.merge(mask_api.frPyObjects(polygons, height, width))
        elif isinstance(segmentation, dict) and "counts" in segmentation and "size" in segmentation:
            if list(segmentation["size"]) != [height, width]:
                raise ConvertError(
                    f"{where}: RLE size {segmentation['size']} is not the image's [height, width] {[height, width]}"
                )
            counts = segmentation["counts"]
            if isinstance(counts, list):
                if sum(counts) != height * width:
                    raise ConvertError(f"{where}: RLE counts add up to {sum(counts)}, not height x width = {height * width}")
                rle = mask_api.frPyObjects(segmentation, height, width)
            else:
                rle = {"size": [height, width], "counts": counts.encode("ascii") if isinstance(counts, str) else counts}
        else:
            raise ConvertError(f"{where}: 'segmentation' is neither polygons nor RLE")
        return mask_api.decode(rle).astype(bool)
    except (TypeError, ValueError, OverflowError, UnicodeEncodeError) as err:
        raise ConvertError(f"{where}: unreadable segmentation ({err})") from None


def _paint(mask_api, source, annotations, classes, crowd, size):
    """The class-id mask of one image's ``annotations``: largest regions first, so smaller ones end on top."""
    regions = []
    for order, annotation in enumerate(annotations):
        value = classes[annotation["category_id"]]
        if annotation.get("iscrowd") and crowd != "class":
            value = IGNORE_INDEX if crowd == "ignore" else None
        region = None if value is None else _region(mask_api, f"{source}: annotation {annotation.get('id')!r}", annotation, size)
        if region is not None:
            regions.append((-int(region.sum()), order, value, region))
    mask = np.zeros(size, np.uint8)
    for _, _, value, region in sorted(regions, key=lambda r: r[:2]):
        mask[region] = value
    return mask
