"""Small building blocks shared by the decoders.

Example:
    >>> import keras
    >>> from keras_segmentation.models.decoders.blocks import conv_bn_relu
    >>> conv_bn_relu(keras.Input((8, 8, 3)), 16).shape
    (None, 8, 8, 16)
"""

from keras import layers

LEVELS = ("P1", "P2", "P3", "P4", "P5")


def conv_bn_relu(x, filters, kernel_size=3, dilation_rate=1, name=None):
    """Conv (no bias) -> BatchNorm -> ReLU."""
    def named(suffix):
        return f"{name}_{suffix}" if name else None

    x = layers.Conv2D(
        filters, kernel_size, padding="same", dilation_rate=dilation_rate, use_bias=False, name=named("conv")
    )(x)
    x = layers.BatchNormalization(name=named("bn"))(x)
    return layers.Activation("relu", name=named("relu"))(x)


def available_levels(pyramid):
    """The pyramid's level names, shallowest first."""
    return [level for level in LEVELS if level in pyramid]


def check_filters(filters, stages, what):
    """Raise a clear error when a decoder_filters tuple is too short."""
    from ...errors import ModelConfigError

    if len(filters) < stages:
        raise ModelConfigError(f"{what}: decoder_filters needs {stages} values, got {tuple(filters)}")
