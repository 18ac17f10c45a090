"""``export`` and ``--model`` / ``--engine`` from the command line: files, printed parity, exit codes."""

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
from tinydata import write_tiny_dataset

from keras_segmentation.models.unet import unet_mini
from keras_segmentation.train import train


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A unet_mini trained for one epoch on the tiny dataset: ``(prefix, images, masks)``."""
    root = tmp_path_factory.mktemp("cli")
    images, masks = write_tiny_dataset(root / "data")
    prefix = str(root / "ckpt" / "mini")
    model = unet_mini(3, input_height=32, input_width=48)
    train(model, str(images), str(masks), checkpoints_path=prefix, epochs=1, batch_size=3, verify_dataset=False,
          ignore_index=2)
    return prefix, str(images), str(masks)


def test_export_int8_prints_parity_and_mIoU_change(checkpoint, run_cli, tmp_path):
    prefix, images, masks = checkpoint
    output = tmp_path / "mini_int8.onnx"
    code, out, err = run_cli("export", "--checkpoints_path", prefix, "--format", "onnx", "--precision", "int8",
                             "--calibration_images", images, "--calibration_count", "4", "--parity_images", images,
                             "--parity_annotations", masks, "--ignore_index", "2", "--output", output)
    assert code == 0, err
    assert f"wrote {output}" in out and f"{output}.json" in out
    assert "onnxruntime int8 vs keras on 6 images: max |Δprob|" in out and "mIoU" in out
    assert json.loads(open(f"{output}.json").read())["precision"] == "int8"


def test_predict_and_evaluate_with_an_exported_model(checkpoint, run_cli, tmp_path):
    prefix, images, masks = checkpoint
    model = tmp_path / "mini.tflite"
    assert run_cli("export", "--checkpoints_path", prefix, "--format", "litert", "--output", model)[0] == 0
    assert run_cli("predict", "--model", model, "--input_path", images, "--output_path", tmp_path / "lite")[0] == 0
    assert run_cli("predict", "--checkpoints_path", prefix, "--input_path", images,
                   "--output_path", tmp_path / "keras", "--precision", "float32")[0] == 0
    for name in sorted(os.listdir(images)):
        lite = cv2.imread(str(tmp_path / "lite" / name), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(lite, cv2.imread(str(tmp_path / "keras" / name), cv2.IMREAD_UNCHANGED))
    scores = []
    for source in (["--model", model], ["--checkpoints_path", prefix, "--engine", "onnxruntime"]):
        code, out, err = run_cli("evaluate_model", *source, "--images_path", images, "--segs_path", masks,
                                 "--ignore_index", "2", "--json", tmp_path / "scores.json")
        assert code == 0, err
        scores.append(json.loads((tmp_path / "scores.json").read_text())["mean_IU"])
    assert scores[0] == pytest.approx(scores[1], abs=1e-9)


def test_float32_parity_failure_exits_1_with_one_line(checkpoint, run_cli, tmp_path, monkeypatch):
    from keras_segmentation.export import parity

    monkeypatch.setattr(parity, "FLOAT32_TOLERANCE", 0.0)  # ONNX Runtime differs from TensorFlow by ~1e-7
    code, out, err = run_cli("export", "--checkpoints_path", checkpoint[0], "--format", "onnx",
                             "--output", tmp_path / "m.onnx")
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "float32 export differs from the Keras model by" in err


@pytest.mark.parametrize("argv, message", [
    (["--format", "keras", "--precision", "int8"], "format='keras' is written in float32 only"),
    (["--format", "onnx", "--precision", "int8"], "int8 needs calibration images"),
    (["--format", "litert", "--parity_annotations", "masks/"], "parity_annotations_dir needs parity_images_dir"),
])
def test_export_errors_are_one_line(checkpoint, run_cli, tmp_path, argv, message):
    code, out, err = run_cli("export", "--checkpoints_path", checkpoint[0], "--output", tmp_path / "m", *argv)
    assert code == 2 and message in err
    assert len(err.strip().splitlines()) == 1


def test_the_cli_reads_formats_precisions_and_engines_from_the_registry():
    from keras_segmentation.cli import arguments
    from keras_segmentation.cli import export as cli_export
    from keras_segmentation.export import formats

    assert tuple(cli_export.FORMATS) == formats.FORMATS and tuple(cli_export.PRECISIONS) == formats.PRECISIONS
    engines = ("auto", "keras", "litert", "onnxruntime", "savedmodel")
    assert tuple(arguments.RegisteredNames("ENGINES")) == formats.ENGINES == engines
    assert "onnx" in cli_export.FORMATS and "pdf" not in cli_export.FORMATS
    assert arguments.runs_without_keras("m.onnx") and arguments.runs_without_keras("m.TFLITE")
    assert not arguments.runs_without_keras("m.keras") and not arguments.runs_without_keras("hf://org/name")


def test_the_command_lines_help_does_not_import_the_format_registry():
    code = ("import sys, contextlib, io\nfrom keras_segmentation.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n    main(['--help'])\n"
            "print('keras_segmentation.export.formats' in sys.modules, 'cv2' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]


def test_export_under_a_file_fails_before_any_work(checkpoint, run_cli, tmp_path):
    from keras_segmentation.errors import ExportError
    from keras_segmentation.export import export_model

    (tmp_path / "file").write_text("")
    output = tmp_path / "file" / "m.onnx"
    code, out, err = run_cli("export", "--checkpoints_path", checkpoint[0], "--format", "onnx", "--output", output)
    assert code == 2 and f"error: {output}: cannot write there, {tmp_path / 'file'} is a file" in err
    assert len(err.strip().splitlines()) == 1
    with pytest.raises(ExportError, match="is a file"):  # before the (missing) checkpoint is read
        export_model(output=output, checkpoints_path=tmp_path / "missing")


def test_calibration_count_below_1_is_refused_up_front(checkpoint, run_cli, tmp_path):
    prefix, images, _ = checkpoint
    code, out, err = run_cli("export", "--checkpoints_path", prefix, "--format", "onnx", "--precision", "int8",
                             "--calibration_images", images, "--calibration_count", "0", "--output", tmp_path / "m")
    assert code == 2 and "error: calibration_count=0: " in err and "--calibration_count" in err
    assert len(err.strip().splitlines()) == 1 and not os.listdir(tmp_path)
