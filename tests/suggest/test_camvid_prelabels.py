"""Pre-labels of real label maps: CamVid test masks (12 classes, 360x480) through each format and back."""

import cv2
import pytest
from suggestfiles import agreement

from keras_segmentation.data.class_names import load_class_names
from keras_segmentation.data.convert import convert
from keras_segmentation.suggest.formats import get_writer


@pytest.mark.parametrize("fmt, at_least", [("labelme", 0.98), ("coco", 0.98), ("cvat", 1.0)])
def test_camvid_masks_come_back_through_convert(camvid_dir, tmp_path, fmt, at_least):
    if fmt == "coco":
        pytest.importorskip("pycocotools")
    masks = sorted((camvid_dir / "annotations_prepped_test").glob("*.png"))[::80][:3]
    writer = get_writer(fmt)(tmp_path / fmt, load_class_names(camvid_dir / "classes.txt"))
    for mask in masks:
        writer.add(camvid_dir / "images_prepped_test" / mask.name, cv2.imread(str(mask), cv2.IMREAD_UNCHANGED))
    writer.finish()
    source = {"labelme": tmp_path / fmt, "coco": tmp_path / fmt / "annotations.json", "cvat": tmp_path / fmt}[fmt]
    options = {"labels": tmp_path / fmt / "labels.txt"} if fmt == "labelme" else {}
    assert convert(fmt, source, tmp_path / "dataset", **options)
    for mask in masks:
        back = cv2.imread(str(tmp_path / "dataset" / "annotations" / mask.name), cv2.IMREAD_UNCHANGED)
        assert agreement(back, cv2.imread(str(mask), cv2.IMREAD_UNCHANGED)) >= at_least
