"""Mixed precision: the policy of each layer, float32 outputs, checkpoints across precisions, "auto", the CLI."""

import json
import warnings

import keras
import numpy as np
import pytest

from keras_segmentation import precision as precision_module
from keras_segmentation.checkpoints.load import load_model_from_checkpoint
from keras_segmentation.errors import ModelConfigError
from keras_segmentation.inference.predictor import Predictor
from keras_segmentation.models import resolve_model
from keras_segmentation.models.model_utils import get_segmentation_model
from keras_segmentation.models.unet import unet_mini
from keras_segmentation.precision import for_prediction, model_precision, resolve_precision, with_precision
from keras_segmentation.predict import predict
from keras_segmentation.training import train


@pytest.mark.parametrize(
    ("flags", "gpus", "expected"),
    [
        ({"avx2", "avx512f", "avx512_bf16"}, [], "mixed_bfloat16"),
        ({"avx2", "amx_bf16"}, [], "mixed_bfloat16"),
        ({"avx2", "avx512f", "avx512_vnni"}, [], "float32"),
        (set(), [(8, 0)], "mixed_bfloat16"),
        ({"avx512_bf16"}, [(7, 5)], "float32"),  # the GPU computes: its capability decides
    ],
)
def test_auto_picks_bfloat16_only_on_native_hardware(flags, gpus, expected):
    assert resolve_precision("auto", flags=flags, gpus=gpus, backend="tensorflow", environ={}) == expected
    assert resolve_precision("mixed_float16", flags=flags, gpus=gpus) == "mixed_float16"


@pytest.mark.parametrize(("backend", "environ"), [("jax", {}), ("torch", {}), ("tensorflow", {"TF_ENABLE_ONEDNN_OPTS": "0"})])
def test_auto_keeps_float32_on_a_cpu_without_onednn_bfloat16_kernels(backend, environ):
    assert resolve_precision("auto", flags={"amx_bf16"}, gpus=[], backend=backend, environ=environ) == "float32"


def test_auto_keeps_mix_transformer_models_in_float32_on_a_cpu_only():
    segformer, unet = resolve_model("segformer_b0", 3, 64, 64), unet_mini(3, 32, 32)
    cpu = dict(flags={"amx_bf16"}, gpus=[], backend="tensorflow", environ={})
    assert resolve_precision("auto", model=segformer, **cpu) == "float32"  # 0.46x as fast in bfloat16 on a CPU
    assert resolve_precision("auto", model=unet, **cpu) == "mixed_bfloat16"
    assert resolve_precision("auto", model=segformer, flags=set(), gpus=[(8, 0)]) == "mixed_bfloat16"
    assert resolve_precision("mixed_bfloat16", model=segformer, **cpu) == "mixed_bfloat16"  # asked for by name


@pytest.mark.parametrize(("flags", "expected"), [({"avx2", "amx_bf16"}, "mixed_bfloat16"), ({"avx2"}, "float32")])
def test_prediction_defaults_to_auto(monkeypatch, flags, expected):
    monkeypatch.setattr(precision_module, "cpu_flags", lambda: flags)
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    model = unet_mini(3, 32, 32)
    assert model_precision(Predictor(model).model) == expected
    assert Predictor(model, precision=None).model is model


def test_prediction_copies_are_kept_per_policy_the_model_computes_in(monkeypatch):
    monkeypatch.setattr(precision_module, "cpu_flags", lambda: {"amx_bf16"})  # "auto" alone: bfloat16
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    half = with_precision(unet_mini(3, 32, 32), "mixed_float16")
    assert for_prediction(half, "auto") is half  # a mixed model keeps its own precision
    assert model_precision(for_prediction(half, "mixed_bfloat16")) == "mixed_bfloat16"  # not the "auto" entry


def test_prediction_copies_are_kept_and_get_the_models_current_weights():
    model = unet_mini(3, 32, 32)
    fast = for_prediction(model, "mixed_bfloat16")
    assert model_precision(fast) == "mixed_bfloat16" and for_prediction(model, "mixed_bfloat16") is fast
    assert for_prediction(model, "float32") is model
    model.set_weights([w + 1 for w in model.get_weights()])  # e.g. trained further
    for a, b in zip(for_prediction(model, "mixed_bfloat16").get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("flags", "expected"), [({"avx2", "amx_bf16"}, "mixed_bfloat16"), ({"avx2"}, "float32")])
def test_training_defaults_to_auto(tmp_path, tiny_dataset, monkeypatch, flags, expected):
    monkeypatch.setattr(precision_module, "cpu_flags", lambda: flags)
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    model = unet_mini(3, 32, 48)
    train(model, *tiny_dataset, epochs=1, steps_per_epoch=1, verbose=0, checkpoints_path=str(tmp_path / "run"))
    assert json.loads((tmp_path / "run_config.json").read_text())["precision"] == expected
    assert model_precision(model) == "float32"  # the model given keeps its own precision and gets the weights


def test_auto_keeps_a_model_built_in_a_mixed_precision(tmp_path, tiny_dataset, monkeypatch):
    monkeypatch.setattr(precision_module, "cpu_flags", lambda: {"avx2"})  # where "auto" alone would pick float32
    model = with_precision(unet_mini(3, 32, 48), "mixed_float16")
    train(model, *tiny_dataset, epochs=1, steps_per_epoch=1, verbose=0, checkpoints_path=str(tmp_path / "run"))
    assert json.loads((tmp_path / "run_config.json").read_text())["precision"] == "mixed_float16"


