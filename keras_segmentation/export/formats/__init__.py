"""Export formats, one module each in this package: how a format is written, how the library runs it, its suffixes.

Each member module registers its runner (an :class:`~.runner.ExportedModel` subclass with a ``write``) with
:func:`register_format`, and this package imports every module in it: a new format is one new file here. The
members import their runtime (TensorFlow, tf2onnx, ONNX Runtime, LiteRT) inside functions, so finding, loading and
running an ``.onnx`` or ``.tflite`` file never imports TensorFlow.

Every writer takes the deployable model (:func:`~keras_segmentation.export.graph.deployable_model`) and writes
under a temporary name that is renamed into place at the end, so an interrupted export never leaves a broken
file under the real name. SavedModel, ONNX and LiteRT are TensorFlow formats: they are written from the
TensorFlow backend (checkpoints load in any backend, so export with ``KERAS_BACKEND=tensorflow``).

Which precision each format has:

=============  =========  =================================  =============================================
format          float32    float16                            int8 (calibrated on ``calibration`` images)
=============  =========  =================================  =============================================
keras           yes        no                                 no
savedmodel      yes        no                                 no
onnx            yes        weights and compute (GPU runtimes)  ONNX Runtime static QDQ, per-channel weights
litert          yes        weights (dequantised on the CPU)   full integer (uint8 in, int8 inside)
=============  =========  =================================  =============================================

:func:`load_engine` returns an object the library's predictor uses like a Keras model (``predict_on_batch``,
``input_height``, ``n_classes``, ...), so ``predict``, ``predict_multiple``, ``evaluate`` and the CLI give the
same outputs, sliding windows and test-time augmentation included, whichever runtime runs the network.
``engine="onnxruntime"`` or ``"litert"`` with a Keras model exports it to a temporary float32 file first
(:func:`model_for_engine`).

Example:
    >>> write_export(deployable, "model.onnx", "onnx", "int8", calibration=images)
    >>> load_engine("model.onnx").engine
    'onnxruntime'
    >>> from keras_segmentation.inference import predict_multiple
    >>> predict_multiple(checkpoints_path="ckpt/unet", inp_dir="imgs/", out_dir="preds/", engine="onnxruntime")
"""

import dataclasses
import importlib
import os
import pkgutil

from ...atomic import atomic_write, atomic_write_folder
from ...errors import ExportError

PRECISIONS = ("float32", "float16", "int8")
_REGISTRY = {}  # format name -> Format; filled by register_format as the members are imported (end of this module)


@dataclasses.dataclass(frozen=True)
class Format:
    """One export format: its name, the runner class that writes and runs it, and how its files are recognised.

    ``suffixes``: the suffixes of its files; ``folder``: for a format written as a folder, the file that marks
    one (a SavedModel's ``saved_model.pb``). ``any_backend``: written from any Keras backend, not only TensorFlow.
    ``keras_free``: its runner loads neither Keras nor TensorFlow (``serve`` of such a file imports neither).

    Example:
        >>> get_format("onnx").engine, get_format("onnx").suffix
        ('onnxruntime', '.onnx')
    """

    name: str
    runner: type
    suffixes: tuple
    folder: str | None
    precisions: tuple
    any_backend: bool
    keras_free: bool

    @property
    def engine(self):
        """The ``engine=`` name of the runtime that runs it."""
        return self.runner.engine

    @property
    def suffix(self):
        """The suffix of a file written in this format (``""`` for a folder)."""
        return self.suffixes[0] if self.suffixes else ""


def register_format(name, *, suffixes=(), folder=None, precisions=("float32",), any_backend=False, keras_free=False):
    """Class decorator: the decorated runner writes and runs the export format ``name``.

    Example:
        >>> @register_format("onnx", suffixes=(".onnx",), precisions=PRECISIONS)
        ... class OnnxRuntimeModel(ExportedModel):
        ...     engine = "onnxruntime"
    """
    def register(runner):
        _REGISTRY[name] = Format(name, runner, tuple(suffixes), folder, tuple(precisions), any_backend, keras_free)
        return runner

    return register


