"""Checkpoints: safe loading (no code runs), the config schema, wrong models and full disks lose no work.

(Atomic writes, SIGKILL/SIGINT resume, NaN and a corrupt newest checkpoint are
tested in tests/training/test_train.py and tests/checkpoints/test_checkpoints.py.)
"""

import json
import os

import keras
import numpy as np
import pytest
from badfiles import good_dataset, tiny_model, write_checkpoint

import keras_segmentation
from keras_segmentation.checkpoints.config import write_config
from keras_segmentation.checkpoints.load import load_model, load_model_from_checkpoint
from keras_segmentation.checkpoints.names import list_checkpoints, weights_path
from keras_segmentation.errors import CheckpointError, CheckpointWriteError, SegmentationError
from keras_segmentation.models.segmentation_model import SegmentationModel
from keras_segmentation.train import train


# -------------------------------------------------------------- safe loading
def lambda_model(marker):
    """A model whose Lambda layer creates ``marker`` whenever its code runs (it runs once, when built)."""
    x = keras.Input((32, 32, 3))
    h = keras.layers.Lambda(lambda t, path=str(marker): (open(path, "w").close(), t * 2.0)[1])(x)
    y = keras.layers.Conv2D(3, 1, activation="softmax")(h)
    return SegmentationModel(x, y, model_name="")


@pytest.fixture
def lambda_files(tmp_path):
    marker = tmp_path / "code_ran"
    model = lambda_model(marker)
    model.save(tmp_path / "lambda.keras")
    write_config(tmp_path / "run", model)  # its "architecture" holds the Lambda too
    os.remove(marker)
    return tmp_path, marker


def test_load_model_refuses_a_lambda_layer_without_running_it(lambda_files):
    folder, marker = lambda_files
    for loader in (load_model, keras_segmentation.load_model):
        with pytest.raises(CheckpointError) as info:
            loader(folder / "lambda.keras")
        message = str(info.value)
        assert message.startswith(f"{folder / 'lambda.keras'}: cannot load the model (refused by Keras safe mode")
        assert "Lambda" in message and "model.load_weights" in message and "\n" not in message
    assert not marker.exists(), "the Lambda's code must not run"


def test_checkpoint_loading_refuses_lambda_layers(lambda_files):
    folder, marker = lambda_files
    with pytest.raises(CheckpointError, match=r"run_config\.json: cannot rebuild model '' \(refused by Keras safe mode"):
        load_model_from_checkpoint(folder / "run")
    write_checkpoint(folder / "good", size=32)
    with pytest.raises(CheckpointError, match=r"lambda\.keras: cannot load the model \(refused by Keras safe mode"):
        load_model_from_checkpoint(folder / "good", weights=folder / "lambda.keras")
    assert not marker.exists()


def test_load_model_of_a_missing_or_foreign_file(tmp_path):
    with pytest.raises(CheckpointError, match=r"nope\.keras: model file not found"):
        load_model(tmp_path / "nope.keras")
    (tmp_path / "notes.keras").write_text("not a zip")
    with pytest.raises(CheckpointError, match=r"notes\.keras: not a readable \.keras archive \(corrupt or truncated\)"):
        load_model(tmp_path / "notes.keras")


# ----------------------------------------------------------- config schema
@pytest.mark.parametrize(
    "change, words",
    [
        ({"input_height": -32}, "input_height must be positive, got -32"),
        ({"output_width": 0}, "output_width must be positive, got 0"),
        ({"channels": 0}, "channels must be positive, got 0"),
        ({"n_classes": 3.0}, "key 'n_classes' has the wrong type (float)"),
        ({"n_classes": True}, "key 'n_classes' has the wrong type (bool)"),
        ({"seed": "42"}, "key 'seed' has the wrong type (str)"),
        ({"class_names": "sky,road"}, "key 'class_names' has the wrong type (str)"),
        ({"class_names": ["sky", 1, None]}, "class_names must be a list of strings"),
        ({"normalization": "rot13"}, "unknown normalization 'rot13'"),
        ({"architecture": ["layers"]}, "key 'architecture' has the wrong type (list)"),
        ({"build_config": {"builder": "os.system", "kwargs": {}}}, "unknown builder 'os.system'"),
        ({"build_config": {"builder": "unet_mini", "kwargs": [3]}}, "build_config kwargs must be a JSON object"),
        ({"build_config": {"builder": "unet_mini", "kwargs": {"n_classes": 3, "encoder_weights": "/etc/passwd"}}},
         "may not set encoder_weights: weights files are never taken from a config"),
        ({"format_version": 99}, "written by a newer keras-segmentation (format 99)"),
    ],
)
def test_config_schema(tmp_path, change, words):
    write_checkpoint(tmp_path / "run")
    path = tmp_path / "run_config.json"
    path.write_text(json.dumps(dict(json.loads(path.read_text()), **change)))
    with pytest.raises(CheckpointError) as info:
        load_model_from_checkpoint(tmp_path / "run")
    assert str(info.value).startswith(f"{path}: ") and words in str(info.value)


