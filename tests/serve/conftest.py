"""Fixtures of the serve tests: tiny presets (a random unet_mini, and one that answers class 1 everywhere), an image."""

import cv2
import pytest
from servefiles import NAMES, patches_image, tiny_model


@pytest.fixture(scope="session")
def preset(tmp_path_factory):
    """A preset folder of a random 32x48 unet_mini with three named classes."""
    return tiny_model().save_preset(tmp_path_factory.mktemp("presets") / "mini", class_names=NAMES)


@pytest.fixture(scope="session")
def class_one_preset(tmp_path_factory):
    """A preset whose model answers class 1 ("grass", (128, 0, 0) in the palette) for every pixel."""
    return tiny_model([0.0, 50.0, 0.0]).save_preset(tmp_path_factory.mktemp("presets") / "class_one", class_names=NAMES)


@pytest.fixture(scope="session")
def image_file(tmp_path_factory):
    """A 40x56 PNG (not the model's 32x48: the answer comes back at the image's size) of three classes."""
    path = tmp_path_factory.mktemp("images") / "image.png"
    cv2.imwrite(str(path), patches_image())
    return path
