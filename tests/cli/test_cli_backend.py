"""A Keras backend that cannot load is one line (exit 2) from the command line, and a BackendError from Python."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from keras_segmentation import backend
from keras_segmentation.backend import check_backend, configured_backend
from keras_segmentation.errors import BackendError, SegmentationError

JAX_INSTALLED = importlib.util.find_spec("jax") is not None


def _cli(*args, cwd=None, **env):
    environ = dict(os.environ, PYTHONIOENCODING="utf-8", **env)
    command = [sys.executable, "-m", "keras_segmentation", *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True, env=environ, timeout=300, cwd=cwd, check=False)
    return done.returncode, done.stdout, done.stderr


def _train(tmp_path):
    return ["train", "--model_name", "unet_mini", "--n_classes", 3, "--train_images", tmp_path,
            "--train_annotations", tmp_path, "--epochs", 1]


@pytest.mark.skipif(JAX_INSTALLED, reason="jax is installed here (the in-process test covers the message)")
def test_train_with_keras_backend_jax_not_installed_is_one_line(tmp_path):
    code, out, err = _cli(*_train(tmp_path), KERAS_BACKEND="jax")
    assert code == 2 and out == ""
    expected = (
        "error: KERAS_BACKEND=jax but jax is not installed; pip install keras-segmentation[jax] "
        "(or unset KERAS_BACKEND for TensorFlow)"
    )
    assert err.splitlines() == [expected]


@pytest.mark.parametrize("command", [["predict", "--checkpoints_path", "x", "--input_path", "x", "--output_path", "y"],
                                     ["models", "--no-params"], ["demo", "--epochs", 1]])
def test_every_keras_command_checks_the_backend(tmp_path, command):
    code, _, err = _cli(*command, cwd=tmp_path, KERAS_BACKEND="no_such_backend")
    assert os.listdir(tmp_path) == [], "stopped before doing anything"
    assert code == 2 and err.splitlines() == [
        "error: KERAS_BACKEND=no_such_backend is not a Keras backend; use one of tensorflow, jax, torch, numpy, openvino"
    ]
    code, _, err = _cli(*command, "--debug", cwd=tmp_path, KERAS_BACKEND="no_such_backend")
    assert code != 0 and "Traceback" in err and "BackendError" in err


def test_dataset_commands_do_not_need_a_backend(tmp_path):
    code, out, err = _cli("demo", "--data_only", "--n_train", 2, "--n_test", 1, "--height", 32, "--width", 32,
                          "--out_dir", tmp_path / "demo", KERAS_BACKEND="no_such_backend")
    assert code == 0, err
    assert "previews:" in out


# ------------------------------------------------------------ the library function
def test_backend_names_come_from_keras_backend_environment_variable():
    assert configured_backend({"KERAS_BACKEND": "torch"}) == ("torch", "KERAS_BACKEND")
    assert check_backend({"KERAS_BACKEND": "tensorflow"}) == "tensorflow"


def test_a_missing_package_is_a_backend_error(monkeypatch):
    monkeypatch.setattr(backend, "_installed", lambda package: package != "jax")
    with pytest.raises(BackendError, match=r"^KERAS_BACKEND=jax but jax is not installed; pip install "
                                           r"keras-segmentation\[jax\] \(or unset KERAS_BACKEND for TensorFlow\)$"):
        check_backend({"KERAS_BACKEND": "jax"})
    assert issubclass(BackendError, SegmentationError) and issubclass(BackendError, ImportError)


def test_keras_json_is_read_when_keras_backend_is_not_set(tmp_path, monkeypatch):
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "torch", "floatx": "float32"}))
    environ = {"KERAS_HOME": str(tmp_path)}
    assert configured_backend(environ) == ("torch", str(tmp_path / "keras.json"))
    monkeypatch.setattr(backend, "_installed", lambda package: package != "torch")
    with pytest.raises(BackendError, match='keras.json sets "backend": "torch" but torch is not installed; '
                                           r"pip install keras-segmentation\[torch\] \(or edit "):
        check_backend(environ)
    assert check_backend(dict(environ, KERAS_BACKEND="tensorflow")) == "tensorflow", "the variable wins"


def test_default_is_tensorflow_and_its_absence_says_so(tmp_path, monkeypatch):
    environ = {"KERAS_HOME": str(tmp_path)}  # no keras.json there
    assert configured_backend(environ) == ("tensorflow", None)
    monkeypatch.setattr(backend, "_installed", lambda package: package != "tensorflow")
    with pytest.raises(BackendError, match=r"^TensorFlow \(the default Keras backend\) is not installed; "):
        check_backend(environ)


def test_an_unreadable_keras_json_is_ignored_as_keras_does(tmp_path):
    (tmp_path / "keras.json").write_text("{not json")
    assert configured_backend({"KERAS_HOME": str(tmp_path)}) == ("tensorflow", None)


def test_importing_the_models_with_a_missing_backend_raises_a_one_line_backend_error():
    code = "from keras_segmentation.models.unet import vgg_unet"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, KERAS_BACKEND="theano"))
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        "keras_segmentation.errors.BackendError: KERAS_BACKEND=theano is not a Keras backend; "
        "use one of tensorflow, jax, torch, numpy, openvino"
    )
    assert "site-packages/keras" not in done.stderr  # stopped before Keras started importing
