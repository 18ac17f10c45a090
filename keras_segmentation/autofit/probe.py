"""The throughput probe: how many training images per second the planned model takes on this machine, and how
much memory a batch takes.

A few training steps on random batches of the planned size and precision, after two
warm-up steps (tracing, memory); at most ``seconds`` of stepping. The plan then sizes the
input so that the budget holds enough epochs (:func:`~keras_segmentation.autofit.plan.expected_epochs`) and caps
the batch by the memory measured here (:func:`~keras_segmentation.autofit.plan.memory_batch`): on a GPU the peak of
TensorFlow's allocator, on a CPU the process's peak resident memory above what it held before the model was built
(Linux: ``VmHWM`` after resetting it through ``/proc/self/clear_refs``), against the memory available then.

Example:
    >>> probe_throughput(values(plan), n_outputs=12, channels=3, seconds=30)   # doctest: +SKIP
    {'input': [192, 256], 'images_per_second': 5.1, 'steps': 12, 'seconds': 27.3, 'batch': 4,
     'memory': {'device': 'cpu', 'used': 912261120, 'available': 21474836480}}
"""

import subprocess
import time

import keras
import numpy as np

from ..precision import in_precision
from ..training.compile import choose_jit_compile, compile_model
from .machine import proc_bytes
from .recipe import build_planned_model


def probe_throughput(settings, n_outputs, channels, seconds, ignore_index=None):
    """``{"input", "images_per_second", "steps", "seconds", "batch", "memory"}`` of the planned model (see the module
    docstring); ``memory`` is ``None`` where it cannot be measured."""
    start = time.perf_counter()
    gpu = bool(keras.config.backend() == "tensorflow" and _tf_gpus())
    before = _memory_before(gpu)
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
    memory = _memory_used(gpu, before)
    del model
    keras.backend.clear_session()
    return {"input": list(settings["input"]), "images_per_second": round(steps * batch / elapsed, 3), "steps": steps,
            "seconds": round(time.perf_counter() - start, 1), "batch": batch, "memory": memory}


STATUS = "/proc/self/status"


def _tf_gpus():
    import tensorflow as tf

    return tf.config.list_logical_devices("GPU")


def _memory_before(gpu):
    """What the memory measurement starts from: the GPU allocator's statistics reset, or the process's resident bytes
    now with its peak reset to them (``None`` where ``/proc`` cannot do that)."""
    if gpu:
        import tensorflow as tf

        tf.config.experimental.reset_memory_stats("GPU:0")
        return 0
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # the peak resident size (VmHWM) starts again from the current one
    except OSError:
        return None
    return proc_bytes("VmRSS", STATUS)


def _memory_used(gpu, before):
    """``{"device", "used", "available"}`` in bytes (see the module), or ``None`` where it cannot be measured."""
    if before is None:
        return None
    if gpu:
        import tensorflow as tf

        used = tf.config.experimental.get_memory_info("GPU:0")["peak"]
        return {"device": "gpu", "used": int(used), "available": _gpu_total_bytes()}
    peak, available = proc_bytes("VmHWM", STATUS), proc_bytes("MemAvailable")
    if peak is None or available is None:
        return None
    return {"device": "cpu", "used": max(0, peak - before), "available": available + max(0, peak - before)}


def _gpu_total_bytes():
    """The first GPU's total memory (``nvidia-smi``), ``None`` without it."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=20, check=True).stdout
        return int(float(out.splitlines()[0])) * 1024**2
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None
