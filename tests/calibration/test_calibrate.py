"""calibrate on a trained model: NLL not worse, the temperature kept where the model lives and given back on loading;
the command's line; one-line errors before any prediction."""

import json
import re
import shutil

import cv2
import keras
import numpy as np
import pytest
from tinydata import write_tiny_dataset

from keras_segmentation.calibration import calibrate
from keras_segmentation.checkpoints.load import load_model, load_model_from_checkpoint
from keras_segmentation.errors import DataLoaderError, ModelConfigError, PairingError, SizeMismatchError
from keras_segmentation.export import export_model
from keras_segmentation.export.formats import load_engine
from keras_segmentation.inference.predictor import Predictor, model_or_checkpoint
from keras_segmentation.models.unet import unet_mini
from keras_segmentation.presets import from_preset, save_preset
from keras_segmentation.train import train


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """``(images, masks, checkpoint folder)``: a unet_mini trained 2 epochs on the tiny dataset (over-confident on it)."""
    root = tmp_path_factory.mktemp("calibrate")
    images, masks = write_tiny_dataset(root / "data")
    keras.utils.set_random_seed(0)
    model = unet_mini(3, 32, 48)
    train(model, images, masks, checkpoints_path=str(root / "ckpt" / "mini"), epochs=2, batch_size=3, seed=0,
          verbose=0, workers=2, jit_compile=False)
    return images, masks, root / "ckpt"


@pytest.fixture
def prefix(trained, tmp_path):
    """A copy of the trained checkpoint (calibrating writes its config)."""
    shutil.copytree(trained[2], tmp_path / "ckpt")
    return tmp_path / "ckpt" / "mini"


def folders(trained):
    return dict(inp_images_dir=trained[0], annotations_dir=trained[1], progress=False)


