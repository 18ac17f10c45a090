"""Reading masks as class ids: mask formats, palette PNGs, colour maps, and every kind of bad file."""

import numpy as np
import pytest
from datafiles import bad_files, save, save_palette_png, truncate

from keras_segmentation.data.masks import ColourMap, decode_mask, read_mask
from keras_segmentation.errors import ImageReadError, MaskFormatError


# ------------------------------------------------------------------- masks
@pytest.mark.parametrize("ext", [".png", ".bmp", ".PNG"])
def test_single_channel_mask_gives_its_values(tmp_path, ext):
    mask = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert np.array_equal(read_mask(save(tmp_path / f"m{ext}", mask)), mask)


def test_16_bit_mask_keeps_large_ids(tmp_path):
    mask = np.array([[0, 300], [1000, 2]], np.uint16)
    out = read_mask(save(tmp_path / "m.png", mask))
    assert out.dtype == np.uint16 and np.array_equal(out, mask)


def test_three_channel_mask_uses_blue_channel(tmp_path):
    bgr = np.zeros((2, 2, 3), np.uint8)
    bgr[..., 0], bgr[..., 1], bgr[..., 2] = 3, 100, 200  # blue = 3
    out = read_mask(save(tmp_path / "m.png", bgr))
    assert out.shape == (2, 2) and np.all(out == 3)


def test_palette_png_gives_indices_not_colours(tmp_path):
    indices = np.array([[0, 1], [2, 1]], np.uint8)
    path = save_palette_png(tmp_path / "p.png", indices, [(0, 0, 0), (128, 0, 0), (0, 128, 0)])
    assert np.array_equal(read_mask(path), indices)
    # OpenCV alone would have returned the colours:
    assert decode_mask(path, palette_colours=True)[0, 1].tolist() == [0, 0, 128]


def test_palette_png_with_colour_map_maps_its_colours(tmp_path):
    indices = np.array([[0, 1], [2, 1]], np.uint8)
    path = save_palette_png(tmp_path / "p.png", indices, [(0, 0, 0), (128, 0, 0), (0, 128, 0)])
    cmap = ColourMap({(0, 0, 0): 0, (128, 0, 0): 5, (0, 128, 0): 7})
    assert read_mask(path, cmap).tolist() == [[0, 5], [7, 5]]


def test_colour_coded_mask_with_csv_colour_map(tmp_path):
    csv = tmp_path / "colours.csv"
    csv.write_text("r,g,b,class\n# void\n0,0,0,0\n255, 0, 0, 1\n0,0,255,2\n")
    rgb = np.array([[[0, 0, 0], [255, 0, 0]], [[0, 0, 255], [255, 0, 0]]], np.uint8)
    path = save(tmp_path / "m.png", rgb[:, :, ::-1])
    assert read_mask(path, ColourMap.from_csv(csv)).tolist() == [[0, 1], [2, 1]]


def test_colour_not_in_map_names_file_and_colour(tmp_path):
    path = save(tmp_path / "m.png", np.full((2, 2, 3), (0, 255, 0), np.uint8))
    with pytest.raises(MaskFormatError, match=r"m\.png.*\(0,255,0\)"):
        read_mask(path, {(0, 0, 0): 0})


def test_bad_line_in_colour_map_csv_is_named(tmp_path):
    csv = tmp_path / "c.csv"
    csv.write_text("r,g,b,class\n0,0,0,0\n1,2,3\n")
    with pytest.raises(MaskFormatError, match=r"c\.csv:3: expected 'r,g,b,class_id'"):
        ColourMap.from_csv(csv)


def test_colour_map_csv_without_entries(tmp_path):
    csv = tmp_path / "c.csv"
    csv.write_text("r,g,b,class\n")
    with pytest.raises(MaskFormatError, match="no 'r,g,b,class_id' lines"):
        ColourMap.from_csv(csv)


def test_empty_colour_map_rejected():
    with pytest.raises(MaskFormatError, match="empty"):
        ColourMap({})


@pytest.mark.parametrize("name", ["m.jpg", "m.JPEG"])
def test_jpeg_mask_rejected_with_reason(tmp_path, name):
    path = save(tmp_path / name, np.zeros((4, 4), np.uint8))
    with pytest.raises(MaskFormatError, match="lossy"):
        read_mask(path)


# --------------------------------------------------------------- bad files
@pytest.mark.parametrize("kind", ["missing", "empty", "text", "corrupt", "truncated", "truncated_bmp", "upper_case"])
def test_bad_mask_files_raise_image_read_error_naming_the_file(tmp_path, kind):
    path, message = bad_files(tmp_path)[kind]
    with pytest.raises(ImageReadError, match=message) as err:
        read_mask(path)
    assert str(path) in str(err.value)


def test_truncated_palette_png_raises_image_read_error(tmp_path):
    big = np.random.default_rng(0).integers(0, 3, (64, 64))
    path = truncate(save_palette_png(tmp_path / "p.png", big, [(0, 0, 0), (9, 9, 9), (99, 9, 9)]), 0.6)
    with pytest.raises(ImageReadError, match="p.png"):
        read_mask(path)
