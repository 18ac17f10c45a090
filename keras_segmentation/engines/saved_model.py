"""SavedModel engine: runs an exported SavedModel folder's ``serving_default`` signature with TensorFlow.

Example:
    >>> engine = SavedModelModel("export/model_savedmodel")
    >>> engine.run(np.zeros((1, 360, 480, 3), np.uint8)).shape
    (1, 360, 480, 12)
"""

import os

from ..errors import ExportError
from ..export.contract import INPUT_NAME, PROBABILITIES
from .base import ExportedModel


class SavedModelModel(ExportedModel):
    """A SavedModel whose ``serving_default`` takes ``image`` (uint8 NHWC) and gives ``probabilities``."""

    engine = "savedmodel"

    def __init__(self, path):
        import tensorflow as tf

        try:
            self.loaded = tf.saved_model.load(os.fspath(path))
            self.signature = self.loaded.signatures["serving_default"]
        except (OSError, KeyError, ValueError) as err:
            raise ExportError(f"{path}: cannot load a SavedModel with a serving_default signature ({err})") from err
        spec = self.signature.structured_input_signature[1].get(INPUT_NAME)
        outputs = self.signature.structured_outputs
        if spec is None or PROBABILITIES not in outputs:
            raise ExportError(f"{path}: not a keras-segmentation export (serving_default needs input {INPUT_NAME!r} "
                              f"and output {PROBABILITIES!r})")
        super().__init__(path, spec.shape[1:].as_list(), outputs[PROBABILITIES].shape[-1])

    def run(self, images):
        return self.signature(**{INPUT_NAME: images})[PROBABILITIES].numpy()
