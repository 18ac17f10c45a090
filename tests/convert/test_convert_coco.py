"""COCO JSON -> masks: polygons, compressed and uncompressed RLE, overlaps, crowds, category ids, errors."""

import json
import sys

import numpy as np
import pytest
from convertfiles import H, W, image_png, read_lines, read_mask, write

from keras_segmentation.data.convert import convert
from keras_segmentation.errors import ConvertError

mask_api = pytest.importorskip("pycocotools.mask")
# pycocotools' decode on NumPy 2 (its own code, harmless)
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

PERSON_RLE = np.zeros((H, W), np.uint8)
PERSON_RLE[2:4, 2:5] = 1  # 6 pixels, inside the car


def coco_file(folder, annotations, categories=None, images=None):
    """Write ``folder/instances.json`` (images c.png, d.png, e.png) and the images; returns the JSON path."""
    images = images or [{"id": i, "file_name": f"{name}.png", "height": H, "width": W} for i, name in enumerate("cde", 1)]
    for entry in images:
        write(str(folder / "imgs" / entry["file_name"].split("/")[-1]), image_png(entry["id"]))
    data = {
        "images": images,
        "categories": categories or [{"id": 5, "name": "car"}, {"id": 2, "name": "person"}],  # person 1, car 2
        "annotations": [{"id": i, "iscrowd": 0, **annotation} for i, annotation in enumerate(annotations, 1)],
    }
    (folder / "instances.json").write_text(json.dumps(data), encoding="utf-8")
    return folder / "instances.json"


def compressed(mask):
    rle = mask_api.encode(np.asfortranarray(mask))
    return {"size": rle["size"], "counts": rle["counts"].decode("ascii")}


