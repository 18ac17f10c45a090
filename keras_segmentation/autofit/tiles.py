"""Validation at the scale a crop-trained model sees: tiles of its input size, cut from each image at native scale.

A model trained on crops (``mode="crop"``) is validated during training on tiles of its
input size, not on whole images resized to it: :func:`write_tiles` writes them once, as
``.npy`` files ``train()`` reads like images.

Example:
    >>> write_tiles(val_pairs, "runs/fit/data/val", (512, 512), void=11)   # doctest: +SKIP
    ('runs/fit/data/val/images', 'runs/fit/data/val/masks')
"""

import os
import shutil

import numpy as np

from ..data.images import read_image
from ..data.masks import read_mask
from ..inference.tiling import tile_starts


def write_tiles(pairs, folder, size, void):
    """Folders ``images/`` and ``masks/`` under ``folder`` of ``.npy`` tiles of ``size`` covering each pair.

    Tiles do not overlap, except the last of a row or column, which ends at the image's edge; an image
    smaller than ``size`` is padded (mirrored; its mask with ``void``, else mirrored too), as training pads.

    Example:
        >>> write_tiles([("i/a.png", "m/a.png")], "work/val", (256, 256), void=None)   # doctest: +SKIP
        ('work/val/images', 'work/val/masks')
    """
    shutil.rmtree(folder, ignore_errors=True)
    images, masks = os.path.join(folder, "images"), os.path.join(folder, "masks")
    os.makedirs(images)
    os.makedirs(masks)
    height, width = size
    for image_path, mask_path in pairs:
        image, mask = read_image(image_path, read_image_type=-1), read_mask(mask_path)
        pad = ((0, max(0, height - image.shape[0])), (0, max(0, width - image.shape[1])))
        if any(p[1] for p in pad):
            image = np.pad(image, pad + ((0, 0),), mode="reflect")
            mask = np.pad(mask, pad, mode="reflect") if void is None else np.pad(mask, pad, constant_values=void)
        stem = os.path.splitext(os.path.basename(image_path))[0]
        for top in tile_starts(image.shape[0], height, height):
            for left in tile_starts(image.shape[1], width, width):
                name = f"{stem}_{top}_{left}.npy"
                np.save(os.path.join(images, name), image[top:top + height, left:left + width])
                np.save(os.path.join(masks, name), mask[top:top + height, left:left + width].astype(np.uint16))
    return images, masks
