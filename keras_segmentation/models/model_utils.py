"""The original ``model_utils``: wrap a hand-built graph, copy weights between models, resize; and every layer
of a model config (:func:`layer_configs`) or of a built model (:func:`all_layers`).

Example (the tutorial's hand-written U-Net, shortened):
    >>> import keras
    >>> from keras.layers import Conv2D, Input, MaxPooling2D, UpSampling2D, concatenate
    >>> from keras_segmentation.models.model_utils import get_segmentation_model
    >>> img_input = Input(shape=(64, 64, 3))
    >>> conv1 = Conv2D(8, (3, 3), activation="relu", padding="same")(img_input)
    >>> pool1 = MaxPooling2D((2, 2))(conv1)
    >>> conv2 = Conv2D(16, (3, 3), activation="relu", padding="same")(pool1)
    >>> up1 = concatenate([UpSampling2D((2, 2))(conv2), conv1], axis=-1)
    >>> out = Conv2D(5, (1, 1), padding="same")(up1)
    >>> model = get_segmentation_model(img_input, out)
    >>> model.n_classes, model.output_height, model.model_name
    (5, 64, '')
"""

import keras
from keras import layers

from ..errors import ModelConfigError
from .segmentation_model import SegmentationModel

__all__ = ["get_segmentation_model", "transfer_weights", "resize_image", "layer_configs", "all_layers"]


def get_segmentation_model(input, output):  # noqa: A002 - the original argument name
    """Turn a logits graph ``input -> output (B, h, w, n_classes)`` into a :class:`SegmentationModel`.

    A float32 softmax is applied to ``output`` (as the original did). The model
    gets ``model_name = ""`` and the original ``"sub_mean"`` normalisation; set
    ``model.model_name`` / ``model.normalization`` afterwards if needed.

    Raises:
        ModelConfigError: ``output`` is not a 4-D channels-last tensor.
    """
    if len(output.shape) != 4:
        raise ModelConfigError(
            f"get_segmentation_model: output must be 4-D (batch, height, width, n_classes), got shape {tuple(output.shape)}"
        )
    probabilities = layers.Activation("softmax", dtype="float32")(output)
    return SegmentationModel(input, probabilities, model_name="", normalization="sub_mean")


def transfer_weights(m1, m2, verbose=True):
    """Copy weights layer by layer from ``m1`` (source) to ``m2`` (destination) where shapes match.

    Layers are paired in order; a pair is copied when every weight shape
    matches and skipped otherwise (e.g. a classifier with another class count).

    Returns:
        ``(copied, skipped)`` layer counts.

    Raises:
        ModelConfigError: the models have different numbers of layers.

    Example:
        >>> from keras_segmentation.models.unet import unet
        >>> transfer_weights(unet(5, 64, 64), unet(3, 64, 64), verbose=False)
        (16, 1)
    """
    if len(m1.layers) != len(m2.layers):
        raise ModelConfigError(
            f"transfer_weights: both models must have the same number of layers ({len(m1.layers)} vs {len(m2.layers)})"
        )
    copied = skipped = 0
    for source, destination in zip(m1.layers, m2.layers):
        src, dst = source.get_weights(), destination.get_weights()
        if len(src) == len(dst) and all(a.shape == b.shape for a, b in zip(src, dst)):
            if src:
                destination.set_weights(src)
                copied += 1
        else:
            skipped += 1
    if verbose:
        print(f"Copied weights of {copied} layers and skipped {skipped} layers")
    return copied, skipped


def resize_image(inp, s, data_format="channels_last"):
    """Bilinear upsampling of ``inp`` by integer factors ``s = (height_factor, width_factor)``."""
    return layers.UpSampling2D(tuple(int(f) for f in s), data_format=data_format, interpolation="bilinear")(inp)


def all_layers(model):
    """Every layer of a built ``model``, depth first: each nested model, then its own layers.

    Example:
        >>> sum(isinstance(layer, keras.layers.BatchNormalization) for layer in all_layers(model))
        52
    """
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from all_layers(layer)


def layer_configs(config):
    """Every layer's ``{"class_name", "config"}`` entry in a (nested) Keras model config, to edit in place.

    Example:
        >>> [c["class_name"] for c in layer_configs(model.get_config())][:2]
        ['InputLayer', 'Conv2D']
    """
    if isinstance(config, dict):
        if isinstance(config.get("config"), dict) and "class_name" in config:
            yield config
        for value in list(config.values()):
            yield from layer_configs(value)
    elif isinstance(config, list):
        for value in config:
            yield from layer_configs(value)
