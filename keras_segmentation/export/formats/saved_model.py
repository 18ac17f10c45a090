"""SavedModel (TF Serving, Triton): written with a ``serving_default`` signature, run by TensorFlow.

Example:
    >>> engine = SavedModelModel("export/model_savedmodel")
    >>> engine.run(np.zeros((1, 360, 480, 3), np.uint8)).shape
    (1, 360, 480, 12)
"""

import os

from ...errors import ExportError
from ..contract import INPUT_NAME, PROBABILITIES
from . import register_format
from .runner import ExportedModel


def serving_function(deployable, batch=None):
    """``deployable`` as a ``tf.function`` of a uint8 ``image`` batch (``batch``: its fixed size, or ``None``).

    Example:
        >>> serving_function(deployable_model(model), batch=1).input_signature[0].shape
        TensorShape([1, 64, 64, 3])
    """
    import tensorflow as tf

    shape = [batch, *deployable.input_shape[1:]]
    return tf.function(lambda image: deployable(image, training=False),
                       input_signature=[tf.TensorSpec(shape, tf.uint8, name=INPUT_NAME)])


def write_savedmodel(deployable, folder, batch=None):
    """A SavedModel whose ``serving_default`` signature maps ``image`` to the outputs (TF Serving, Triton)."""
    import keras

    archive = keras.export.ExportArchive()
    archive.track(deployable)
    archive.add_endpoint("serving_default", serving_function(deployable, batch))
    archive.write_out(folder, verbose=False)


@register_format("savedmodel", folder="saved_model.pb")
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

    @classmethod
    def load(cls, path, threads=None):
        """The SavedModel folder at ``path``; TensorFlow sizes its own thread pools (``threads`` is not used)."""
        return cls(path)

    @staticmethod
    def write(deployable, path, precision, calibration):
        """The float32 SavedModel folder (the only precision it is written in)."""
        write_savedmodel(deployable, path)

    def run(self, images):
        return self.signature(**{INPUT_NAME: images})[PROBABILITIES].numpy()
