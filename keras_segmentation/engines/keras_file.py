"""The ``keras`` engine for files: an exported ``.keras`` (uint8 graph) or a library model saved as ``.keras``.

Example:
    >>> engine = load_keras_file("export/model.keras")
    >>> engine.run(np.zeros((1, 64, 64, 3), np.uint8)).shape
    (1, 64, 64, 5)
"""

import numpy as np

from ..export.contract import PROBABILITIES
from ..export.metadata import read_metadata
from .base import ExportedModel


class KerasExportModel(ExportedModel):
    """An exported ``.keras`` file (uint8 input, normalisation inside) run by Keras."""

    engine = "keras"

    def __init__(self, path, model):
        self.model = model
        super().__init__(path, model.input_shape[1:], model.output[PROBABILITIES].shape[-1])

    def run(self, images):
        return np.asarray(self.model.predict_on_batch(images)[PROBABILITIES])


def load_keras_file(path):
    """An exported ``.keras`` as a :class:`KerasExportModel`; a library model's ``.keras`` as the model itself."""
    from ..checkpoints.load import check_keras_archive, load_model

    if read_metadata(path) is None:
        return load_model(path)
    import keras

    from ..export import graph  # noqa: F401 - registers the export layers for deserialisation

    check_keras_archive(path)
    return KerasExportModel(path, keras.saving.load_model(path, compile=False))
