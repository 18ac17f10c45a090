"""Batch normalisations computed by one fused TensorFlow op in a training step.

Keras 3 computes a ``BatchNormalization`` in training as separate ops: it casts a bfloat16 input up to float32, takes
the batch's mean and variance with reductions, scales and shifts, and casts the output down; the backward pass
repeats each of them. In a bfloat16 training step of FPN-ResNet50 on a CPU those ops (``Mul``, ``Cast``, ``Sum``,
``Mean``, ``Sub``, ``Tile``, ``SquaredDifference``...) take about a quarter of the op time (``bench/profile_peers.py``,
docs/benchmarks.md). TensorFlow's ``FusedBatchNormV3`` does the same arithmetic in one op forward and one backward,
reads the bfloat16 input directly and keeps its statistics in float32.

Only how a training step computes changes: each eligible layer's ``call`` takes the fused op when ``training`` is
true and otherwise runs Keras' own code. The model's config, weights and saved files are the same, and the moving
mean and variance follow Keras' rule (the batch's biased variance). The fused call is an attribute of the layer
object, not a subclass, so that the layer still saves as the ``BatchNormalization`` it is; a copy or a reloaded
model simply trains unfused until it is compiled for training here again. Where it does not apply Keras' own code
runs: other backends, a GPU (not measured), variables that are not float32 (a pure ``"bfloat16"`` policy),
``mixed_float16`` (not tested), synchronised (``distribute=``) or renormalised batch norms, frozen layers, a mask,
an input that is not channels-last 4-D.

Example:
    >>> fuse_batch_norms(model)        # before the first training step; compile_model does it
    53
"""

import inspect

import keras

from ..models.model_utils import all_layers
from ..precision import tensorflow_on_cpu

#: the input dtypes measured and tested with the fused op (its statistics, scale and offset stay float32)
FUSED_DTYPES = ("float32", "bfloat16")


def fuse_batch_norms(model):
    """Make every eligible ``BatchNormalization`` of ``model`` (nested models included) train with the fused op;
    the number of layers changed (0 off the TensorFlow backend on a CPU).

    Example:
        >>> fuse_batch_norms(model)
        53
    """
    if not tensorflow_on_cpu():
        return 0
    changed = 0
    for layer in all_layers(model):
        if _eligible(layer):
            # An instance attribute, not a new class: the layer serialises as the BatchNormalization it is.
            layer.call = _FusedTrainingCall(layer)
            changed += 1
    return changed


def _eligible(layer):
    return (type(layer) is keras.layers.BatchNormalization and not layer.renorm and not layer.synchronized
            and layer.variable_dtype == "float32" and not isinstance(layer.call, _FusedTrainingCall))


class _FusedTrainingCall:
    """A batch norm's ``call``: ``FusedBatchNormV3`` when training over a channels-last 4-D input of a supported
    dtype, else Keras' own."""

    def __init__(self, layer):
        self.layer = layer
        self.keras_call = type(layer).call.__get__(layer)
        self.__signature__ = inspect.signature(self.keras_call)

    def __call__(self, inputs, training=None, mask=None):
        layer = self.layer
        rank = len(inputs.shape)
        if (training is not True or not layer.trainable or mask is not None or rank != 4
                or layer.axis % rank != rank - 1
                or keras.backend.standardize_dtype(inputs.dtype) not in FUSED_DTYPES):
            return self.keras_call(inputs, training=training, mask=mask)
        return _fused_training_step(layer, inputs)


def _fused_training_step(layer, inputs):
    import tensorflow as tf

    channels = inputs.shape[-1]
    scale = tf.convert_to_tensor(layer.gamma) if layer.scale else tf.ones([channels], "float32")
    offset = tf.convert_to_tensor(layer.beta) if layer.center else tf.zeros([channels], "float32")
    empty = tf.constant([], "float32")
    outputs, mean, unbiased_variance, _, _, _ = tf.raw_ops.FusedBatchNormV3(
        x=inputs, scale=scale, offset=offset, mean=empty, variance=empty, epsilon=layer.epsilon,
        exponential_avg_factor=1.0, data_format="NHWC", is_training=True)
    # The op returns the batch variance with Bessel's correction; Keras' moving variance averages the biased one.
    count = tf.cast(tf.size(inputs, out_type=tf.int64) // channels, "float32")
    variance = unbiased_variance * tf.maximum(count - 1.0, 1.0) / count
    momentum = layer.momentum
    layer.moving_mean.assign(layer.moving_mean * momentum + mean * (1.0 - momentum))
    layer.moving_variance.assign(layer.moving_variance * momentum + variance * (1.0 - momentum))
    return tf.cast(outputs, layer.compute_dtype)
