"""Inference engines: run an exported model (ONNX Runtime, LiteRT, SavedModel, exported ``.keras``) in the library.

:func:`load_engine` returns an object the library's predictor uses like a Keras
model (``predict_on_batch``, ``input_height``, ``n_classes``, ...), so
``predict``, ``predict_multiple``, ``evaluate`` and the CLI give the same
outputs, sliding windows and test-time augmentation included, whichever engine
runs the network. ``engine="onnxruntime"`` or ``"litert"`` with a Keras model
exports it to a temporary float32 file first.

Example:
    >>> from keras_segmentation.inference import predict_multiple
    >>> predict_multiple(model="export/model_int8.onnx", inp_dir="imgs/", out_dir="preds/")
    >>> predict_multiple(checkpoints_path="ckpt/unet", inp_dir="imgs/", out_dir="preds/", engine="onnxruntime")
"""

import os

from ..errors import ExportError
from ..export.formats import SUFFIXES
from .base import ExportedModel

#: ``engine=`` names and the export format each runs.
ENGINES = {"keras": "keras", "onnxruntime": "onnx", "litert": "litert", "savedmodel": "savedmodel"}


def engine_for_path(path):
    """The engine name that runs the exported file or folder ``path`` (by its suffix / contents)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        if os.path.exists(os.path.join(path, "saved_model.pb")):
            return "savedmodel"
        raise ExportError(f"{path}: a folder without saved_model.pb is not an exported model")
    suffix = os.path.splitext(path)[1].lower()
    engines = {SUFFIXES[fmt]: name for name, fmt in ENGINES.items() if SUFFIXES[fmt]}
    if suffix not in engines:
        raise ExportError(f"{path}: unknown model file type {suffix or '(none)'}; expected .onnx, .tflite, .keras "
                          "or a SavedModel folder")
    return engines[suffix]


def load_engine(path, engine=None, threads=None):
    """The exported model at ``path`` as an :class:`ExportedModel` run by ``engine`` (default: from the path).

    A ``.keras`` file that is not an export (a library model) is loaded as the Keras model itself.

    Raises:
        ExportError: unknown file type, missing runtime package, or an unreadable file.
    """
    if not os.path.exists(path):
        raise ExportError(f"{path}: no such exported model")
    expected = engine_for_path(path)
    if engine not in (None, expected):
        raise ExportError(f"{path}: a {expected} file; engine={engine!r} cannot run it")
    engine = expected
    if engine == "onnxruntime":
        from .onnx import OnnxRuntimeModel

        return OnnxRuntimeModel(path, threads)
    if engine == "litert":
        from .litert import LiteRTModel

        return LiteRTModel(path, threads)
    if engine == "savedmodel":
        from .saved_model import SavedModelModel

        return SavedModelModel(path)
    from .keras_file import load_keras_file

    return load_keras_file(path)


def model_for_engine(model, engine, threads=None):
    """``model`` (a Keras model) run by ``engine``: itself for ``"keras"``, else a float32 export of it, loaded."""
    if engine in (None, "keras"):
        return model
    if engine not in ENGINES:
        raise ExportError(f"engine={engine!r}: choose one of {', '.join(ENGINES)}")
    import tempfile

    from ..export.formats import write_export
    from ..export.graph import deployable_model

    folder = tempfile.TemporaryDirectory(prefix="keras_segmentation_engine_")
    path = os.path.join(folder.name, f"model{SUFFIXES[ENGINES[engine]]}")
    write_export(deployable_model(model), path, ENGINES[engine])
    loaded = load_engine(path, engine, threads)
    loaded.keep_alive = folder  # the temporary folder lives as long as the engine
    return loaded


__all__ = ["ENGINES", "ExportedModel", "engine_for_path", "load_engine", "model_for_engine"]
