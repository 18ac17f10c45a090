"""The calibration temperature in a checkpoint config, a run folder's predict.json and a preset's config.json."""

import json

import keras
import pytest

from keras_segmentation.checkpoints import run_folder
from keras_segmentation.checkpoints.config import model_config, read_config, write_config
from keras_segmentation.checkpoints.load import load_model, model_from_config
from keras_segmentation.checkpoints.temperature import read_temperature, write_temperature
from keras_segmentation.errors import CheckpointError
from keras_segmentation.models.segmentation_model import SegmentationModel


def tiny_model():
    x = keras.Input((8, 8, 3))
    return SegmentationModel(x, keras.layers.Conv2D(2, 1, activation="softmax")(x), model_name="")


def test_a_config_keeps_a_temperature_other_than_one_and_the_rebuilt_model_gets_it(tmp_path):
    model = tiny_model()
    assert "temperature" not in model_config(model)  # uncalibrated: the config is as before
    model.temperature = 1.0
    assert "temperature" not in model_config(model)
    model.temperature = 2.25
    write_config(tmp_path / "run", model)
    config = read_config(tmp_path / "run")
    assert config["temperature"] == 2.25
    assert model_from_config(config).temperature == 2.25
    assert not hasattr(model_from_config(model_config(tiny_model())), "temperature")


@pytest.mark.parametrize("value", [0, -1.5, "hot", True, None])
def test_a_config_with_a_bad_temperature_is_a_one_line_error_naming_it(tmp_path, value):
    write_config(tmp_path / "run", tiny_model())
    path = tmp_path / "run_config.json"
    path.write_text(json.dumps(json.loads(path.read_text()) | {"temperature": value}))
    with pytest.raises(CheckpointError, match=r"run_config\.json: (temperature=|key 'temperature' has the wrong type)"):
        read_config(tmp_path / "run")


def test_writing_keeps_the_rest_of_the_file_and_makes_a_missing_predict_json(tmp_path):
    write_config(tmp_path / "run", tiny_model(), seed=3)
    config = tmp_path / "run_config.json"
    before = json.loads(config.read_text())
    write_temperature(config, 1.5)
    assert json.loads(config.read_text()) == before | {"temperature": 1.5}
    assert read_temperature(config) == 1.5
    predict = tmp_path / "predict.json"
    assert read_temperature(predict) == 1.0  # no file: no rescaling
    write_temperature(predict, 0.8)
    assert json.loads(predict.read_text()) == {"temperature": 0.8}
    predict.write_text(json.dumps({"mode": "slide", "overlap": 0.5}))
    write_temperature(predict, 1.25)
    assert json.loads(predict.read_text()) == {"mode": "slide", "overlap": 0.5, "temperature": 1.25}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["predict.json", "run_config.json"]  # no temp file left


def test_a_damaged_file_is_never_rewritten_and_a_bad_value_is_refused(tmp_path):
    config = tmp_path / "run_config.json"
    config.write_text('{"model_class": "unet_mini"')  # cut short
    with pytest.raises(CheckpointError, match="run_config.json: not valid JSON"):
        write_temperature(config, 1.5)
    assert config.read_text() == '{"model_class": "unet_mini"'
    predict = tmp_path / "predict.json"
    predict.write_text(json.dumps({"temperature": -2}))
    with pytest.raises(CheckpointError, match=r"predict\.json: temperature=-2: expected a positive number"):
        read_temperature(predict)
    with pytest.raises(Exception, match="temperature=0"):
        write_temperature(predict, 0)
    assert json.loads(predict.read_text()) == {"temperature": -2}


def test_a_run_folders_model_file_loads_with_the_folders_temperature(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "plan.json").write_text("{}")
    tiny_model().save(run / "model.keras")
    assert run_folder.temperature_file(run) == str(run / "predict.json")
    assert run_folder.temperature_file(run / "model.keras") == str(run / "predict.json")
    assert run_folder.temperature_file(tmp_path / "elsewhere.keras") is None
    assert load_model(run / "model.keras").temperature == 1.0
    (run / "predict.json").write_text(json.dumps({"flip_tta": True, "temperature": 1.6}))
    assert load_model(run / "model.keras").temperature == 1.6
    assert run_folder.prediction_options(run) == {"flip_tta": True}
    tiny_model().save(tmp_path / "alone.keras")
    assert not hasattr(load_model(tmp_path / "alone.keras"), "temperature")
