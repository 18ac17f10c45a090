"""Per-pixel uncertainty from class probabilities: entropy, margin, test-time-augmentation disagreement.

Every map is float32 in [0, 1], 0 where the model is sure and 1 where it is most unsure, so maps of
models with different numbers of classes compare:

* ``"entropy"``: the Shannon entropy of the probabilities divided by ``log(n_classes)`` (1: uniform);
* ``"margin"``: ``1 - (p_first - p_second)``, one minus the gap between the two most likely classes;
* ``"tta"``: the disagreement of augmented passes, the mutual information between the prediction and
  the augmentation (the entropy of the mean minus the mean of the passes' entropies, over
  ``log(n_classes)``; BALD's score with augmentations for the samples): 0 when every pass says the same.

:func:`with_temperature` rescales probabilities by a calibration temperature (the softmax of
``log(p) / t``; the arg-max does not change); :func:`model_temperature` is the one a model carries
(``model.temperature``, set by :func:`keras_segmentation.calibration.calibrate` and by loading a calibrated model),
:func:`check_temperature` checks one read from a file; :func:`log_probabilities` is the log they all take.
:func:`image_score` is the per-image score: the mean of a map.

Example:
    >>> p = np.array([[[0.5, 0.5], [1.0, 0.0]]], np.float32)
    >>> entropy(p).round(3).tolist()
    [[1.0, 0.0]]
    >>> margin(p).round(3).tolist()
    [[1.0, 0.0]]
"""

import os

import numpy as np

from ..errors import ModelConfigError

#: the methods ``uncertainty=`` takes
METHODS = ("entropy", "margin", "tta")
_TINY = 1e-12


def check_method(method):
    """``method`` if it is one of :data:`METHODS` (``None`` passes), else a one-line error."""
    if method is not None and method not in METHODS:
        raise ModelConfigError(f"uncertainty={method!r}: choose one of {', '.join(METHODS)}")
    return method


def raw_entropy(probabilities):
    """The entropy of ``probabilities`` (..., classes) over the last axis, in nats, float32 (...)."""
    p = np.asarray(probabilities, np.float32)
    return -np.sum(p * np.log(np.maximum(p, _TINY)), axis=-1, dtype=np.float32)


def entropy(probabilities):
    """The entropy over ``log(n_classes)``: (..., classes) -> (...) in [0, 1]."""
    n_classes = np.shape(probabilities)[-1]
    if n_classes < 2:
        return np.zeros(np.shape(probabilities)[:-1], np.float32)
    return np.clip(raw_entropy(probabilities) / np.float32(np.log(n_classes)), 0, 1)


def margin(probabilities):
    """``1 - (first - second)`` of the two most likely classes: (..., classes) -> (...) in [0, 1]."""
    p = np.asarray(probabilities, np.float32)
    if p.shape[-1] < 2:
        return np.zeros(p.shape[:-1], np.float32)
    top = np.partition(p, p.shape[-1] - 2, axis=-1)[..., -2:]
    return np.clip(1 - (top[..., 1] - top[..., 0]), 0, 1).astype(np.float32)


def disagreement(mean_probabilities, mean_pass_entropy):
    """The ``"tta"`` map: ``(entropy(mean) - mean of the passes' raw entropies) / log(n_classes)``, in [0, 1].

    ``mean_pass_entropy`` is the mean of :func:`raw_entropy` of each pass (nats), shaped like the map.

    Example:
        >>> passes = np.array([[[1.0, 0.0]], [[0.0, 1.0]]], np.float32)      # two passes, one pixel
        >>> disagreement(passes.mean(0), raw_entropy(passes).mean(0)).round(3).tolist()
        [1.0]
    """
    n_classes = np.shape(mean_probabilities)[-1]
    if n_classes < 2:
        return np.zeros(np.shape(mean_probabilities)[:-1], np.float32)
    spread = raw_entropy(mean_probabilities) - np.asarray(mean_pass_entropy, np.float32)
    return np.clip(spread / np.float32(np.log(n_classes)), 0, 1)


def uncertainty_map(method, probabilities, mean_pass_entropy=None):
    """The map of ``method`` (:data:`METHODS`); ``"tta"`` needs ``mean_pass_entropy`` (see :func:`disagreement`)."""
    check_method(method)
    if method == "entropy":
        return entropy(probabilities)
    if method == "margin":
        return margin(probabilities)
    if mean_pass_entropy is None:
        raise ModelConfigError("uncertainty='tta' needs test-time augmentation passes (tta=, flip_tta=)")
    return disagreement(probabilities, mean_pass_entropy)


def log_probabilities(probabilities):
    """``log(p)`` as float32, ``p`` floored at 1e-12 (a probability that underflowed to 0 stays finite).

    Example:
        >>> log_probabilities(np.array([1.0, 0.0], np.float32)).astype(float).round(1).tolist()
        [0.0, -27.6]
    """
    return np.log(np.maximum(np.asarray(probabilities, np.float32), _TINY))


def with_temperature(probabilities, temperature):
    """``softmax(log(p) / temperature)`` over the last axis, float32; ``temperature`` 1 (or ``None``) returns ``p``.

    Example:
        >>> with_temperature(np.array([0.8, 0.2], np.float32), 2.0).round(3).tolist()
        [0.667, 0.333]
    """
    if temperature is None or check_temperature(temperature) == 1.0:
        return probabilities
    logits = log_probabilities(probabilities) / np.float32(temperature)
    logits -= logits.max(axis=-1, keepdims=True)
    scaled = np.exp(logits)
    scaled /= scaled.sum(axis=-1, keepdims=True)
    return scaled


def check_temperature(value, source=None, error_class=ModelConfigError):
    """``value`` as a float when it is a positive finite number, else a one-line ``error_class`` naming ``source``.

    Example:
        >>> check_temperature(2)
        2.0
        >>> check_temperature(0, "ckpt/run_config.json")
        Traceback (most recent call last):
        ModelConfigError: ckpt/run_config.json: temperature=0: expected a positive number
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = None
    if isinstance(value, (bool, str)) or number is None or not 0 < number < np.inf:
        raise error_class((f"{os.fspath(source)}: " if source is not None else "")
                          + f"temperature={value!r}: expected a positive number")
    return number


def model_temperature(model):
    """The calibration temperature ``model`` carries: ``model.temperature``, 1.0 when it has none.

    Example:
        >>> model_temperature(object())
        1.0
    """
    value = getattr(model, "temperature", None)
    return 1.0 if value is None else check_temperature(value, "model.temperature")


def image_score(uncertainty, valid=None):
    """The per-image score: the mean of the map (over the ``valid`` pixels when given), a float in [0, 1]."""
    values = np.asarray(uncertainty, np.float32)
    if valid is not None:
        values = values[np.asarray(valid, bool)]
    return float(values.mean()) if values.size else 0.0