def get_format(name):
    """The format called ``name``.

    Raises:
        ExportError: no format has that name.

    Example:
        >>> get_format("litert").suffix
        '.tflite'
    """
    if name not in _REGISTRY:
        raise ExportError(f"format={name!r}: choose one of {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def format_for_engine(engine):
    """The format that the runtime ``engine`` runs.

    Raises:
        ExportError: no format is run by ``engine``.

    Example:
        >>> format_for_engine("onnxruntime").name
        'onnx'
    """
    found = next((spec for spec in _REGISTRY.values() if spec.engine == engine), None)
    if found is None:
        raise ExportError(f"engine={engine!r}: choose one of {', '.join(spec.engine for spec in _REGISTRY.values())}")
    return found


def format_for_path(path):
    """The format of the exported file ``path`` (by its suffix) or folder (by the file that marks it).

    Raises:
        ExportError: a file of no format's suffix, a folder that none marks.

    Example:
        >>> format_for_path("export/model_int8.tflite").engine
        'litert'
    """
    path = os.fspath(path)
    markers = " or ".join(spec.folder for spec in _REGISTRY.values() if spec.folder)
    if os.path.isdir(path):
        found = next((spec for spec in _REGISTRY.values()
                      if spec.folder and os.path.exists(os.path.join(path, spec.folder))), None)
        if found is None:
            raise ExportError(f"{path}: a folder without {markers} is not an exported model")
        return found
    suffix = os.path.splitext(path)[1].lower()
    found = next((spec for spec in _REGISTRY.values() if suffix in spec.suffixes), None)
    if found is None:
        suffixes = ", ".join(known for spec in _REGISTRY.values() for known in spec.suffixes)
        raise ExportError(f"{path}: unknown model file type {suffix or '(none)'}; expected {suffixes} or a folder "
                          f"with {markers}")
    return found


def check_request(fmt, precision, calibration):
    """One-line errors for a format/precision pair that cannot be written.

    Example:
        >>> check_request("keras", "int8", images)
        Traceback (most recent call last):
        ExportError: format='keras' is written in float32 only; use litert or onnx for int8
    """
    spec = get_format(fmt)
    if precision not in PRECISIONS:
        raise ExportError(f"precision={precision!r}: choose one of {', '.join(PRECISIONS)}")
    if precision not in spec.precisions:
        others = " or ".join(name for name, other in _REGISTRY.items() if precision in other.precisions)
        raise ExportError(f"format={fmt!r} is written in {', '.join(spec.precisions)} only; use {others} "
                          f"for {precision}")
    if precision == "int8" and calibration is None:
        raise ExportError("int8 needs calibration images (calibration_images=DIR, --calibration_images DIR)")
    if not spec.any_backend:
        import keras

        if keras.backend.backend() != "tensorflow":
            raise ExportError(f"format={fmt!r} is written from the TensorFlow backend (this is "
                              f"{keras.backend.backend()!r}): run with KERAS_BACKEND=tensorflow; checkpoints load "
                              "in any backend")


def write_export(deployable, path, fmt, precision="float32", calibration=None):
    """Write ``deployable`` to ``path`` as ``fmt`` in ``precision``; ``calibration``: uint8 images for int8.

    Example:
        >>> write_export(deployable_model(model), "model.tflite", "litert", "float16")
    """
    check_request(fmt, precision, calibration)
    spec = get_format(fmt)

    def write(temp):
        spec.runner.write(deployable, temp, precision, calibration)

    if spec.folder:
        atomic_write_folder(path, write)
    else:
        atomic_write(path, write, durable=False)


def load_engine(path, engine=None, threads=None):
    """The exported model at ``path`` as an :class:`~.runner.ExportedModel` run by ``engine`` (default, and
    ``"auto"``: the one its format names).

    A ``.keras`` file that is not an export (a library model) is loaded as the Keras model itself.

    Raises:
        ExportError: unknown file type, missing runtime package, or an unreadable file.

    Example:
        >>> engine = load_engine("export/model_int8.onnx", threads=2)
    """
    if not os.path.exists(path):
        raise ExportError(f"{path}: no such exported model")
    spec = format_for_path(path)
    if engine not in (None, "auto", spec.engine):
        raise ExportError(f"{path}: a {spec.engine} file; engine={engine!r} cannot run it")
    return spec.runner.load(path, threads)


def model_for_engine(model, engine, threads=None):
    """``model`` (a Keras model) run by ``engine``: itself for ``"keras"`` (and ``"auto"``, decided later), else a
    float32 export of it, loaded.

    Example:
        >>> model_for_engine(model, "litert").engine
        'litert'
    """
    if engine in (None, "keras", "auto"):
        return model
    spec = format_for_engine(engine)
    import tempfile

    from ...uncertainty import model_temperature
    from ..graph import deployable_model

    folder = tempfile.TemporaryDirectory(prefix="keras_segmentation_engine_")
    path = os.path.join(folder.name, f"model{spec.suffix}")
    write_export(deployable_model(model), path, spec.name)
    loaded = load_engine(path, engine, threads)
    loaded.keep_alive = folder  # the temporary folder lives as long as the engine
    loaded.temperature = model_temperature(model)  # written without metadata: the model's calibration
    return loaded


def _import_members():
    """Import every module of this package: each member registers its format as it is imported."""
    for member in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{member.name}")


_import_members()
FORMATS = tuple(_REGISTRY)
#: the ``engine=`` names: ``auto`` (:mod:`keras_segmentation.inference.engine_choice`), ``keras`` and each format's
#: runtime
ENGINES = tuple(dict.fromkeys(["auto", "keras", *(spec.engine for spec in _REGISTRY.values())]))
