"""Cityscapes ``*_gtFine_labelIds.png`` -> images, 19-class train-id masks and ``classes.txt``.

Layout read (the dataset's own)::

    source/gtFine/<split>/<city>/<stem>_gtFine_labelIds.png
    source/leftImg8bit/<split>/<city>/<stem>_leftImg8bit.png

Rules:

* **Classes.** Label ids become the standard 19 train ids (:data:`TRAIN_IDS`: road 0, sidewalk 1,
  ... bicycle 18, as the Cityscapes scripts define them); every other label id (unlabelled, ego
  vehicle, ground, parking, caravan, ...) becomes 255, void: train with ``ignore_index=255``. There
  is no background class.
* **Files.** One split (``split=``, default ``train``), every city, into one flat folder; the output
  stem is ``<city>_<seq>_<frame>`` (``aachen_000000_000019``). A mask without its
  ``leftImg8bit`` image is an error.

Example:
    >>> result = convert_cityscapes("cityscapes/", "dataset/", split="val")
    >>> len(result.class_names), result.class_names[:3]
    (19, ['road', 'sidewalk', 'building'])
"""

import os

import numpy as np

from ...errors import ConvertError
from ..masks import decode_mask
from .common import IGNORE_INDEX, Output, read_source, require

#: ``{label id: (train id, name)}`` of the 19 evaluated Cityscapes classes.
TRAIN_IDS = {
    7: (0, "road"), 8: (1, "sidewalk"), 11: (2, "building"), 12: (3, "wall"), 13: (4, "fence"), 17: (5, "pole"),
    19: (6, "traffic light"), 20: (7, "traffic sign"), 21: (8, "vegetation"), 22: (9, "terrain"), 23: (10, "sky"),
    24: (11, "person"), 25: (12, "rider"), 26: (13, "car"), 27: (14, "truck"), 28: (15, "bus"), 31: (16, "train"),
    32: (17, "motorcycle"), 33: (18, "bicycle"),
}
MASK_SUFFIX, IMAGE_SUFFIX = "_gtFine_labelIds.png", "_leftImg8bit.png"


def convert_cityscapes(source, out_dir, *, split="train", overwrite=False):
    """Convert one Cityscapes split into ``out_dir`` (see the module's rules); returns a ``ConvertResult``.

    Raises:
        ConvertError: no ``gtFine/<split>`` folder or no label files in it, a mask without its image,
            a label file that is not single-channel.
    """
    source = os.fspath(source)
    labels_path = os.path.join(source, "gtFine", split)
    if not os.path.isdir(labels_path):
        raise ConvertError(f"{labels_path}: not found (source is the Cityscapes folder holding gtFine/ and leftImg8bit/)")
    masks = require(sorted(
        os.path.join(labels_path, city, name)
        for city in os.listdir(labels_path) if os.path.isdir(os.path.join(labels_path, city))
        for name in os.listdir(os.path.join(labels_path, city)) if name.endswith(MASK_SUFFIX)
    ), labels_path, f"*{MASK_SUFFIX} files")
    lookup = np.full(256, IGNORE_INDEX, np.uint8)
    for label_id, (train_id, _) in TRAIN_IDS.items():
        lookup[label_id] = train_id
    out = Output(out_dir, [name for _, name in sorted(TRAIN_IDS.values())], overwrite)
    for mask_path in masks:
        stem = os.path.basename(mask_path)[: -len(MASK_SUFFIX)]
        city = os.path.basename(os.path.dirname(mask_path))
        image_path = os.path.join(source, "leftImg8bit", split, city, stem + IMAGE_SUFFIX)
        out.write_image(stem, read_source(image_path), image_path)
        label_ids = decode_mask(mask_path)
        if label_ids.ndim != 2 or label_ids.dtype != np.uint8:
            raise ConvertError(f"{mask_path}: expected a single-channel 8-bit label-id PNG, got shape {label_ids.shape}")
        out.write_mask(stem, lookup[label_ids])
    return out.finish("cityscapes", source)
