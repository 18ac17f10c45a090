"""Distillation losses: how far the student's output (or feature map) is from the teacher's (any Keras backend).

Each takes ``(teacher, student)``, two ``(batch, h, w, channels)`` tensors of the same
height and width, and returns one number:

* ``"kl"``: KL(teacher || student) summed over the classes, averaged over the pixels (for probabilities);
* ``"l1"`` / ``"l2"``: the mean absolute / squared difference;
* ``"pa"``: pairwise similarity (structured distillation): 4x4 max pooling, the cosine similarity of
  every pair of positions, then the mean squared difference of the teacher's and the student's
  similarity matrices; the channel counts may differ;
* a callable ``f(teacher, student)`` is used as it is.

:func:`soften` applies a temperature to probabilities (``softmax(log(p) / T)``, the same as
dividing the logits by ``T``).

Example:
    >>> import numpy as np
    >>> p = np.full((1, 4, 4, 2), 0.5, "float32")
    >>> float(get_distillation_loss("kl")(p, p))
    0.0
"""

from keras import ops

from ..errors import ModelConfigError

#: the loss names :func:`get_distillation_loss` knows
DISTILLATION_LOSSES = ("kl", "l1", "l2", "pa")
_EPSILON = 1e-7


def kl_divergence(teacher, student):
    """KL(teacher || student) per pixel (summed over the last axis), averaged over the pixels."""
    teacher = ops.clip(teacher, _EPSILON, 1.0)
    student = ops.clip(student, _EPSILON, 1.0)
    return ops.mean(ops.sum(teacher * (ops.log(teacher) - ops.log(student)), axis=-1))


def mean_absolute_difference(teacher, student):
    return ops.mean(ops.abs(teacher - student))


def mean_squared_difference(teacher, student):
    return ops.mean(ops.square(teacher - student))


def pairwise_similarities(features, pool_size=4):
    """``(batch, n, n)`` cosine similarities between the ``n`` positions of max-pooled ``features``."""
    pooled = ops.max_pool(features, pool_size=pool_size, strides=pool_size, padding="same")
    height, width, channels = pooled.shape[1], pooled.shape[2], pooled.shape[3]
    flat = ops.reshape(pooled, (-1, height * width, channels))
    flat = flat / (ops.sqrt(ops.sum(ops.square(flat), axis=-1, keepdims=True)) + _EPSILON)
    return ops.matmul(flat, ops.transpose(flat, (0, 2, 1)))


def pairwise_distance_loss(teacher, student):
    """Mean squared difference of the teacher's and the student's :func:`pairwise_similarities`."""
    return ops.mean(ops.square(pairwise_similarities(teacher) - pairwise_similarities(student)))


_LOSSES = {"kl": kl_divergence, "l1": mean_absolute_difference, "l2": mean_squared_difference,
           "pa": pairwise_distance_loss}


def get_distillation_loss(spec, argument="distilation_loss"):
    """The loss function for a name in :data:`DISTILLATION_LOSSES`, or ``spec`` itself when it is callable.

    Raises:
        ModelConfigError: an unknown name (``argument`` names the argument in the message).
    """
    if callable(spec):
        return spec
    if isinstance(spec, str) and spec.lower() in _LOSSES:
        return _LOSSES[spec.lower()]
    raise ModelConfigError(
        f"{argument}={spec!r}: use one of {', '.join(DISTILLATION_LOSSES)} or a function f(teacher, student)"
    )


def soften(probabilities, temperature):
    """``probabilities`` at ``temperature`` (1 leaves them as they are)."""
    if temperature == 1:
        return probabilities
    return ops.softmax(ops.log(ops.clip(probabilities, _EPSILON, 1.0)) / temperature, axis=-1)
