"""The synthetic demo dataset and the demo run."""

import os

import cv2
import numpy as np
import pytest

from keras_segmentation.data.class_names import load_class_names
from keras_segmentation.data.demo import DEMO_CLASS_NAMES, make_demo_dataset, make_demo_sample
from keras_segmentation.data.images import read_image
from keras_segmentation.data.verify import verify_dataset
from keras_segmentation.errors import DataLoaderError

SHAPE_HUES = {1: 0, 2: 60, 3: 115, 4: 28}  # OpenCV hue (0..179) of circle, rectangle, triangle, star


def test_layout_classes_and_determinism(tmp_path):
    demo = make_demo_dataset(tmp_path / "a", n_train=5, n_test=2, height=40, width=56, seed=3)
    assert demo.n_classes == 5 and demo.class_names == list(DEMO_CLASS_NAMES)
    for folder, count in ((demo.train_images, 5), (demo.train_annotations, 5), (demo.test_images, 2),
                          (demo.test_annotations, 2)):
        assert sorted(os.listdir(folder)) == [f"demo_{i:05d}.png" for i in range(count)]
    assert os.path.basename(demo.train_annotations) == "annotations_prepped_train"
    assert load_class_names(demo.classes_file) == list(DEMO_CLASS_NAMES)
    mask_path = os.path.join(demo.train_annotations, "demo_00000.png")
    assert cv2.imread(mask_path, cv2.IMREAD_UNCHANGED).ndim == 2
    assert read_image(os.path.join(demo.train_images, "demo_00000.png")).shape == (40, 56, 3)
    again = make_demo_dataset(tmp_path / "b", n_train=5, n_test=2, height=40, width=56, seed=3)
    other = make_demo_dataset(tmp_path / "c", n_train=5, n_test=2, height=40, width=56, seed=4)
    same = [open(os.path.join(d.train_images, "demo_00004.png"), "rb").read() for d in (demo, again, other)]
    assert same[0] == same[1] != same[2]
    assert verify_dataset(demo.train_images, demo.train_annotations, demo.n_classes)


def test_regenerating_replaces_old_files(tmp_path):
    make_demo_dataset(tmp_path, n_train=4, n_test=1, height=32, width=32)
    (tmp_path / "images_prepped_train" / "mine.txt").write_text("kept")
    demo = make_demo_dataset(tmp_path, n_train=2, n_test=1, height=32, width=32)
    assert sorted(os.listdir(demo.train_images)) == ["demo_00000.png", "demo_00001.png", "mine.txt"]


def test_samples_have_every_class_in_its_own_hue():
    hues = {k: [] for k in SHAPE_HUES}
    for seed in range(30):
        image, mask = make_demo_sample(64, 64, seed=seed)
        assert image.dtype == np.uint8 and mask.dtype == np.uint8 and int(mask.max()) <= 4
        hue = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)[:, :, 0].astype(int)
        for k in SHAPE_HUES:
            hues[k].extend(hue[mask == k].tolist())
    for k, centre in SHAPE_HUES.items():
        assert len(hues[k]) > 500, DEMO_CLASS_NAMES[k]
        distance = np.minimum(np.abs(np.array(hues[k]) - centre), 180 - np.abs(np.array(hues[k]) - centre))
        assert np.median(distance) <= 8, DEMO_CLASS_NAMES[k]
    assert len(hues[1]) < 0.6 * 30 * 64 * 64  # shapes cover part of the image, background remains


def test_too_small_images_rejected(tmp_path):
    with pytest.raises(DataLoaderError, match="at least 32 pixels"):
        make_demo_dataset(tmp_path, height=16)
