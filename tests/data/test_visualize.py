"""Colours, legends, overlays and dataset previews (headless)."""

import os
import random

import cv2
import numpy as np
import pytest
from datafiles import save

from keras_segmentation.data import preview, visualize
from keras_segmentation.data.preview import visualize_dataset, visualize_segmentation_dataset, visualize_segmentation_dataset_one
from keras_segmentation.data.visualize import (
    class_colors,
    concat_lenends,
    get_colored_segmentation_image,
    get_legends,
    overlay_seg_image,
    render_pair,
    visualize_segmentation,
)
from keras_segmentation.errors import ModelConfigError, PairingError, SizeMismatchError


def _read(path):
    return cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR)


def test_class_colors_are_distinct_deterministic_and_leave_random_alone():
    assert len(class_colors) == 5000 and len(set(class_colors)) == 5000
    assert class_colors[0] == (0, 0, 0) and class_colors[1] == (128, 0, 0) and class_colors[15] == (192, 128, 128)
    assert all(0 <= v <= 255 and isinstance(v, int) for colour in class_colors[::97] for v in colour)
    random.seed(123)
    state, np_state = random.getstate(), np.random.get_state()[1].copy()
    assert visualize._make_class_colors() == class_colors
    assert random.getstate() == state and np.array_equal(np.random.get_state()[1], np_state)


def test_colored_segmentation_is_bgr_and_blacks_out_unknown_ids():
    seg = np.array([[0, 1], [2, 7]])
    out = get_colored_segmentation_image(seg, 3)
    assert out.dtype == np.uint8 and out.shape == (2, 2, 3)
    assert out[0, 1].tolist() == [0, 0, 128]  # class 1 = RGB (128, 0, 0)
    assert out[1, 0].tolist() == list(class_colors[2][::-1])
    assert out[1, 1].tolist() == [0, 0, 0]
    custom = get_colored_segmentation_image(seg[:, :, None] if seg.ndim == 2 else seg, 2, colors=[(1, 2, 3), (4, 5, 6)])
    assert custom[0, 1].tolist() == [6, 5, 4]
    with pytest.raises(ModelConfigError, match="only 2 colors were given; pass colors="):
        get_colored_segmentation_image(seg, 3, colors=[(0, 0, 0), (1, 1, 1)])


def test_visualize_segmentation_colours_the_highest_class():
    out = visualize_segmentation(np.array([[0, 1, 2]]))
    assert out[0, 2].tolist() == list(class_colors[2][::-1])  # the original left it black


@pytest.mark.parametrize(
    "image",
    [
        np.full((6, 8), 90, np.uint8),
        np.full((6, 8, 1), 90, np.uint8),
        np.full((6, 8, 4), 90, np.uint8),
        np.full((6, 8, 3), 90 * 257, np.uint16),
    ],
    ids=["gray2d", "gray3d", "bgra", "uint16"],
)
def test_visualize_segmentation_over_any_input(image):
    seg = np.zeros((3, 4), np.int64)
    seg[:, 2:] = 1
    out = visualize_segmentation(seg, image, n_classes=2, overlay_img=True)
    assert out.shape == (6, 8, 3) and out.dtype == np.uint8
    assert out[0, 0].tolist() == [45, 45, 45]  # (90 + black) / 2
    assert out[0, 7].tolist() == [45, 45, 45 + 64]  # (90 + red 128) / 2


def test_visualize_segmentation_resize_and_legend():
    seg = np.array([[0, 1], [1, 0]])
    out = visualize_segmentation(seg, n_classes=2, prediction_width=10, prediction_height=6)
    assert out.shape == (6, 10, 3)
    with_legend = visualize_segmentation(seg, n_classes=2, class_names=["a", "b"], show_legends=True)
    legend = get_legends(["a", "b"])
    assert with_legend.shape == (legend.shape[0], legend.shape[1] + 2, 3)
    with pytest.raises(ModelConfigError, match="overlay_img=True needs inp_img"):
        visualize_segmentation(seg, overlay_img=True)
    with pytest.raises(ModelConfigError, match="show_legends=True needs class_names"):
        visualize_segmentation(seg, show_legends=True)


def test_legend_layout():
    legend = get_legends(["sky", "a much longer class name"])
    assert legend.shape[0] == 75 and legend.shape[1] > 125
    box_x = legend.shape[1] - 25
    assert legend[25 + 12, box_x + 12].tolist() == [0, 0, 128]  # second row's box = class 1 colour
    assert legend[60, 10].tolist() == [255, 255, 255]
    assert get_legends(["a"]).shape == (50, 125, 3)


def test_overlay_and_concat():
    image = np.full((4, 4, 3), 200, np.uint8)
    seg = np.zeros((2, 2, 3), np.uint8)
    seg[0, 0] = (0, 0, 100)
    out = overlay_seg_image(image, seg)
    assert out.shape == (4, 4, 3) and out[0, 0].tolist() == [100, 100, 150] and out[3, 3].tolist() == [100] * 3
    both = concat_lenends(np.zeros((100, 3, 3), np.uint8), get_legends(["x"]))
    assert both.shape == (100, 128, 3)
    assert both[99, 0].tolist() == [255, 255, 255] and both[99, 127].tolist() == [0, 0, 0]


