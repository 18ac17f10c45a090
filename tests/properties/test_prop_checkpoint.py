"""A checkpoint's ``_config.json`` and ``_history.json`` edited by hand: any JSON, missing keys, wrong types.

``read_config`` returns a config whose keys have their schema's types, or raises a
CheckpointError whose message is one line naming the config file; the same for ``read_history``.
"""

import json
import os
import tempfile

import pytest
from generated import attempt, json_values, maybe, write_file, write_json
from hypothesis import given
from hypothesis import strategies as st

from keras_segmentation.checkpoints.config import read_config
from keras_segmentation.checkpoints.history import read_history
from keras_segmentation.checkpoints.names import config_path, history_path
from keras_segmentation.errors import CheckpointError

SIZES = st.none() | st.integers(-1, 64)
CONFIG = st.fixed_dictionaries(
    {},
    optional={
        "model_class": maybe(st.sampled_from(("unet_mini", "vgg_unet", "no_such_net", ""))),
        "n_classes": maybe(st.integers(-1, 300)),
        "input_height": maybe(SIZES),
        "input_width": maybe(SIZES),
        "output_height": maybe(SIZES),
        "output_width": maybe(SIZES),
        "channels": maybe(st.integers(0, 6)),
        "normalization": maybe(st.sampled_from(("sub_mean", "divide", "none", "unknown"))),
        "class_names": maybe(st.lists(st.text(max_size=4) | json_values, max_size=3)),
        "build_config": maybe(st.fixed_dictionaries(
            {"builder": maybe(st.sampled_from(("build_model", "unet_mini", "os.system")))},
            optional={"kwargs": maybe(st.dictionaries(st.sampled_from(("encoder", "weights", "n_classes")), json_values))},
        )),
        "format_version": maybe(st.integers(0, 3)),
        "library_version": maybe(st.just("1.0")),
    },
)
# The types read_config promises for the keys it returns.
PROMISED = {"model_class": str, "n_classes": int, "channels": int, "class_names": (list, type(None))}


@given(CONFIG | json_values, st.sampled_from(("whole", "cut", "noise")), st.binary(max_size=8))
def test_read_config(config, damage, noise):
    text = json.dumps(config).encode()
    with tempfile.TemporaryDirectory() as folder:
        prefix = os.path.join(folder, "run")
        write_file(folder, "run_config.json", {"whole": text, "cut": text[: len(text) // 2], "noise": noise + text}[damage])
        read = attempt(lambda: read_config(prefix), config_path(prefix))
        if read is not None:
            assert read.keys() == config.keys() and read["n_classes"] >= 1
            assert all(isinstance(read[key], kind) for key, kind in PROMISED.items() if key in read)


EPOCHS = st.lists(maybe(st.fixed_dictionaries({"epoch": maybe(st.integers(0, 9))}, optional={"loss": json_values})))


@given(st.fixed_dictionaries({"epochs": maybe(EPOCHS)}) | json_values)
def test_read_history(history):
    with tempfile.TemporaryDirectory() as folder:
        prefix = os.path.join(folder, "run")
        write_json(history_path(prefix), history)
        epochs = attempt(lambda: read_history(prefix), history_path(prefix))
        if epochs is not None:  # compared as JSON text: NaN losses are not equal to themselves
            assert json.dumps(epochs) == json.dumps(history["epochs"]) and all(isinstance(e["epoch"], int) for e in epochs)


# ------------------------------------------------------------ bugs the properties found
@pytest.mark.parametrize("builder", [["build_model"], {"name": "unet"}])
def test_config_with_a_builder_that_is_not_text(tmp_path, builder):
    config = {"model_class": "unet", "n_classes": 2, "input_height": 32, "input_width": 32, "output_height": 32,
              "output_width": 32, "build_config": {"builder": builder, "kwargs": {}}}
    write_json(config_path(tmp_path / "run"), config)
    with pytest.raises(CheckpointError, match=r"run_config\.json: build_config names unknown builder"):  # was a TypeError
        read_config(tmp_path / "run")


@pytest.mark.parametrize("read, path", [(read_config, config_path), (read_history, history_path)])
def test_json_nested_too_deeply(tmp_path, read, path):
    write_file(tmp_path, os.path.basename(path(tmp_path / "run")), b"[" * 100_000)
    with pytest.raises(CheckpointError, match=r"run_(config|history)\.json: not"):  # was a RecursionError
        read(tmp_path / "run")
