"""LiteRT (``.tflite``): converted by TensorFlow from a batch-1 SavedModel, run through its ``serving_default``
signature.

Runs on ``ai_edge_litert`` (the ``[litert]`` extra) where installed, else TensorFlow's own ``tf.lite.Interpreter``.

Example:
    >>> engine = LiteRTModel("export/model_int8.tflite")
    >>> engine.run(np.zeros((1, 360, 480, 3), np.uint8)).shape
    (1, 360, 480, 12)
"""

import os
import warnings

import numpy as np

from ...errors import ExportError
from ..contract import INPUT_NAME, PROBABILITIES
from . import PRECISIONS, register_format
from .runner import ExportedModel


def interpreter_class():
    """LiteRT's ``Interpreter`` class (``ai_edge_litert``, else ``tf.lite``)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            import tensorflow as tf
        except ImportError as err:
            raise ExportError("LiteRT is not installed: pip install 'keras-segmentation[litert]'") from err
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
            return tf.lite.Interpreter
    return Interpreter


@register_format("litert", suffixes=(".tflite",), precisions=PRECISIONS, keras_free=True)
class LiteRTModel(ExportedModel):
    """A ``.tflite`` model whose signature takes ``image`` (uint8 NHWC, batch 1) and gives ``probabilities``."""

    engine = "litert"

    def __init__(self, path, threads=None):
        try:
            self.interpreter = interpreter_class()(model_path=os.fspath(path), num_threads=threads or os.cpu_count())
            self.runner = self.interpreter.get_signature_runner()
        except (ValueError, RuntimeError) as err:
            raise ExportError(f"{path}: LiteRT cannot load it ({str(err).splitlines()[0]})") from err
        inputs = self.runner.get_input_details()
        outputs = self.runner.get_output_details()
        if INPUT_NAME not in inputs or PROBABILITIES not in outputs:
            raise ExportError(f"{path}: not a keras-segmentation export (its signature has {sorted(inputs)} -> "
                              f"{sorted(outputs)})")
        shape = [int(dim) if dim > 0 else None for dim in inputs[INPUT_NAME]["shape_signature"][1:]]
        super().__init__(path, shape, outputs[PROBABILITIES]["shape_signature"][-1])

    @staticmethod
    def write(deployable, path, precision, calibration):
        """A LiteRT flatbuffer of ``deployable`` (batch 1, as phones and boards run it): float32, float16 weights, or
        full integer.

        With a dynamic batch, LiteRT cannot allocate some graphs (PSPNet's adaptive pooling: "BytesRequired number
        of elements overflowed"), so the batch is fixed at 1; :meth:`run` runs a batch image by image.
        """
        import tempfile

        import tensorflow as tf

        from .saved_model import write_savedmodel

        with tempfile.TemporaryDirectory(prefix="keras_segmentation_litert_") as folder:
            write_savedmodel(deployable, folder, batch=1)
            converter = tf.lite.TFLiteConverter.from_saved_model(folder)
            if precision == "float16":
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
                converter.target_spec.supported_types = [tf.float16]
            elif precision == "int8":
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
                converter.representative_dataset = lambda: ({INPUT_NAME: image[None]} for image in calibration)
                converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # int8 calibration runs tf.lite.Interpreter, which warns it is deprecated
                flatbuffer = converter.convert()
        with open(path, "wb") as handle:
            handle.write(flatbuffer)

    def run(self, images):
        return np.concatenate([self.runner(**{INPUT_NAME: image[None]})[PROBABILITIES] for image in images])
