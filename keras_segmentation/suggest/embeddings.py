"""One vector per image, so that ``suggest`` can tell near-identical images apart from different ones.

A Keras model gives the global average of its deepest feature map: of the layers whose output is
a 4-D map at most 32 times smaller than the input on each side (an encoder's stride goes up to 32;
pooled pyramid bins and image-level pools are smaller still and left out), the smallest map, the one
with the most channels among equal sizes, the last of those in the graph. That is the encoder's
last stage, or the decoder block right on it (PSPNet's pyramid concatenation, DeepLab's ASPP),
for every model the library builds; models of free input size are measured on a 256x256 probe.
A second ``keras.Model`` on the same input and layers outputs it, so the weights are the model's.

An exported model (ONNX, LiteRT, SavedModel) outputs probabilities only: its vector is the class
probabilities averaged over a 4x4 grid of the image (:func:`probability_embedding`), which tells
scenes apart by where their classes lie. ``suggest`` says so once.

Example:
    >>> embed = Embedder(model)
    >>> vectors = embed.images([image_a, image_b])           # (2, channels) float32
"""

import warnings

import cv2
import numpy as np

from ..data.normalization import normalize_image

#: a map at most this many times smaller than the input, on each side, may be the encoder's
MAX_STRIDE = 32
#: the side of the probe input that measures the maps of a model of free input size
PROBE = 256
#: the grid of the probability embedding
GRID = 4


def feature_tensor(model):
    """The symbolic output of ``model``'s deepest feature map (see the module's rule), or ``None`` when it has none."""
    import keras

    maps = []
    for layer in model.layers:
        try:
            outputs = layer.output
        except (AttributeError, ValueError):  # an input layer, or a layer called more than once
            continue
        maps += [t for t in keras.tree.flatten(outputs) if len(t.shape) == 4 and t is not model.inputs[0]]
    if not maps:
        return None
    height, width, channels = model.inputs[0].shape[1:]
    shapes = [t.shape for t in maps]
    if height is None or width is None:
        height, width = height or PROBE, width or PROBE
        probe = keras.Model(model.inputs, maps)
        shapes = [spec.shape for spec in probe.compute_output_spec(keras.KerasTensor((1, height, width, channels)))]
    best = None
    for order, (tensor, shape) in enumerate(zip(maps, shapes)):
        if shape[1] is None or shape[2] is None or shape[1] * MAX_STRIDE < height or shape[2] * MAX_STRIDE < width:
            continue
        key = (-shape[1] * shape[2], shape[3] or 0, order)
        if best is None or key > best[0]:
            best = key, tensor
    return None if best is None else best[1]


def probability_embedding(probabilities, grid=GRID):
    """The class probabilities (H, W, classes) averaged over a ``grid`` x ``grid`` layout: float32 (grid * grid * classes).

    Example:
        >>> probability_embedding(np.ones((8, 8, 3), np.float32) / 3).shape
        (48,)
    """
    p = np.asarray(probabilities, np.float32)
    cells = [cv2.resize(p[:, :, k], (grid, grid), interpolation=cv2.INTER_AREA) for k in range(p.shape[-1])]
    return np.stack(cells, axis=-1).ravel()


class Embedder:
    """The image vectors of ``model``: pooled deepest features (a Keras model) or probabilities (otherwise).

    ``preprocessing``: the callable the images get before normalisation, as in the Predictor.
    ``needs_probabilities``: the vectors come from the predictions' probabilities (:meth:`predictions`),
    not from the images (:meth:`images`).
    """

    def __init__(self, model, preprocessing=None):
        self.model, self.preprocessing = model, preprocessing
        self._features = None
        tensor = feature_tensor(model) if hasattr(model, "layers") else None
        if tensor is not None:
            import keras

            pooled = keras.layers.GlobalAveragePooling2D(dtype="float32")(tensor)
            self._features = keras.Model(model.inputs, pooled)
        self.needs_probabilities = self._features is None

    def warn_once(self):
        """Warn that images are compared by their probabilities, when they are."""
        if self.needs_probabilities:
            warnings.warn(
                f"{getattr(self.model, 'path', 'the model')}: no encoder features to compare images by (an exported "
                f"model gives probabilities only): images are compared by their class probabilities on a "
                f"{GRID}x{GRID} grid",
                stacklevel=3,
            )

    def images(self, images):
        """float32 (N, channels) vectors of ``images`` (as read, BGR order), in one batch per image size."""
        size = (self.model.input_height, self.model.input_width)
        if self.preprocessing is not None:
            images = [self.preprocessing(image) for image in images]
        prepared = [normalize_image(image, self.model.normalization, size=size if None not in size else None)
                    for image in images]
        vectors = [None] * len(prepared)
        for shape in {p.shape for p in prepared}:
            same = [i for i, p in enumerate(prepared) if p.shape == shape]
            out = np.asarray(self._features.predict_on_batch(np.stack([prepared[i] for i in same])), np.float32)
            for i, vector in zip(same, out):
                vectors[i] = vector
        return np.stack(vectors) if vectors else np.zeros((0, 0), np.float32)

    def predictions(self, predictions):
        """float32 (N, dims) vectors of ``predictions`` (:class:`~keras_segmentation.inference.predictor.Prediction`):
        from their images, or from their probabilities."""
        if self.needs_probabilities:
            return np.stack([probability_embedding(p.probabilities) for p in predictions])
        return self.images([p.image for p in predictions])
