"""The ``keras`` format: an exported ``.keras`` (uint8 graph, written from any backend), run by Keras; a library
model saved as ``.keras`` loads as the model itself.

Example:
    >>> engine = KerasExportModel.load("export/model.keras")
    >>> engine.run(np.zeros((1, 64, 64, 3), np.uint8)).shape
    (1, 64, 64, 5)
"""

import numpy as np

from ..contract import PROBABILITIES
from ..metadata import read_metadata
from . import register_format
from .runner import ExportedModel


@register_format("keras", suffixes=(".keras",), any_backend=True)
class KerasExportModel(ExportedModel):
    """An exported ``.keras`` file (uint8 input, normalisation inside) run by Keras."""

    engine = "keras"

    def __init__(self, path, model):
        self.model = model
        super().__init__(path, model.input_shape[1:], model.output[PROBABILITIES].shape[-1])

    @classmethod
    def load(cls, path, threads=None):
        """An exported ``.keras`` as a :class:`KerasExportModel`; a library model's ``.keras`` as the model itself
        (Keras sizes its own thread pools: ``threads`` is not used)."""
        from ...checkpoints.load import check_keras_archive, load_model

        if read_metadata(path) is None:
            return load_model(path)
        import keras

        from .. import graph  # noqa: F401 - registers the export layers for deserialisation

        check_keras_archive(path)
        return cls(path, keras.saving.load_model(path, compile=False))

    @staticmethod
    def write(deployable, path, precision, calibration):
        """The float32 ``.keras`` archive (the only precision it is written in)."""
        deployable.save(path)

    def run(self, images):
        return np.asarray(self.model.predict_on_batch(images)[PROBABILITIES])