def test_checkpoints_path_given_as_a_folder_names_the_prefixes_found(tmp_path):
    write_checkpoint(tmp_path / "ck" / "vgg_unet_1")
    with pytest.raises(CheckpointError) as info:
        load_model_from_checkpoint(tmp_path / "ck")
    message = str(info.value)
    assert "is a folder, but checkpoints_path is the prefix given to train" in message
    assert f"checkpoints here: {tmp_path / 'ck' / 'vgg_unet_1'}" in message


# -------------------------------------------------- a checkpoint of another model
def test_weights_of_another_n_classes(tmp_path):
    write_checkpoint(tmp_path / "three", n_classes=3)
    write_checkpoint(tmp_path / "four", n_classes=4)
    four = weights_path(tmp_path / "four", 1)
    with pytest.raises(CheckpointError) as info:
        load_model_from_checkpoint(tmp_path / "three", weights=four)
    assert str(info.value).startswith(f"{four}: cannot load weights into the model (")
    assert "\n" not in str(info.value)
    os.replace(four, weights_path(tmp_path / "three", 2))  # newest file of the prefix is the 4-class one
    with pytest.warns(UserWarning, match=r"three\.00002\.weights\.h5: skipping unreadable checkpoint"):
        load_model_from_checkpoint(tmp_path / "three")  # falls back to epoch 1
    os.remove(weights_path(tmp_path / "three", 1))
    with pytest.warns(UserWarning), pytest.raises(CheckpointError, match=r"none of the 1 weights file\(s\) loads"):
        load_model_from_checkpoint(tmp_path / "three")


def test_resuming_a_different_architecture_refuses_and_keeps_the_files(tmp_path):
    images, masks = good_dataset(tmp_path / "data")
    prefix = tmp_path / "ck" / "run"
    write_checkpoint(prefix)
    before = {name: (tmp_path / "ck" / name).read_bytes() for name in os.listdir(tmp_path / "ck")}
    x = keras.Input((32, 32, 3))  # same classes, channels and size; other layers
    other = SegmentationModel(x, keras.layers.Conv2D(3, 5, padding="same", activation="softmax")(x), model_name="")
    with pytest.warns(UserWarning), pytest.raises(CheckpointError) as info:
        train(other, images, masks, checkpoints_path=str(prefix), auto_resume_checkpoint=True, epochs=1, verbose=0)
    assert f"{prefix}: cannot resume, none of the 1 checkpoint(s) loads into this model" in str(info.value)
    assert {name: (tmp_path / "ck" / name).read_bytes() for name in os.listdir(tmp_path / "ck")} == before


# ----------------------------------------------------------------- full disk
def test_full_disk_while_saving_keeps_the_previous_checkpoint_and_resumes(tmp_path, monkeypatch):
    images, masks = good_dataset(tmp_path / "data")
    prefix = tmp_path / "ck" / "run"
    model = tiny_model()
    real_save, seen = model.save_weights, {}

    def save_weights(path, *args, **kwargs):
        if os.path.basename(path).endswith("run.00002.weights.h5"):  # the temporary file of epoch 2
            seen["epoch_1"] = open(weights_path(prefix, 1), "rb").read()
            with open(path, "wb") as handle:
                handle.write(b"half an HDF5 file")
            raise OSError(28, "No space left on device")
        return real_save(path, *args, **kwargs)

    monkeypatch.setattr(model, "save_weights", save_weights)
    with pytest.raises(CheckpointWriteError) as info:  # float32: the model itself trains and saves, not a bf16 copy
        train(model, images, masks, checkpoints_path=str(prefix), epochs=3, verbose=0, seed=1, workers=1,
              precision="float32")
    error = info.value
    assert isinstance(error, SegmentationError) and isinstance(error, OSError) and error.errno == 28
    assert str(error).startswith(f"{weights_path(prefix, 2)}: cannot write (No space left on device)")
    assert "earlier checkpoints are intact" in str(error) and "\n" not in str(error)
    assert sorted(os.listdir(prefix.parent)) == ["run.00001.weights.h5", "run_config.json", "run_history.json"], \
        "no temp file left"
    assert open(weights_path(prefix, 1), "rb").read() == seen["epoch_1"]

    resumed = tiny_model()
    train(resumed, images, masks, checkpoints_path=str(prefix), epochs=2, verbose=0, auto_resume_checkpoint=True,
          workers=1, precision="float32")
    assert [e for e, _ in list_checkpoints(prefix)] == [1, 2]
    assert int(resumed.optimizer.iterations.numpy()) == 2, "continued after epoch 1 (one batch per epoch)"

    with pytest.warns(UserWarning, match=r"holds checkpoints of an earlier run \(up to epoch 2\)"):
        train(tiny_model(), images, masks, checkpoints_path=str(prefix), epochs=1, verbose=0, workers=1)
    np.testing.assert_array_equal([e for e, _ in list_checkpoints(prefix)], [1, 2])
