"""The original module names under keras_segmentation.data_utils, and import hygiene."""

import random
import subprocess
import sys

import numpy as np
import pytest
from datafiles import save

from keras_segmentation.data_utils import data_loader
from keras_segmentation.data_utils.visualize_dataset import (
    visualize_segmentation_dataset,
    visualize_segmentation_dataset_one,
)
from keras_segmentation.errors import DataLoaderError, SegmentationError


def test_original_names_exist():
    assert data_loader.DATA_LOADER_SEED == 0
    assert {".jpg", ".jpeg", ".png", ".bmp"} <= set(data_loader.ACCEPTABLE_IMAGE_FORMATS)
    assert ".jpg" not in data_loader.ACCEPTABLE_SEGMENTATION_FORMATS
    assert data_loader.DataLoaderError is DataLoaderError and issubclass(DataLoaderError, SegmentationError)
    assert len(data_loader.class_colors) == 5000
    assert callable(visualize_segmentation_dataset) and callable(visualize_segmentation_dataset_one)


def test_get_image_array_resizes_normalises_and_orders():
    bgr = np.zeros((10, 20, 3), np.uint8)
    bgr[..., 0] = 255  # blue
    x = data_loader.get_image_array(bgr, 8, 4)
    assert x.shape == (4, 8, 3) and x.dtype == np.float32
    assert x[0, 0].tolist() == pytest.approx([-123.68, -116.779, 255 - 103.939], abs=1e-3)  # RGB minus means
    assert data_loader.get_image_array(bgr, 8, 4, imgNorm="divide")[0, 0].tolist() == [0, 0, 1]
    assert data_loader.get_image_array(bgr, 8, 4, ordering="channels_first").shape == (3, 4, 8)


def test_get_image_array_from_file_grayscale(tmp_path):
    path = save(tmp_path / "g.png", np.full((6, 6), 255, np.uint8))
    x = data_loader.get_image_array(path, 3, 3, imgNorm="divide", read_image_type=0)
    assert x.shape == (3, 3, 1) and np.allclose(x, 1.0)


def test_get_segmentation_array_one_hot(tmp_path):
    mask = np.array([[0, 1, 2, 9]], np.uint8)
    labels = data_loader.get_segmentation_array(mask, 3, 4, 1)
    assert labels.dtype == np.float32 and labels.shape == (4, 3)
    assert labels.tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]]  # 9 >= n: all-zero row
    path = save(tmp_path / "m.png", np.repeat(mask, 2, axis=0))
    resized = data_loader.get_segmentation_array(path, 3, 2, 1, no_reshape=True)
    assert resized.shape == (1, 2, 3) and resized[0, 0].tolist() == [1, 0, 0]


def test_pairs_and_verify_under_old_names(tmp_path):
    save(tmp_path / "i" / "a.png", np.zeros((4, 4, 3), np.uint8))
    save(tmp_path / "m" / "a.png", np.ones((4, 4), np.uint8))
    assert data_loader.get_pairs_from_paths(tmp_path / "i", tmp_path / "m") == [
        (str(tmp_path / "i" / "a.png"), str(tmp_path / "m" / "a.png"))
    ]
    assert data_loader.verify_segmentation_dataset(tmp_path / "i", tmp_path / "m", 2)
    assert not data_loader.verify_segmentation_dataset(tmp_path / "i", tmp_path / "m", 1)
    assert data_loader.get_image_list_from_path(tmp_path / "i") == [str(tmp_path / "i" / "a.png")]


def test_importing_does_not_reseed_random():
    random.seed(7)
    expected = random.random()
    random.seed(7)
    code = "import random; random.seed(7); import keras_segmentation.data_utils.data_loader; print(random.random())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert float(out) == expected


def test_data_modules_do_not_import_keras_or_albumentations():
    code = (
        "import sys\n"
        "import keras_segmentation.data.images, keras_segmentation.data.masks, keras_segmentation.data.normalization\n"
        "import keras_segmentation.data.verify, keras_segmentation.data.verify_report, keras_segmentation.data.verify_pair\n"
        "import keras_segmentation.data.visualize, keras_segmentation.data.preview, keras_segmentation.data.demo\n"
        "import keras_segmentation.data.augmentation, keras_segmentation.data_utils.data_loader\n"
        "import keras_segmentation.data_utils.augmentation, keras_segmentation.data_utils.visualize_dataset\n"
        "import keras_segmentation.cli.dataset, keras_segmentation.cli.demo\n"
        "print(sorted(m for m in ('keras', 'tensorflow', 'albumentations', 'torch') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_image_segmentation_generator_yields_one_hot_batches_endlessly(tmp_path):
    for i in range(3):
        save(tmp_path / "i" / f"{i}.png", np.full((8, 12, 3), 40 * i, np.uint8))
        save(tmp_path / "m" / f"{i}.png", np.full((8, 12), i % 2, np.uint8))
    batches = data_loader.image_segmentation_generator(tmp_path / "i", tmp_path / "m", 2, 3, 8, 12, 4, 6)
    seen = [next(batches) for _ in range(4)]  # 2 batches a pass, passes repeat
    x, y = seen[0]
    assert x.shape == (2, 8, 12, 3) and x.dtype == np.float32
    assert y.shape == (2, 4, 6, 3) and np.array_equal(y.sum(-1), np.ones((2, 4, 6)))
    assert [len(b[0]) for b in seen] == [2, 1, 2, 1]
    images_only = data_loader.image_segmentation_generator(tmp_path / "i", tmp_path / "m", 2, 3, 8, 12, 4, 6,
                                                          ignore_segs=True)
    assert next(images_only).shape == (2, 8, 12, 3)