def read(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_a_checkpoint_gets_a_temperature_that_does_not_worsen_the_nll_and_loads_with_it(trained, prefix):
    config = prefix.with_name("mini_config.json")
    before = read(config)
    result = calibrate(checkpoints_path=str(prefix), **folders(trained))
    assert result.temperature != 1.0 and 0.05 <= result.temperature <= 20
    assert result.nll_after <= result.nll_before + 1e-9 and result.ece_after < result.ece_before
    assert result.n_pixels == result.n_valid_pixels == 6 * 32 * 48  # fewer than sample_pixels: every pixel
    assert result.stored_in == str(config)
    assert read(config) == before | {"temperature": pytest.approx(result.temperature)}  # the rest kept
    assert load_model_from_checkpoint(str(prefix)).temperature == pytest.approx(result.temperature)
    assert result.line() == (f"temperature {result.temperature:.3f}: ECE {result.ece_before:.4f} -> "
                             f"{result.ece_after:.4f} (NLL {result.nll_before:.4f} -> {result.nll_after:.4f})")
    again = calibrate(checkpoints_path=str(prefix), save=False, **folders(trained))  # its own temperature set aside
    assert again.temperature == pytest.approx(result.temperature) and again.ece_before == result.ece_before
    json.dumps(again.to_json())  # JSON-ready, bins included
    assert len(again.to_json()["bins_after"]) == 15


def test_save_false_writes_nothing_and_leaves_the_model_alone(trained, prefix):
    config = prefix.with_name("mini_config.json")
    text = config.read_bytes()
    model = load_model_from_checkpoint(str(prefix))
    result = calibrate(model, save=False, **folders(trained))
    assert result.stored_in is None and config.read_bytes() == text and not hasattr(model, "temperature")
    kept = calibrate(model, **folders(trained))  # a model object: the temperature is set on it, no file
    assert kept.stored_in is None and model.temperature == pytest.approx(kept.temperature)
    assert config.read_bytes() == text


def test_a_run_folder_keeps_it_in_predict_json_and_a_preset_of_it_in_config_json(trained, prefix, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "plan.json").write_text("{}")
    (run / "predict.json").write_text(json.dumps({"flip_tta": False, "ignore_index": None}))
    load_model_from_checkpoint(str(prefix)).save(run / "model.keras")
    result = calibrate(str(run), **folders(trained))
    assert read(run / "predict.json") == {"flip_tta": False, "ignore_index": None,
                                          "temperature": pytest.approx(result.temperature)}
    loaded = model_or_checkpoint(str(run), None)
    assert loaded.temperature == pytest.approx(result.temperature)
    assert loaded.run_options == {"flip_tta": False, "ignore_index": None}  # the temperature is no prediction option
    preset = save_preset(str(run), tmp_path / "preset")
    assert read(tmp_path / "preset" / "config.json")["temperature"] == pytest.approx(result.temperature)
    assert "temperature" not in read(tmp_path / "preset" / "preprocessor.json")["prediction"]
    assert from_preset(preset).temperature == pytest.approx(result.temperature)


def test_a_preset_keeps_it_in_its_config(trained, prefix, tmp_path):
    preset = save_preset(str(prefix), tmp_path / "preset")
    weights = (tmp_path / "preset" / "model.weights.h5").read_bytes()
    result = calibrate(preset, **folders(trained))
    assert result.stored_in == str(tmp_path / "preset" / "config.json")
    assert read(tmp_path / "preset" / "config.json")["temperature"] == pytest.approx(result.temperature)
    assert (tmp_path / "preset" / "model.weights.h5").read_bytes() == weights
    assert from_preset(preset).temperature == pytest.approx(result.temperature)


def test_an_export_carries_the_models_temperature_and_calibrating_it_rewrites_its_metadata(trained, prefix, tmp_path):
    model = load_model_from_checkpoint(str(prefix))
    model.temperature = 1.7
    exported = export_model(model, tmp_path / "mini.keras", "keras", parity=False)
    metadata = read(tmp_path / "mini.keras.json")
    assert metadata["temperature"] == 1.7 and exported.metadata_path == str(tmp_path / "mini.keras.json")
    assert load_engine(str(tmp_path / "mini.keras")).temperature == 1.7
    result = calibrate(str(tmp_path / "mini.keras"), **folders(trained))
    assert result.stored_in == str(tmp_path / "mini.keras.json")
    assert read(tmp_path / "mini.keras.json") == metadata | {"temperature": pytest.approx(result.temperature)}
    assert load_engine(str(tmp_path / "mini.keras")).temperature == pytest.approx(result.temperature)
    # the same model predicts the same probabilities exported: the same temperature fits it
    assert result.temperature == pytest.approx(calibrate(model, save=False, precision="float32",
                                                         **folders(trained)).temperature, rel=1e-3)


def test_a_keras_file_saved_on_its_own_has_no_place_for_it(trained, prefix, tmp_path):
    load_model_from_checkpoint(str(prefix)).save(tmp_path / "alone.keras")
    with pytest.raises(ModelConfigError, match=r"alone.keras: a model file with no place to keep a temperature"):
        calibrate(str(tmp_path / "alone.keras"), **folders(trained))
    assert calibrate(str(tmp_path / "alone.keras"), save=False, **folders(trained)).stored_in is None
    assert not hasattr(load_model(tmp_path / "alone.keras"), "temperature")


def test_the_command_prints_the_line_and_the_file_it_wrote(trained, prefix, run_cli):
    code, out, err = run_cli("calibrate", "--checkpoints_path", prefix, "--images", trained[0], "--annotations",
                             trained[1], "--batch_size", "3")
    assert code == 0, err
    line, wrote = out.strip().splitlines()
    match = re.fullmatch(r"temperature (\d+\.\d{3}): ECE (\d\.\d{4}) -> (\d\.\d{4}) \(NLL (\d\.\d{4}) -> (\d\.\d{4})\)",
                         line)
    assert match, line
    assert float(match[3]) < float(match[2]) and float(match[5]) <= float(match[4])
    assert wrote == f"wrote {prefix}_config.json"
    assert read(prefix.with_name("mini_config.json"))["temperature"] == pytest.approx(float(match[1]), abs=1e-3)


def test_bad_inputs_are_one_line_errors_before_any_prediction(trained, prefix, tmp_path, run_cli, monkeypatch):
    def no_prediction(*args, **kwargs):
        raise AssertionError("predicted before the inputs were checked")

    monkeypatch.setattr(Predictor, "run", no_prediction)
    images, masks = trained[0], trained[1]
    cases = [
        (dict(inp_images_dir=tmp_path / "missing", annotations_dir=masks), PairingError, "missing: folder not found"),
        (dict(inp_images_dir=images, annotations_dir=None), ModelConfigError, "needs inp_images_dir and annotations_dir"),
        (dict(inp_images_dir=images, annotations_dir=masks, sample_pixels=0), ModelConfigError, "sample_pixels=0"),
    ]
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    shutil.copy(next(images.iterdir()), lonely / "no_mask.png")
    cases.append((dict(inp_images_dir=lonely, annotations_dir=masks), PairingError, "pairing problem"))
    void = tmp_path / "void"
    void.mkdir()
    for mask in masks.iterdir():
        cv2.imwrite(str(void / mask.name), np.full((32, 48), 2, np.uint8))
    cases.append((dict(inp_images_dir=images, annotations_dir=void, ignore_index=2), DataLoaderError,
                  "no pixel to calibrate on"))
    bad = tmp_path / "bad"
    bad.mkdir()
    for mask in masks.iterdir():
        cv2.imwrite(str(bad / mask.name), np.full((32, 48), 7, np.uint8))
    cases.append((dict(inp_images_dir=images, annotations_dir=bad), DataLoaderError, "7"))
    text = prefix.with_name("mini_config.json").read_bytes()
    for arguments, error, message in cases:
        with pytest.raises(error, match=re.escape(message)) as raised:
            calibrate(checkpoints_path=str(prefix), progress=False, **arguments)
        assert "\n" not in str(raised.value)
    assert prefix.with_name("mini_config.json").read_bytes() == text
    code, out, err = run_cli("calibrate", "--checkpoints_path", prefix, "--images", tmp_path / "missing",
                             "--annotations", masks)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "missing" in err


def test_a_mask_of_another_size_than_its_image_is_named(trained, prefix, tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    for mask in trained[1].iterdir():
        cv2.imwrite(str(small / mask.name), np.zeros((16, 24), np.uint8))
    with pytest.raises(SizeMismatchError, match="mask is 24x16 but the image is 48x32"):
        calibrate(checkpoints_path=str(prefix), inp_images_dir=trained[0], annotations_dir=small, progress=False)