def _dataset(tmp_path, n=3):
    images, masks = tmp_path / "images", tmp_path / "masks"
    for i in range(n):
        mask = np.zeros((6, 8), np.uint8)
        mask[:, 4:] = 1 + i % 2
        save(images / f"im {i}.png", np.full((6, 8, 3), 50 + i, np.uint8))
        save(masks / f"im {i}.png", mask)
    return images, masks


def test_visualize_dataset_writes_side_by_side_previews(tmp_path):
    images, masks = _dataset(tmp_path)
    out_dir = tmp_path / "out"
    paths = visualize_dataset(images, masks, 3, out_dir, workers=2)
    assert [os.path.basename(p) for p in paths] == ["im 0.png", "im 1.png", "im 2.png"]
    panel = _read(paths[1])
    assert panel.shape == (6, 24, 3)
    assert np.all(panel[:, :8] == 51)
    assert np.array_equal(panel[:, 8:16], get_colored_segmentation_image(cv2.imread(str(masks / "im 1.png"), 0), 3))
    assert np.array_equal(panel[:, 16:], overlay_seg_image(panel[:, :8], panel[:, 8:16]))


def test_visualize_dataset_legend_from_names_file_and_max_images(tmp_path):
    images, masks = _dataset(tmp_path)
    names = tmp_path / "classes.txt"
    names.write_text("0\tbackground\n1\tcat\n2\tdog\n")
    paths = visualize_dataset(images, masks, out_dir=tmp_path / "out", class_names=str(names), max_images=2)
    assert len(paths) == 2
    legend = get_legends(["background", "cat", "dog"])
    panel = _read(paths[0])
    assert panel.shape == (legend.shape[0], legend.shape[1] + 24, 3)
    assert np.array_equal(panel[:, : legend.shape[1]], legend)


def test_visualize_dataset_with_augmentation_is_seeded(tmp_path):
    images, masks = _dataset(tmp_path)
    first = visualize_dataset(images, masks, 3, tmp_path / "a", do_augment=True, augmentation_name="aug_geometric")
    again = visualize_dataset(images, masks, 3, tmp_path / "b", do_augment=True, augmentation_name="aug_geometric")
    plain = visualize_dataset(images, masks, 3, tmp_path / "c")
    assert all(np.array_equal(_read(a), _read(b)) for a, b in zip(first, again))
    assert any(not np.array_equal(_read(a), _read(c)) for a, c in zip(first, plain))


def test_visualize_dataset_names_and_errors(tmp_path):
    images, masks = _dataset(tmp_path, 1)
    save(images / "im 0.jpg", np.zeros((6, 8, 3), np.uint8))
    with pytest.raises(PairingError, match=r"im 0\.jpg, \S*im 0\.png; keep one"):  # one mask cannot serve both
        visualize_dataset(images, masks, 3, tmp_path / "out")
    os.remove(images / "im 0.jpg")
    paths = visualize_dataset(images, masks, 3, tmp_path / "out")
    assert [os.path.basename(p) for p in paths] == ["im 0.png"]
    save(masks / "im 0.png", np.zeros((5, 8), np.uint8))
    with pytest.raises(SizeMismatchError, match="im 0.png: mask is 8x5"):
        visualize_dataset(images, masks, 3, tmp_path / "out")
    with pytest.raises(PairingError):
        visualize_dataset(tmp_path / "none", masks, 3, tmp_path / "out")


def test_show_without_display_warns_and_still_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(preview.sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    images, masks = _dataset(tmp_path, 1)
    with pytest.warns(UserWarning, match="no display"):
        paths = visualize_dataset(images, masks, 3, tmp_path / "out", show=True)
    assert len(paths) == 1
    with pytest.warns(UserWarning, match="pass out_dir="):
        assert visualize_segmentation_dataset(images, masks, 3) == []
    written = visualize_segmentation_dataset(images, masks, 3, no_show=True, out_dir=tmp_path / "compat", image_size=(4, 2))
    assert _read(written[0]).shape == (2, 12, 3)  # image_size is (width, height), as in the original


def test_visualize_one_returns_image_and_colours(tmp_path):
    images, masks = _dataset(tmp_path, 1)
    image, seg_img = visualize_segmentation_dataset_one(images, masks, 2, no_show=True)
    assert image.shape == (6, 8, 3) and int(image[0, 0, 0]) == 50
    assert seg_img[0, 7].tolist() == [0, 0, 128] and seg_img[0, 0].tolist() == [0, 0, 0]


def test_render_pair_n_classes_from_mask():
    panel = render_pair(np.zeros((2, 2), np.uint16), np.array([[0, 3], [3, 3]]))
    assert panel.shape == (2, 6, 3) and panel[0, 3].tolist() == list(class_colors[3][::-1])
