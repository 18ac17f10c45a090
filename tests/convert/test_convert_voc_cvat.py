"""Pascal VOC palette masks and CVAT "Segmentation mask 1.1" colour masks -> class ids; border, labelmap, errors."""

import numpy as np
import pytest
from convertfiles import H, W, image_png, read_lines, read_mask, write
from PIL import Image

from keras_segmentation.data.convert import convert
from keras_segmentation.data.convert.voc import VOC_CLASSES, voc_colour
from keras_segmentation.errors import ConvertError

# VOC palette indices: person 15, car 7, tvmonitor 20, the 255 border around objects
VOC_INDICES = np.array([
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 15, 15, 15, 255, 0, 0, 0, 0, 0],
    [0, 15, 15, 15, 255, 0, 7, 7, 7, 0],
    [0, 15, 15, 15, 255, 0, 7, 7, 7, 0],
    [0, 255, 255, 255, 255, 0, 7, 7, 7, 0],
    [0, 0, 0, 0, 0, 0, 255, 255, 255, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 20],
], np.uint8)
CVAT_LABELMAP = "# label:color_rgb:parts:actions\nbackground:0,0,0::\nroad:128,64,128::\ncar:0,0,142::\n"
CVAT_COLOURS = np.array([[0, 0, 0], [128, 64, 128], [0, 0, 142]], np.uint8)  # RGB of class 0, 1, 2
CVAT_IDS = np.array([
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 2, 2, 0, 0],
    [0, 0, 0, 0, 0, 2, 2, 2, 2, 0],
    [1, 1, 1, 1, 1, 2, 2, 2, 2, 1],
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    [1, 1, 0, 0, 0, 0, 0, 0, 1, 1],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
], np.uint8)


def palette_png(path, indices):
    """A VOC-style palette PNG: pixels are indices into the VOC palette."""
    image = Image.fromarray(indices, mode="P")
    image.putpalette([value for index in range(256) for value in voc_colour(index)])
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def rgb_png(path, rgb):
    write(str(path), np.ascontiguousarray(rgb[:, :, ::-1]))  # OpenCV writes BGR


@pytest.fixture
def voc(tmp_path):
    root = tmp_path / "VOC2012"
    palette_png(root / "SegmentationClass" / "2007_000032.png", VOC_INDICES)
    rgb_png(root / "SegmentationClass" / "2007_000033.png", np.array([voc_colour(i) for i in range(256)], np.uint8)[VOC_INDICES])
    for i, stem in enumerate(("2007_000032", "2007_000033", "2007_000099")):  # the last has no mask: left out
        write(str(root / "JPEGImages" / f"{stem}.png"), image_png(i))
    return root


@pytest.fixture
def cvat(tmp_path):
    root = tmp_path / "cvat"
    write(str(root / "labelmap.txt"), CVAT_LABELMAP.encode())
    rgb_png(root / "SegmentationClass" / "f.png", CVAT_COLOURS[CVAT_IDS])
    rgb_png(root / "SegmentationClass" / "g.png", CVAT_COLOURS[CVAT_IDS[::-1]])
    write(str(root / "JPEGImages" / "f.png"), image_png(1))
    write(str(root / "JPEGImages" / "g.png"), image_png(2))
    write(str(root / "ImageSets" / "Segmentation" / "default.txt"), b"f\n")
    return root


def test_voc_palette_and_rgb_masks_give_the_class_ids_and_255_border(voc, tmp_path):
    assert voc_colour(15) == (192, 128, 128) and voc_colour(255) == (224, 224, 192)  # VOC's person, border
    result = convert("voc", voc, tmp_path / "out")
    for stem in ("2007_000032", "2007_000033"):
        np.testing.assert_array_equal(read_mask(tmp_path / "out" / "annotations" / f"{stem}.png"), VOC_INDICES)
    assert sorted(p.name for p in (tmp_path / "out" / "images").iterdir()) == ["2007_000032.png", "2007_000033.png"]
    assert read_lines(tmp_path / "out" / "classes.txt")[15] == "15\tperson" and len(VOC_CLASSES) == 21
    assert result and result.report.class_pixel_counts[255] == 2 * 10


def test_a_colour_outside_the_voc_palette_is_an_error_naming_it_and_the_file(voc, tmp_path):
    palette_png(voc / "SegmentationClass" / "2007_000032.png", np.where(VOC_INDICES == 20, 30, VOC_INDICES).astype(np.uint8))
    message = r"2007_000032\.png: colours not in the colour map: \(64,192,128\) \(colours from the VOC palette\)"
    with pytest.raises(ConvertError, match=message):
        convert("voc", voc, tmp_path / "out")


def test_cvat_colours_follow_the_labelmap_and_the_split(cvat, tmp_path):
    result = convert("cvat", cvat, tmp_path / "out")
    np.testing.assert_array_equal(read_mask(tmp_path / "out" / "annotations" / "f.png"), CVAT_IDS)
    np.testing.assert_array_equal(read_mask(tmp_path / "out" / "annotations" / "g.png"), CVAT_IDS[::-1])
    assert read_lines(tmp_path / "out" / "classes.txt") == ["0\tbackground", "1\troad", "2\tcar"]
    assert result.n_images == 2
    convert("cvat", cvat, tmp_path / "default", split="default")
    assert [p.name for p in (tmp_path / "default" / "annotations").iterdir()] == ["f.png"]


def test_the_labelmap_also_serves_voc_folders(cvat, tmp_path):
    convert("voc", cvat, tmp_path / "out")  # labelmap.txt present: its colours, not the VOC palette
    np.testing.assert_array_equal(read_mask(tmp_path / "out" / "annotations" / "f.png"), CVAT_IDS)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda root: rgb_png(root / "SegmentationClass" / "f.png", np.full((H, W, 3), [1, 2, 3], np.uint8)),
         r"f\.png: colours not in the colour map: \(1,2,3\) \(colours from .*labelmap\.txt\)"),
        (lambda root: (root / "labelmap.txt").unlink(), r"labelmap\.txt: not found; a CVAT 'Segmentation mask 1\.1' export"),
        (lambda root: (root / "labelmap.txt").write_text("background:0,0,0::\ncar:0,0::\n"),
         r"labelmap\.txt:2: expected 'name:r,g,b:parts:actions', got 'car:0,0::'"),
        (lambda root: (root / "labelmap.txt").write_text("a:0,0,0::\nb:0,0,0::\n"),
         r"labelmap\.txt:2: colour \(0, 0, 0\) of 'b' is already 'a''s"),
        (lambda root: (root / "JPEGImages" / "g.png").unlink(), r"g\.png: no image named g\.\* in .*JPEGImages"),
    ],
)
def test_cvat_errors_name_the_file_and_the_problem(cvat, tmp_path, change, message):
    change(cvat)
    with pytest.raises(ConvertError, match=message):
        convert("cvat", cvat, tmp_path / "out")


def test_an_unknown_split_or_a_listed_name_without_mask_is_an_error(cvat, tmp_path):
    with pytest.raises(ConvertError, match=r"split 'val': .*val\.txt not found"):
        convert("cvat", cvat, tmp_path / "out", split="val")
    write(str(cvat / "ImageSets" / "Segmentation" / "default.txt"), b"f\nh\n")
    with pytest.raises(ConvertError, match=r"default\.txt: 1 listed name\(s\) have no mask in SegmentationClass \(first: h\)"):
        convert("cvat", cvat, tmp_path / "out", split="default")
