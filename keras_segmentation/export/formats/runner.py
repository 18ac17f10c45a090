"""What every format's runner (engine) offers the predictor: the model attributes it reads and ``predict_on_batch``.

The predictor normalises images itself before calling a Keras model; an exported
graph normalises inside. A runner therefore hands the predictor
:meth:`ExportedModel.prepare_image` (the uint8 RGB(A) the graph takes: the 8-bit
image itself, the nearest 8-bit value of a 16-bit one) and says
``normalization = "none"`` for the paths that normalise tiles themselves (sliding
windows): they hand it RGB(A) values on the 0..255 scale, which it rounds to uint8.

Example:
    >>> engine = load_engine("model.onnx")
    >>> engine.predict_on_batch(np.zeros((1, engine.input_height, engine.input_width, 3), "float32")).shape
    (1, 360, 480, 12)
"""

import os

import numpy as np

from ...errors import ExportError
from ...uncertainty import check_temperature
from ..contract import graph_input, to_uint8
from ..metadata import metadata_path, read_metadata, write_metadata


class ExportedModel:
    """An exported model behind the attributes of a library model.

    ``temperature`` is the calibration temperature of the metadata (1.0 when it has none), which the predictor
    applies to the probabilities :meth:`predict_on_batch` returns.

    Subclasses set ``input_shape`` ``(H or None, W or None, C)`` and ``n_classes``
    from the graph and implement :meth:`run` (uint8 images -> float32 probabilities) and
    :meth:`write` (the deployable model -> a file of their format); registered with
    :func:`~keras_segmentation.export.formats.register_format`, they are that format.

    Raises:
        ExportError: the metadata beside the file describes other classes or channels than the graph has.
    """

    normalization = "none"
    engine = ""

    def __init__(self, path, input_shape, n_classes):
        self.path = os.fspath(path)
        self.input_height, self.input_width, self.channels = input_shape
        self.n_classes = int(n_classes)
        metadata = read_metadata(path) or {}
        described = metadata.get("n_classes", self.n_classes), (metadata.get("input") or {}).get("channels", self.channels)
        if described[0] != self.n_classes or (self.channels is not None and described[1] != self.channels):
            raise ExportError(f"{metadata_path(path)}: describes {described[0]} classes and {described[1]} channels but "
                              f"the graph has {self.n_classes} classes and {self.channels} channels; export it again")
        self.class_names = metadata.get("class_names")
        temperature = metadata.get("temperature")
        self.temperature = 1.0 if temperature is None else check_temperature(temperature, metadata_path(path), ExportError)
        self.model_name = metadata.get("model_name") or os.path.basename(self.path.rstrip(os.sep))
        self.name = self.model_name

    def store_temperature(self, temperature):
        """Keep ``temperature`` (a calibration's) in the metadata beside the file, rewritten atomically, and use it;
        returns the metadata's path.

        Example:
            >>> engine.store_temperature(1.6)
            'model.onnx.json'
            >>> load_engine(engine.path).temperature
            1.6
        """
        self.temperature = check_temperature(temperature)
        return write_metadata(self.path, {**(read_metadata(self.path) or {}), "temperature": self.temperature})

    @classmethod
    def load(cls, path, threads=None):
        """The exported model at ``path``, run on ``threads`` CPU threads (default: all of them)."""
        return cls(path, threads)

    @staticmethod
    def write(deployable, path, precision, calibration):
        """Write ``deployable`` to ``path`` (a temporary name) in ``precision``; ``calibration``: uint8 images."""
        raise NotImplementedError

    @staticmethod
    def prepare_image(image, size=None):
        """What the predictor hands :meth:`predict_on_batch` for an image read by the library: uint8 RGB(A)."""
        return graph_input(image, size)

    def predict_on_batch(self, batch):
        """Probabilities ``(N, H, W, n_classes)`` of a batch of uint8 RGB(A), or of RGB(A) 0..255 floats."""
        batch = np.asarray(batch)
        return self.run(batch if batch.dtype == np.uint8 else to_uint8(batch))

    def run(self, images):
        """Probabilities of a uint8 ``(N, H, W, C)`` batch."""
        raise NotImplementedError

    def __repr__(self):
        return f"<{type(self).__name__} {self.path}>"
