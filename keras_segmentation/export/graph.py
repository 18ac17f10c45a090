"""The deployable graph: uint8 images in, the model's own normalisation inside, probabilities (and labels) out.

A deployer has 8-bit images in RGB(A) order (or the bands as they are, for
other channel counts); the library reads images as OpenCV's BGR and normalises
them in NumPy (:func:`~keras_segmentation.data.normalization.normalize_image`). Every
normalisation there is a per-channel affine map, so the exported graph holds it
as one :class:`UInt8Normalization` layer whose scale and offset are read off
``normalize_image`` itself: the two can never disagree.

Example:
    >>> from keras_segmentation.models.unet import unet_mini
    >>> served = deployable_model(unet_mini(5, input_height=64, input_width=64), labels=True)
    >>> served.input.dtype, sorted(served.output)
    ('uint8', ['labels', 'probabilities'])
"""

import keras
from keras import ops

from ..errors import ExportError
from ..models.model_utils import all_layers
from .contract import INPUT_NAME, LABELS, PROBABILITIES, normalization_affine


@keras.saving.register_keras_serializable(package="keras_segmentation")
class UInt8Normalization(keras.layers.Layer):
    """uint8 RGB(A) images -> the float input a model expects (``normalization`` of ``normalize_image``).

    Example:
        >>> layer = UInt8Normalization("divide", 3)
        >>> float(layer(np.full((1, 1, 1, 3), 255, np.uint8))[0, 0, 0, 0])
        1.0
    """

    def __init__(self, normalization, channels, **kwargs):
        super().__init__(**kwargs)
        self.normalization = normalization
        self.channels = int(channels)
        scale, offset, self.bgr = normalization_affine(normalization, self.channels)
        self.scale, self.offset = scale.tolist(), offset.tolist()

    def call(self, images):
        x = ops.cast(images, "float32")
        if self.bgr:
            x = ops.concatenate([ops.flip(x[..., :3], axis=-1), x[..., 3:]], axis=-1)
        return x * ops.convert_to_tensor(self.scale) + ops.convert_to_tensor(self.offset)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "normalization": self.normalization, "channels": self.channels}


def deployable_model(model, labels=False):
    """``model`` behind a uint8 input and its normalisation; outputs ``{"probabilities"[, "labels"]}``.

    The batch is dynamic, and so are height and width where the model takes any size.
    """
    if model.channels is None:
        raise ExportError(f"{model.name}: the model's channel count is not fixed; it cannot be exported")
    image = keras.Input((model.input_height, model.input_width, model.channels), dtype="uint8", name=INPUT_NAME)
    normalized = UInt8Normalization(model.normalization, model.channels, name="normalization")(image)
    probabilities = with_resize_upsampling(model)(normalized)
    probabilities = keras.layers.Activation("linear", dtype="float32", name=PROBABILITIES)(probabilities)
    outputs = {PROBABILITIES: probabilities}
    if labels:
        outputs[LABELS] = ClassIds(name=LABELS)(probabilities)
    return keras.Model(image, outputs, name=f"{model.name}_deployable")


def with_resize_upsampling(model):
    """``model`` with its nearest ``UpSampling2D`` layers run as :class:`NearestUpsampling` (TensorFlow only).

    Keras runs a nearest ``UpSampling2D`` as two ``repeat`` ops, which tf2onnx writes as chains of
    Tile, Reshape and Transpose (14 % of unet_mini's int8 time in ONNX Runtime); one nearest resize is one
    ONNX ``Resize`` / LiteRT ``RESIZE_NEAREST_NEIGHBOR`` and gives the same values: an integer-factor nearest
    resize repeats each pixel. Every other layer is shared with ``model`` (same weights, nothing copied).
    """
    if keras.backend.backend() != "tensorflow" or not any(_nearest_upsampling(layer) for layer in all_layers(model)):
        return model

    def call(layer, *args, **kwargs):
        if _nearest_upsampling(layer):
            return NearestUpsampling(layer.size, name=f"{layer.name}_resize")(*args)
        return layer(*args, **kwargs)

    return keras.models.clone_model(model, clone_function=lambda layer: layer, call_function=call, recursive=True)


def _nearest_upsampling(layer):
    return (isinstance(layer, keras.layers.UpSampling2D) and layer.interpolation == "nearest"
            and layer.data_format == "channels_last")


@keras.saving.register_keras_serializable(package="keras_segmentation")
class NearestUpsampling(keras.layers.Layer):
    """``UpSampling2D(size)`` (nearest, channels last) as one nearest resize, for exported graphs.

    Example:
        >>> NearestUpsampling((2, 2))(np.arange(4.0).reshape(1, 2, 2, 1))[0, :, :, 0].numpy()[0]
        array([0., 0., 1., 1.], dtype=float32)
    """

    def __init__(self, size, **kwargs):
        super().__init__(**kwargs)
        self.size = tuple(int(s) for s in size)

    def call(self, x):
        import tensorflow as tf  # with_resize_upsampling uses this layer on TensorFlow only

        shape = tf.shape(x)
        size = tf.stack([shape[1] * self.size[0], shape[2] * self.size[1]])
        return tf.raw_ops.ResizeNearestNeighbor(images=x, size=size, align_corners=False, half_pixel_centers=False)

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        return (batch, None if height is None else height * self.size[0],
                None if width is None else width * self.size[1], channels)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


@keras.saving.register_keras_serializable(package="keras_segmentation")
class ClassIds(keras.layers.Layer):
    """Probabilities ``(N, H, W, C)`` -> int32 class ids ``(N, H, W)`` (arg-max of the last axis)."""

    def call(self, probabilities):
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf  # keras.ops.argmax adds Bitcast ops (for -0.0) that ONNX does not have

            return tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        return ops.cast(ops.argmax(probabilities, axis=-1), "int32")

    def compute_output_shape(self, input_shape):
        return input_shape[:-1]
