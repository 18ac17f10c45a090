"""Serving a model over HTTP: ``POST /predict``, ``/metadata``, ``/health`` and a page to try it (the ``[serve]``
extra: FastAPI, uvicorn, python-multipart).

* :mod:`.served_model`: the model (a preset, run folder, checkpoint prefix or exported file), its classes, colours
  and predictor;
* :mod:`.uploads`: the request's image within the byte and pixel limits, read as ``predict`` reads files;
* :mod:`.batcher`: requests arriving together share one model call;
* :mod:`.answers`: the label PNG, the JSON class shares, the float16 probabilities, the overlay;
* :mod:`.app`: :func:`create_app`, the ASGI app; :mod:`.server`: :func:`serve`, with uvicorn;
* ``static/``: the page at ``/`` (plain HTML, JavaScript and CSS; nothing from a CDN).

Example:
    >>> from keras_segmentation.serve import create_app, serve
    >>> app = create_app("presets/roads")          # for any ASGI server
    >>> serve("model.onnx", port=8000)             # or: keras_segmentation serve model.onnx --port 8000
"""

import importlib

#: Names loaded on first use (name -> module): importing the package imports neither FastAPI nor Keras.
_LAZY = {"create_app": "keras_segmentation.serve.app", "serve": "keras_segmentation.serve.server"}

__all__ = list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
