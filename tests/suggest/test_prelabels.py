"""Pre-labels in each format come back through ``convert`` as the label map they were written from."""

import json

import cv2
import numpy as np
import pytest
from suggestfiles import agreement, label_map, write_image

from keras_segmentation.data.convert import convert
from keras_segmentation.errors import SuggestError
from keras_segmentation.suggest.formats import FORMATS, get_writer

NAMES = ["sky", "road", "car", "sign"]


def round_trip(tmp_path, fmt, labels, **polygons):
    """Write ``labels`` as pre-labels of two images in ``fmt``, convert them back; ``(result, {stem: mask})``."""
    folder = tmp_path / fmt
    writer = get_writer(fmt)(folder, NAMES, **polygons)
    for stem, seed in (("a", 0), ("b", 1)):
        writer.add(write_image(tmp_path / "pool" / f"{stem}.png", seed), labels)
    writer.finish()
    source = {"labelme": folder, "coco": folder / "annotations.json", "cvat": folder}[fmt]
    options = {"labels": folder / "labels.txt"} if fmt == "labelme" else {}
    result = convert(fmt, source, tmp_path / "dataset", **options)
    masks = {stem: cv2.imread(str(tmp_path / "dataset" / "annotations" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
             for stem in "ab"}
    return result, masks


def test_every_format_is_registered_labelme_first():
    assert FORMATS[0] == "labelme" and set(FORMATS) == {"labelme", "coco", "cvat"}
    with pytest.raises(SuggestError, match="format='yolo': choose one of labelme"):
        get_writer("yolo")


@pytest.mark.parametrize("fmt, at_least", [("labelme", 0.98), ("coco", 0.98), ("cvat", 1.0)])
def test_convert_gives_the_label_map_back(tmp_path, fmt, at_least):
    if fmt == "coco":
        pytest.importorskip("pycocotools")
    labels = label_map()
    result, masks = round_trip(tmp_path, fmt, labels)
    assert result and result.n_images == 2
    for mask in masks.values():
        assert agreement(mask, labels) >= at_least
    expected_names = NAMES if fmt == "labelme" else ["background", *NAMES[1:]]
    assert result.class_names == expected_names


@pytest.mark.parametrize("fmt, at_least", [("labelme", 0.995), ("coco", 1.0)])
def test_without_simplification_the_polygons_paint_the_map_back(tmp_path, fmt, at_least):
    if fmt == "coco":
        pytest.importorskip("pycocotools")
    labels = label_map()
    _, masks = round_trip(tmp_path, fmt, labels, tolerance=0, min_area=1)
    assert agreement(masks["a"], labels) >= at_least


def test_labelme_files_open_in_labelme(tmp_path):
    labels = label_map()
    round_trip(tmp_path, "labelme", labels)
    folder = tmp_path / "labelme"
    document = json.loads((folder / "a.json").read_text(encoding="utf-8"))
    assert document["imagePath"] == "a.png" and (folder / "a.png").read_bytes() == (tmp_path / "pool/a.png").read_bytes()
    assert document["imageData"] is None and (document["imageHeight"], document["imageWidth"]) == labels.shape
    assert {shape["shape_type"] for shape in document["shapes"]} == {"polygon"}
    assert {shape["label"] for shape in document["shapes"]} == set(NAMES)  # sky (class 0) only in the holes
    assert (folder / "labels.txt").read_text(encoding="utf-8").splitlines() == ["__ignore__", *NAMES]


def test_coco_categories_are_the_class_ids(tmp_path):
    pytest.importorskip("pycocotools")
    round_trip(tmp_path, "coco", label_map())
    document = json.loads((tmp_path / "coco" / "annotations.json").read_text(encoding="utf-8"))
    assert [(c["id"], c["name"]) for c in document["categories"]] == [(1, "road"), (2, "car"), (3, "sign")]
    assert [image["file_name"] for image in document["images"]] == ["a.png", "b.png"]
    annotation = document["annotations"][0]
    assert annotation["iscrowd"] == 0 and len(annotation["bbox"]) == 4 and annotation["area"] > 0


def test_cvat_writes_segmentation_mask_1_1(tmp_path):
    round_trip(tmp_path, "cvat", label_map())
    folder = tmp_path / "cvat"
    assert (folder / "labelmap.txt").read_text().splitlines()[1:3] == ["background:0,0,0::", "road:128,0,0::"]
    assert (folder / "ImageSets/Segmentation/default.txt").read_text().split() == ["a", "b"]
    assert (folder / "JPEGImages/a.png").is_file()
    assert np.array_equal(cv2.imread(str(folder / "SegmentationClass/a.png"))[10, 10], [0, 0, 128])  # road, BGR
