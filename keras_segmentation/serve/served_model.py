"""The model a server runs: loaded once from anything ``from_preset`` takes, its classes and colours, its predictor.

A preset's ``metadata.json`` gives the class names and colours; otherwise the model's own class names and the
colours ``predict`` draws with (a run folder's class colours, else the library's palette). Images go through the library's
:class:`~keras_segmentation.inference.predictor.Predictor`, so a served label map equals ``predict()``'s.
An exported file runs on its engine (ONNX Runtime, LiteRT, ...) and loads no Keras or TensorFlow.

Example:
    >>> served = ServedModel("presets/roads")
    >>> served.describe()["classes"][1]
    {'id': 1, 'name': 'road', 'color': [128, 0, 0]}
"""

import math
import os

from ..checkpoints.preset_folder import METADATA_FILE, is_preset, read_preset_json
from ..inference.engine_choice import choose_engine, engine_name
from ..inference.predictor import Predictor, painting_colors
from ..presets.hub import download_preset, is_hub_source
from ..presets.load import from_preset


class ServedModel:
    """``model`` (a loaded model, or what :func:`~keras_segmentation.from_preset` loads) ready to serve.

    Attributes:
        model: the model (a Keras model or an engine's); ``predictor``: the predictor that runs it;
        classes: ``[{"id", "name", "color"}]`` (names ``None`` where unknown, colours ``[r, g, b]``);
        name: the model's name; ``engine``: what runs it (``"keras (tensorflow)"``, ``"onnxruntime"``, ...).

    ``engine="auto"`` times a Keras model against its ONNX Runtime export on two smooth random images of the model's
    input size and serves the faster one where the labels are the same
    (:func:`~keras_segmentation.inference.engine_choice.choose_engine`); ``engine_choice`` is the line that says
    which and why (``None`` without a choice).
    """

    def __init__(self, model, max_batch=8, engine="keras"):
        source = os.fspath(model) if isinstance(model, (str, os.PathLike)) else None
        if source is not None and is_hub_source(source):
            source = download_preset(source)  # the Hub's cached folder: its metadata.json gives the colours
        self.model = from_preset(source) if source is not None else model
        metadata = (read_preset_json(source, METADATA_FILE) or {}) if source is not None and is_preset(source) else {}
        self.classes = metadata.get("classes") or _palette_classes(self.model)
        self.name = metadata.get("model_name") or getattr(self.model, "model_name", None) or self.model.name
        self.engine_choice = None
        if engine == "auto" and hasattr(self.model, "layers"):  # a Keras model; an exported file keeps its engine
            self.model, self.engine_choice = choose_engine(self.model, _probe_images(self.model), {"batch_size": 2},
                                                           None, math.inf)
        self.engine = engine_name(self.model)
        self.predictor = Predictor(self.model, batch_size=max_batch)

    @property
    def colors(self):
        """``(r, g, b)`` by class id, as the library's drawing functions take them."""
        return [tuple(entry["color"]) for entry in self.classes]

    def prepare(self, path):
        """``(image, model input)`` of the image file ``path``, read as ``predict`` reads it.

        Raises:
            SegmentationError: the reader's error (unreadable file, wrong channel count).
        """
        image, model_input, error = self.predictor.prepare(path)
        if error is not None:
            raise error
        return image, model_input

    def predict(self, prepared, with_probabilities=False):
        """The :class:`~keras_segmentation.inference.predictor.Prediction` of each ``(image, model input)``, in
        one model call where their shapes agree."""
        return self.predictor.predict_prepared([(image, x, None) for image, x in prepared], with_probabilities)

    def describe(self):
        """What ``GET /metadata`` answers about the model (JSON-ready)."""
        model = self.model
        return {"model": self.name, "engine": self.engine, "input_height": model.input_height,
                "input_width": model.input_width, "channels": model.channels, "n_classes": int(model.n_classes),
                "classes": self.classes, "prediction": dict(getattr(model, "run_options", None) or {})}


def _palette_classes(model):
    names = getattr(model, "class_names", None) or [None] * int(model.n_classes)
    colors = painting_colors(model)
    return [{"id": i, "name": None if names[i] is None else str(names[i]), "color": list(colors[i])}
            for i in range(int(model.n_classes))]


def _probe_images(model):
    """Two smooth random uint8 images of ``model``'s input size (256 x 256 for a model of any size)."""
    import numpy as np

    from ..data.normalization import resize_image

    height, width = model.input_height or 256, model.input_width or 256
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (2, max(2, height // 16), max(2, width // 16), model.channels), dtype=np.uint8)
    return [resize_image(image, (height, width)) for image in small]
