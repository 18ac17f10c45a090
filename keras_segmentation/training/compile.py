"""Compiling a model for training: optimizer, learning-rate schedule, loss, metrics, XLA, fused batch norms.

Example:
    >>> compile_model(model, "adam", 1e-3, "cosine", "ce+dice", None, ignore_index=11, steps=100, epochs=5,
    ...               jit_compile=True)
"""

import warnings

import keras

from ..errors import ModelConfigError
from ..losses import get_loss
from ..metrics import iou_metric
from ..precision import model_precision, onednn_enabled, tensorflow_on_cpu
from .fused_batch_norm import fuse_batch_norms


def compile_model(model, optimizer, learning_rate, lr_schedule, loss, class_weights, ignore_index, steps, epochs, jit_compile):
    """``model.compile`` with the library's loss (by name), accuracy and mean IoU; ``steps`` per epoch sizes named
    schedules. The batch norms train with TensorFlow's fused op (:mod:`.fused_batch_norm`)."""
    fuse_batch_norms(model)
    model.compile(
        optimizer=make_optimizer(model, optimizer, learning_rate, lr_schedule, steps, epochs),
        loss=get_loss(loss, model.n_classes, class_weights=class_weights, ignore_index=ignore_index),
        metrics=training_metrics(model.n_classes, ignore_index),
        jit_compile=jit_compile,
    )


def make_optimizer(model, optimizer, learning_rate, lr_schedule, steps, epochs):
    """The optimizer (a name or an object) with ``learning_rate`` (default 1e-3) and a named schedule over the run.

    Example:
        >>> make_optimizer(model, "adam", 1e-3, "cosine", steps=100, epochs=5).learning_rate   # doctest: +SKIP
    """
    rate = learning_rate if learning_rate is not None else 1e-3
    if isinstance(lr_schedule, str):
        rate = _named_schedule(lr_schedule, rate, steps * epochs)
    elif is_keras_schedule(lr_schedule):
        rate = lr_schedule
    if isinstance(optimizer, str):
        try:
            optimizer = keras.optimizers.get({"class_name": optimizer, "config": {"learning_rate": rate}})
        except ValueError:
            raise ModelConfigError(f"unknown optimizer {optimizer!r} (try 'adam', 'sgd', 'adamw', 'rmsprop')") from None
    elif learning_rate is not None or isinstance(lr_schedule, str):
        optimizer.learning_rate = rate
    if model_precision(model) == "mixed_float16" and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)  # float16 gradients underflow without it
    return optimizer


def training_metrics(n_classes, ignore_index=None):
    """The metrics training reports: pixel accuracy and mean IoU (``ignore_index`` left out)."""
    return [keras.metrics.SparseCategoricalAccuracy(name="accuracy"), iou_metric(n_classes, ignore_index=ignore_index)]


def choose_jit_compile(jit_compile, model):
    """``(value for compile, cpu_xla)``: ``"auto"`` turns XLA on where :func:`xla_helps_training_here` (float32 only).

    ``cpu_xla`` says that choice was made, so the caller fits with :func:`fit_without_xla_if_it_cannot_compile`
    and turns XLA off again for inference.
    """
    cpu_xla = jit_compile == "auto" and xla_helps_training_here() and model_precision(model) == "float32"
    return (True if cpu_xla else jit_compile), cpu_xla


def fit_without_xla_if_it_cannot_compile(model, data, **kwargs):
    """``model.fit`` with XLA; if XLA cannot compile the step (an op without an XLA kernel), again without it.

    The failure comes when the first step is compiled, before any weight changes, so the
    retry starts from the same state (anything else is raised as it is).
    """
    steps_before = int(model.optimizer.iterations.numpy())
    try:
        return model.fit(data, **kwargs)
    except Exception as err:  # TensorFlow raises InvalidArgumentError / UnimplementedError here
        if not model.jit_compile or "XLA_CPU_JIT" not in str(err) or int(model.optimizer.iterations.numpy()) != steps_before:
            raise
        unsupported = str(err).split("XLA_CPU_JIT:", 1)[-1].split("(", 1)[0].strip() or "an operation"
        warnings.warn(f"XLA cannot compile this model's training step ({unsupported}); training without XLA", stacklevel=3)
    model.jit_compile = False
    model.train_function = model.test_function = model.predict_function = None
    return model.fit(data, **kwargs)


def xla_helps_training_here():
    """``jit_compile="auto"`` on a CPU: XLA only where TensorFlow's oneDNN kernels are off.

    Measured: with oneDNN off (AMD Zen 1, AVX2) XLA made vgg_unet training 1.5x faster; with oneDNN on
    (Zen 4, AVX-512 VNNI) XLA made it 1.33x slower and unet_mini 2.1x slower (``docs/benchmarks.md``).
    """
    return tensorflow_on_cpu() and not onednn_enabled()


def _named_schedule(name, rate, total_steps):
    total_steps = max(1, int(total_steps))
    if name == "cosine":
        return keras.optimizers.schedules.CosineDecay(rate, decay_steps=total_steps, alpha=0.01)
    if name == "poly":
        return keras.optimizers.schedules.PolynomialDecay(rate, decay_steps=total_steps, end_learning_rate=rate * 0.01, power=0.9)
    raise ModelConfigError(f"unknown lr_schedule {name!r}; use 'cosine', 'poly', a keras schedule or f(epoch, lr)")


def is_keras_schedule(value):
    if value is None or isinstance(value, str):
        return False
    return isinstance(value, keras.optimizers.schedules.LearningRateSchedule)

