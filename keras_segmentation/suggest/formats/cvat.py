"""CVAT pre-labels: CVAT's "Segmentation mask 1.1" layout, which CVAT imports and exports and ``convert`` reads.

::

    JPEGImages/<image>                   copies of the images (upload them as the task's data)
    SegmentationClass/<stem>.png         RGB masks: each class in its colour
    labelmap.txt                         "name:r,g,b::" lines, line i class i; class 0 "background:0,0,0::"
    ImageSets/Segmentation/default.txt   the stems

The masks are the label maps themselves, so the round trip is exact. Class 0 is CVAT's background
(black, no annotation); the other classes get the Pascal VOC palette's colours
(:func:`~keras_segmentation.data.convert.voc.voc_colour`). In CVAT, make the task's labels in
``labelmap.txt``'s order (without background), upload the folder zipped as "Segmentation mask 1.1"
annotations (masks, or polygons with "Convert masks to polygons"), correct, and export in the same format.

Example:
    $ keras_segmentation convert --from cvat prelabels/ --out_dir dataset/
"""

import cv2
import numpy as np

from ...data.convert.voc import voc_colour
from ...data.pairing import base_name
from ...errors import OutputWriteError
from . import register_prelabels
from .writer import PrelabelWriter


@register_prelabels("cvat")
class CvatWriter(PrelabelWriter):
    """A "Segmentation mask 1.1" folder (see the module)."""

    convert = "keras_segmentation convert --from cvat {out} --out_dir DATASET"

    def __init__(self, folder, class_names, **polygons):
        super().__init__(folder, class_names, **polygons)
        self.colours = np.array([voc_colour(class_id) for class_id in range(len(self.class_names))], np.uint8)
        self.stems = []

    def add(self, image_path, labels):
        stem = base_name(self.copy_image(image_path, "JPEGImages"))
        path = self.path("SegmentationClass", f"{stem}.png")
        if not cv2.imwrite(path, self.colours[labels][:, :, ::-1]):
            raise OutputWriteError(f"{path}: cannot be written as PNG")
        self.stems.append(stem)

    def finish(self):
        names = ["background", *self.class_names[1:]]
        with open(self.path("labelmap.txt"), "w", encoding="utf-8") as handle:
            handle.write("# label:color_rgb:parts:actions\n")
            handle.writelines(f"{name}:{','.join(map(str, self.colours[i]))}::\n" for i, name in enumerate(names))
        with open(self.path("ImageSets", "Segmentation", "default.txt"), "w", encoding="utf-8") as handle:
            handle.writelines(f"{stem}\n" for stem in self.stems)
