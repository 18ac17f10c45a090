"""Checkpoints of the original library (Keras 2, TensorFlow format) migrated into this library's files.

The fast tests write a Keras-2-style checkpoint themselves with ``tf.train.Checkpoint``: one child per layer
with weights, named ``layer_with_weights-K`` (K counting those layers in ``model.layers`` order), holding the
layer's variables under their Keras 2 names. The slow test runs ``bench/migrate_check.py`` against the real
original library in ``bench/.envs/original``.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_segmentation.checkpoints.config import read_config
from keras_segmentation.checkpoints.load import load_model_from_checkpoint
from keras_segmentation.checkpoints.names import list_checkpoints
from keras_segmentation.cli import main
from keras_segmentation.errors import CheckpointError
from keras_segmentation.migrate import migrate_checkpoint
from keras_segmentation.models.registry import model_from_name
from keras_segmentation.models.unet import unet, unet_mini

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ORIGINAL_PYTHON = os.path.join(REPO, "bench", ".envs", "original", "bin", "python")
KERAS2_NAMES = {"DepthwiseConv2D": {"kernel": "depthwise_kernel"}}


def randomise(model, seed=0):
    """Every variable random (BatchNorm statistics and biases too), so a misplaced one changes the output."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        shape = tuple(variable.shape)
        if variable.name in ("gamma", "moving_variance"):
            variable.assign(rng.uniform(0.6, 1.4, shape).astype("float32"))
        else:
            variable.assign(rng.normal(0, 0.1, shape).astype("float32"))
    return model


def write_keras2_checkpoint(model, prefix, number="0", config=None):
    """``prefix.<number>`` as Keras 2's ``model.save_weights`` lays it out, plus the original's config JSON."""
    children = {}
    for layer in model.layers:
        if not layer.weights:
            continue
        holder = tf.Module()
        renames = KERAS2_NAMES.get(type(layer).__name__, {})
        for variable in layer.weights:
            setattr(holder, renames.get(variable.name, variable.name), tf.Variable(np.asarray(variable.numpy())))
        children[f"layer_with_weights-{len(children)}"] = holder
    tf.train.Checkpoint(**children).write(f"{prefix}.{number}")
    config = config or {"model_class": model.model_name, "n_classes": model.n_classes,
                        "input_height": model.input_height, "input_width": model.input_width,
                        "output_height": model.output_height, "output_width": model.output_width}
    with open(f"{prefix}_config.json", "w") as handle:
        json.dump(config, handle)
    return prefix


def assert_same_weights_by_layer(source, migrated):
    """Layer by layer (the same graph built twice: same positions, names differ by Keras' counters)."""
    assert len(source.layers) == len(migrated.layers)
    for layer, target in zip(source.layers, migrated.layers):
        assert type(layer) is type(target) and len(layer.weights) == len(target.weights)
        for a, b in zip(layer.weights, target.weights):
            assert a.name == b.name
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_weights_land_in_their_layers_and_predictions_equal(tmp_path):
    # MobileNet: depthwise kernels (Keras 2 "depthwise_kernel"), BatchNorm, a 3x3 head: every variable kind
    source = randomise(model_from_name["mobilenet_segnet"](4, 64, 64, encoder_weights=None))
    write_keras2_checkpoint(source, tmp_path / "old" / "segnet")
    done = migrate_checkpoint(tmp_path / "old" / "segnet", tmp_path / "new" / "segnet")
    assert done.epoch == 1 and done.source.endswith("segnet.0")  # the original's 0-based prefix.0: 1 epoch done
    assert list_checkpoints(done.checkpoints_path) == [(1, done.weights_file)]
    assert done.layers == sum(1 for layer in source.layers if layer.weights)
    config = read_config(done.checkpoints_path)
    assert config["normalization"] == "sub_mean" and config["migrated_from"] == done.source
    migrated = load_model_from_checkpoint(done.checkpoints_path)
    assert_same_weights_by_layer(source, migrated)
    x = np.random.default_rng(1).normal(0, 50, (2, 64, 64, 3)).astype("float32")
    np.testing.assert_array_equal(migrated.predict(x, verbose=0), source.predict(x, verbose=0))


def test_the_0_3_0_unet_has_no_relu_and_master_names_pick_master(tmp_path):
    x = np.random.default_rng(2).normal(0, 50, (1, 32, 32, 3)).astype("float32")
    old = randomise(unet(3, 32, 32, decoder_activation=None))  # the 0.3.0 release's graph
    write_keras2_checkpoint(old, tmp_path / "a")
    done = migrate_checkpoint(tmp_path / "a")
    assert done.original_version == "0.3.0" and done.checkpoints_path == f"{tmp_path / 'a'}_migrated"
    migrated = load_model_from_checkpoint(done.checkpoints_path)
    np.testing.assert_array_equal(migrated.predict(x, verbose=0), old.predict(x, verbose=0))
    forced = load_model_from_checkpoint(migrate_checkpoint(tmp_path / "a", tmp_path / "f", original_version="master")
                                        .checkpoints_path)
    assert np.abs(forced.predict(x, verbose=0) - old.predict(x, verbose=0)).max() > 1e-3

    new = randomise(unet(3, 32, 32))  # master's graph; its ModelCheckpoint names files .00007 (1-based)
    write_keras2_checkpoint(new, tmp_path / "b", number="00007")
    done = migrate_checkpoint(tmp_path / "b", tmp_path / "c")
    assert (done.original_version, done.epoch) == ("master", 7)
    migrated = load_model_from_checkpoint(done.checkpoints_path)
    np.testing.assert_array_equal(migrated.predict(x, verbose=0), new.predict(x, verbose=0))


