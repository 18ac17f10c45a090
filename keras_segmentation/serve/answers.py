"""What ``POST /predict`` answers, by ``?format=``: the label map PNG, a JSON summary, probabilities, an overlay.

* ``png`` (default): the class ids as a PNG of the image's own size (8-bit; 16-bit past 256 classes), as
  ``predict(..., colored=False)`` writes them;
* ``json``: the image size, the share of pixels of each class (with its name and colour) and the model name;
* ``probabilities``: a compressed NumPy ``.npz`` holding ``probabilities``, float16 ``(height, width, n_classes)``;
* ``overlay``: a PNG of the image with the coloured classes blended over it, as ``predict(overlay_img=True)``.

Example:
    >>> body, media_type = answer(prediction, "json", served)
    >>> media_type, sum(entry["share"] for entry in body["classes"])
    ('application/json', 1.0)
"""

import io

import numpy as np

from ..inference.writers import encode_image, render_output

FORMATS = ("png", "json", "probabilities", "overlay")
MEDIA_TYPES = {"png": "image/png", "json": "application/json", "probabilities": "application/octet-stream",
               "overlay": "image/png"}


def answer(prediction, fmt, served):
    """``(body, media type)`` of ``prediction`` in the format ``fmt``: bytes, or a JSON-ready dict for ``json``."""
    if fmt == "json":
        return summary(prediction, served), MEDIA_TYPES[fmt]
    if fmt == "probabilities":
        buffer = io.BytesIO()
        np.savez_compressed(buffer, probabilities=prediction.probabilities.astype(np.float16))
        return buffer.getvalue(), MEDIA_TYPES[fmt]
    colored = fmt == "overlay"
    image = render_output(prediction, served.model, colored, overlay_img=colored, colors=served.colors)
    return encode_image(image, ".png", "the answer").tobytes(), MEDIA_TYPES[fmt]


def summary(prediction, served):
    """``{"model", "width", "height", "classes": [{"id", "name", "color", "share"}]}``: each class's pixel share."""
    labels = prediction.labels
    counts = np.bincount(labels.ravel(), minlength=len(served.classes))
    return {"model": served.name, "width": int(labels.shape[1]), "height": int(labels.shape[0]),
            "classes": [dict(entry, share=float(counts[entry["id"]]) / labels.size) for entry in served.classes]}
