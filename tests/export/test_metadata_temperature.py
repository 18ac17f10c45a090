"""An export carries the model's calibration temperature in its metadata; the runner reads it and can rewrite it."""

import json

import pytest
from exportfiles import small_model

from keras_segmentation.errors import ExportError
from keras_segmentation.export import export_model
from keras_segmentation.export.formats import load_engine, model_for_engine
from keras_segmentation.export.metadata import describe


@pytest.fixture
def model():
    built = small_model("unet", "vanilla")
    yield built
    if hasattr(built, "temperature"):
        del built.temperature  # the model is shared by the session's export tests


def test_the_metadata_says_the_temperature_and_the_runner_exposes_it(model, tmp_path):
    assert describe(model, "keras", "float32", False)["temperature"] == 1.0
    model.temperature = 2.5
    export_model(model, tmp_path / "model.keras", "keras", parity=False)
    metadata = json.loads((tmp_path / "model.keras.json").read_text())
    assert metadata["temperature"] == 2.5
    engine = load_engine(str(tmp_path / "model.keras"))
    assert engine.temperature == 2.5
    assert engine.store_temperature(1.25) == str(tmp_path / "model.keras.json")
    assert json.loads((tmp_path / "model.keras.json").read_text()) == metadata | {"temperature": 1.25}
    assert engine.temperature == 1.25 and load_engine(str(tmp_path / "model.keras")).temperature == 1.25
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras", "model.keras.json"]  # no temp file left


def test_a_bad_temperature_in_the_metadata_is_a_one_line_error_naming_it(model, tmp_path):
    export_model(model, tmp_path / "model.keras", "keras", parity=False)
    path = tmp_path / "model.keras.json"
    path.write_text(json.dumps(json.loads(path.read_text()) | {"temperature": "warm"}))
    with pytest.raises(ExportError, match=r"model\.keras\.json: temperature='warm': expected a positive number"):
        load_engine(str(tmp_path / "model.keras"))


@pytest.mark.slow  # an ONNX conversion: about 15 s
def test_a_keras_model_run_by_another_engine_keeps_its_temperature(model):
    pytest.importorskip("onnxruntime")
    model.temperature = 0.75
    assert model_for_engine(model, "onnxruntime").temperature == 0.75
