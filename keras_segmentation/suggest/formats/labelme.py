"""labelme pre-labels: a JSON per image beside its copy, and ``labels.txt``.

Each ``<stem>.json`` holds labelme's fields (``version``, ``flags``, ``shapes``, ``imagePath`` relative to
the JSON, ``imageData`` null, ``imageHeight``, ``imageWidth``); each shape is a ``polygon`` with a class
name as ``label``. labelme has no holes, but paints (and ``convert`` reads) shapes in file order: the
shapes come largest first, so what lies in a hole is painted after the region around it, and class 0
has shapes only where it lies in a hole (elsewhere it is what unpainted pixels are)
(:func:`~keras_segmentation.suggest.polygons.label_shapes`, ``holes="layer"``).

``labels.txt`` is labelme's label list (``labelme --labels labels.txt`` offers it): ``__ignore__`` (void
regions: 255 after ``convert``) then the class names, class 0 first, which ``convert --labels`` reads
back as the class ids.

Example:
    $ labelme prelabels/ --labels prelabels/labels.txt --nodata        # correct the shapes, save
    $ keras_segmentation convert --from labelme prelabels/ --labels prelabels/labels.txt --out_dir dataset/
"""

import json

from ...data.convert.labelme import IGNORE_LABEL
from ...data.pairing import base_name
from ..polygons import label_shapes
from . import register_prelabels
from .writer import PrelabelWriter

#: the labelme version the files say they were written by (labelme 5's file layout)
LABELME_VERSION = "5.5.0"


@register_prelabels("labelme")
class LabelmeWriter(PrelabelWriter):
    """labelme JSON files and ``labels.txt`` (see the module)."""

    convert = "keras_segmentation convert --from labelme {out} --labels {out}/labels.txt --out_dir DATASET"

    def add(self, image_path, labels):
        image = self.copy_image(image_path)
        shapes = label_shapes(labels, tolerance=self.tolerance, min_area=self.min_area, holes="layer")
        document = {
            "version": LABELME_VERSION,
            "flags": {},
            "shapes": [
                {"label": self.class_names[shape.class_id], "points": shape.points.tolist(), "group_id": None,
                 "description": "", "shape_type": "polygon", "flags": {}}
                for shape in shapes
            ],
            "imagePath": image,
            "imageData": None,
            "imageHeight": int(labels.shape[0]),
            "imageWidth": int(labels.shape[1]),
        }
        with open(self.path(f"{base_name(image)}.json"), "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=1)

    def finish(self):
        with open(self.path("labels.txt"), "w", encoding="utf-8") as handle:
            handle.writelines(f"{name}\n" for name in [IGNORE_LABEL, *self.class_names])
