"""Cityscapes gtFine label ids -> the 19 train ids, 255 for the rest; images from leftImg8bit."""

import numpy as np
import pytest
from convertfiles import image_png, read_lines, read_mask, write

from keras_segmentation.data.convert import convert
from keras_segmentation.errors import ConvertError

LABEL_IDS = np.array([
    [7, 7, 8, 8, 11, 11, 0, 1, 23, 23],
    [12, 13, 17, 19, 20, 21, 22, 24, 25, 26],
    [27, 28, 31, 32, 33, 6, 9, 4, 3, 34],
    [7, 7, 7, 7, 7, 7, 7, 7, 7, 7],
    [7, 7, 7, 7, 7, 7, 7, 7, 7, 7],
    [7, 7, 7, 7, 26, 26, 7, 7, 7, 7],
    [8, 8, 8, 8, 8, 8, 8, 8, 8, 8],
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
], np.uint8)
TRAIN_IDS = np.array([
    [0, 0, 1, 1, 2, 2, 255, 255, 10, 10],
    [3, 4, 5, 6, 7, 8, 9, 11, 12, 13],
    [14, 15, 16, 17, 18, 255, 255, 255, 255, 255],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 13, 13, 0, 0, 0, 0],
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    [255, 255, 255, 255, 255, 255, 255, 255, 255, 255],
], np.uint8)
STEMS = {"aachen": "aachen_000000_000019", "bochum": "bochum_000000_000313"}


@pytest.fixture
def cityscapes(tmp_path):
    root = tmp_path / "cityscapes"
    for i, (city, stem) in enumerate(STEMS.items()):
        write(str(root / "gtFine" / "train" / city / f"{stem}_gtFine_labelIds.png"), np.roll(LABEL_IDS, i, axis=0))
        write(str(root / "gtFine" / "train" / city / f"{stem}_gtFine_color.png"), np.zeros((8, 10, 3), np.uint8))
        write(str(root / "leftImg8bit" / "train" / city / f"{stem}_leftImg8bit.png"), image_png(i))
    return root


def test_label_ids_become_train_ids(cityscapes, tmp_path):
    result = convert("cityscapes", cityscapes, tmp_path / "out")
    for i, stem in enumerate(STEMS.values()):
        np.testing.assert_array_equal(read_mask(tmp_path / "out" / "annotations" / f"{stem}.png"), np.roll(TRAIN_IDS, i, axis=0))
        assert (tmp_path / "out" / "images" / f"{stem}.png").read_bytes() == image_png(i)
    names = read_lines(tmp_path / "out" / "classes.txt")
    assert len(names) == 19 and names[0] == "0\troad" and names[18] == "18\tbicycle"
    assert result and 255 in result.report.class_pixel_counts


def test_missing_split_or_image_is_an_error(cityscapes, tmp_path):
    with pytest.raises(ConvertError, match=r"gtFine/val: not found \(source is the Cityscapes folder"):
        convert("cityscapes", cityscapes, tmp_path / "out", split="val")
    (cityscapes / "leftImg8bit" / "train" / "bochum" / "bochum_000000_000313_leftImg8bit.png").unlink()
    with pytest.raises(ConvertError, match=r"bochum_000000_000313_leftImg8bit\.png: cannot be read"):
        convert("cityscapes", cityscapes, tmp_path / "out2")
