"""Shared fixtures. Tests never download weights: legacy constructors default to no ImageNet weights here."""

import os
import pathlib

import pytest

os.environ.setdefault("KERAS_SEGMENTATION_ENCODER_WEIGHTS", "none")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent


def shared_dataset(env_name, default_name):
    """Path of a dataset under ../shared/datasets (or $env_name), or skip the test when it is absent."""
    path = pathlib.Path(os.environ.get(env_name, REPO_ROOT.parent / "shared" / "datasets" / default_name))
    if not path.is_dir():
        pytest.skip(f"{path} not found (set {env_name} to the dataset folder to run this test)")
    return path


@pytest.fixture
def camvid_dir():
    """The CamVid 'dataset1' folder of the original tutorial (skips when absent)."""
    return shared_dataset("KERAS_SEGMENTATION_CAMVID", "camvid")


@pytest.fixture
def isbi_dir():
    """The ISBI 2012 membrane folder (skips when absent)."""
    return shared_dataset("KERAS_SEGMENTATION_ISBI", "isbi_membrane")


def write_tiny_dataset(root, n_images=6, height=32, width=48, n_classes=3, seed=0, image_ext=".png", mask_ext=".png"):
    """Write ``images/`` and ``masks/`` with coloured rectangles (class k drawn in colour k); returns the folders."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    images, masks = pathlib.Path(root) / "images", pathlib.Path(root) / "masks"
    images.mkdir(parents=True, exist_ok=True)
    masks.mkdir(parents=True, exist_ok=True)
    palette = np.array([[20, 20, 20], [40, 200, 40], [200, 40, 200], [40, 40, 220], [220, 220, 40]], np.uint8)
    for i in range(n_images):
        mask = np.zeros((height, width), np.uint8)
        for class_id in range(1, n_classes):
            y, x = rng.integers(0, height // 2), rng.integers(0, width // 2)
            mask[y : y + height // 2, x : x + width // 2] = class_id
        image = palette[mask % len(palette)] + rng.integers(0, 20, (height, width, 3), dtype=np.uint8)
        cv2.imwrite(str(images / f"img_{i:03d}{image_ext}"), image)
        cv2.imwrite(str(masks / f"img_{i:03d}{mask_ext}"), mask)
    return images, masks


@pytest.fixture
def tiny_dataset(tmp_path):
    """``(images_dir, masks_dir)`` of 6 tiny 32x48 pairs with 3 classes."""
    return write_tiny_dataset(tmp_path / "data")


@pytest.fixture
def run_cli(capsys):
    """``run_cli(*argv)`` -> ``(exit code, stdout, stderr)``; the CLI runs in this process (no TensorFlow start-up)."""
    from keras_segmentation import cli

    def call(*argv):
        try:
            code = cli.main([str(a) for a in argv])
        except SystemExit as exit_:
            code = exit_.code
        out, err = capsys.readouterr()
        return code, out, err

    return call
