"""Reading images and masks: channel orders, depths, mask formats, and every kind of bad file."""

import numpy as np
import pytest
from datafiles import save, save_palette_png, truncate

from keras_segmentation.data.images import read_image
from keras_segmentation.data.masks import ColourMap, decode_mask, read_mask
from keras_segmentation.data.normalization import normalize_image
from keras_segmentation.errors import ImageReadError, MaskFormatError


# ------------------------------------------------------------------ images
def test_colour_image_is_bgr(tmp_path):
    bgr = np.zeros((4, 5, 3), np.uint8)
    bgr[..., 0], bgr[..., 1], bgr[..., 2] = 10, 20, 30
    image = read_image(save(tmp_path / "a.png", bgr))
    assert image.shape == (4, 5, 3) and image.dtype == np.uint8
    assert image[0, 0].tolist() == [10, 20, 30]


def test_normalize_turns_bgr_into_rgb_except_caffe():
    bgr = np.zeros((2, 2, 3), np.uint8)
    bgr[..., 0], bgr[..., 2] = 10, 30
    rgb = normalize_image(bgr, "divide")
    assert rgb[0, 0].tolist() == pytest.approx([30 / 255, 0, 10 / 255])
    caffe = normalize_image(bgr, "caffe")
    assert caffe[0, 0].tolist() == pytest.approx([10 - 103.939, -116.779, 30 - 123.68], abs=1e-4)


def test_grayscale_file_read_as_colour_or_grayscale(tmp_path):
    path = save(tmp_path / "g.png", np.full((3, 4), 77, np.uint8))
    assert read_image(path).shape == (3, 4, 3)
    gray = read_image(path, read_image_type=0)
    assert gray.shape == (3, 4, 1) and int(gray[0, 0, 0]) == 77


def test_rgba_kept_only_when_unchanged(tmp_path):
    bgra = np.zeros((3, 3, 4), np.uint8)
    bgra[..., 3] = 128
    path = save(tmp_path / "a.png", bgra)
    assert read_image(path, read_image_type=-1).shape == (3, 3, 4)
    assert read_image(path).shape == (3, 3, 3)


def test_16_bit_kept_when_unchanged_and_scaled_by_normalize(tmp_path):
    path = save(tmp_path / "deep.png", np.full((2, 2), 65535, np.uint16))
    image = read_image(path, read_image_type=-1)
    assert image.dtype == np.uint16 and image.shape == (2, 2, 1) and int(image.max()) == 65535
    assert normalize_image(image, "divide").max() == pytest.approx(1.0)


def test_array_input_gets_channel_axis():
    assert read_image(np.zeros((3, 4), np.uint8)).shape == (3, 4, 1)


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
def _bad_files(tmp_path):
    good = save(tmp_path / "good.png", np.zeros((8, 8, 3), np.uint8))
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(open(good, "rb").read()[:30] + bytes(range(256)) * 4)
    return {
        "missing": (tmp_path / "missing.png", "not found"),
        "empty": (empty, "empty"),
        "text": (text, "not a readable image"),
        "corrupt": (corrupt, "not a readable image"),
        "truncated": (truncate(save(tmp_path / "cut.png", np.ones((16, 16, 3), np.uint8) * 9)), "not a readable"),
        "truncated_bmp": (truncate(save(tmp_path / "cut.bmp", np.ones((16, 16), np.uint8))), "not a readable"),
        "truncated_jpg": (truncate(save(tmp_path / "cut.jpg", np.ones((16, 16, 3), np.uint8))), "not a readable"),
        "upper_case": (truncate(save(tmp_path / "CUT2.PNG", np.ones((16, 16), np.uint8) * 3)), "not a readable"),
        "folder": (tmp_path, "not a file"),
    }


@pytest.mark.parametrize(
    "kind",
    ["missing", "empty", "text", "corrupt", "truncated", "truncated_bmp", "truncated_jpg", "upper_case", "folder"],
)
def test_bad_image_files_raise_image_read_error_naming_the_file(tmp_path, kind):
    path, message = _bad_files(tmp_path)[kind]
    with pytest.raises(ImageReadError, match=message) as err:
        read_image(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("kind", ["missing", "empty", "text", "corrupt", "truncated", "truncated_bmp", "upper_case"])
def test_bad_mask_files_raise_image_read_error_naming_the_file(tmp_path, kind):
    path, message = _bad_files(tmp_path)[kind]
    with pytest.raises(ImageReadError, match=message) as err:
        read_mask(path)
    assert str(path) in str(err.value)


def test_truncated_palette_png_raises_image_read_error(tmp_path):
    big = np.random.default_rng(0).integers(0, 3, (64, 64))
    path = truncate(save_palette_png(tmp_path / "p.png", big, [(0, 0, 0), (9, 9, 9), (99, 9, 9)]), 0.6)
    with pytest.raises(ImageReadError, match="p.png"):
        read_mask(path)


def test_unicode_and_spaces_in_names(tmp_path):
    folder = tmp_path / "dössier with space"
    image = save(folder / "ïmage ñame 1.png", np.full((3, 3, 3), 5, np.uint8))
    mask = save(folder / "мaska 1.png", np.full((3, 3), 2, np.uint8))
    assert int(read_image(image)[0, 0, 0]) == 5
    assert int(read_mask(mask)[0, 0]) == 2
    with pytest.raises(ImageReadError, match="ïmage ñame 2.png"):
        read_image(folder / "ïmage ñame 2.png")
