"""Parity of an export with the Keras model it came from: max |Δprob|, label agreement, mIoU change.

The reference is the same deployable graph run by Keras, on the same uint8 images (a folder's, or generated
ones). A float32 export must match within :data:`FLOAT32_TOLERANCE` in probability, or :func:`check_parity`
raises; float16 and int8 are reported, not judged. With annotations, both models are also scored by
:func:`~keras_segmentation.evaluation.evaluate` at full resolution and the mIoU change is reported.

Example:
    >>> images = parity_images(model, "val/images")
    >>> report = check_parity(model, deployable_model(model), load_engine("model_int8.onnx"), "int8", images,
    ...                       images_dir="val/images", annotations_dir="val/masks")
    >>> print(report.line())  # one line; wrapped here
    onnxruntime int8 vs keras on 8 images: max |Δprob| 0.166, labels agree 93.90 %, 62.5 ms/image (keras 116.9),
    mIoU 21.99 -> 22.11 (+0.12)
"""

import dataclasses
import os
import time

import numpy as np

from ..errors import ParityError
from .contract import PROBABILITIES
from .quantize import folder_images

FLOAT32_TOLERANCE = 1e-4
FREE_SIZE = (256, 256)  # generated images for a model that takes any size


@dataclasses.dataclass
class ParityReport:
    """How an export's outputs compare with the Keras model's."""

    engine: str
    precision: str
    images: int
    max_abs_diff: float
    label_agreement: float
    seconds_per_image: float
    keras_seconds_per_image: float
    keras_miou: float | None = None
    export_miou: float | None = None

    def line(self):
        """One line for the CLI."""
        text = (f"{self.engine} {self.precision} vs keras on {self.images} images: max |Δprob| "
                f"{self.max_abs_diff:.3g}, labels agree {100 * self.label_agreement:.2f} %, "
                f"{1000 * self.seconds_per_image:.1f} ms/image (keras {1000 * self.keras_seconds_per_image:.1f})")
        if self.export_miou is not None:
            change = 100 * (self.export_miou - self.keras_miou)
            text += f", mIoU {100 * self.keras_miou:.2f} -> {100 * self.export_miou:.2f} ({change:+.2f})"
        return text


def parity_images(model, images_dir=None, count=8, seed=0):
    """``count`` uint8 images for the check: spread over ``images_dir``, or random ones at the input size."""
    size = (model.input_height or FREE_SIZE[0], model.input_width or FREE_SIZE[1])
    if images_dir is None:
        rng = np.random.default_rng(seed)
        return list(rng.integers(0, 256, (count, *size, model.channels), dtype=np.uint8))
    return folder_images(images_dir, model, count, size, "parity_images")


def check_parity(model, deployable, engine, precision, images, *, images_dir=None, annotations_dir=None,
                 ignore_index=None, batch_size=2):
    """Compare ``engine`` (an :class:`~keras_segmentation.export.formats.runner.ExportedModel`) with ``deployable`` on ``images``.

    Raises:
        ParityError: a float32 export differs by more than :data:`FLOAT32_TOLERANCE` in probability.
    """
    batches = [np.stack(images[i : i + batch_size]) for i in range(0, len(images), batch_size)]
    reference, keras_seconds = _timed(lambda batch: deployable.predict_on_batch(batch)[PROBABILITIES], batches)
    exported, seconds = _timed(engine.run, batches)
    report = ParityReport(
        engine=engine.engine, precision=precision, images=len(images),
        max_abs_diff=float(np.abs(exported - reference).max()),
        label_agreement=float((exported.argmax(-1) == reference.argmax(-1)).mean()),
        seconds_per_image=seconds / len(images), keras_seconds_per_image=keras_seconds / len(images))
    if annotations_dir is not None:
        from ..evaluation import evaluate

        def miou(runner):
            scores = evaluate(runner, inp_images_dir=images_dir, annotations_dir=annotations_dir,
                              ignore_index=ignore_index, progress=False, engine="keras")  # each as it is
            return float(scores["mean_IU"])

        report.keras_miou, report.export_miou = miou(model), miou(engine)
    if precision == "float32" and not report.max_abs_diff <= FLOAT32_TOLERANCE:
        raise ParityError(f"{os.fspath(engine.path)}: float32 export differs from the Keras model by "
                          f"{report.max_abs_diff:.3g} in probability (tolerance {FLOAT32_TOLERANCE:g})")
    return report


def _timed(run, batches):
    run(batches[0])  # warm-up: graph building, allocation
    start = time.perf_counter()
    outputs = np.concatenate([np.asarray(run(batch)) for batch in batches])
    return outputs, time.perf_counter() - start
