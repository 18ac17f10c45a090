"""``predict --uncertainty``: the flag is the shared option, reaches the library, and a bad method stops at parsing."""

import csv
import os

import cv2
import keras
import numpy as np
import pytest
import tifffile

from keras_segmentation.checkpoints.config import write_config
from keras_segmentation.checkpoints.weights import save_checkpoint
from keras_segmentation.models.segmentation_model import SegmentationModel
from keras_segmentation.options import OPTIONS
from keras_segmentation.predict import predict
from keras_segmentation.uncertainty import METHODS


@pytest.fixture
def checkpoint(tmp_path):
    keras.utils.set_random_seed(0)
    x = keras.Input((32, 48, 3))
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    y = keras.layers.Softmax()(keras.layers.Conv2D(3, 1)(h))
    model = SegmentationModel(x, y, model_name="", normalization="divide")
    write_config(tmp_path / "ck", model)
    save_checkpoint(model, tmp_path / "ck", 1)
    return tmp_path / "ck", model


def write_images(folder, count=3):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(count):
        cv2.imwrite(str(folder / f"{i}.png"), rng.integers(0, 255, (40, 60, 3), dtype=np.uint8))
    return folder


def test_the_flag_offers_the_methods_of_the_uncertainty_room():
    assert tuple(OPTIONS["uncertainty"].parse["choices"]) == METHODS


def test_predict_a_folder_with_uncertainty(tmp_path, checkpoint, run_cli):
    ckpt, model = checkpoint
    folder, out = write_images(tmp_path / "imgs"), tmp_path / "out"
    code, printed, err = run_cli("predict", "--checkpoints_path", ckpt, "--input_path", folder, "--output_path", out,
                                 "--uncertainty", "margin")
    assert code == 0, err
    assert f"uncertainty maps and scores in {out / 'uncertainty'}" in printed
    assert sorted(os.listdir(out)) == ["0.png", "1.png", "2.png", "uncertainty"]
    with open(out / "uncertainty" / "scores.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["image", "score"] and sorted(r[0] for r in rows[1:]) == ["0.png", "1.png", "2.png"]
    _, expected = predict(model, inp=str(folder / "1.png"), uncertainty="margin", return_uncertainty=True)
    np.testing.assert_allclose(tifffile.imread(out / "uncertainty" / "1.tif"), expected, atol=1e-6)


def test_predict_one_image_with_uncertainty(tmp_path, checkpoint, run_cli):
    ckpt, _ = checkpoint
    image = write_images(tmp_path / "imgs", 1) / "0.png"
    code, printed, err = run_cli("predict", "--checkpoints_path", ckpt, "--input_path", image, "--output_path",
                                 tmp_path / "seg.png", "--uncertainty", "tta")
    assert code == 0, err
    assert printed.strip().endswith(f"wrote {tmp_path / 'seg.png'}, {tmp_path / 'seg'}_uncertainty.png and .tif")
    assert cv2.imread(str(tmp_path / "seg_uncertainty.png"), cv2.IMREAD_UNCHANGED).shape == (40, 60, 3)
    assert tifffile.imread(tmp_path / "seg_uncertainty.tif").dtype == np.float32


def test_an_unknown_method_stops_at_parsing(tmp_path, run_cli):
    code, _, err = run_cli("predict", "--checkpoints_path", tmp_path / "missing", "--input_path", tmp_path,
                           "--output_path", tmp_path / "out", "--uncertainty", "variance")
    assert code == 2 and "argument --uncertainty: invalid choice: 'variance'" in err
    assert not (tmp_path / "out").exists()
