"""Losses by name (``"ce+dice"``, ``{"ce": 1, "dice": 0.5}``) and the weighted sum of losses.

Example:
    >>> get_loss("ce+dice", n_classes=12, ignore_index=11).weights
    [1.0, 1.0]
"""

import keras
from keras import ops

from ..errors import ModelConfigError
from .base import PACKAGE, check_class_weights
from .pixel import CrossEntropyLoss, FocalLoss
from .region import DiceLoss, JaccardLoss, LovaszSoftmaxLoss, TverskyLoss


@keras.saving.register_keras_serializable(package=PACKAGE)
class CombinedLoss(keras.losses.Loss):
    """A weighted sum of losses, e.g. cross-entropy + Dice.

    Args:
        losses: list of loss objects (or registered loss functions).
        weights: one float per loss (default: all 1).

    Example:
        >>> loss = CombinedLoss([CrossEntropyLoss(), DiceLoss()], weights=[1.0, 0.5])
    """

    def __init__(self, losses, weights=None, name="combined_loss", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.losses = [keras.saving.deserialize_keras_object(loss) if isinstance(loss, dict) else loss for loss in losses]
        if not self.losses:
            raise ModelConfigError("CombinedLoss needs at least one loss")
        self.weights = [1.0] * len(self.losses) if weights is None else [float(w) for w in weights]
        if len(self.weights) != len(self.losses):
            raise ModelConfigError(f"CombinedLoss got {len(self.weights)} weights for {len(self.losses)} losses")

    def call(self, y_true, y_pred):
        return sum(w * ops.cast(loss(y_true, y_pred), "float32") for w, loss in zip(self.weights, self.losses))

    def get_config(self):
        return {
            **super().get_config(),
            "losses": [keras.saving.serialize_keras_object(loss) for loss in self.losses],
            "weights": self.weights,
        }


#: Loss names accepted by :func:`get_loss`, by class.
LOSS_NAMES = {
    "categorical_crossentropy": CrossEntropyLoss,
    "sparse_categorical_crossentropy": CrossEntropyLoss,
    "cross_entropy": CrossEntropyLoss,
    "crossentropy": CrossEntropyLoss,
    "ce": CrossEntropyLoss,
    "dice": DiceLoss,
    "focal": FocalLoss,
    "jaccard": JaccardLoss,
    "iou": JaccardLoss,
    "tversky": TverskyLoss,
    "lovasz": LovaszSoftmaxLoss,
    "lovasz_softmax": LovaszSoftmaxLoss,
}


def get_loss(spec, n_classes, class_weights=None, ignore_index=None):
    """Build a loss from a name, a sum of names, or pass a loss through.

    Args:
        spec: one of

            * a name from :data:`LOSS_NAMES` (``"ce"``, ``"dice"``, ``"focal"``,
              ``"jaccard"``, ``"tversky"``, ``"lovasz"``, ...), case-insensitive;
            * names joined by ``+`` (``"ce+dice"``), or a list of names: their sum;
            * a dict ``{name: weight}``: their weighted sum;
            * a ``keras.losses.Loss`` or any callable: returned unchanged (it keeps
              its own class weights and ignore index).
        n_classes: number of classes (checks ``class_weights``).
        class_weights: optional ``n_classes`` floats, given to every named loss.
        ignore_index: optional label to ignore, given to every named loss.

    Returns:
        A loss object (a :class:`CombinedLoss` for several names).

    Raises:
        ModelConfigError: unknown name, or ``class_weights`` of the wrong length.

    Example:
        >>> get_loss({"ce": 1.0, "dice": 0.5}, n_classes=12, ignore_index=11).weights
        [1.0, 0.5]
    """
    if isinstance(spec, keras.losses.Loss) or (callable(spec) and not isinstance(spec, type)):
        return spec
    weights = check_class_weights(class_weights)
    if weights is not None and len(weights) != n_classes:
        raise ModelConfigError(f"class_weights has {len(weights)} values for n_classes={n_classes}")
    if isinstance(spec, str):
        spec = {part: 1.0 for part in spec.split("+")}
    elif isinstance(spec, (list, tuple)):
        spec = {part: 1.0 for part in spec}
    if not isinstance(spec, dict) or not spec:
        raise ModelConfigError(f"loss must be a name, a list or dict of names, or a loss object; got {spec!r}")
    losses = []
    for name in spec:
        key = str(name).strip().lower().replace("-", "_")
        if key not in LOSS_NAMES:
            raise ModelConfigError(f"unknown loss {name!r}; choose from {', '.join(sorted(LOSS_NAMES))}")
        losses.append(LOSS_NAMES[key](class_weights=weights, ignore_index=ignore_index))
    if len(losses) == 1 and float(next(iter(spec.values()))) == 1.0:
        return losses[0]
    return CombinedLoss(losses, weights=list(spec.values()))
