"""PNG integrity check without decoding: header facts, truncation, corrupt chunks."""

import cv2
import numpy as np
import pytest

from keras_segmentation.data.png import inspect_png, is_png
from keras_segmentation.data.verify import verify_dataset
from keras_segmentation.errors import ImageReadError


def write_png(path, array):
    cv2.imwrite(str(path), array)
    return path


@pytest.mark.parametrize(
    "array, mode, channels, depth",
    [
        (np.zeros((5, 7, 3), np.uint8), "RGB", 3, 8),
        (np.zeros((5, 7), np.uint8), "L", 1, 8),
        (np.zeros((5, 7), np.uint16), "I;16", 1, 16),
        (np.zeros((5, 7, 4), np.uint8), "RGBA", 4, 8),
    ],
)
def test_header_facts(tmp_path, array, mode, channels, depth):
    info = inspect_png(write_png(tmp_path / "a.png", array))
    assert (info.height, info.width, info.mode, info.channels, info.bit_depth) == (5, 7, mode, channels, depth)


def test_truncated_and_corrupted_files_are_found(tmp_path):
    good = write_png(tmp_path / "good.png", np.random.default_rng(0).integers(0, 255, (20, 20, 3), dtype=np.uint8))
    data = good.read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) - 30])
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    (tmp_path / "flip.png").write_bytes(bytes(flipped))
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_bytes(b"hello")
    with pytest.raises(ImageReadError, match=r"cut\.png: truncated PNG"):
        inspect_png(tmp_path / "cut.png")
    with pytest.raises(ImageReadError, match=r"flip\.png: corrupt PNG \(bad checksum"):
        inspect_png(tmp_path / "flip.png")
    with pytest.raises(ImageReadError, match=r"empty\.png: file is empty"):
        inspect_png(tmp_path / "empty.png")
    with pytest.raises(ImageReadError, match=r"text\.png: not a PNG"):
        inspect_png(tmp_path / "text.png")
    assert is_png(good) and not is_png(tmp_path / "text.png")


def test_verify_reports_a_corrupt_png_image_without_decoding_it(tmp_path):
    images, masks = tmp_path / "i", tmp_path / "m"
    images.mkdir()
    masks.mkdir()
    for name in ("a", "b"):
        write_png(images / f"{name}.png", np.full((8, 8, 3), 9, np.uint8))
        write_png(masks / f"{name}.png", np.zeros((8, 8), np.uint8))
    data = bytearray((images / "b.png").read_bytes())
    data[40] ^= 0x01
    (images / "b.png").write_bytes(bytes(data))
    report = verify_dataset(images, masks, 2)
    assert not report
    assert [(p.path.endswith("b.png"), p.kind) for p in report.problems] == [(True, "unreadable")]
    assert report.image_channels == {3: 1}