@keras.saving.register_keras_serializable(package="test_precision")
class Unrebuildable(keras.layers.Layer):
    """A layer built around a Python function, which has no config: Keras cannot rebuild it."""

    def __init__(self, function, **kwargs):
        super().__init__(**kwargs)
        self.function = function

    def call(self, x):
        return self.function(x)


def unrebuildable_model():
    inputs = keras.Input((32, 48, 3))
    hidden = Unrebuildable(lambda x: x * 0.5)(keras.layers.Conv2D(3, 3, padding="same")(inputs))
    return get_segmentation_model(inputs, keras.layers.Softmax()(hidden))


def test_auto_predicts_with_a_model_it_cannot_rebuild_and_tries_once(monkeypatch):
    monkeypatch.setattr(precision_module, "cpu_flags", lambda: {"amx_bf16"})
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    model = unrebuildable_model()
    with pytest.warns(UserWarning, match="cannot be rebuilt in mixed_bfloat16"):
        assert for_prediction(model, "auto") is model
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the second call neither retries nor warns again
        assert for_prediction(model, "auto") is model


def test_auto_trains_a_model_it_cannot_rebuild_in_its_own_precision(tiny_dataset, monkeypatch):
    monkeypatch.setattr(precision_module, "cpu_flags", lambda: {"amx_bf16"})
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    model = unrebuildable_model()
    with pytest.warns(UserWarning, match="cannot be rebuilt in mixed_bfloat16"):
        history = train(model, *tiny_dataset, epochs=1, steps_per_epoch=1, verbose=0)
    assert model_precision(model) == "float32" and len(history.history["loss"]) == 1
    with pytest.raises(NotImplementedError):  # asked for explicitly, the failure is the caller's to see
        train(model, *tiny_dataset, epochs=1, steps_per_epoch=1, verbose=0, precision="mixed_bfloat16")


def test_an_unknown_precision_is_a_one_line_error():
    with pytest.raises(ModelConfigError, match="precision='bf16': choose one of float32, mixed_bfloat16"):
        resolve_precision("bf16")


def test_layers_compute_in_bfloat16_the_softmax_and_outputs_stay_float32():
    model = unet_mini(3, 32, 32)
    fast = with_precision(model, "mixed_bfloat16")
    assert model_precision(model) == "float32" and model_precision(fast) == "mixed_bfloat16"
    policies = {layer.name: layer.dtype_policy.name for layer in fast.layers if layer.weights}
    assert set(policies.values()) == {"mixed_bfloat16"}
    assert fast.layers[-1].dtype_policy.name == "float32" and fast.output.dtype == "float32"
    assert all(v.dtype == "float32" for v in fast.weights)  # variables stay float32: checkpoints fit any precision
    assert with_precision(model, "float32") is model and with_precision(fast, "mixed_bfloat16") is fast
    picture = np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    _, plain = predict(model, inp=picture, return_probabilities=True, precision="float32")
    _, half = predict(model, inp=picture, return_probabilities=True, precision="mixed_bfloat16")
    # bfloat16 keeps 8 bits of mantissa: probabilities move by up to a few hundredths on this untrained net
    assert half.dtype == np.float32 and 0 < np.abs(plain - half).mean() < 0.01 and np.abs(plain - half).max() < 0.1


def test_a_bfloat16_trained_checkpoint_predicts_in_float32_and_back(tmp_path, tiny_dataset):
    model = unet_mini(3, 32, 48)
    train(model, *tiny_dataset, epochs=1, verbose=0, seed=0, checkpoints_path=str(tmp_path / "run"),
          precision="mixed_bfloat16")
    config = json.loads((tmp_path / "run_config.json").read_text())
    assert config["precision"] == "mixed_bfloat16" and model_precision(model) == "float32"
    loaded = load_model_from_checkpoint(tmp_path / "run")
    assert model_precision(loaded) == "float32"
    for a, b in zip(loaded.get_weights(), model.get_weights()):  # the model received the trained weights
        np.testing.assert_array_equal(a, b)
    picture = np.random.default_rng(1).integers(0, 255, (32, 48, 3), dtype=np.uint8)
    _, in32 = predict(loaded, inp=picture, return_probabilities=True)
    _, in16 = predict(loaded, inp=picture, return_probabilities=True, precision="mixed_bfloat16")
    assert np.abs(in32 - in16).mean() < 0.01 and np.abs(in32 - in16).max() < 0.1


def test_cli_precision_flag(tmp_path, tiny_dataset, run_cli):
    images, masks = tiny_dataset
    code, _, err = run_cli("train", "--model_name", "unet_mini", "--n_classes", "3", "--input_height", "32",
                           "--input_width", "48", "--train_images", images, "--train_annotations", masks,
                           "--epochs", "1", "--checkpoints_path", tmp_path / "ck", "--precision", "mixed_bfloat16")
    assert code == 0, err
    assert json.loads((tmp_path / "ck_config.json").read_text())["precision"] == "mixed_bfloat16"
    code, out, err = run_cli("evaluate_model", "--checkpoints_path", tmp_path / "ck", "--images_path", images,
                             "--segs_path", masks, "--precision", "mixed_bfloat16")
    assert code == 0 and "mIoU" in out, err
    code, _, err = run_cli("predict", "--checkpoints_path", tmp_path / "ck", "--input_path", images,
                           "--output_path", tmp_path / "out", "--precision", "half")
    assert code == 2 and "precision='half'" in err
