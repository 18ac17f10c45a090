"""``keras_segmentation suggest``: writes the pre-labels, prints a ranking without --out, one-line errors."""

import keras
import pytest
from tinydata import write_tiny_dataset

from keras_segmentation.data.convert import convert
from keras_segmentation.models.segmentation_model import SegmentationModel


@pytest.fixture
def saved_model(tmp_path):
    """A tiny model saved as .keras, with its class names."""
    keras.utils.set_random_seed(0)
    x = keras.Input((32, 48, 3))
    h = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
    y = keras.layers.Softmax()(keras.layers.Conv2D(3, 1)(h))
    path = tmp_path / "tiny.keras"
    SegmentationModel(x, y, model_name="tiny", normalization="divide", class_names=["bg", "a", "b"]).save(path)
    return path


@pytest.fixture
def pool(tmp_path):
    return write_tiny_dataset(tmp_path / "data", n_images=5)[0]


def test_suggest_writes_labelme_files_that_convert_reads(run_cli, saved_model, pool, tmp_path):
    out = tmp_path / "to_label"
    code, stdout, stderr = run_cli("suggest", "--model", saved_model, "--pool", pool, "--n", 2, "--out", out,
                                   "--precision", "float32")
    assert code == 0, stderr
    assert stdout.startswith("chose 2 of 5 image(s) by uncertainty+diversity (entropy); wrote 2 labelme pre-label(s)")
    assert f"convert --from labelme {out} --labels {out}/labels.txt" in stdout
    assert len(list(out.glob("*.json"))) == 2 and (out / "suggestions.csv").is_file()
    result = convert("labelme", out, tmp_path / "dataset", labels=out / "labels.txt")
    assert result and result.n_images == 2 and result.class_names == ["bg", "a", "b"]


def test_without_out_the_ranking_is_printed(run_cli, saved_model, pool, tmp_path):
    code, stdout, stderr = run_cli("suggest", "--model", saved_model, "--pool", pool, "--n", 3,
                                   "--strategy", "uncertainty", "--format", "cvat")
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert [line.split("\t")[0] for line in lines[:3]] == ["1", "2", "3"]
    scores = [float(line.split("\t")[2]) for line in lines[:3]]
    assert scores == sorted(scores, reverse=True) and lines[3].startswith("chose 3 of 5 image(s) by uncertainty")
    assert sorted(tmp_path.iterdir()) == [tmp_path / "data", tmp_path / "tiny.keras"]


@pytest.mark.parametrize("arguments, message", [
    (["--pool", "{tmp}/nowhere"], "error: pool {tmp}/nowhere: folder not found"),
    (["--pool", "{pool}", "--format", "yolo"], "argument --format: invalid choice: 'yolo'"),
    (["--pool", "{pool}", "--strategy", "best"], "argument --strategy: invalid choice: 'best'"),
])
def test_bad_input_is_one_line_exit_2(run_cli, saved_model, pool, tmp_path, arguments, message):
    arguments = [a.format(tmp=tmp_path, pool=pool) for a in arguments]
    code, _, stderr = run_cli("suggest", "--model", saved_model, *arguments)
    assert code == 2 and message.format(tmp=tmp_path) in stderr and stderr.count("\n") == 1
