"""LiteRT engine: runs an exported ``.tflite`` file through its ``serving_default`` signature.

Uses ``ai_edge_litert`` (the ``[litert]`` extra) where installed, else TensorFlow's
own ``tf.lite.Interpreter``.

Example:
    >>> engine = LiteRTModel("export/model_int8.tflite")
    >>> engine.run(np.zeros((1, 360, 480, 3), np.uint8)).shape
    (1, 360, 480, 12)
"""

import os
import warnings

import numpy as np

from ..errors import ExportError
from ..export.contract import INPUT_NAME, PROBABILITIES
from .base import ExportedModel


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

    def run(self, images):
        return np.concatenate([self.runner(**{INPUT_NAME: image[None]})[PROBABILITIES] for image in images])
