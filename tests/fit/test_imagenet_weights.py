"""``fit``'s pretrained route: an ImageNet MobileNetV2 file written as Keras writes its cache file (made here from
``keras.applications.MobileNetV2(weights=None)`` with recognisable values: no download), found in the Keras cache
or given as ``encoder_weights``, planned as pretrained and loaded into the model ``fit`` builds; a file of the wrong
shape or a corrupt one stops ``fit`` with a one-line error before any training."""

import h5py
import keras
import numpy as np
import pytest
from test_fit_run import load_json, write_dataset

from keras_segmentation.autofit import fit
from keras_segmentation.autofit import run as run_module
from keras_segmentation.autofit.plan import MOBILENETV2_FILE
from keras_segmentation.errors import SegmentationError, WeightsError

#: encoder layers compared with the file: the first convolution, a middle block, the last convolution and its norm
LAYERS = ("Conv1", "block_6_project", "Conv_1", "Conv_1_bn")


def write_keras_cache_file(path, alpha=1.0, seed=7):
    """Write ``path`` as Keras' ``mobilenet_v2_..._no_top.h5`` is written (legacy HDF5: ``layer_names``, then a group
    per layer whose ``weight_names`` ``"<layer>/<weight>:0"`` name its arrays), every array uniform in [0.5, 1.5)."""
    model = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(224, 224, 3), alpha=alpha)
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as handle:
        handle.attrs["layer_names"] = [layer.name.encode() for layer in model.layers]
        handle.attrs["backend"], handle.attrs["keras_version"] = b"tensorflow", b"2.2.4"
        for layer in model.layers:
            group = handle.create_group(layer.name)
            names = [f"{layer.name}/{weight.name}:0".encode() for weight in layer.weights]
            group.attrs["weight_names"] = names
            for name, weight in zip(names, layer.weights):
                group.create_dataset(name, data=rng.uniform(0.5, 1.5, weight.shape).astype("float32"))
    return path


def file_weights(path):
    with h5py.File(path, "r") as handle:
        return {name: [np.asarray(handle[name][weight]) for weight in handle[name].attrs["weight_names"]]
                for name in LAYERS}


@pytest.fixture(scope="module")
def imagenet_file(tmp_path_factory):
    return write_keras_cache_file(tmp_path_factory.mktemp("weights") / MOBILENETV2_FILE)


@pytest.fixture
def data(tmp_path):
    return write_dataset(tmp_path / "data", n=6, size=(32, 48), void_border=1)


@pytest.fixture
def built(monkeypatch):
    """The encoder weights of each model ``fit`` builds, read right after it is built (before any training)."""
    models = []

    def spy(settings, n_outputs, channels):
        model = build(settings, n_outputs, channels)
        models.append({name: model.get_layer(name).get_weights() for name in LAYERS})
        return model

    build = run_module.build_planned_model
    monkeypatch.setattr(run_module, "build_planned_model", spy)
    return models


def assert_same(weights, path):
    for name, arrays in file_weights(path).items():
        assert len(weights[name]) == len(arrays) and all(np.array_equal(a, b) for a, b in zip(weights[name], arrays)), name


class Built(Exception):
    """Stops ``fit`` once its model is built: the plan and the model are what is tested, not training."""


def test_the_keras_cache_file_is_planned_and_loaded(imagenet_file, data, built, tmp_path, monkeypatch):
    home = tmp_path / "keras_home"
    (home / "models").mkdir(parents=True)
    (home / "models" / MOBILENETV2_FILE).symlink_to(imagenet_file)
    monkeypatch.setenv("KERAS_HOME", str(home))
    spy = run_module.build_planned_model

    def build_then_stop(*args):
        spy(*args)
        raise Built

    monkeypatch.setattr(run_module, "build_planned_model", build_then_stop)
    with pytest.raises(Built):
        fit(*data, epochs=1, out=tmp_path / "run", verbose=False)
    plan = load_json(tmp_path / "run" / "plan.json")
    assert plan["architecture"] == {"value": "fpn_mobilenetv2",
                                    "why": "FPN on MobileNetV2 with its ImageNet weights (found)"}
    assert plan["encoder_weights"]["value"] == str(home / "models" / MOBILENETV2_FILE)
    assert len(built) == 1
    assert_same(built[0], imagenet_file)


@pytest.mark.slow
def test_fit_trains_from_a_weights_file_given(imagenet_file, data, built, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))  # an empty cache: the file given is the source
    summary = fit(*data, epochs=1, out=tmp_path / "run", verbose=False, encoder_weights=str(imagenet_file),
                  settings=["steps_per_epoch=2", "flip_tta=false"])
    plan = load_json(tmp_path / "run" / "plan.json")
    assert plan["architecture"]["value"] == "fpn_mobilenetv2" and "ImageNet" in plan["architecture"]["why"]
    assert plan["encoder_weights"]["value"] == str(imagenet_file)
    assert len(built) == 1
    assert_same(built[0], imagenet_file)  # as built, before the epoch
    assert summary["epochs"] == 1 and summary["model"] == "mobilenetv2_fpn"


@pytest.mark.parametrize("kind", ["wrong shape", "corrupt", "corrupt in the cache"])
def test_a_bad_weights_file_is_a_one_line_error_before_training(kind, data, built, tmp_path, monkeypatch):
    home = tmp_path / "keras_home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    bad = home / "models" / MOBILENETV2_FILE if kind == "corrupt in the cache" else tmp_path / "mine" / MOBILENETV2_FILE
    if kind == "wrong shape":
        write_keras_cache_file(bad, alpha=0.5)  # MobileNetV2 at half width: the same layers, other shapes
    else:
        bad.parent.mkdir(parents=True)
        bad.write_bytes(b"\x89HDF\r\n" + bytes(range(256)) * 4)
    weights = None if kind == "corrupt in the cache" else str(bad)
    with pytest.raises(WeightsError) as raised:
        fit(*data, epochs=1, out=tmp_path / "run", verbose=False, encoder_weights=weights)
    message = str(raised.value)
    assert isinstance(raised.value, SegmentationError) and "\n" not in message
    assert message.startswith(f"{bad}: cannot load it as weights of encoder 'mobilenetv2'")
    assert ("Shape mismatch" in message) == (kind == "wrong shape")
    assert built == []  # no model was built, so none trained
    assert not (tmp_path / "run" / "checkpoints").exists() and not (tmp_path / "run" / "best.weights.h5").exists()
