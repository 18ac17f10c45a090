"""Reduced precision: the images int8 is calibrated on, ONNX float16, ONNX Runtime static int8.

Calibration images are read like the library reads them for prediction, resized to the model's input (for a
fixed-size model), and turned into the uint8 RGB(A) the exported graph takes. ``count`` images are spread evenly
over the sorted folder, so a folder of consecutive video frames is sampled from start to end.

Example:
    >>> images = calibration_images("data/train_images", model, count=32)
    >>> onnx_int8("model.onnx", images)
"""

import os

import numpy as np

from ..data.images import read_image_for_model
from ..data.pairing import list_images
from .contract import INPUT_NAME, graph_input


def folder_images(folder, model, count, size, role):
    """``count`` images spread evenly over the sorted ``folder``, as the uint8 RGB(A) an exported graph takes.

    Read like the library reads images for ``model`` (BGR(A), 8 or 16 bits), resized to ``size``
    (``None``: as they are). ``role`` names the argument in errors.

    Raises:
        PairingError: ``folder`` holds no image.
    """
    paths = list_images(folder, role)
    if count < len(paths):
        paths = [paths[int(i)] for i in np.linspace(0, len(paths) - 1, count).round()]
    return [graph_input(read_image_for_model(path, model.channels), size) for path in paths]


def calibration_images(folder, model, count=100):
    """``count`` uint8 images from ``folder`` at the model's input size, for int8 calibration."""
    size = (model.input_height, model.input_width) if model.input_height and model.input_width else None
    return folder_images(folder, model, count, size, "calibration_images")


def onnx_float16(path):
    """Turn the float32 ONNX file at ``path`` into float16 weights and compute; input and outputs keep their types."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = convert_float_to_float16(onnx.load(path), keep_io_types=True)
    onnx.save(model, path)


def onnx_int8(path, images):
    """Quantise the float32 ONNX file at ``path`` in place: static QDQ, per-channel int8 weights, uint8 activations.

    The normalisation before the first weighted operator and the softmax after the last one stay float32
    (:func:`float_ends`).
    """
    import tempfile

    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter(images)

        def get_next(self):
            image = next(self.items, None)
            return None if image is None else {INPUT_NAME: image[None]}

    with tempfile.TemporaryDirectory(prefix="keras_segmentation_int8_") as folder:
        prepared = os.path.join(folder, "prepared.onnx")
        quant_pre_process(path, prepared, skip_symbolic_shape=True)  # folds constants, infers shapes
        quantize_static(prepared, path, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        nodes_to_exclude=float_ends(onnx.load(prepared).graph))


#: operators with weights: int8 pays off from the first of them to the last
WEIGHTED_OPS = ("Conv", "ConvTranspose", "MatMul", "Gemm")


def float_ends(graph):
    """Names of the nodes of a (topologically sorted) ONNX graph that int8 leaves in float32.

    The nodes before the first weighted operator (the uint8 -> float normalisation: elementwise work on the
    whole image, slower quantised than in float) and the softmax nodes after the last one (the output
    probabilities keep float precision). On unet_mini 360x480 in ONNX Runtime the quantised normalisation
    took about 9 % of the time, the float one 4 %.
    """
    nodes = list(graph.node)
    weighted = [i for i, node in enumerate(nodes) if node.op_type in WEIGHTED_OPS]
    if not weighted:
        return []
    head = [node.name for node in nodes[: weighted[0]]]
    tail = [node.name for node in nodes[weighted[-1] + 1 :] if node.op_type == "Softmax"]
    return head + tail
