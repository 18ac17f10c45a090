"""labelme JSON -> masks: shapes, label lists, images from imageData or imagePath, errors, re-runs."""

import base64
import json

import cv2
import numpy as np
import pytest
from convertfiles import H, W, image_png, read_lines, read_mask, write

from keras_segmentation.data.convert import convert
from keras_segmentation.errors import ConvertError, SegmentationError

A_SHAPES = [
    ("cat", "polygon", [[1, 1], [6, 1], [6, 4], [1, 4]]),
    ("dog", "rectangle", [[8, 6], [5, 3]]),  # corners in either order; later, so over the cat
    ("cat", "circle", [[2, 6], [3, 6]]),  # centre (2, 6), radius 1
    ("dog", "line", [[0, 7], [9, 7]]),  # no area: skipped with a warning
    ("bird", "polygon", [[-4, -4], [2, -4], [2, 0], [-4, 0]]),  # mostly outside: clipped to row 0, x 0..2
]
# background 0, bird 1, cat 2, dog 3 (found labels, sorted)
A_EXPECTED = np.array([
    [1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
    [0, 2, 2, 2, 2, 2, 2, 0, 0, 0],
    [0, 2, 2, 2, 2, 2, 2, 0, 0, 0],
    [0, 2, 2, 2, 2, 3, 3, 3, 3, 0],
    [0, 2, 2, 2, 2, 3, 3, 3, 3, 0],
    [0, 0, 2, 0, 0, 3, 3, 3, 3, 0],
    [0, 2, 2, 2, 0, 3, 3, 3, 3, 0],
    [0, 0, 2, 0, 0, 0, 0, 0, 0, 0],
], np.uint8)
B_SHAPES = [
    ("__ignore__", "rectangle", [[0, 0], [9, 7]]),  # the whole image void...
    ("_background_", "polygon", [[2, 2], [7, 2], [7, 5], [2, 5]]),  # ...but this block, painted later
]
B_EXPECTED = np.array([
    [255, 255, 255, 255, 255, 255, 255, 255, 255, 255],
    [255, 255, 255, 255, 255, 255, 255, 255, 255, 255],
    [255, 255, 0, 0, 0, 0, 0, 0, 255, 255],
    [255, 255, 0, 0, 0, 0, 0, 0, 255, 255],
    [255, 255, 0, 0, 0, 0, 0, 0, 255, 255],
    [255, 255, 0, 0, 0, 0, 0, 0, 255, 255],
    [255, 255, 255, 255, 255, 255, 255, 255, 255, 255],
    [255, 255, 255, 255, 255, 255, 255, 255, 255, 255],
], np.uint8)


def labelme_file(path, shapes, image_data=None, image_path=None, size=(H, W)):
    """Write a labelme 5.x JSON with ``(label, shape_type, points)`` shapes."""
    document = {
        "version": "5.4.1", "flags": {}, "imagePath": image_path, "imageHeight": size[0], "imageWidth": size[1],
        "imageData": base64.b64encode(image_data).decode("ascii") if image_data else None,
        "shapes": [
            {"label": label, "points": points, "group_id": None, "shape_type": kind, "flags": {}}
            for label, kind, points in shapes
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.fixture
def source(tmp_path):
    """``a.json`` (image embedded) and ``b.json`` (image in ``pics/b.png``)."""
    folder = tmp_path / "labelme"
    folder.mkdir()
    labelme_file(folder / "a.json", A_SHAPES, image_data=image_png(1), image_path="a.png")
    write(str(folder / "pics" / "b.png"), image_png(2))
    labelme_file(folder / "b.json", B_SHAPES, image_path="pics/b.png")
    return folder


def test_masks_match_the_hand_drawn_ones(source, tmp_path):
    out = tmp_path / "out"
    with pytest.warns(UserWarning, match=r"a\.json: skipped 1 shape\(s\) without area \(1 line\)"):
        result = convert("labelme", source, out)
    np.testing.assert_array_equal(read_mask(out / "annotations" / "a.png"), A_EXPECTED)
    np.testing.assert_array_equal(read_mask(out / "annotations" / "b.png"), B_EXPECTED)
    assert (out / "images" / "a.png").read_bytes() == image_png(1)  # embedded image, byte for byte
    assert (out / "images" / "b.png").read_bytes() == image_png(2)  # imagePath, byte for byte
    assert read_lines(out / "classes.txt") == ["0\tbackground", "1\tbird", "2\tcat", "3\tdog"]
    assert result and result.n_images == 2 and result.report.n_pairs == 2
    assert "--ignore_index 255" in result.format()


def test_jpeg_images_are_copied_and_other_formats_become_png(tmp_path):
    pixels = np.arange(H * W * 3, dtype=np.uint8).reshape(H, W, 3)
    jpeg = cv2.imencode(".jpg", pixels)[1].tobytes()
    webp = cv2.imencode(".webp", pixels, [cv2.IMWRITE_WEBP_QUALITY, 101])[1].tobytes()  # lossless
    labelme_file(tmp_path / "src" / "j.json", A_SHAPES[:1], image_data=jpeg)
    labelme_file(tmp_path / "src" / "w.json", A_SHAPES[:1], image_data=webp)
    convert("labelme", tmp_path / "src", tmp_path / "out")
    assert (tmp_path / "out" / "images" / "j.jpg").read_bytes() == jpeg
    np.testing.assert_array_equal(cv2.imread(str(tmp_path / "out" / "images" / "w.png")), pixels)


def test_a_given_label_list_sets_the_ids(source, tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("__ignore__\n_background_\ndog\ncat\nbird\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="skipped 1 shape"):
        result = convert("labelme", source, tmp_path / "out", labels=str(labels))
    remap = np.array([0, 3, 2, 1], np.uint8)  # found-label ids -> the list's (bird 3, cat 2, dog 1)
    np.testing.assert_array_equal(read_mask(tmp_path / "out" / "annotations" / "a.png"), remap[A_EXPECTED])
    np.testing.assert_array_equal(read_mask(tmp_path / "out" / "annotations" / "b.png"), B_EXPECTED)
    assert result.class_names == ["_background_", "dog", "cat", "bird"]


def test_a_label_missing_from_the_list_is_an_error_before_anything_is_written(source, tmp_path):
    with pytest.raises(ConvertError, match=r"a\.json: labels \['bird', 'dog'\] are not in the label list given"):
        convert("labelme", source, tmp_path / "out", labels=["background", "cat"])
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"shapes": [', r"bad\.json: not valid JSON \(Expecting value at line 1"),
        ('{"version": "5"}', r"bad\.json: not a labelme file \(no 'shapes' list\)"),
        ('{"shapes": [{"label": "x", "shape_type": "mask", "points": [[0, 0], [1, 1]]}]}',
         r"bad\.json: shape 0 \(x\): shape type 'mask' is not supported"),
        ('{"shapes": [{"label": "x", "shape_type": "circle", "points": [[0, 0]]}]}',
         r"bad\.json: shape 0 \(x\): a circle has 2 points, not 1"),
        ('{"shapes": [{"label": "x", "points": [[0, "a"]]}]}', r"bad\.json: shape 0 \(x\): 'points' must be"),
        ('{"shapes": [], "imagePath": "missing.png"}', r"missing\.png: cannot be read"),
        ('{"shapes": [], "imageData": "not base64!"}', r"bad\.json: 'imageData' is not valid base64"),
    ],
)
def test_bad_files_are_one_line_errors_naming_the_file(tmp_path, text, message):
    (tmp_path / "bad.json").write_text(text, encoding="utf-8")
    with pytest.raises(ConvertError, match=message) as raised:
        convert("labelme", tmp_path / "bad.json", tmp_path / "out")
    assert "\n" not in str(raised.value)


def test_a_label_classes_txt_cannot_hold_is_an_error(tmp_path):
    labelme_file(tmp_path / "a.json", [("cat#1", "polygon", [[1, 1], [6, 1], [6, 4]])], image_data=image_png())
    with pytest.raises(SegmentationError, match=r"class 1 name 'cat#1': must be non-empty, without '#'"):
        convert("labelme", tmp_path / "a.json", tmp_path / "out")


def test_an_image_of_another_size_than_the_json_says_is_an_error(tmp_path):
    labelme_file(tmp_path / "a.json", A_SHAPES[:1], image_data=image_png(), size=(H, W + 1))
    with pytest.raises(ConvertError, match=r"a\.json: the image is 10x8 but the JSON says 11x8"):
        convert("labelme", tmp_path / "a.json", tmp_path / "out")


def test_rerunning_is_refused_unless_overwrite(source, tmp_path):
    out = tmp_path / "out"
    with pytest.warns(UserWarning):
        convert("labelme", source, out)
    (out / "annotations" / "a.png").write_bytes(b"stale")
    with pytest.raises(ConvertError, match=r"out: already holds a dataset .*pass overwrite=True \(--overwrite\)"):
        convert("labelme", source, out)
    with pytest.warns(UserWarning):
        assert convert("labelme", source, out, overwrite=True)
    np.testing.assert_array_equal(read_mask(out / "annotations" / "a.png"), A_EXPECTED)
    assert sorted(p.name for p in (out / "annotations").iterdir()) == ["a.png", "b.png"]  # no temp files left


def test_options_of_another_format_and_unknown_formats_are_errors(source, tmp_path):
    with pytest.raises(ConvertError, match=r"option\(s\) crowd do not apply to labelme \(it takes labels, overwrite\)"):
        convert("labelme", source, tmp_path / "out", crowd="ignore")
    with pytest.raises(SegmentationError, match=r"format 'yolo': choose one of labelme, coco, cvat, voc, cityscapes"):
        convert("yolo", source, tmp_path / "out")
