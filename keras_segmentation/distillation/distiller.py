"""The :class:`Distiller`: a Keras model that trains a student on a frozen teacher's outputs (any backend).

It overrides ``compute_loss`` only, so Keras' own ``train_step`` runs it on TensorFlow,
JAX and PyTorch alike, and ``fit`` with the library's callbacks (checkpoints, resume,
Ctrl-C, NaN stop) works unchanged. Its weights file is the student's
(:meth:`Distiller.save_weights`), so its checkpoints are ordinary student checkpoints.

Example:
    >>> distiller = Distiller(student, teacher, "kl", temperature=2.0)
    >>> distiller.compile(optimizer="adam")
    >>> distiller.fit(images, epochs=1)    # images sized for the teacher; the student sees them resized
"""

import keras
from keras import ops

from ..errors import ModelConfigError
from ..losses import get_loss
from ..losses.distillation import get_distillation_loss, kl_divergence, soften


class Distiller(keras.Model):
    """Trains ``student`` to match ``teacher`` (frozen, in inference mode); the original library's class name.

    Batches are ``x``, ``(x,)`` or ``(x, masks)``, where ``x`` is ``[student images, teacher images]``
    (each resized and normalised for its network), or one array of teacher-sized images
    that the student sees resized to its input size. The teacher's probabilities are resized
    (bilinear) to the student's output size, so the two may differ. The loss is

        (1 - alpha) * T² · distillation(soften(teacher, T), soften(student, T))      [T² for "kl" only]
        + alpha * label_loss(masks, student)                                         [batches with masks]
        + feats_distilation_loss_w * feats_distilation_loss(teacher features, student features)

    where the features are the outputs of the ``feature_layers`` (teacher, student), the teacher's
    resized to the student's height and width. Logs: ``loss``, ``distillation_loss``,
    ``agreement`` (pixels where the student's class is the teacher's), ``feature_loss``,
    ``label_loss`` and the compiled metrics (against the masks).

    Args:
        student, teacher: segmentation models with the same ``n_classes``, one image input each.
            ``teacher.trainable`` is set to False.
        distilation_loss: ``"kl"``, ``"l1"``, ``"l2"``, ``"pa"`` or ``f(teacher, student)``
            (:mod:`~keras_segmentation.losses.distillation`).
        feats_distilation_loss: ``None`` (no feature term), ``"l1"``, ``"l2"``, ``"pa"`` or a callable;
            ``"l1"``/``"l2"`` need the same channel count in both layers, ``"pa"`` does not.
        feats_distilation_loss_w: weight of the feature term.
        temperature: softens both probability maps (> 0; 1 leaves them as they are).
        alpha: weight of the label loss, in [0, 1]; 0 ignores masks.
        label_loss: the library's loss name for the masks (``"ce"``, ``"ce+dice"``, ...).
        ignore_index: a mask label the label loss leaves out.
        feature_layers: ``(teacher layer, student layer)`` names, or one name for both
            (default ``"seg_feats"``, which the library's U-Net, SegNet and FCN decoders name).

    Raises:
        ModelConfigError: a bad argument, different class counts, or a missing feature layer.
    """

    def __init__(self, student, teacher, distilation_loss="kl", feats_distilation_loss=None,
                 feats_distilation_loss_w=0.1, *, temperature=1.0, alpha=0.0, label_loss="ce", ignore_index=None,
                 feature_layers="seg_feats", name="distiller"):
        super().__init__(name=name)
        _check_models(student, teacher)
        check_number("temperature", temperature, low=0.0, strict=True)
        check_number("alpha", alpha, low=0.0, high=1.0)
        check_number("feats_distilation_loss_w", feats_distilation_loss_w, low=0.0)
        self.student, self.teacher = student, teacher
        self.temperature, self.alpha = float(temperature), float(alpha)
        self.output_loss = get_distillation_loss(distilation_loss)
        self.output_scale = self.temperature**2 if self.output_loss is kl_divergence else 1.0
        self.label_loss = get_loss(label_loss, student.n_classes, ignore_index=ignore_index) if alpha else None
        self.feature_loss, self.feature_weight = None, float(feats_distilation_loss_w)
        self.distillation_tracker = keras.metrics.Mean(name="distillation_loss")
        self.agreement_tracker = keras.metrics.Mean(name="agreement")
        if self.label_loss is not None:
            self.label_tracker = keras.metrics.Mean(name="label_loss")
        self.teacher_view, self.student_view = teacher, student
        if feats_distilation_loss is not None:
            if get_distillation_loss(feats_distilation_loss, "feats_distilation_loss") is kl_divergence:
                raise ModelConfigError("feats_distilation_loss='kl': feature maps are not probabilities; use 'pa', 'l1' or 'l2'")
            self.feature_loss = get_distillation_loss(feats_distilation_loss, "feats_distilation_loss")
            layers = (feature_layers, feature_layers) if isinstance(feature_layers, str) else tuple(feature_layers)
            self.teacher_view = _with_features(teacher, layers[0], "teacher")
            self.student_view = _with_features(student, layers[-1], "student")
            self.feature_tracker = keras.metrics.Mean(name="feature_loss")
        teacher.trainable = False

    # ------------------------------------------------------------------ forward
    def call(self, inputs, training=False):
        """The student's probabilities (and, with feature distillation, its feature map)."""
        return self.student_view(self._inputs(inputs)[0], training=training)

    def _inputs(self, inputs):
        if isinstance(inputs, (list, tuple)):
            return inputs[0], inputs[-1]
        size = tuple(self.student.inputs[0].shape[1:3])
        if None in size or size == tuple(inputs.shape[1:3]):
            return inputs, inputs
        return ops.image.resize(inputs, size, interpolation="bilinear"), inputs

    def _split(self, outputs):
        if self.feature_loss is None:
            return outputs, None
        return outputs[0], outputs[1]

    # --------------------------------------------------------------------- loss
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        student, student_features = self._split(y_pred)
        teacher, teacher_features = self._split(self.teacher_view(self._inputs(x)[1], training=False))
        teacher = ops.stop_gradient(_resized(ops.cast(teacher, student.dtype), student))
        distillation = self.output_scale * self.output_loss(
            soften(teacher, self.temperature), soften(student, self.temperature)
        )
        self.distillation_tracker.update_state(distillation)
        self.agreement_tracker.update_state(
            ops.mean(ops.cast(ops.argmax(teacher, axis=-1) == ops.argmax(student, axis=-1), "float32"))
        )
        total = distillation
        if self.label_loss is not None and y is not None:
            label = self.label_loss(y, student)
            self.label_tracker.update_state(label)
            total = (1.0 - self.alpha) * distillation + self.alpha * label
        if self.feature_loss is not None:
            student_features = ops.cast(student_features, "float32")
            teacher_features = ops.stop_gradient(_resized(ops.cast(teacher_features, "float32"), student_features))
            feature = self.feature_loss(teacher_features, student_features)
            self.feature_tracker.update_state(feature)
            total = total + self.feature_weight * feature
        if self.losses:
            total = total + ops.sum(self.losses)
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if y is None or self._compile_metrics is None:
            return self.get_metrics_result()
        return super().compute_metrics(x, y, self._split(y_pred)[0], sample_weight)

    # ---------------------------------------------------------- compile, weights
    def compile(self, optimizer="adam", metrics=None, **kwargs):
        """Keras' ``compile`` (no ``loss``: the distillation loss is built in); ``metrics`` compare masks and the student.

        The student is compiled with the same optimizer object, so that its weights file carries the training state.
        """
        super().compile(optimizer=optimizer, metrics=metrics, **kwargs)
        self.student.compile(optimizer=self.optimizer, auto_scale_loss=False)

    def save_weights(self, filepath, overwrite=True, max_shard_size=None):
        """Write the student's weights file (with the optimizer state): ``student.load_weights`` reads it."""
        self.student.save_weights(filepath, overwrite=overwrite, max_shard_size=max_shard_size)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Read a student weights file (as :meth:`save_weights` writes) into the student and the optimizer."""
        self.student.load_weights(filepath, skip_mismatch=skip_mismatch, **kwargs)


def _resized(maps, like):
    """``maps`` resized (bilinear) to the height and width of ``like``."""
    size = tuple(like.shape[1:3])
    if tuple(maps.shape[1:3]) == size:
        return maps
    return ops.image.resize(maps, size, interpolation="bilinear")


def _with_features(model, layer_name, role):
    """A view of ``model`` that also outputs layer ``layer_name`` (the same layers and weights)."""
    try:
        layer = model.get_layer(layer_name)
    except ValueError:
        raise ModelConfigError(
            f"feature_layers: the {role} has no layer {layer_name!r}; name one of its layers (see model.summary())"
        ) from None
    return keras.Model(model.inputs, [model.outputs[0], layer.output], name=f"{role}_with_features")


def _check_models(student, teacher):
    for role, model in (("student", student), ("teacher", teacher)):
        if not isinstance(model, keras.Model) or not hasattr(model, "n_classes"):
            raise ModelConfigError(f"{role} must be a keras_segmentation model, got {type(model).__name__}")
        if len(model.inputs) != 1:
            raise ModelConfigError(f"{role} has {len(model.inputs)} inputs; distillation takes single-input models")
    if student is teacher:
        raise ModelConfigError("student and teacher are the same model; distil into a new (usually smaller) model")
    if student.n_classes != teacher.n_classes:
        raise ModelConfigError(
            f"the student has {student.n_classes} classes but the teacher {teacher.n_classes}; they must be the same"
        )


def check_number(name, value, low=None, high=None, strict=False):
    """Raise a one-line ModelConfigError unless ``value`` is a number in the bounds (``strict``: above ``low``)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ModelConfigError(f"{name}={value!r}: must be a number") from None
    if isinstance(value, bool) or (low is not None and (number <= low if strict else number < low)) or (
        high is not None and number > high
    ):
        bounds = f"in [{low}, {high}]" if high is not None else f"{'>' if strict else '>='} {low}"
        raise ModelConfigError(f"{name}={value!r}: must be {bounds}")
