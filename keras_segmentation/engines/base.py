"""What every engine offers the predictor: the model attributes it reads and ``predict_on_batch``.

The predictor normalises images itself before calling a Keras model; an exported
graph normalises inside. An engine therefore says ``normalization = "none"``
(the predictor then hands it RGB(A) values on the 0..255 scale) and rounds them
back to the uint8 the graph takes: exact for 8-bit images, the nearest 8-bit
value for 16-bit ones.

Example:
    >>> engine = load_engine("model.onnx")
    >>> engine.predict_on_batch(np.zeros((1, engine.input_height, engine.input_width, 3), "float32")).shape
    (1, 360, 480, 12)
"""

import os

import numpy as np

from ..export.contract import to_uint8
from ..export.metadata import read_metadata


class ExportedModel:
    """An exported model behind the attributes of a library model.

    Subclasses set ``input_shape`` ``(H or None, W or None, C)`` and ``n_classes``
    from the graph and implement :meth:`run` (uint8 images -> float32 probabilities).
    """

    normalization = "none"
    engine = ""

    def __init__(self, path, input_shape, n_classes):
        self.path = os.fspath(path)
        self.input_height, self.input_width, self.channels = input_shape
        self.n_classes = int(n_classes)
        metadata = read_metadata(path) or {}
        self.class_names = metadata.get("class_names")
        self.model_name = metadata.get("model_name") or os.path.basename(self.path.rstrip(os.sep))
        self.name = self.model_name

    def predict_on_batch(self, batch):
        """Probabilities ``(N, H, W, n_classes)`` of a batch of RGB(A) 0..255 floats."""
        return self.run(to_uint8(np.asarray(batch)))

    def run(self, images):
        """Probabilities of a uint8 ``(N, H, W, C)`` batch."""
        raise NotImplementedError

    def __repr__(self):
        return f"<{type(self).__name__} {self.path}>"