ANNOTATIONS = [
    # c.png: the small person (compressed RLE) comes first, the big car after it: the person stays on top.
    {"image_id": 1, "category_id": 2, "segmentation": compressed(PERSON_RLE)},
    {"image_id": 1, "category_id": 5, "segmentation": [[0, 0, 10, 0, 10, 5, 0, 5]]},  # rows 0..4, all columns
    # a crowd of people as uncompressed RLE (column-major runs): columns 8 and 9, rows 6 and 7
    {"image_id": 1, "category_id": 2, "iscrowd": 1, "segmentation": {"size": [H, W], "counts": [70, 2, 6, 2]}},
    # a person polygon reaching outside the image: clipped to rows 6..7, columns 0..2
    {"image_id": 1, "category_id": 2, "segmentation": [[-5, 6, 3, 6, 3, 12, -5, 12]]},
    # d.png: two 16-pixel squares overlapping: same area, so the later (car) is on top
    {"image_id": 2, "category_id": 2, "segmentation": [[0, 0, 4, 0, 4, 4, 0, 4]]},
    {"image_id": 2, "category_id": 5, "segmentation": [[2, 2, 6, 2, 6, 6, 2, 6]]},
]  # e.png has no annotation: all background
C_EXPECTED = np.array([
    [2, 2, 2, 2, 2, 2, 2, 2, 2, 2],
    [2, 2, 2, 2, 2, 2, 2, 2, 2, 2],
    [2, 2, 1, 1, 1, 2, 2, 2, 2, 2],
    [2, 2, 1, 1, 1, 2, 2, 2, 2, 2],
    [2, 2, 2, 2, 2, 2, 2, 2, 2, 2],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [1, 1, 1, 0, 0, 0, 0, 0, 9, 9],  # 9: the crowd, whose value the test sets
    [1, 1, 1, 0, 0, 0, 0, 0, 9, 9],
], np.uint8)
D_EXPECTED = np.array([
    [1, 1, 1, 1, 0, 0, 0, 0, 0, 0],
    [1, 1, 1, 1, 0, 0, 0, 0, 0, 0],
    [1, 1, 2, 2, 2, 2, 0, 0, 0, 0],
    [1, 1, 2, 2, 2, 2, 0, 0, 0, 0],
    [0, 0, 2, 2, 2, 2, 0, 0, 0, 0],
    [0, 0, 2, 2, 2, 2, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
], np.uint8)


@pytest.mark.parametrize("crowd, crowd_value", [("class", 1), ("ignore", 255), ("skip", 0)])
def test_masks_match_the_hand_drawn_ones(tmp_path, crowd, crowd_value):
    source = coco_file(tmp_path / "coco", ANNOTATIONS)
    result = convert("coco", source, tmp_path / "out", images=str(tmp_path / "coco" / "imgs"), crowd=crowd)
    masks = tmp_path / "out" / "annotations"
    np.testing.assert_array_equal(read_mask(masks / "c.png"), np.where(C_EXPECTED == 9, crowd_value, C_EXPECTED))
    np.testing.assert_array_equal(read_mask(masks / "d.png"), D_EXPECTED)
    np.testing.assert_array_equal(read_mask(masks / "e.png"), np.zeros((H, W), np.uint8))
    assert (tmp_path / "out" / "images" / "d.png").read_bytes() == image_png(2)
    assert read_lines(tmp_path / "out" / "classes.txt") == ["0\tbackground", "1\tperson", "2\tcar"]
    assert result and result.n_images == 3


def test_images_default_to_the_json_folder(tmp_path):
    images = [{"id": 1, "file_name": "imgs/c.png", "height": H, "width": W}]
    source = coco_file(tmp_path / "coco", ANNOTATIONS[1:2], images=images)
    source = source.rename(tmp_path / "coco" / "stuff.json")
    assert convert("coco", source, tmp_path / "out") is not None
    np.testing.assert_array_equal(read_mask(tmp_path / "out" / "annotations" / "c.png")[:5], np.full((5, W), 2))  # the car


@pytest.mark.parametrize(
    "annotation, message",
    [
        ({"image_id": 1, "category_id": 3, "segmentation": []}, r"instances\.json: annotation 1: category_id 3 is not in"),
        ({"image_id": 9, "category_id": 2, "segmentation": []}, r"instances\.json: annotation 1: image_id 9 is not in"),
        ({"image_id": 1, "category_id": 2, "segmentation": {"size": [H, W], "counts": [70, 2]}},
         r"annotation 1: RLE counts add up to 72, not height x width = 80"),
        ({"image_id": 1, "category_id": 2, "segmentation": {"size": [4, 4], "counts": "abc"}},
         r"annotation 1: RLE size \[4, 4\] is not the image's \[height, width\] \[8, 10\]"),
        ({"image_id": 1, "category_id": 2, "segmentation": [[1, 2, 3]]}, r"annotation 1: polygons must be lists of x, y"),
        ({"image_id": 1, "category_id": 2, "segmentation": 5}, r"annotation 1: 'segmentation' is neither polygons nor RLE"),
    ],
)
def test_bad_annotations_are_errors_naming_the_file(tmp_path, annotation, message):
    source = coco_file(tmp_path / "coco", [annotation])
    with pytest.raises(ConvertError, match=message):
        convert("coco", source, tmp_path / "out", images=str(tmp_path / "coco" / "imgs"))


def test_a_missing_image_is_an_error_naming_it(tmp_path):
    source = coco_file(tmp_path / "coco", ANNOTATIONS)
    (tmp_path / "coco" / "imgs" / "d.png").unlink()
    with pytest.raises(ConvertError, match=r"imgs/d\.png: cannot be read \(No such file"):
        convert("coco", source, tmp_path / "out", images=str(tmp_path / "coco" / "imgs"))


def test_without_pycocotools_the_error_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pycocotools", None)
    with pytest.raises(ConvertError, match=r"^COCO conversion needs pycocotools: pip install 'keras-segmentation\[convert\]'$"):
        convert("coco", tmp_path / "instances.json", tmp_path / "out")
