"""labelme / COCO JSON and CVAT exports of any structure -> the importers.

Missing keys, wrong types, nulls, NaN, huge or negative coordinates, polygons of fewer than 3
points, unknown labels and ids, damaged masks: each importer writes a dataset of class-id masks
or raises a SegmentationError whose message is one line naming a file of the export (or the bad class name).
"""

import base64
import io
import os
import tempfile

import cv2
import numpy as np
import pytest
import tifffile
from generated import H, W, assert_one_line_error, attempt, image_files, image_png, maybe, write_file, write_json
from hypothesis import given
from hypothesis import strategies as st

from keras_segmentation.data.convert import convert_coco, convert_cvat, convert_labelme
from keras_segmentation.data.masks import read_mask
from keras_segmentation.errors import ConvertError

LABELS = st.sampled_from(("cat", "dog", "background", "_background_", "__ignore__", "", "a#b", "x\ny")) | st.text(max_size=4)
COORDINATES = st.integers(-20, 20) | st.floats() | st.sampled_from((10**400, -(10**400), 1e308, -1e308))
POINTS = st.lists(st.lists(COORDINATES, min_size=1, max_size=3), max_size=5)
SHAPES = st.fixed_dictionaries(
    {"label": maybe(LABELS), "points": maybe(POINTS)},
    optional={"shape_type": maybe(st.sampled_from(("polygon", "rectangle", "circle", "line", "point", "mask", None)))},
)
LABELME = st.fixed_dictionaries(
    {"shapes": maybe(st.lists(maybe(SHAPES), max_size=4))},
    optional={
        "imageData": maybe(st.sampled_from((base64.b64encode(image_png()).decode(), "", "é", "not base64!"))),
        "imagePath": maybe(st.sampled_from(("a.png", "missing.png", "", "\x00", ".."))),
        "imageHeight": maybe(st.sampled_from((H, 0, -1, 10**400))),
        "imageWidth": maybe(st.sampled_from((W, 0, -1))),
    },
)
# A class name's own problems (empty, '#', line break) are named by the name, wherever it came from.
CLASS_NAME = "name "


def dataset_masks(result):
    """The written masks, each checked to hold class ids or the void value 255."""
    names = sorted(os.listdir(result.segs_path))
    masks = [read_mask(os.path.join(result.segs_path, name)) for name in names]
    assert len(masks) == result.n_images
    for mask in masks:
        assert mask.ndim == 2 and set(np.unique(mask).tolist()) <= set(range(len(result.class_names))) | {255}
    return masks


@pytest.mark.filterwarnings("ignore:.*shape\\(s\\) without area")
@given(LABELME, st.none() | st.sampled_from(("cat,dog", "background,cat,dog,__ignore__", "cat,cat", "")) | st.lists(LABELS))
def test_labelme(document, labels):
    with tempfile.TemporaryDirectory() as folder:
        write_file(folder, "a.png", image_png())
        source = write_json(os.path.join(folder, "a.json"), document)
        result = attempt(lambda: convert_labelme(source, os.path.join(folder, "out"), labels=labels),
                         folder, "label list", CLASS_NAME)
        if result is not None:
            assert len(dataset_masks(result)) == 1 and all(isinstance(name, str) for name in result.class_names)


IDS = st.integers(0, 3)
RLE_COUNTS = st.lists(st.integers(-5, H * W), max_size=4).map(lambda counts: counts + [H * W - sum(counts)])
SEGMENTATIONS = st.lists(st.lists(COORDINATES, max_size=8), max_size=2) | st.fixed_dictionaries(
    {"counts": maybe(RLE_COUNTS | st.text(max_size=6)), "size": maybe(st.sampled_from(([H, W], [W, H])))}
)
COCO = st.fixed_dictionaries({
    "images": maybe(st.lists(maybe(st.fixed_dictionaries(
        {"id": maybe(IDS), "file_name": maybe(st.sampled_from(("a.png", "sub/a.png", "missing.png", "", "\x00")))},
        optional={"height": maybe(st.just(H)), "width": maybe(st.just(W))},
    )), max_size=2)),
    "categories": maybe(st.lists(maybe(st.fixed_dictionaries({"id": maybe(IDS), "name": maybe(LABELS)})), max_size=3)),
    "annotations": maybe(st.lists(maybe(st.fixed_dictionaries(
        {"image_id": maybe(IDS), "category_id": maybe(IDS)},
        optional={"id": maybe(IDS), "segmentation": maybe(SEGMENTATIONS), "iscrowd": maybe(st.sampled_from((0, 1)))},
    )), max_size=3)),
})


@given(COCO, st.sampled_from(("class", "ignore", "skip")))
def test_coco(document, crowd):
    with tempfile.TemporaryDirectory() as folder:
        write_file(folder, "a.png", image_png())
        write_file(folder, "sub/a.png", image_png(1))
        source = write_json(os.path.join(folder, "coco.json"), document)
        result = attempt(lambda: convert_coco(source, os.path.join(folder, "out"), crowd=crowd), folder, CLASS_NAME)
        if result is not None:
            assert len(dataset_masks(result)) == len({entry["file_name"] for entry in document["images"]})


COLOURS = st.tuples(st.integers(-1, 256), st.integers(0, 255), st.integers(0, 255))
LABELMAP_LINES = st.text(max_size=12) | st.builds(
    lambda name, rgb: f"{name}:{','.join(map(str, rgb))}::", LABELS, COLOURS | st.lists(st.integers(0, 255), max_size=4)
)


