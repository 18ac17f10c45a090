"""Bad input through the command line: one ``error:`` line naming the file, exit 2, no traceback unless --debug.

``verify_dataset`` is the exception by design: a dataset with problems is its
normal output (a report on stdout, exit 1); only bad arguments (a missing or
empty folder) exit 2.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
from badfiles import (
    CASE_NAMES,
    CHECKPOINT_CASES,
    DRAWN_WITH_A_WARNING,
    FOLDER_CASES,
    N_CLASSES,
    assert_one_line_error,
    good_dataset,
    good_image,
    make_case,
    save,
    write_checkpoint,
)

from keras_segmentation import errors
from keras_segmentation.checkpoints.names import config_path

TRAIN = ["train", "--model_name", "unet_mini", "--n_classes", N_CLASSES, "--input_height", 32, "--input_width", 32,
         "--epochs", 1, "--workers", 1]


# ------------------------------------------------------------ bad datasets
@pytest.mark.parametrize("name", CASE_NAMES)
def test_train(name, tmp_path, monkeypatch, run_cli):
    images, masks, culprit, case = make_case(name, tmp_path, monkeypatch)
    code, _, err = run_cli(*TRAIN, "--train_images", images, "--train_annotations", masks)
    assert case.words in assert_one_line_error(code, err, culprit)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_visualize_dataset(name, tmp_path, monkeypatch, run_cli):
    images, masks, culprit, case = make_case(name, tmp_path, monkeypatch)
    code, out, err = run_cli("visualize_dataset", "--images_path", images, "--segs_path", masks,
                             "--n_classes", N_CLASSES, "--out_dir", tmp_path / "previews", "--workers", 1)
    if name in DRAWN_WITH_A_WARNING:
        assert code == 0 and "wrote 2 preview(s)" in out
        (line,) = err.strip().splitlines()
        assert line.startswith("warning: 1 mask(s) hold values >= n_classes=3") and str(culprit) in line
        return
    assert case.words in assert_one_line_error(code, err, culprit)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_verify_dataset(name, tmp_path, monkeypatch, run_cli):
    images, masks, culprit, case = make_case(name, tmp_path, monkeypatch)
    code, out, err = run_cli("verify_dataset", "--images_path", images, "--segs_path", masks, "--n_classes", N_CLASSES)
    if name in FOLDER_CASES:
        assert case.words in assert_one_line_error(code, err, culprit)
        return
    assert code == 1 and "Traceback" not in err
    assert str(culprit) in out and "FAILED:" in out


@pytest.mark.parametrize(
    "name",
    ["empty_images_folder", "empty_masks_folder", "size_mismatch", "binary_0_255_mask", "values_over_n_classes",
     "colour_mask", "jpeg_mask", "truncated_image", "unreadable_image", "corrupt_mask"],
)
def test_evaluate_model(name, tmp_path, monkeypatch, run_cli, checkpoint):
    images, masks, culprit, case = make_case(name, tmp_path, monkeypatch)
    code, _, err = run_cli("evaluate_model", "--checkpoints_path", checkpoint, "--images_path", images,
                           "--segs_path", masks)
    assert case.words in assert_one_line_error(code, err, culprit)


def test_evaluate_model_reads_colour_masks_with_a_colormap(tmp_path, monkeypatch, run_cli, checkpoint):
    images, masks, _, _ = make_case("colour_mask", tmp_path, monkeypatch)
    save(masks / "1.png", np.zeros((32, 32, 3), np.uint8))
    (tmp_path / "colours.csv").write_text("r,g,b,class\n0,0,0,0\n128,0,0,1\n0,128,0,2\n")
    code, out, err = run_cli("evaluate_model", "--checkpoints_path", checkpoint, "--images_path", images,
                             "--segs_path", masks, "--colormap", tmp_path / "colours.csv")
    assert code == 0, err
    assert "mIoU:" in out and f"pixels: {2 * 32 * 32}" in out


# ----------------------------------------------------- predict and checkpoints
@pytest.mark.parametrize("name", list(CHECKPOINT_CASES))
def test_predict_with_a_bad_checkpoint(name, tmp_path, run_cli):
    prefix, words, culprit = CHECKPOINT_CASES[name](tmp_path)
    image = save(tmp_path / "in.png", good_image())
    code, _, err = run_cli("predict", "--checkpoints_path", prefix, "--input_path", image,
                           "--output_path", tmp_path / "out.png")
    assert words in assert_one_line_error(code, err, culprit)
    assert not (tmp_path / "out.png").exists()


def test_predict_bad_inputs(tmp_path, run_cli, checkpoint):
    args = ["predict", "--checkpoints_path", checkpoint, "--input_path"]
    code, _, err = run_cli(*args, tmp_path / "nope.png", "--output_path", tmp_path / "o.png")
    assert "file not found" in assert_one_line_error(code, err, tmp_path / "nope.png")
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    code, _, err = run_cli(*args, tmp_path / "bad.png", "--output_path", tmp_path / "o.png")
    assert "not a readable image" in assert_one_line_error(code, err, tmp_path / "bad.png")
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(*args, tmp_path / "empty", "--output_path", tmp_path / "o")
    assert "no image files" in assert_one_line_error(code, err, tmp_path / "empty")
    image = save(tmp_path / "ïn put.png", good_image())
    before = open(image, "rb").read()
    code, _, err = run_cli(*args, image, "--output_path", image)
    assert "would overwrite this input image" in assert_one_line_error(code, err, image)
    assert open(image, "rb").read() == before


def test_predict_folder_skips_and_lists_unreadable_images(tmp_path, monkeypatch, run_cli, checkpoint):
    images, _, culprit, _ = make_case("unreadable_image", tmp_path, monkeypatch)
    (images / "0.png").rename(images / "ünïcode 0.PNG")
    code, out, err = run_cli("predict", "--checkpoints_path", checkpoint, "--input_path", images,
                             "--output_path", tmp_path / "out")
    assert code == 1 and "wrote 1 prediction(s)" in out
    (line,) = err.strip().splitlines()
    assert line.startswith("warning: skipped 1 unreadable input(s)") and culprit in line and "Permission denied" in line
    assert os.listdir(tmp_path / "out") == ["ünïcode 0.png"]


def test_train_resume_with_another_n_classes_keeps_the_old_checkpoints(tmp_path, run_cli):
    images, masks = good_dataset(tmp_path / "data")
    prefix = tmp_path / "ck" / "run"
    write_checkpoint(prefix)  # 3 classes, model_class ""
    before = {name: (tmp_path / "ck" / name).read_bytes() for name in os.listdir(tmp_path / "ck")}
    code, _, err = run_cli(*TRAIN, "--n_classes", 4, "--train_images", images, "--train_annotations", masks,
                           "--checkpoints_path", prefix, "--auto_resume_checkpoint")
    line = assert_one_line_error(code, err, config_path(prefix))
    assert "n_classes=3 (the model has 4)" in line and "are for another model" in line
    assert {name: (tmp_path / "ck" / name).read_bytes() for name in os.listdir(tmp_path / "ck")} == before


def test_train_load_weights_file_missing(tmp_path, run_cli):
    images, masks = good_dataset(tmp_path / "data")
    code, _, err = run_cli(*TRAIN, "--train_images", images, "--train_annotations", masks,
                           "--load_weights", tmp_path / "nope.weights.h5")
    assert "weights file not found" in assert_one_line_error(code, err, tmp_path / "nope.weights.h5")


def test_train_grayscale_model_on_colour_images_read_unchanged(tmp_path, run_cli):
    images, masks = good_dataset(tmp_path / "data")
    code, _, err = run_cli(*TRAIN, "--channels", 1, "--read_image_type", -1, "--train_images", images,
                           "--train_annotations", masks, "--checkpoints_path", tmp_path / "ck" / "run")
    line = assert_one_line_error(code, err, images / "0.png")
    assert "image has 3 channel(s) but the model expects 1" in line
    assert not (tmp_path / "ck").exists(), "stopped before writing anything"


def test_train_batch_size_0(tmp_path, run_cli):
    images, masks = good_dataset(tmp_path / "data")
    code, _, err = run_cli(*TRAIN, "--batch_size", 0, "--train_images", images, "--train_annotations", masks)
    assert_one_line_error(code, err, "batch_size=0: must be at least 1")


def test_train_unknown_model_name(tmp_path, run_cli):
    images, masks = good_dataset(tmp_path / "data")
    code, _, err = run_cli("train", "--model_name", "no_such_net", "--n_classes", 3, "--train_images", images,
                           "--train_annotations", masks)
    assert "known: fcn_32" in assert_one_line_error(code, err, "'no_such_net'")


# ------------------------------------------------------------------ --debug
def test_debug_after_the_command_shows_the_exception(tmp_path, monkeypatch, run_cli):
    images, masks, _, _ = make_case("values_over_n_classes", tmp_path, monkeypatch)
    with pytest.raises(errors.MaskValueError):
        run_cli(*TRAIN, "--train_images", images, "--train_annotations", masks, "--debug")
    with pytest.raises(errors.MaskValueError):
        run_cli("--debug", *TRAIN, "--train_images", images, "--train_annotations", masks)


def test_a_real_process_exits_2_without_traceback_and_debug_shows_it(tmp_path):
    command = [sys.executable, "-m", "keras_segmentation", "visualize_dataset", "--images_path",
               str(tmp_path / "nowhere ñ"), "--segs_path", str(tmp_path)]
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    plain = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    assert plain.stderr.strip().splitlines() == [f"error: images_path {tmp_path / 'nowhere ñ'}: folder not found"]
    debug = subprocess.run(command + ["--debug"], capture_output=True, text=True, env=env, timeout=120)
    assert debug.returncode != 0 and "Traceback" in debug.stderr and "PairingError" in debug.stderr
