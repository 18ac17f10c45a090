"""Temperature scaling: the one number ``T`` that makes ``softmax(log(p) / T)`` fit the validation labels best.

:class:`PixelSample` keeps a seeded uniform random sample of at most ``limit`` valid pixels of any number of
images (the probabilities and the true class of each), so memory stays bounded. :func:`fit_temperature`
minimises the mean negative log-likelihood over ``log T`` by golden-section search in
``[MIN_TEMPERATURE, MAX_TEMPERATURE]`` (the NLL is convex in ``1 / T``: one minimum). ``T > 1`` softens an
over-confident model, ``T < 1`` sharpens an under-confident one; the arg-max never changes (Guo et al. 2017).
:func:`without_temperature` lets a model predict its own probabilities, its temperature aside.

Example:
    >>> sample = PixelSample(limit=200_000, seed=0)
    >>> sample.add(probabilities, truth, ignore_index=11)                   # doctest: +SKIP
    >>> fit_temperature(sample.probabilities, sample.labels)                # doctest: +SKIP
    1.62
"""

import contextlib
import math

import numpy as np

from ..errors import ModelConfigError
from ..uncertainty import log_probabilities
from .reliability import valid_pixels

MIN_TEMPERATURE, MAX_TEMPERATURE = 0.05, 20.0
#: the golden-section search stops when the bracket of ``log T`` is this narrow
_TOLERANCE = 1e-5
_GOLDEN = (math.sqrt(5) - 1) / 2


class PixelSample:
    """A uniform random sample of at most ``limit`` valid pixels over the images added (each pixel equally likely).

    Every pixel gets a random key (``seed``); the ``limit`` pixels with the smallest keys are kept, so the sample
    is the same whether the images come one by one or all at once, and holds ``limit * n_classes`` floats at most.
    """

    def __init__(self, limit=200_000, seed=0):
        if not isinstance(limit, (int, np.integer)) or isinstance(limit, bool) or limit < 1:
            raise ModelConfigError(f"sample_pixels={limit!r}: give a whole number of pixels, 1 or more")
        self.limit = int(limit)
        self._rng = np.random.default_rng(seed)
        self._keys = np.zeros(0)
        self.probabilities = self.labels = None
        self.n_seen = 0

    def add(self, probabilities, labels, ignore_index=None):
        """Offer the valid pixels of ``probabilities`` ``(..., n_classes)`` with their class ids ``labels`` ``(...)``."""
        probabilities, labels = np.asarray(probabilities), np.asarray(labels)
        valid = valid_pixels(labels, probabilities.shape[-1], ignore_index)
        keys = self._rng.random(int(valid.sum()))
        self.n_seen += len(keys)
        if len(self._keys) == self.limit:  # full: only pixels that beat the largest kept key can enter
            chosen = np.flatnonzero(keys < self._keys.max())
        else:
            chosen = np.arange(len(keys))
        if len(chosen) > self.limit:
            chosen = chosen[np.argpartition(keys[chosen], self.limit - 1)[: self.limit]]
        if self.labels is None:
            self.probabilities = np.zeros((0, probabilities.shape[-1]), np.float32)
            self.labels = np.zeros(0, np.int64)
        self._keys = np.concatenate([self._keys, keys[chosen]])
        self.probabilities = np.concatenate([self.probabilities, probabilities[valid][chosen].astype(np.float32)])
        self.labels = np.concatenate([self.labels, labels[valid][chosen].astype(np.int64)])
        if len(self._keys) > self.limit:
            keep = np.argpartition(self._keys, self.limit - 1)[: self.limit]
            self._keys, self.probabilities, self.labels = self._keys[keep], self.probabilities[keep], self.labels[keep]

    def __len__(self):
        return 0 if self.labels is None else len(self.labels)


def mean_nll(log_p, labels, temperature):
    """The mean negative log-likelihood of ``labels`` under ``softmax(log_p / temperature)`` (float64)."""
    scaled = log_p.astype(np.float64) / temperature
    top = scaled.max(-1, keepdims=True)
    log_total = top[:, 0] + np.log(np.exp(scaled - top).sum(-1))
    return float(np.mean(log_total - np.take_along_axis(scaled, labels[:, None], -1)[:, 0]))


def fit_temperature(probabilities, labels):
    """The temperature in ``[MIN_TEMPERATURE, MAX_TEMPERATURE]`` that minimises the mean NLL of ``labels`` (N,)
    under ``softmax(log(probabilities) / T)`` (``probabilities``: N x n_classes).

    Raises:
        ModelConfigError: no pixel.

    Example:
        >>> p = np.array([[0.99, 0.01], [0.99, 0.01], [0.99, 0.01], [0.01, 0.99]])
        >>> round(fit_temperature(p, np.array([0, 0, 1, 1])), 2)     # 3 of 4 right: softer than 99 %
        4.2
    """
    if not len(labels):
        raise ModelConfigError("no pixel to fit a temperature on")
    log_p = log_probabilities(probabilities)
    labels = np.asarray(labels, np.int64)

    def nll(log_t):
        return mean_nll(log_p, labels, math.exp(log_t))

    low, high = math.log(MIN_TEMPERATURE), math.log(MAX_TEMPERATURE)
    a, b = high - _GOLDEN * (high - low), low + _GOLDEN * (high - low)
    nll_a, nll_b = nll(a), nll(b)
    while high - low > _TOLERANCE:
        if nll_a <= nll_b:
            high, b, nll_b = b, a, nll_a
            a = high - _GOLDEN * (high - low)
            nll_a = nll(a)
        else:
            low, a, nll_a = a, b, nll_b
            b = low + _GOLDEN * (high - low)
            nll_b = nll(b)
    return math.exp((low + high) / 2)


@contextlib.contextmanager
def without_temperature(model):
    """Within the block ``model.temperature`` is 1, so a predictor made in it gives the model's own probabilities;
    the attribute is put back (or removed, if the model had none) afterwards.

    Example:
        >>> with without_temperature(model):                                   # doctest: +SKIP
        ...     raw = [item.probabilities for item in Predictor(model).run(paths, with_probabilities=True)]
    """
    missing = object()
    before = getattr(model, "temperature", missing)
    model.temperature = 1.0
    try:
        yield model
    finally:
        if before is missing:
            del model.temperature
        else:
            model.temperature = before