@st.composite
def colour_masks(draw):
    """PNG bytes of an RGB mask painted in 1 to 3 colours: the labelmap's, or any."""
    colours = draw(st.lists(st.tuples(*[st.integers(0, 255)] * 3) | st.sampled_from([(0, 0, 0), (128, 64, 128)]),
                            min_size=1, max_size=3))
    pixels = np.array(colours, np.uint8)[draw(st.lists(st.integers(0, len(colours) - 1), min_size=H * W, max_size=H * W))]
    return cv2.imencode(".png", pixels.reshape(H, W, 3)[:, :, ::-1])[1].tobytes()


@given(
    st.lists(LABELMAP_LINES | st.sampled_from(("background:0,0,0::", "road:128,64,128::")), max_size=4),
    colour_masks() | image_files().map(lambda file: file[0]),
    st.just(image_png()) | image_files().map(lambda file: file[0]),
)
def test_cvat(labelmap_lines, mask, image):
    labelmap = "\n".join(labelmap_lines)
    with tempfile.TemporaryDirectory() as folder:
        write_file(folder, "labelmap.txt", labelmap.encode())
        write_file(folder, "SegmentationClass/a.png", mask)
        write_file(folder, "JPEGImages/a.png", image)
        result = attempt(lambda: convert_cvat(folder, os.path.join(folder, "out")), folder, CLASS_NAME)
        if result is not None:
            assert len(dataset_masks(result)) == 1 and 1 <= len(result.class_names) <= len(labelmap.splitlines())


# ------------------------------------------------------------ bugs the properties found
def convert_error(convert, source, *args, **options):
    """The one-line ConvertError message of ``convert(source, ...)`` (it names ``source``'s folder)."""
    with pytest.raises(ConvertError) as info:
        convert(source, *args, **options)
    return assert_one_line_error(info.value, os.path.dirname(source))


@pytest.mark.parametrize(
    "change, words",
    [
        ({"imageData": "é"}, "'imageData' is not valid base64"),  # was a ValueError
        ({"imageData": None, "imagePath": "a\0.png"}, "not a valid file name"),  # was a ValueError
        ({"shapes": [{"label": "a", "points": [[0, 0], [10**400, 1], [2, 2]]}]}, "'points' must be"),  # was OverflowError
        ({"shapes": [{"label": "a\rb", "shape_type": "mask", "points": []}]}, "shape 0 ('a\\rb'): shape type 'mask'"),
    ],
)
def test_labelme_bad_documents(tmp_path, change, words):
    source = write_json(tmp_path / "a.json", {"imageData": base64.b64encode(image_png()).decode(), "shapes": [], **change})
    assert words in convert_error(convert_labelme, str(source), tmp_path / "out")


def test_labelme_empty_label_list(tmp_path):
    source = write_json(tmp_path / "a.json", {"imageData": base64.b64encode(image_png()).decode(), "shapes": []})
    with pytest.raises(ConvertError, match=r"label list \[\]: no class names"):  # was "n_classes=0" from verify_dataset
        convert_labelme(source, tmp_path / "out", labels=[])


GOOD_COCO = {"images": [{"id": 1, "file_name": "a.png", "height": H, "width": W}], "categories": [{"id": 1, "name": "cat"}]}


@pytest.mark.parametrize(
    "change, words",
    [
        ({"categories": [{"id": 1, "name": "cat"}, {"id": "2", "name": "dog"}]}, "integer id"),  # was a TypeError (sort)
        ({"images": [{"id": [1], "file_name": "a.png"}]}, "integer id"),  # was a TypeError (unhashable)
        ({"images": [{"id": 1, "file_name": None}]}, "a text file_name"),  # was a TypeError (os.path.join)
        ({"annotations": ["\n"]}, "is an object, not '\\n'"),  # was an AttributeError
        ({"annotations": [{"image_id": [1], "category_id": 1}]}, "image_id [1] is not in 'images'"),  # was a TypeError
        ({"annotations": [{"id": 7, "image_id": 1, "category_id": 1, "segmentation": {"counts": [-5, H * W + 5],
                                                                                       "size": [H, W]}}]},
         "annotation 7: unreadable segmentation"),  # was an OverflowError
    ],
)
def test_coco_bad_documents(tmp_path, change, words):
    write_file(tmp_path, "a.png", image_png())
    source = write_json(tmp_path / "coco.json", {"annotations": [], **GOOD_COCO, **change})
    assert words in convert_error(convert_coco, str(source), tmp_path / "out")


def test_json_nested_too_deeply(tmp_path):
    source = write_file(tmp_path, "coco.json", b"[" * 100_000)
    assert "nested too deeply" in convert_error(convert_coco, source, tmp_path / "out")  # was a RecursionError


def test_labelme_image_beyond_opencv_limits(tmp_path):
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, np.zeros((1, 1_100_000), np.uint8))
    source = write_json(tmp_path / "a.json", {"imageData": base64.b64encode(buffer.getvalue()).decode(), "shapes": []})
    assert "not a readable image" in convert_error(convert_labelme, str(source), tmp_path / "out")  # was a cv2.error


def test_cvat_gray_alpha_mask(tmp_path):
    write_file(tmp_path, "labelmap.txt", b"background:0,0,0::\nroad:9,9,9::\n")
    write_file(tmp_path, "JPEGImages/a.png", image_png())
    gray_alpha = io.BytesIO()
    tifffile.imwrite(gray_alpha, np.dstack([np.full((H, W), 9, np.uint8)] * 2))
    write_file(tmp_path, "SegmentationClass/a.png", gray_alpha.getvalue())
    result = convert_cvat(tmp_path, tmp_path / "out")  # was an IndexError
    np.testing.assert_array_equal(dataset_masks(result)[0], np.ones((H, W)))
