"""``export_model``: deployable graph -> file in the format and precision asked -> metadata -> parity check.

Example:
    >>> result = export_model(model, "model.tflite", "litert", "float16")
    >>> result.path, result.parity.max_abs_diff < 1e-2
    ('model.tflite', True)
"""

import dataclasses
import os

from ..atomic import file_in_the_way
from ..errors import ExportError
from ..inference.predictor import model_or_checkpoint
from .formats import check_request, load_engine, write_export
from .graph import deployable_model
from .metadata import describe, write_metadata
from .parity import ParityReport, check_parity, parity_images
from .quantize import calibration_images as read_calibration
from .serving import check_serving, serving_model_path, write_serving_config


@dataclasses.dataclass
class ExportResult:
    """What :func:`export_model` wrote and measured."""

    path: str
    metadata_path: str
    size_bytes: int
    parity: ParityReport | None = None
    serving_config: str | None = None


def export_model(model=None, output=None, fmt="onnx", precision="float32", *, checkpoints_path=None, labels=False,
                 calibration_images=None, calibration_count=100, parity=True, parity_images_dir=None,
                 parity_annotations_dir=None, parity_count=8, ignore_index=None, serving=None, serving_name=None):
    """Export ``model`` (or the one under ``checkpoints_path``, a ``.keras`` path, a ``fit`` run folder) to ``output``.

    Args:
        fmt: ``"onnx"``, ``"litert"``, ``"savedmodel"`` or ``"keras"``.
        precision: ``"float32"``, ``"float16"`` (onnx, litert) or ``"int8"`` (onnx, litert).
        labels: add the ``labels`` output (int32 class ids) beside ``probabilities``.
        calibration_images: folder of representative images for int8; ``calibration_count`` of them are used.
        parity: compare with the Keras model on ``parity_count`` images (from ``parity_images_dir``, else
            random; for int8, the calibration images); with ``parity_annotations_dir`` also the mIoU of both
            (``ignore_index`` as in evaluate).
        serving: ``"triton"`` or ``"tfserving"``: ``output`` is then the repository folder, and the model goes
            under ``output/serving_name/1/`` with the server's configuration.

    Raises:
        ExportError: a format/precision/serving combination that cannot be written, a missing package, an
            ``output`` under a file, ``calibration_count`` below 1.
        ParityError: a float32 export differs from the Keras model by more than 1e-4 in probability.
    """
    if output is None:
        raise ExportError("give an output path (output=..., --output)")
    _check_folder(output, serving)
    if calibration_images and calibration_count < 1:
        raise ExportError(f"calibration_count={calibration_count}: calibrate on 1 image or more "
                          "(calibration_count=N, --calibration_count N)")
    if isinstance(model, (str, os.PathLike)):
        from ..checkpoints import run_folder
        from ..checkpoints.load import load_model

        model = load_model(run_folder.model_file(model) if run_folder.is_run_folder(model) else model, compile=False)
    model = model_or_checkpoint(model, checkpoints_path)
    if parity_annotations_dir is not None and parity_images_dir is None:
        raise ExportError("parity_annotations_dir needs parity_images_dir (the images the masks belong to)")
    calibration = read_calibration(calibration_images, model, calibration_count) if calibration_images else None
    check_request(fmt, precision, calibration)
    name = serving_name or model.model_name or model.name
    if serving is not None:
        check_serving(serving, fmt)
        root, output = output, serving_model_path(serving, output, name, fmt)
    deployable = deployable_model(model, labels=labels)
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    write_export(deployable, output, fmt, precision, calibration)
    result = ExportResult(path=os.fspath(output), metadata_path=write_metadata(output, describe(model, fmt, precision,
                                                                                                labels)),
                          size_bytes=_size(output))
    if serving is not None:
        result.serving_config = write_serving_config(serving, root, name, fmt, deployable)
    if parity:
        if parity_images_dir is None and precision == "int8":
            parity_images_dir = calibration_images  # representative images: random noise would saturate int8
        images = parity_images(model, parity_images_dir, parity_count)
        result.parity = check_parity(model, deployable, load_engine(output), precision, images,
                                     images_dir=parity_images_dir, annotations_dir=parity_annotations_dir,
                                     ignore_index=ignore_index)
    return result


def _check_folder(output, serving):
    """A one-line error when a file stands where ``output``'s folder (with ``serving``, ``output``) would be made."""
    blocker = file_in_the_way(output if serving else os.path.dirname(os.path.abspath(output)))
    if blocker is not None:
        raise ExportError(f"{output}: cannot write there, {blocker} is a file, not a folder")


def _size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(folder, name)) for folder, _, names in os.walk(path) for name in names)
