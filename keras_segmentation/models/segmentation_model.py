"""The model class: a Keras functional model that knows it segments images.

Every model the library builds (the 22 legacy names, ``build_model`` and
``get_segmentation_model``) is a :class:`SegmentationModel`. It is an ordinary
Keras functional model whose output is per-pixel class probabilities of shape
``(batch, output_height, output_width, n_classes)``; it also carries what the
rest of the library needs (model name, input normalisation, how to rebuild it)
and the original library's methods ``train``, ``predict_segmentation``,
``predict_multiple``, ``predict_video`` and ``evaluate_segmentation``, with ``save_preset``
(keras-hub's ``save_to_preset``). The methods run the pipeline functions the package's top binds
(:mod:`keras_segmentation.model_methods`): this package imports no pipeline.

It is registered with Keras, so ``model.save("m.keras")`` followed by
``keras.saving.load_model("m.keras")`` gives back a SegmentationModel with its
attributes and methods (the process must have imported
``keras_segmentation.models``, or use :func:`keras_segmentation.load_model`).

Example:
    >>> import keras
    >>> from keras_segmentation.models.segmentation_model import SegmentationModel
    >>> x = keras.Input((64, 64, 3))
    >>> y = keras.layers.Conv2D(2, 3, padding="same", activation="softmax")(x)
    >>> model = SegmentationModel(x, y, model_name="tiny")
    >>> model.n_classes, model.output_height
    (2, 64)
"""

import json

import keras
from keras import ops

from .. import model_methods
from ..errors import ModelConfigError

_META_KEYS = ("model_name", "normalization", "build_config", "class_names")


