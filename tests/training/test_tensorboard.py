"""``train --tensorboard DIR``: scalar and prediction-image event files; a one-line error without the package."""

import os
import sys

import cv2
import numpy as np
import pytest

from keras_segmentation.errors import SegmentationError
from keras_segmentation.training.tensorboard import prediction_panel, tensorboard_callbacks

pytest.importorskip("tensorboard", reason="the [tensorboard] extra is not installed")


def read_events(folder):
    """``{tag: [(step, value), ...]}`` of every event file in ``folder``; images as decoded BGR arrays."""
    import tensorflow as tf

    found = {}
    for name in sorted(os.listdir(folder)):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(folder, name)):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "images":
                    png = value.tensor.string_val[2]  # [width, height, PNG bytes]
                    content = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
                else:
                    content = float(tf.make_ndarray(value.tensor))
                found.setdefault(value.tag, []).append((event.step, content))
    return found


def test_train_writes_scalars_and_prediction_images(tmp_path, tiny_dataset, run_cli):
    images, masks = tiny_dataset
    logs = tmp_path / "logs"
    code, _, err = run_cli("train", "--model_name", "unet_mini", "--n_classes", 3, "--input_height", 32, "--input_width",
                           48, "--train_images", images, "--train_annotations", masks, "--val_images", images,
                           "--val_annotations", masks, "--epochs", 2, "--batch_size", 3, "--seed", 1,
                           "--tensorboard", logs)
    assert code == 0, err
    assert sorted(os.listdir(logs)) == ["images", "train", "validation"]
    train = read_events(logs / "train")
    for tag in ("epoch_loss", "epoch_accuracy", "epoch_mean_iou", "epoch_learning_rate"):
        assert [step for step, _ in train[tag]] == [0, 1], tag
    assert train["epoch_learning_rate"][0][1] == pytest.approx(1e-3)
    validation = read_events(logs / "validation")
    assert {"epoch_loss", "epoch_accuracy", "epoch_mean_iou"} <= set(validation)
    pictures = read_events(logs / "images")
    assert sorted(pictures) == [f"predictions/img_00{i}" for i in range(3)]  # the first 3 validation images
    for series in pictures.values():
        assert [step for step, _ in series] == [0, 1]
        assert all(panel.shape == (32, 96, 3) for _, panel in series)  # image | overlay
    first = pictures["predictions/img_000"][0][1]
    np.testing.assert_array_equal(first[:, :48], cv2.imread(str(images / "img_000.png")))


def test_prediction_panel_is_the_image_and_its_overlay_shrunk_to_max_width():
    image = np.full((40, 1000, 3), 200, np.uint8)
    labels = np.zeros((40, 1000), np.uint8)
    labels[:, 500:] = 1  # class 1: (128, 0, 0) RGB
    panel = prediction_panel(image, labels, 2, max_width=100)
    assert panel.shape == (4, 200, 3)
    assert panel[0, 0].tolist() == [200, 200, 200] and panel[0, 120].tolist() == [100, 100, 100]
    assert panel[0, 199].tolist() == [100, 100, 164]  # (200 + 128) // 2 in red


def test_missing_tensorboard_is_a_one_line_error_before_any_work(tmp_path, tiny_dataset, monkeypatch):
    from keras_segmentation.train import train

    monkeypatch.setitem(sys.modules, "tensorboard", None)  # import tensorboard -> ImportError
    message = r"needs the tensorboard package: pip install keras-segmentation\[tensorboard\]"
    with pytest.raises(SegmentationError, match=message) as err:
        tensorboard_callbacks(tmp_path / "logs", [])
    assert "\n" not in str(err.value)
    with pytest.raises(SegmentationError, match="tensorboard"):
        train("unet_mini", *tiny_dataset, n_classes=3, input_height=32, input_width=48,
              checkpoints_path=str(tmp_path / "ckpt" / "run"), tensorboard_dir=tmp_path / "logs")
    assert not (tmp_path / "ckpt").exists() and not (tmp_path / "logs").exists()


def test_a_file_as_tensorboard_dir_is_a_one_line_error_before_anything_is_written(tmp_path, tiny_dataset, run_cli):
    from keras_segmentation.train import train

    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    args = dict(n_classes=3, input_height=32, input_width=48, checkpoints_path=str(tmp_path / "ckpt" / "run"))
    with pytest.raises(SegmentationError, match=f"tensorboard_dir={str(taken)!r}: {taken} is not a folder") as err:
        train("unet_mini", *tiny_dataset, tensorboard_dir=taken, **args)
    assert "\n" not in str(err.value)
    code, _, err = run_cli("train", "--model_name", "unet_mini", "--n_classes", 3, "--train_images", tiny_dataset[0],
                           "--train_annotations", tiny_dataset[1], "--checkpoints_path", tmp_path / "ckpt" / "run",
                           "--tensorboard", taken / "logs")
    assert code == 2 and err.splitlines() == [
        f"error: tensorboard_dir={str(taken / 'logs')!r}: {taken} is not a folder; give a folder or a new name"
    ]
    assert sorted(os.listdir(tmp_path)) == ["data", "notes.txt"] and taken.read_text() == "mine"
