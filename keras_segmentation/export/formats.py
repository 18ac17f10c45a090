"""Writers of each export format: ``keras``, ``savedmodel``, ``onnx``, ``litert``, in float32, float16 or int8.

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

Example:
    >>> write_export(deployable, "model.onnx", "onnx", "int8", calibration=images)
"""

import os
import warnings

from ..atomic import atomic_write, atomic_write_folder
from ..errors import ExportError
from .contract import INPUT_NAME

FORMATS = ("keras", "savedmodel", "onnx", "litert")
PRECISIONS = ("float32", "float16", "int8")
SUPPORTED = {"keras": ("float32",), "savedmodel": ("float32",), "onnx": PRECISIONS, "litert": PRECISIONS}
SUFFIXES = {"keras": ".keras", "savedmodel": "", "onnx": ".onnx", "litert": ".tflite"}
ONNX_OPSET = 17


def check_request(fmt, precision, calibration):
    """One-line errors for a format/precision pair that cannot be written."""
    if fmt not in FORMATS:
        raise ExportError(f"format={fmt!r}: choose one of {', '.join(FORMATS)}")
    if precision not in PRECISIONS:
        raise ExportError(f"precision={precision!r}: choose one of {', '.join(PRECISIONS)}")
    if precision not in SUPPORTED[fmt]:
        raise ExportError(f"format={fmt!r} is written in {', '.join(SUPPORTED[fmt])} only; use onnx or litert "
                          f"for {precision}")
    if precision == "int8" and calibration is None:
        raise ExportError("int8 needs calibration images (calibration_images=DIR, --calibration_images DIR)")
    if fmt != "keras":
        import keras

        if keras.backend.backend() != "tensorflow":
            raise ExportError(f"format={fmt!r} is written from the TensorFlow backend (this is "
                              f"{keras.backend.backend()!r}): run with KERAS_BACKEND=tensorflow; checkpoints load "
                              "in any backend")


def write_export(deployable, path, fmt, precision="float32", calibration=None):
    """Write ``deployable`` to ``path`` as ``fmt`` in ``precision``; ``calibration``: uint8 images for int8."""
    check_request(fmt, precision, calibration)
    if fmt == "keras":
        atomic_write(path, deployable.save, durable=False)
    elif fmt == "savedmodel":
        atomic_write_folder(path, lambda temp: write_savedmodel(deployable, temp))
    elif fmt == "onnx":
        from .quantize import onnx_float16, onnx_int8

        def write(temp):
            write_onnx(deployable, temp)
            if precision == "float16":
                onnx_float16(temp)
            elif precision == "int8":
                onnx_int8(temp, calibration)

        atomic_write(path, write, durable=False)
    else:
        atomic_write(path, lambda temp: write_litert(deployable, temp, precision, calibration), durable=False)


def _serving_function(deployable, batch=None):
    import tensorflow as tf

    shape = [batch, *deployable.input_shape[1:]]
    return tf.function(lambda image: deployable(image, training=False),
                       input_signature=[tf.TensorSpec(shape, tf.uint8, name=INPUT_NAME)])


def write_savedmodel(deployable, folder, batch=None):
    """A SavedModel whose ``serving_default`` signature maps ``image`` to the outputs (TF Serving, Triton)."""
    import keras

    archive = keras.export.ExportArchive()
    archive.track(deployable)
    archive.add_endpoint("serving_default", _serving_function(deployable, batch))
    archive.write_out(folder, verbose=False)


def write_onnx(deployable, path):
    """A float32 ONNX graph (opset 17) with input ``image`` and the deployable model's named outputs."""
    function = _serving_function(deployable)
    try:
        import tf2onnx
    except ImportError as err:
        raise ExportError("ONNX export needs tf2onnx: pip install 'keras-segmentation[onnx]'") from err
    tf2onnx.convert.from_function(function, input_signature=function.input_signature, opset=ONNX_OPSET,
                                  output_path=os.fspath(path))


def write_litert(deployable, path, precision, calibration):
    """A LiteRT flatbuffer of ``deployable`` (batch 1, as phones and boards run it): float32, float16 weights, or
    full integer.

    With a dynamic batch, LiteRT cannot allocate some graphs (PSPNet's adaptive pooling: "BytesRequired number of
    elements overflowed"), so the batch is fixed at 1; :class:`~keras_segmentation.engines.litert.LiteRTModel`
    runs a batch image by image.
    """
    import tempfile

    import tensorflow as tf

    with tempfile.TemporaryDirectory(prefix="keras_segmentation_litert_") as folder:
        write_savedmodel(deployable, folder, batch=1)
        converter = tf.lite.TFLiteConverter.from_saved_model(folder)
        if precision == "float16":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_types = [tf.float16]
        elif precision == "int8":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = lambda: ({INPUT_NAME: image[None]} for image in calibration)
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # int8 calibration runs tf.lite.Interpreter, which warns it is deprecated
            flatbuffer = converter.convert()
    with open(path, "wb") as handle:
        handle.write(flatbuffer)

