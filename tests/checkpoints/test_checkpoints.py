"""Checkpoint files: atomic writes, discovery, corrupt files, config validation, optimizer state."""

import errno
import json
import os
import re

import keras
import numpy as np
import pytest

from keras_segmentation import atomic
from keras_segmentation.checkpoints.config import FORMAT_VERSION, read_config, write_config
from keras_segmentation.checkpoints.load import load_model, load_model_from_checkpoint, restore_latest
from keras_segmentation.checkpoints.names import find_latest_checkpoint, list_checkpoints, weights_path
from keras_segmentation.checkpoints.weights import clear_interrupted, read_interrupted, save_checkpoint, save_interrupted
from keras_segmentation.errors import CheckpointError, CheckpointWriteError, OutputWriteError
from keras_segmentation.models.segmentation_model import SegmentationModel


def tiny_model():
    x = keras.Input((8, 8, 3))
    h = keras.layers.Conv2D(2, 3, padding="same", name="conv")(x)
    y = keras.layers.Softmax()(h)
    model = SegmentationModel(x, y, model_name="")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def fit_once(model, seed=0):
    rng = np.random.default_rng(seed)
    model.fit(rng.random((2, 8, 8, 3), np.float32), rng.integers(0, 2, (2, 8, 8)), verbose=0)


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")

    def failing(temp):
        with open(temp, "w") as handle:
            handle.write("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        atomic.atomic_write(target, failing)
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["a.txt"], "the temporary file is cleaned up"


@pytest.mark.parametrize("error, advice", [
    (PermissionError(errno.EACCES, "Permission denied"), "fix the permissions of {folder}"),
    (OSError(errno.ENOSPC, "No space left on device"), "free disk space"),
])
def test_a_failed_write_advises_the_fix_for_its_cause(tmp_path, error, advice):
    def failing(temp):
        raise error

    with pytest.raises(OutputWriteError) as err:
        atomic.atomic_write(tmp_path / "a.txt", failing)
    assert str(err.value) == (f"{tmp_path / 'a.txt'}: cannot write ({error.strerror}); nothing was replaced, "
                              + advice.format(folder=tmp_path))


def test_a_directory_in_place_of_a_checkpoint_is_named_as_the_cause(tmp_path):
    os.mkdir(weights_path(tmp_path / "run", 1))
    with pytest.raises(CheckpointWriteError) as err:
        save_checkpoint(tiny_model(), tmp_path / "run", epoch=1)
    assert str(err.value) == (
        f"{weights_path(tmp_path / 'run', 1)}: cannot write (Is a directory); nothing was replaced, "
        "earlier checkpoints are intact: move away the directory in its place, then resume with "
        "auto_resume_checkpoint=True"
    )


def test_find_latest_checkpoint_uses_epoch_numbers_not_string_order(tmp_path):
    prefix = tmp_path / "run"
    assert find_latest_checkpoint(prefix) is None
    with pytest.raises(ValueError, match="Checkpoint path"):
        find_latest_checkpoint(prefix, fail_safe=False)
    for name in ["run.00002.weights.h5", "run.00012.weights.h5", "run.00004.weights.h5", "run_config.json",
                 "run.ABC", ".tmp-1-run.00013.weights.h5", "runner.00099.weights.h5"]:
        (tmp_path / name).write_bytes(b"x")
    assert find_latest_checkpoint(prefix) == str(tmp_path / "run.00012.weights.h5")
    assert [e for e, _ in list_checkpoints(prefix)] == [2, 4, 12]


def test_corrupt_newest_checkpoint_is_skipped_with_a_warning(tmp_path):
    model = tiny_model()
    fit_once(model)
    prefix = tmp_path / "run"
    save_checkpoint(model, prefix, 1)
    good = [w.copy() for w in model.get_weights()]
    (tmp_path / "run.00002.weights.h5").write_bytes(b"not an h5 file")
    fresh = tiny_model()
    with pytest.warns(UserWarning, match=r"run\.00002\.weights\.h5.*skipping"):
        epoch = restore_latest(fresh, prefix)
    assert epoch == 1
    for a, b in zip(fresh.get_weights(), good):
        np.testing.assert_array_equal(a, b)


def test_optimizer_state_round_trips(tmp_path):
    model = tiny_model()
    fit_once(model)
    prefix = tmp_path / "run"
    save_checkpoint(model, prefix, 1)
    fit_once(model, seed=1)
    save_checkpoint(model, prefix, 2)
    fresh = tiny_model()  # compiled, optimizer not built yet
    assert restore_latest(fresh, prefix) == 2
    assert int(keras.ops.convert_to_numpy(fresh.optimizer.iterations)) == 2
    for a, b in zip(fresh.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


def test_interrupted_checkpoint_records_progress(tmp_path):
    model = tiny_model()
    prefix = tmp_path / "run"
    assert read_interrupted(prefix) is None
    save_interrupted(model, prefix, epoch=3, step=7)
    assert read_interrupted(prefix) == (3, 7)
    clear_interrupted(prefix)
    assert read_interrupted(prefix) is None and not list(tmp_path.iterdir())


def test_config_round_trip_and_custom_architecture(tmp_path):
    model = tiny_model()
    prefix = tmp_path / "sub" / "run"
    config = write_config(prefix, model, seed=7)
    assert config["model_class"] == "" and config["channels"] == 3 and "architecture" in config
    read = read_config(prefix)
    assert read["seed"] == 7 and read["n_classes"] == 2 and read["format_version"] == FORMAT_VERSION
    fit_once(model)
    save_checkpoint(model, prefix, 1)
    rebuilt = load_model_from_checkpoint(prefix)
    x = np.random.default_rng(0).random((1, 8, 8, 3), np.float32)
    np.testing.assert_allclose(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"model_class": "unet"}', "missing key"),
        ('{"model_class": "unet", "n_classes": "12", "input_height": 1, "input_width": 1, '
         '"output_height": 1, "output_width": 1}', "'n_classes' has the wrong type"),
    ],
)
def test_malformed_config_gives_a_checkpoint_error_naming_the_file(tmp_path, content, message):
    (tmp_path / "run_config.json").write_text(content)
    with pytest.raises(CheckpointError, match=message) as info:
        read_config(tmp_path / "run")
    assert "run_config.json" in str(info.value)


