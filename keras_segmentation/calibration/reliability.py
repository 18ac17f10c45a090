"""How well a model's confidence matches its accuracy: reliability bins, expected calibration error, NLL.

Each valid pixel (a class id in ``[0, n_classes)`` other than ``ignore_index``) falls in one of 15 equal-width
bins of its top-label confidence ``max(p)``; a bin keeps counts and sums only, so images are added one at a time
in bounded memory and the result equals that of all pixels at once. The expected calibration error (ECE, Guo
et al. 2017) is the pixel-weighted mean of ``|accuracy - confidence|`` over the bins: 0 for a model whose
confidence is its accuracy. The negative log-likelihood is the mean of ``-log p[true class]``.

Example:
    >>> counts = ReliabilityCounts()
    >>> counts.add(np.array([[0.9, 0.1], [0.6, 0.4]]), np.array([0, 1]))
    >>> round(counts.ece, 3), counts.n_pixels
    (0.35, 2)
"""

import numpy as np

from ..uncertainty import log_probabilities

#: the number of equal-width confidence bins
N_BINS = 15


def valid_pixels(labels, n_classes, ignore_index=None):
    """The boolean mask of the pixels of ``labels`` that are scored: a class id below ``n_classes``, not ``ignore_index``.

    Example:
        >>> valid_pixels(np.array([0, 1, 2, 255]), 3, ignore_index=1).tolist()
        [True, False, True, False]
    """
    labels = np.asarray(labels)
    valid = (labels >= 0) & (labels < n_classes)
    if ignore_index is not None:
        valid &= labels != ignore_index
    return valid


class ReliabilityCounts:
    """Per-bin pixel counts, confidence sums and correct counts, and the NLL sum, accumulated over images.

    Example:
        >>> before, after = ReliabilityCounts(), ReliabilityCounts()
        >>> for probabilities, truth in images:                                  # doctest: +SKIP
        ...     before.add(probabilities, truth, ignore_index=11)
        >>> f"ECE {before.ece:.4f}, NLL {before.nll:.4f}"                          # doctest: +SKIP
        'ECE 0.0412, NLL 0.3876'
    """

    def __init__(self, n_bins=N_BINS):
        self.n_bins = int(n_bins)
        self.counts = np.zeros(self.n_bins, np.int64)
        self.confidence_sums = np.zeros(self.n_bins, np.float64)
        self.correct = np.zeros(self.n_bins, np.int64)
        self.nll_sum = 0.0

    def add(self, probabilities, labels, ignore_index=None):
        """Count the valid pixels of ``probabilities`` ``(..., n_classes)`` against the class ids ``labels`` ``(...)``."""
        probabilities, labels = np.asarray(probabilities), np.asarray(labels)
        valid = valid_pixels(labels, probabilities.shape[-1], ignore_index)
        p, truth = probabilities[valid], labels[valid].astype(np.int64)
        if not len(truth):
            return
        confidence = p.max(-1).astype(np.float64)
        hit = p.argmax(-1) == truth
        bins = np.minimum((confidence * self.n_bins).astype(np.int64), self.n_bins - 1)
        self.counts += np.bincount(bins, minlength=self.n_bins)
        self.confidence_sums += np.bincount(bins, weights=confidence, minlength=self.n_bins)
        self.correct += np.bincount(bins[hit], minlength=self.n_bins)
        true_class = np.take_along_axis(p, truth[:, None], -1)[:, 0]
        self.nll_sum -= float(log_probabilities(true_class).sum(dtype=np.float64))

    def merge(self, other):
        """Add the counts of ``other`` (same bins); returns self."""
        self.counts += other.counts
        self.confidence_sums += other.confidence_sums
        self.correct += other.correct
        self.nll_sum += other.nll_sum
        return self

    @property
    def n_pixels(self):
        """Pixels counted."""
        return int(self.counts.sum())

    @property
    def confidence(self):
        """The mean confidence of each bin (NaN where empty)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.confidence_sums / self.counts

    @property
    def accuracy(self):
        """The accuracy of each bin (NaN where empty)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.correct / self.counts

    @property
    def ece(self):
        """The expected calibration error: ``sum(count * |accuracy - confidence|) / pixels`` (NaN with no pixel)."""
        if not self.n_pixels:
            return float("nan")
        return float(np.abs(self.correct - self.confidence_sums).sum() / self.n_pixels)

    @property
    def nll(self):
        """The mean negative log-likelihood of the true class, in nats (NaN with no pixel)."""
        return self.nll_sum / self.n_pixels if self.n_pixels else float("nan")

    def bins(self):
        """``[{"low", "high", "pixels", "confidence", "accuracy"}, ...]`` per bin, JSON-ready (``None`` where empty)."""
        edges = np.linspace(0, 1, self.n_bins + 1)
        return [{"low": float(edges[i]), "high": float(edges[i + 1]), "pixels": int(self.counts[i]),
                 "confidence": float(self.confidence[i]) if self.counts[i] else None,
                 "accuracy": float(self.accuracy[i]) if self.counts[i] else None} for i in range(self.n_bins)]
