"""COCO pre-labels: ``annotations.json`` (an instances file) beside copies of the images.

Class 0 is COCO's background, the pixels no annotation covers; classes 1, 2, ... are the categories
with ids 1, 2, ..., so ``convert`` gives them back their ids (and class 0 the name ``background``).
Each region of a class is an annotation (``iscrowd`` 0) with one polygon, its ``bbox`` and ``area``;
``convert`` paints larger regions first, so what lies in a region's hole comes on top, and a hole
holding class 0 is cut out of the polygon along a zero-width slit
(:func:`~keras_segmentation.suggest.polygons.label_shapes`, ``holes="cut"``).

Example:
    $ keras_segmentation convert --from coco prelabels/annotations.json --out_dir dataset/
"""

import json

from ..polygons import label_shapes
from . import register_prelabels
from .writer import PrelabelWriter


@register_prelabels("coco")
class CocoWriter(PrelabelWriter):
    """One COCO instances file for every image (see the module)."""

    convert = "keras_segmentation convert --from coco {out}/annotations.json --out_dir DATASET"

    def __init__(self, folder, class_names, **polygons):
        super().__init__(folder, class_names, **polygons)
        self.images, self.annotations = [], []

    def add(self, image_path, labels):
        image_id = len(self.images) + 1
        height, width = labels.shape
        self.images.append({"id": image_id, "file_name": self.copy_image(image_path), "height": int(height),
                            "width": int(width)})
        for shape in label_shapes(labels, tolerance=self.tolerance, min_area=self.min_area, holes="cut"):
            self.annotations.append({
                "id": len(self.annotations) + 1, "image_id": image_id, "category_id": shape.class_id,
                "segmentation": [shape.points.ravel().tolist()], "area": float(shape.area), "bbox": shape.bbox,
                "iscrowd": 0,
            })

    def finish(self):
        categories = [{"id": class_id, "name": name, "supercategory": ""}
                      for class_id, name in enumerate(self.class_names) if class_id > 0]
        document = {"info": {"description": "pre-labels written by keras_segmentation suggest"}, "licenses": [],
                    "images": self.images, "annotations": self.annotations, "categories": categories}
        with open(self.path("annotations.json"), "w", encoding="utf-8") as handle:
            json.dump(document, handle)
