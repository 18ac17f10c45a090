"""Small building blocks shared by the decoders.

Example:
    >>> import keras
    >>> from keras_segmentation.models.decoders.blocks import conv_bn_relu
    >>> conv_bn_relu(keras.Input((8, 8, 3)), 16).shape
    (None, 8, 8, 16)
"""

import math

from keras import layers

from ..layers import resize_like

LEVELS = ("P1", "P2", "P3", "P4", "P5")


def conv_bn_relu(x, filters, kernel_size=3, dilation_rate=1, name=None, norm="batch"):
    """Conv (no bias) -> BatchNorm (``norm="group"``: GroupNorm, up to 32 groups) -> ReLU."""
    def named(suffix):
        return f"{name}_{suffix}" if name else None

    x = layers.Conv2D(
        filters, kernel_size, padding="same", dilation_rate=dilation_rate, use_bias=False, name=named("conv")
    )(x)
    if norm == "group":
        x = layers.GroupNormalization(math.gcd(32, filters), name=named("gn"))(x)
    else:
        check_choice(norm, ("batch", "group"), "decoder_norm")
        x = layers.BatchNormalization(name=named("bn"))(x)
    return layers.Activation("relu", name=named("relu"))(x)


def top_down(top, laterals, name):
    """FPN top-down pathway: from ``top``, nearest-upsample to each lateral (deepest first) and add it.

    Returns the merged maps, deepest (``top``) first. Sizes come from the
    laterals, so any input size and dilated encoders (equal sizes) work.
    """
    merged = [top]
    for level, lateral in laterals:
        up = resize_like(merged[-1], lateral, interpolation="nearest")
        merged.append(layers.Add(name=f"{name}_{level}_add")([up, lateral]))
    return merged


def merge_at(features, reference, merge, name):
    """Bilinear-resize every map to ``reference``'s size, then ``"add"`` or ``"cat"`` (concatenate) them."""
    check_choice(merge, ("add", "cat"), "decoder_merge")
    features = [x if x is reference else resize_like(x, reference) for x in features]
    if merge == "add":
        return layers.Add(name=f"{name}_add")(features)
    return layers.Concatenate(name=f"{name}_concat")(features)


def check_choice(value, choices, what):
    """Raise a clear error when an option is not one of ``choices``."""
    from ...errors import ModelConfigError

    if value not in choices:
        raise ModelConfigError(f"{what}={value!r}; choose one of: {', '.join(choices)}")


def unet_stage(x, reference, skips, filters, name):
    """Nearest-resize ``x`` to ``reference``, concatenate ``skips`` after it, then two 3x3 Conv-BN-ReLU."""
    x = resize_like(x, reference, interpolation="nearest")
    if skips:
        x = layers.Concatenate(name=f"{name}_concat")([x, *skips])
    x = conv_bn_relu(x, filters, name=f"{name}a")
    return conv_bn_relu(x, filters, name=f"{name}b")


def available_levels(pyramid):
    """The pyramid's level names, shallowest first."""
    return [level for level in LEVELS if level in pyramid]


def check_filters(filters, stages, what):
    """Raise a clear error when a decoder_filters tuple is too short."""
    from ...errors import ModelConfigError

    if len(filters) < stages:
        raise ModelConfigError(f"{what}: decoder_filters needs {stages} values, got {tuple(filters)}")
