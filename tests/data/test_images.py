"""Reading images and normalising them: channel orders, depths, and every kind of bad file."""

import numpy as np
import pytest
from datafiles import bad_files, save

from keras_segmentation.data.images import read_image
from keras_segmentation.data.masks import read_mask
from keras_segmentation.data.normalization import normalize_image
from keras_segmentation.errors import ImageReadError


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


# --------------------------------------------------------------- bad files
@pytest.mark.parametrize(
    "kind",
    ["missing", "empty", "text", "corrupt", "truncated", "truncated_bmp", "truncated_jpg", "upper_case", "folder"],
)
def test_bad_image_files_raise_image_read_error_naming_the_file(tmp_path, kind):
    path, message = bad_files(tmp_path)[kind]
    with pytest.raises(ImageReadError, match=message) as err:
        read_image(path)
    assert str(path) in str(err.value)


def test_unicode_and_spaces_in_names(tmp_path):
    folder = tmp_path / "dössier with space"
    image = save(folder / "ïmage ñame 1.png", np.full((3, 3, 3), 5, np.uint8))
    mask = save(folder / "мaska 1.png", np.full((3, 3), 2, np.uint8))
    assert int(read_image(image)[0, 0, 0]) == 5
    assert int(read_mask(mask)[0, 0]) == 2
    with pytest.raises(ImageReadError, match="ïmage ñame 2.png"):
        read_image(folder / "ïmage ñame 2.png")