@keras.saving.register_keras_serializable(package="keras_segmentation")
class SegmentationModel(keras.Model):
    """A functional model mapping ``(B, H, W, C)`` images to ``(B, h, w, n_classes)`` probabilities.

    Args:
        inputs: the image input tensor (or a list of inputs; the first is the image).
        outputs: the probability tensor, 4-D, channels last.
        model_name: registry name (``"vgg_unet"``) or any label for user models.
        normalization: name of the input normalisation (see
            :func:`keras_segmentation.data.normalization.normalize_image`).
        build_config: ``{"builder": ..., "kwargs": {...}}`` that rebuilds this
            architecture from the registry, or ``None`` for hand-built graphs.
        class_names: optional list of class names, kept with the model.
    """

    def __init__(self, inputs, outputs, name=None, **kwargs):
        # Keras revives a functional subclass natively only when its constructor
        # looks like Functional's, so the extra settings travel in **kwargs.
        meta = {key: kwargs.pop(key, None) for key in _META_KEYS}
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)
        out_shape = tuple(self.outputs[0].shape)
        if len(out_shape) != 4:
            raise ModelConfigError(
                f"a segmentation model's output must be 4-D (batch, height, width, classes), got {out_shape}"
            )
        self.model_name = meta["model_name"] or ""
        self.normalization = meta["normalization"] or "sub_mean"
        # Stored as JSON text so Keras' attribute tracking leaves it alone.
        build_config = meta["build_config"]
        self._build_config_json = json.dumps(build_config) if build_config is not None else None
        class_names = meta["class_names"]
        self.class_names = list(class_names) if class_names is not None else None

    # ------------------------------------------------------------------ shapes
    @property
    def build_config(self):
        """How to rebuild this architecture from the registry, or ``None``."""
        return json.loads(self._build_config_json) if self._build_config_json else None

    @property
    def input_height(self):
        return self.inputs[0].shape[1]

    @property
    def input_width(self):
        return self.inputs[0].shape[2]

    @property
    def channels(self):
        return self.inputs[0].shape[3]

    @property
    def output_height(self):
        return self.outputs[0].shape[1]

    @property
    def output_width(self):
        return self.outputs[0].shape[2]

    @property
    def n_classes(self):
        return self.outputs[0].shape[3]

    # ------------------------------------------------------- original methods
    def train(self, *args, **kwargs):
        """Train on folders of images and masks; see :func:`keras_segmentation.training.train`.

        On the PyTorch backend Keras also calls ``train()`` / ``train(mode)`` to
        switch ``torch.nn.Module`` modes; those calls are passed through.
        """
        if _is_torch_mode_call(args, kwargs):
            return super().train(*args, **kwargs)
        return model_methods.call("train", self, *args, **kwargs)

    def predict_segmentation(self, *args, **kwargs):
        """Predict one image; see :func:`keras_segmentation.inference.predict`."""
        return model_methods.call("predict_segmentation", self, *args, **kwargs)

    def predict_multiple(self, *args, **kwargs):
        """Predict many images; see :func:`keras_segmentation.inference.predict_multiple`."""
        return model_methods.call("predict_multiple", self, *args, **kwargs)

    def predict_video(self, *args, **kwargs):
        """Predict a video; see :func:`keras_segmentation.inference.predict_video`."""
        return model_methods.call("predict_video", self, *args, **kwargs)

    def evaluate_segmentation(self, *args, **kwargs):
        """Evaluate on image/mask pairs; see :func:`keras_segmentation.evaluation.evaluate`."""
        return model_methods.call("evaluate_segmentation", self, *args, **kwargs)

    def save_preset(self, preset_dir, **options):
        """Save as a preset folder (config, weights, preprocessing, classes, model card); see
        :func:`keras_segmentation.presets.save_preset`.

        Example:
            >>> model.save_preset("presets/roads", class_names=["sky", "road"])   # doctest: +SKIP
        """
        return model_methods.call("save_preset", self, preset_dir, **options)

    # ----------------------------------------------------------------- compile
    def compile(self, optimizer="rmsprop", loss=None, *args, **kwargs):
        """Keras' ``compile``; on PyTorch, Keras' sparse cross-entropy is computed on flat tensors.

        Keras' PyTorch sparse cross-entropy moves the class axis of a 4-D output and fails in the
        backward pass ("grad_input must be contiguous", pytorch#175084, Keras 3.15 with torch 2.13/2.14):
        ``compile("adam", "sparse_categorical_crossentropy")`` gets :func:`flat_sparse_categorical_crossentropy`
        there, which gives the same values.
        """
        if keras.backend.backend() == "torch" and _is_keras_sparse_crossentropy(loss):
            loss = flat_sparse_categorical_crossentropy
        return super().compile(optimizer, loss, *args, **kwargs)

    # ------------------------------------------------------------------ config
    def get_config(self):
        config = super().get_config()
        config.update(
            model_name=self.model_name,
            normalization=self.normalization,
            build_config=self.build_config,
            class_names=self.class_names,
        )
        return config


@keras.saving.register_keras_serializable(package="keras_segmentation")
def flat_sparse_categorical_crossentropy(y_true, y_pred):
    """Keras' sparse categorical cross-entropy per pixel, computed on ``(pixels, classes)`` tensors.

    Example:
        >>> model.compile("adam", flat_sparse_categorical_crossentropy)  # doctest: +SKIP
    """
    n_classes = ops.shape(y_pred)[-1]
    flat = keras.losses.sparse_categorical_crossentropy(ops.reshape(y_true, (-1,)), ops.reshape(y_pred, (-1, n_classes)))
    return ops.reshape(flat, ops.shape(y_pred)[:-1])


def _is_keras_sparse_crossentropy(loss):
    """Whether ``loss`` is Keras' sparse cross-entropy on probabilities (by name, function or default instance)."""
    if isinstance(loss, keras.losses.SparseCategoricalCrossentropy):
        config = loss.get_config()
        return (not config.get("from_logits") and config.get("ignore_class") is None
                and config.get("reduction") == "sum_over_batch_size")
    return loss in ("sparse_categorical_crossentropy", keras.losses.sparse_categorical_crossentropy)


def _is_torch_mode_call(args, kwargs):
    """True for ``train()``, ``train(True)`` or ``train(mode=False)``: torch's mode switch."""
    if not args and not kwargs:
        return True
    if len(args) == 1 and not kwargs and isinstance(args[0], bool):
        return True
    return not args and set(kwargs) == {"mode"}
