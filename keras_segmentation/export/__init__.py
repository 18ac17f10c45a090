"""Export a trained model for deployment: SavedModel, ONNX, LiteRT or ``.keras``, float32 / float16 / int8.

The exported graph takes uint8 images ``(N, H, W, C)`` (RGB(A) for colour models) and holds the model's own
normalisation; it gives ``probabilities`` and, with ``labels=True``, ``labels`` (class ids). A JSON beside it
describes it (:mod:`.metadata`), a parity check against the Keras model runs after every export
(:mod:`.parity`), and ``serving=`` lays it out for Triton or TensorFlow Serving (:mod:`.serving`).
Each format is one module of :mod:`.formats`, which writes it and runs the file in the library's own inference.

Example:
    >>> from keras_segmentation.export import export_model
    >>> result = export_model(checkpoints_path="ckpt/unet", output="unet_int8.onnx", fmt="onnx",
    ...                       precision="int8", calibration_images="data/train_images")
    >>> print(result.parity.line())
"""

import importlib

#: public name -> module that defines it (imported on first use: the formats' runners read
#: :mod:`.contract` and :mod:`.metadata` without loading Keras)
_LAZY = {"export_model": "exporter", "ExportResult": "exporter", "FORMATS": "formats", "PRECISIONS": "formats"}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)


__all__ = ["FORMATS", "PRECISIONS", "ExportResult", "export_model"]
