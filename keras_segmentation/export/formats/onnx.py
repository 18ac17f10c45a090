"""ONNX (the ``[onnx]`` extra): written by tf2onnx (opset 17; float16 or ONNX Runtime int8 after it), run on the CPU
by ONNX Runtime.

Example:
    >>> engine = OnnxRuntimeModel("export/model_int8.onnx")
    >>> engine.run(np.zeros((2, 360, 480, 3), np.uint8)).shape
    (2, 360, 480, 12)
"""

import os

from ...errors import ExportError
from ..contract import INPUT_NAME, PROBABILITIES
from . import PRECISIONS, register_format
from .runner import ExportedModel

ONNX_OPSET = 17


def onnxruntime():
    """The ``onnxruntime`` module, or a one-line error saying how to install it."""
    try:
        import onnxruntime as ort
    except ImportError as err:
        raise ExportError("ONNX Runtime is not installed: pip install 'keras-segmentation[onnx]'") from err
    return ort


def write_onnx(deployable, path):
    """A float32 ONNX graph (opset 17) with input ``image`` and the deployable model's named outputs."""
    from .saved_model import serving_function

    function = serving_function(deployable)
    try:
        import tf2onnx
    except ImportError as err:
        raise ExportError("ONNX export needs tf2onnx: pip install 'keras-segmentation[onnx]'") from err
    tf2onnx.convert.from_function(function, input_signature=function.input_signature, opset=ONNX_OPSET,
                                  output_path=os.fspath(path))


@register_format("onnx", suffixes=(".onnx",), precisions=PRECISIONS, keras_free=True)
class OnnxRuntimeModel(ExportedModel):
    """An ONNX model with the exported graph's input (``image``, uint8 NHWC) in an ONNX Runtime session."""

    engine = "onnxruntime"

    def __init__(self, path, threads=None):
        ort = onnxruntime()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.log_severity_level = 3
        # Spinning worker threads take the cores the image readers need: measured on 2 cores, unet_mini 360x480
        # float32 ran at 240-263 ms/image with spinning and 113-120 ms/image without (int8: about equal).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(os.fspath(path), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own exception types for bad files
            raise ExportError(f"{path}: ONNX Runtime cannot load it ({str(err).splitlines()[0]})") from err
        inputs = {item.name: item for item in self.session.get_inputs()}
        outputs = {item.name: item for item in self.session.get_outputs()}
        if INPUT_NAME not in inputs or PROBABILITIES not in outputs:
            raise ExportError(f"{path}: not a keras-segmentation export (needs input {INPUT_NAME!r} and output "
                              f"{PROBABILITIES!r}; has {sorted(inputs)} -> {sorted(outputs)})")
        image, probabilities = inputs[INPUT_NAME].shape, outputs[PROBABILITIES].shape
        if not all(len(dims) == 4 and isinstance(dims[-1], int) for dims in (image, probabilities)):
            raise ExportError(f"{path}: not a segmentation graph (needs {INPUT_NAME!r} (N, H, W, channels) -> "
                              f"{PROBABILITIES!r} (N, H, W, n_classes), channels and n_classes fixed; has {image} "
                              f"-> {probabilities})")
        shape = [dim if isinstance(dim, int) else None for dim in image[1:]]
        super().__init__(path, shape, probabilities[-1])

    @staticmethod
    def write(deployable, path, precision, calibration):
        """float32 from tf2onnx; float16 weights and compute, or ONNX Runtime static int8, made from it in place."""
        from ..quantize import onnx_float16, onnx_int8

        write_onnx(deployable, path)
        if precision == "float16":
            onnx_float16(path)
        elif precision == "int8":
            onnx_int8(path, calibration)

    def run(self, images):
        return self.session.run([PROBABILITIES], {INPUT_NAME: images})[0]