def test_epoch_picks_a_checkpoint_and_training_resumes_after_it(tmp_path, tiny_dataset):
    from keras_segmentation.training import train

    early, late = randomise(unet_mini(3, 32, 48), seed=1), randomise(unet_mini(3, 32, 48), seed=2)
    write_keras2_checkpoint(early, tmp_path / "old", number="2")
    write_keras2_checkpoint(late, tmp_path / "old", number="10")
    assert migrate_checkpoint(tmp_path / "old", tmp_path / "newest").source.endswith("old.10")
    done = migrate_checkpoint(tmp_path / "old", tmp_path / "run", epoch=2)
    assert done.epoch == 3
    assert_same_weights_by_layer(early, load_model_from_checkpoint(done.checkpoints_path))
    started = []

    class Record(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            started.append(epoch)

    model = unet_mini(3, 32, 48)
    with pytest.warns(UserWarning, match="Skipping variable loading for optimizer"):  # a fresh optimizer state
        train(model, *tiny_dataset, checkpoints_path=str(tmp_path / "run"), epochs=4, batch_size=2,
              auto_resume_checkpoint=True, verbose=0, workers=1, callbacks=[Record()])
    assert started == [3]  # epochs 1-3 were done by the original
    assert [epoch for epoch, _ in list_checkpoints(tmp_path / "run")] == [3, 4]


def test_a_checkpoint_of_another_model_fails_naming_the_layer_and_writes_nothing(tmp_path):
    source = randomise(unet_mini(3, 32, 48))
    config = {"model_class": "unet_mini", "n_classes": 5, "input_height": 32, "input_width": 48}
    write_keras2_checkpoint(source, tmp_path / "old", config=config)
    with pytest.raises(CheckpointError) as caught:
        migrate_checkpoint(tmp_path / "old", tmp_path / "new")
    message = str(caught.value)
    assert "\n" not in message and str(tmp_path / "old.0") in message
    assert "layer_with_weights-10 holds bias (3,), kernel (1, 1, 32, 3)" in message and "(1, 1, 32, 5)" in message
    assert not any(name.startswith("new") for name in os.listdir(tmp_path))
    config["model_class"] = "vgg_unet"
    write_keras2_checkpoint(source, tmp_path / "other", config=dict(config, n_classes=3, input_height=64,
                                                                     input_width=64))
    with pytest.raises(CheckpointError, match="the checkpoint has 11 layers with weights .* the model 19"):
        migrate_checkpoint(tmp_path / "other")


@pytest.mark.parametrize(("files", "expected"), [
    ([], "_config.json: not found"),
    (["config"], r"no TensorFlow-format weights \(ckpt.N.index\)"),
])
def test_missing_files_are_one_line_errors(tmp_path, files, expected):
    if "config" in files:
        (tmp_path / "ckpt_config.json").write_text('{"model_class": "unet_mini", "n_classes": 2, '
                                                   '"input_height": 32, "input_width": 32}')
    with pytest.raises(CheckpointError, match=expected):
        migrate_checkpoint(tmp_path / "ckpt")


def test_cli_migrates_and_predict_reads_the_result(tmp_path, capsys):
    source = randomise(unet_mini(3, 32, 48))
    write_keras2_checkpoint(source, tmp_path / "old", number="4")
    status = main(["migrate_checkpoint", "--checkpoints_path", str(tmp_path / "old"),
                   "--output_path", str(tmp_path / "new"), "--epoch", "4"])
    assert status == 0
    out = capsys.readouterr().out
    assert "old.4 (11 layers with weights" in out and "new.00005.weights.h5 (epoch 5)" in out
    image = np.random.default_rng(0).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    from keras_segmentation.data.normalization import normalize_image
    from keras_segmentation.inference import predict

    labels = predict(checkpoints_path=str(tmp_path / "new"), inp=image, colored=False, precision="float32")
    expected = source.predict(normalize_image(image, "sub_mean")[None], verbose=0)[0].argmax(-1)
    np.testing.assert_array_equal(labels, expected)
    assert main(["migrate_checkpoint", "--checkpoints_path", str(tmp_path / "none")]) == 2
    assert "_config.json: not found" in capsys.readouterr().err


@pytest.mark.slow
def test_the_original_librarys_checkpoints_predict_the_same_here(tmp_path):
    if not os.path.exists(ORIGINAL_PYTHON):
        pytest.skip(f"{ORIGINAL_PYTHON} not found (python bench/run.py --quick creates the original's environment)")
    result = tmp_path / "migrate_check.json"
    models = ["unet_mini:64x96", "vgg_unet:224x256", "mobilenet_segnet:224x224", "pspnet:192x192"]
    done = subprocess.run([sys.executable, os.path.join(REPO, "bench", "migrate_check.py"), "--models", *models,
                           "--json", str(result)], capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads(result.read_text())["rows"]
    assert [row["model"] for row in rows] == [m.split(":")[0] for m in models]
    for row in rows:
        assert row["weighted_layers"] == row["original_weighted_layers"]
        assert row["max_abs_dprob_output_size"] < 1e-4 and row["max_abs_dprob_image_size"] < 1e-4, row
        assert row["label_agreement_output_size"] >= 0.9999 and row["label_agreement_image_size"] >= 0.9999, row