def test_missing_config_and_missing_weights(tmp_path):
    with pytest.raises(CheckpointError, match="run_config.json: checkpoint config not found"):
        load_model_from_checkpoint(tmp_path / "run")
    write_config(tmp_path / "run", tiny_model())
    with pytest.raises(CheckpointError, match="no weights file"):
        load_model_from_checkpoint(tmp_path / "run")


def test_unknown_model_class_is_refused(tmp_path):
    config = {"model_class": "no_such_net", "n_classes": 2, "input_height": 8, "input_width": 8,
              "output_height": 8, "output_width": 8}
    (tmp_path / "run_config.json").write_text(json.dumps(config))
    (tmp_path / "run.00001.weights.h5").write_bytes(b"x")
    with pytest.raises(CheckpointError, match="unknown model_class 'no_such_net'"):
        load_model_from_checkpoint(tmp_path / "run")


def test_stale_temp_files_of_dead_processes_are_removed(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    (tmp_path / f".tmp-{dead_pid}-run.00003.weights.h5").write_bytes(b"half")
    (tmp_path / f".tmp-{os.getpid()}-run.00004.weights.h5").write_bytes(b"in progress")
    (tmp_path / f".tmp-{dead_pid}-other.00001.weights.h5").write_bytes(b"another prefix")
    removed = atomic.remove_stale_temp_files(tmp_path / "run")
    assert [os.path.basename(p) for p in removed] == [f".tmp-{dead_pid}-run.00003.weights.h5"]
    assert sorted(os.listdir(tmp_path)) == sorted(
        [f".tmp-{os.getpid()}-run.00004.weights.h5", f".tmp-{dead_pid}-other.00001.weights.h5"]
    )


@pytest.mark.parametrize("exported", [False, True])
def test_a_corrupt_keras_file_is_named_as_such(tmp_path, exported):
    from keras_segmentation.export.formats import load_engine

    tiny_model().save(tmp_path / "m.keras")
    (tmp_path / "truncated.keras").write_bytes((tmp_path / "m.keras").read_bytes()[:2000])
    (tmp_path / "random.keras").write_bytes(np.random.default_rng(0).bytes(2000))
    for name in ("truncated.keras", "random.keras"):
        if exported:  # the metadata beside it makes it an exported .keras
            (tmp_path / f"{name}.json").write_text("{}")
        message = f"{tmp_path / name}: not a readable .keras archive (corrupt or truncated)"
        with pytest.raises(CheckpointError, match=re.escape(message)):
            load_engine(tmp_path / name)  # predict --model x.keras
        with pytest.raises(CheckpointError, match=re.escape(message)):
            load_model(tmp_path / name)
