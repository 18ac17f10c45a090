"""CVAT "Segmentation mask 1.1" exports -> images, class-id masks and ``classes.txt``.

CVAT writes the Pascal VOC layout (see :mod:`.voc`, whose rules apply) with RGB colour masks in
``SegmentationClass/`` and a ``labelmap.txt`` that names each colour; here the labelmap is required
(``labelmap=``, default ``source/labelmap.txt``). Line *i* of it is class *i*: CVAT writes
``background:0,0,0::`` first, so unlabelled pixels are class 0. Export with "Save images" so
``JPEGImages/`` holds the images, or pass ``images=``. ``SegmentationObject/`` (instances) is not read;
``split="default"`` keeps the names of ``ImageSets/Segmentation/default.txt``.

Example:
    >>> result = convert_cvat("cvat_export/", "dataset/")
    >>> result.class_names[0], bool(result)
    ('background', True)
"""

import os

from ...errors import ConvertError
from .voc import convert_colour_masks, read_labelmap


def convert_cvat(source, out_dir, *, labelmap=None, images=None, split=None, overwrite=False):
    """Convert a CVAT "Segmentation mask 1.1" export into ``out_dir``; returns a ``ConvertResult``.

    Raises:
        ConvertError: no ``labelmap.txt``, a colour not in it (naming the colour and the file), a mask
            without image.
    """
    source = os.fspath(source)
    labelmap = os.fspath(labelmap) if labelmap is not None else os.path.join(source, "labelmap.txt")
    if not os.path.isfile(labelmap):
        raise ConvertError(f"{labelmap}: not found; a CVAT 'Segmentation mask 1.1' export has one (or pass labelmap=)")
    return convert_colour_masks("cvat", source, out_dir, read_labelmap(labelmap), labelmap, images, split, overwrite)
