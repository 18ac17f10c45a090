"""Triton and TensorFlow Serving layouts: the files' contents (no running server)."""

import json

import pytest
from exportfiles import small_model

from keras_segmentation.errors import ExportError
from keras_segmentation.export import export_model


def test_triton_repository_with_onnx(tmp_path):
    result = export_model(small_model("unet", "vanilla"), tmp_path / "repo", "onnx", labels=True, serving="triton",
                          serving_name="roads", parity=False)
    assert result.path == str(tmp_path / "repo" / "roads" / "1" / "model.onnx")
    config = (tmp_path / "repo" / "roads" / "config.pbtxt").read_text()
    assert result.serving_config == str(tmp_path / "repo" / "roads" / "config.pbtxt")
    assert 'name: "roads"' in config and 'platform: "onnxruntime_onnx"' in config and "max_batch_size: 8" in config
    expected_input = '    name: "image"\n    data_type: TYPE_UINT8\n    dims: [ 64, 64, 3 ]'
    expected_probabilities = '    name: "probabilities"\n    data_type: TYPE_FP32\n    dims: [ 64, 64, 3 ]'
    expected_labels = '    name: "labels"\n    data_type: TYPE_INT32\n    dims: [ 64, 64 ]'
    for block in (expected_input, expected_probabilities, expected_labels):
        assert block in config
    assert json.loads((tmp_path / "repo" / "roads" / "1" / "model.onnx.json").read_text())["format"] == "onnx"


def test_tfserving_layout_and_signature(tmp_path):
    import tensorflow as tf

    result = export_model(small_model("unet", "vanilla"), tmp_path / "repo", "savedmodel", labels=True,
                          serving="tfserving", parity=False)
    version = tmp_path / "repo" / "vanilla_unet" / "1"
    assert result.path == str(version) and (version / "saved_model.pb").exists()
    assert (version / "keras_segmentation.json").exists()
    config = (tmp_path / "repo" / "models.config").read_text()
    assert 'name: "vanilla_unet"' in config and 'base_path: "/models/vanilla_unet"' in config
    signature = tf.saved_model.load(str(version)).signatures["serving_default"]
    inputs = signature.structured_input_signature[1]
    assert list(inputs) == ["image"] and inputs["image"].dtype == tf.uint8
    assert inputs["image"].shape.as_list() == [None, 64, 64, 3]
    assert set(signature.structured_outputs) == {"probabilities", "labels"}


@pytest.mark.parametrize("server, fmt, message", [
    ("tfserving", "onnx", "serving='tfserving' serves savedmodel, not format='onnx'"),
    ("triton", "litert", "serving='triton' serves onnx or savedmodel, not format='litert'"),
    ("torchserve", "onnx", "serving='torchserve': choose one of triton, tfserving"),
])
def test_serving_refuses_formats_it_cannot_serve(tmp_path, server, fmt, message):
    with pytest.raises(ExportError, match=message):
        export_model(small_model("unet", "vanilla"), tmp_path, fmt, serving=server, parity=False)
