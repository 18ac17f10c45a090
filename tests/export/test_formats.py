"""Every format x precision on small models of three decoder families and two encoders: parity, size, metadata."""

import json

import numpy as np
import pytest
from exportfiles import small_model, write_calibration_images

from keras_segmentation.export import export_model
from keras_segmentation.export.formats import get_format

#: (format, precision) -> (max |Δprob| allowed against Keras, bytes per parameter range of the file)
EXPECTED = {
    ("keras", "float32"): (0, (3.9, 6)),
    ("savedmodel", "float32"): (0, (3.9, 9)),
    ("onnx", "float32"): (1e-4, (3.9, 6)),
    ("onnx", "float16"): (0.02, (1.9, 3)),
    ("onnx", "int8"): (0.3, (0.9, 2)),
    ("litert", "float32"): (1e-4, (3.9, 6)),
    ("litert", "float16"): (0.02, (1.9, 3)),
    ("litert", "int8"): (0.3, (0.9, 2)),
}
ALL = list(EXPECTED)
MODELS = [("unet", "vanilla"), ("deeplabv3plus", "vanilla"), ("pspnet", "vanilla"), ("unet", "mobilenetv3small"),
          ("deeplabv3plus", "mobilenetv3small"), ("pspnet", "mobilenetv3small")]
#: the fast set (tf2onnx needs ~20 s for PSPNet's adaptive pooling); every other pair is marked slow
FAST = {("unet", "vanilla"): ALL, ("deeplabv3plus", "vanilla"): [("onnx", "float32"), ("litert", "int8")],
        ("pspnet", "vanilla"): [("litert", "float32")], ("unet", "mobilenetv3small"): [("onnx", "int8")]}
#: tf2onnx on the slow set's models takes up to 5.5 GB of a process: each runs in a fresh one (tests/lanes.py)
CASES = [
    pytest.param(decoder, encoder, fmt, precision, id=f"{encoder}-{decoder}-{fmt}-{precision}",
                 marks=() if (fmt, precision) in FAST.get((decoder, encoder), ())
                 else (pytest.mark.slow, pytest.mark.own_process) if fmt == "onnx" else pytest.mark.slow)
    for decoder, encoder in MODELS for fmt, precision in ALL
]


@pytest.fixture(scope="module")
def calibration_dir(tmp_path_factory):
    return write_calibration_images(tmp_path_factory.mktemp("calibration"))


@pytest.mark.parametrize("decoder, encoder, fmt, precision", CASES)
def test_export_matches_keras(decoder, encoder, fmt, precision, tmp_path, calibration_dir):
    model = small_model(decoder, encoder)
    path = tmp_path / f"model{get_format(fmt).suffix}"
    result = export_model(model, path, fmt, precision, labels=True,
                          calibration_images=calibration_dir if precision == "int8" else None)
    tolerance, (low, high) = EXPECTED[fmt, precision]
    assert result.parity.max_abs_diff <= tolerance
    if precision == "float32":
        assert result.parity.label_agreement > 0.999
    assert low <= result.size_bytes / model.count_params() <= high, result.size_bytes / model.count_params()
    metadata = json.loads(open(result.metadata_path).read())
    assert metadata["format"] == fmt and metadata["precision"] == precision
    assert metadata["input"] | {"channel_order": "RGB"} == {"name": "image", "dtype": "uint8", "layout": "NHWC",
                                                           "height": 64, "width": 64, "channels": 3,
                                                           "channel_order": "RGB"}
    assert metadata["n_classes"] == 3 and set(metadata["outputs"]) == {"probabilities", "labels"}


def test_int8_onnx_holds_quantised_operators(tmp_path, calibration_dir):
    import onnx

    path = tmp_path / "model.onnx"
    export_model(small_model("unet", "vanilla"), path, "onnx", "int8", calibration_images=calibration_dir,
                 parity=False)
    nodes = list(onnx.load(str(path)).graph.node)
    operators = {node.op_type for node in nodes}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv"} <= operators
    # float ends: the first QuantizeLinear takes the float normalisation's output; the softmax reads dequantised
    # logits and its output is not quantised again
    first_quantize = next(i for i, node in enumerate(nodes) if node.op_type == "QuantizeLinear")
    assert {"Mul", "Add"} <= {node.op_type for node in nodes[:first_quantize]}
    softmax = next(node for node in nodes if node.op_type == "Softmax")
    producers = {output: node.op_type for node in nodes for output in node.output}
    assert producers[softmax.input[0]] == "DequantizeLinear"
    assert not any(node.op_type == "QuantizeLinear" and softmax.output[0] in node.input for node in nodes)


def test_nearest_upsampling_exports_as_one_resize(tmp_path):
    """Keras' nearest UpSampling2D (two repeats: Tile/Reshape/Transpose chains in ONNX) becomes one Resize."""
    import onnx

    from keras_segmentation.models.unet import unet_mini

    model = unet_mini(3, input_height=32, input_width=48)
    result = export_model(model, tmp_path / "model.onnx", "onnx", "float32", parity_count=2)
    operators = [node.op_type for node in onnx.load(result.path).graph.node]
    assert operators.count("Resize") == 2 and "Tile" not in operators
    assert result.parity.max_abs_diff <= 1e-5 and result.parity.label_agreement == 1.0


def test_int8_litert_is_full_integer(tmp_path, calibration_dir):
    from keras_segmentation.export.formats.litert import interpreter_class

    path = tmp_path / "model.tflite"
    export_model(small_model("unet", "vanilla"), path, "litert", "int8", calibration_images=calibration_dir,
                 parity=False)
    interpreter = interpreter_class()(model_path=str(path))
    convolutions = [op for op in interpreter._get_ops_details() if op["op_name"] == "CONV_2D"]
    tensors = {tensor["index"]: tensor for tensor in interpreter.get_tensor_details()}
    assert convolutions and all(tensors[op["inputs"][0]]["dtype"] == np.int8 for op in convolutions)
    assert interpreter.get_input_details()[0]["dtype"] == np.uint8
