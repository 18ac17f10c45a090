"""The throughput probe: how many training images per second the planned model takes on this machine.

A few training steps on random batches of the planned size and precision, after two
warm-up steps (tracing, memory); at most ``seconds`` of stepping. The plan then sizes the
input so that the budget holds enough epochs (:func:`~keras_segmentation.autofit.plan.expected_epochs`).

Example:
    >>> probe_throughput(values(plan), n_outputs=12, channels=3, seconds=30)   # doctest: +SKIP
    {'input': [192, 256], 'images_per_second': 5.1, 'steps': 12, 'seconds': 27.3}
"""

import time

import keras
import numpy as np

from ..precision import in_precision
from ..training.compile import choose_jit_compile, compile_model
from .recipe import build_planned_model


def probe_throughput(settings, n_outputs, channels, seconds, ignore_index=None):
    """``{"input", "images_per_second", "steps", "seconds"}`` of the planned model (see the module docstring)."""
    start = time.perf_counter()
    model = in_precision(build_planned_model(settings, n_outputs, channels), settings["precision"])
    jit, _ = choose_jit_compile("auto", model)
    compile_model(model, "adam", settings["learning_rate"], None, settings["loss"], None, ignore_index, 1, 1, jit)
    batch = int(settings["batch_size"])
    rng = np.random.default_rng(0)
    images = rng.random((batch, model.input_height, model.input_width, channels), dtype=np.float32)
    labels = rng.integers(0, n_outputs, (batch, model.output_height, model.output_width), dtype=np.int32)
    for _ in range(2):
        model.train_on_batch(images, labels)
    steps, stepping = 0, time.perf_counter()
    while steps < 2 or (time.perf_counter() - start < seconds and steps < 50):
        model.train_on_batch(images, labels)
        steps += 1
    elapsed = time.perf_counter() - stepping
    del model
    keras.backend.clear_session()
    return {"input": list(settings["input"]), "images_per_second": round(steps * batch / elapsed, 3), "steps": steps,
            "seconds": round(time.perf_counter() - start, 1)}
