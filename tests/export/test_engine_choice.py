"""``engine="auto"``: ONNX Runtime only when it is timed faster with the same labels, else Keras; one line says which."""

import cv2
import keras
import numpy as np
import pytest
from exportfiles import small_model

from keras_segmentation.evaluation import evaluate
from keras_segmentation.export import export_model
from keras_segmentation.export.formats import load_engine
from keras_segmentation.inference import engine_choice, predict_multiple
from keras_segmentation.inference.engine_choice import choose_engine
from keras_segmentation.models import build_model

OPTIONS = {"batch_size": 2, "precision": "auto"}


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Six smooth 64x64 images and random masks (``images/``, ``masks/``)."""
    root = tmp_path_factory.mktemp("choice")
    (root / "images").mkdir()
    (root / "masks").mkdir()
    rng = np.random.default_rng(2)
    for index in range(6):
        image = cv2.GaussianBlur(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), (9, 9), 0)
        cv2.imwrite(str(root / "images" / f"{index}.png"), image)
        cv2.imwrite(str(root / "masks" / f"{index}.png"), rng.integers(0, 3, (64, 64), dtype=np.uint8))
    return root


def _sources(images):
    return sorted(str(path) for path in (images / "images").iterdir())


@pytest.fixture
def always_try(monkeypatch):
    """Time and export for any number of images, however fast Keras is."""
    monkeypatch.setattr(engine_choice, "MIN_IMAGES", 1)
    monkeypatch.setattr(engine_choice, "WORTH_TRYING_S", 0.0)


def test_few_images_stay_on_keras_without_timing(images, monkeypatch):
    monkeypatch.setattr(engine_choice, "_timed", lambda *args, **kwargs: pytest.fail("timed a 6-image run"))
    model = small_model("unet", "vanilla")
    chosen, line = choose_engine(model, _sources(images), OPTIONS, say=None)
    assert chosen is model
    assert line == "engine: keras (tensorflow); 6 images: too few to time another engine"


def test_an_exported_file_keeps_its_engine_and_a_named_precision_keeps_keras(images, tmp_path, always_try):
    path = tmp_path / "model.onnx"
    export_model(small_model("unet", "vanilla"), path, "onnx", parity=False)
    exported = load_engine(path)
    assert choose_engine(exported, _sources(images), OPTIONS, say=None) == (exported,
                                                                           "engine: onnxruntime, the exported model's own")
    model = small_model("unet", "vanilla")
    chosen, line = choose_engine(model, _sources(images), {**OPTIONS, "precision": "float32"}, say=None)
    assert chosen is model and line.endswith("precision='float32' asked for")


def test_a_fast_enough_run_is_not_worth_an_export(images, monkeypatch):
    monkeypatch.setattr(engine_choice, "MIN_IMAGES", 1)
    monkeypatch.setattr(engine_choice, "WORTH_TRYING_S", 1e6)
    monkeypatch.setattr("keras_segmentation.export.formats.model_for_engine", lambda *a: pytest.fail("exported"))
    model = small_model("unet", "vanilla")
    chosen, line = choose_engine(model, _sources(images), OPTIONS, say=None)
    assert chosen is model and "too few to pay for an export" in line


def test_onnx_runtime_is_chosen_when_faster_with_the_same_labels(images, tmp_path, always_try, monkeypatch, capsys):
    monkeypatch.setattr(engine_choice, "MIN_SPEEDUP", 0.0)  # whatever the timing on this machine
    keras.utils.set_random_seed(0)
    model = build_model("unet", "vanilla", 3, 64, 64)  # its own: the colours set below stay with it
    model.class_colors = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]  # as a run folder's model carries them
    chosen, line = choose_engine(model, _sources(images), {**OPTIONS, "precision": None}, say=None)
    assert chosen.engine == "onnxruntime" and chosen.class_colors == model.class_colors
    assert line.startswith("engine: onnxruntime ") and "labels 100.00 % the same" in line

    # predict_multiple's default engine makes the same choice, says it, and writes Keras' label maps
    expected = predict_multiple(model, inp_dir=str(images / "images"), progress=False, precision=None,
                                engine="keras")
    written = predict_multiple(model, inp_dir=str(images / "images"), out_dir=str(tmp_path / "out"), precision=None)
    assert capsys.readouterr().out.startswith("engine: onnxruntime ")
    for mine, theirs in zip(written, expected):
        np.testing.assert_array_equal(mine, theirs)


def test_an_engine_slower_or_with_other_labels_is_not_chosen(images, always_try, monkeypatch):
    model = small_model("unet", "vanilla")
    monkeypatch.setattr(engine_choice, "MIN_SPEEDUP", 1e9)
    chosen, line = choose_engine(model, _sources(images), {**OPTIONS, "precision": None}, say=None)
    assert chosen is model and line.startswith("engine: keras (tensorflow); onnxruntime ")

    # an "engine" whose labels differ (another network) is refused however fast it is
    monkeypatch.setattr(engine_choice, "MIN_SPEEDUP", 0.0)
    keras.utils.set_random_seed(7)
    other = build_model("unet", "vanilla", 3, 64, 64)
    monkeypatch.setattr("keras_segmentation.export.formats.model_for_engine", lambda model, engine: other)
    chosen, line = choose_engine(model, _sources(images), {**OPTIONS, "precision": None}, say=None)
    agreement = float(line.split("labels ")[1].split(" %")[0])
    assert chosen is model and agreement < 100 * engine_choice.MIN_AGREEMENT


def test_evaluate_with_the_chosen_engine_scores_like_keras(images, always_try, monkeypatch, capsys):
    monkeypatch.setattr(engine_choice, "MIN_SPEEDUP", 0.0)
    model = small_model("unet", "vanilla")
    folders = dict(inp_images_dir=str(images / "images"), annotations_dir=str(images / "masks"), precision=None)
    expected = evaluate(model, engine="keras", progress=False, **folders)
    scores = evaluate(model, **folders)
    assert capsys.readouterr().out.startswith("engine: onnxruntime ")
    assert scores["mean_IU"] == pytest.approx(expected["mean_IU"], abs=1e-9)
