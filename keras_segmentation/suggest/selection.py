"""Which images to label next: by uncertainty, kept apart by their embeddings; or at random.

``strategy="uncertainty+diversity"`` (:func:`diverse`) picks greedily, each time the image with the
largest gain::

    gain(x) = score(x) * min(1, d(x) / r)

``score`` is the image's uncertainty, ``d(x)`` its distance to the nearest image already picked or
labelled (the seeds), and ``r`` the radius at which ``n`` centres cover the pool: the largest distance
left after ``n`` greedy farthest-point picks from the seeds (the k-center greedy of Sener & Savarese,
2018, https://arxiv.org/abs/1708.00489). So:

* images at least ``r`` from every pick and seed are ranked by uncertainty alone: when the pool's
  images are far apart this is the uncertainty ranking;
* a copy of a picked or labelled image (``d = 0``) gains nothing: it comes after every image that is
  distinct and uncertain at all; a near-copy's gain shrinks with its distance;
* ``r`` is the spread ``n`` picks can keep (k-center greedy picks images at least ``r`` apart): wide
  for a few picks from a large pool, narrower as ``n`` nears the number of distinct images, where
  uncertainty then decides among closer ones.

Ties go to the image farther from the picks, then the more uncertain, then the first listed.
Distances are Euclidean between the embeddings centred on their mean and scaled to unit length.

``"uncertainty"`` ranks by score alone; ``"random"`` draws ``n`` with a seeded generator (the baseline
of simulated labelling loops).

Example:
    >>> scores = np.array([0.9, 0.9, 0.5])
    >>> vectors = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])      # images 0 and 1 are the same
    >>> diverse(scores, vectors, 2)
    [0, 2]
    >>> by_uncertainty(scores, 2)
    [0, 1]
"""

import numpy as np

from ..errors import SuggestError

#: what ``strategy=`` takes; the first is the default
STRATEGIES = ("uncertainty+diversity", "uncertainty", "random")


def check_strategy(strategy):
    """``strategy`` if it is one of :data:`STRATEGIES`, else a one-line error."""
    if strategy not in STRATEGIES:
        raise SuggestError(f"strategy={strategy!r}: choose one of {', '.join(STRATEGIES)}")
    return strategy


def by_uncertainty(scores, n):
    """The indices of the ``n`` largest ``scores``, largest first (ties: the first listed)."""
    return [int(i) for i in np.argsort(-np.asarray(scores, np.float64), kind="stable")[:n]]


def at_random(count, n, seed=0):
    """``n`` of ``range(count)`` drawn without replacement by a generator seeded with ``seed``."""
    return [int(i) for i in np.random.default_rng(seed).permutation(count)[:n]]


def diverse(scores, embeddings, n, seeds=None):
    """The indices of ``n`` images picked by uncertainty and diversity (see the module's rule), in pick order.

    Args:
        scores: (N,) uncertainty per image, higher is more worth labelling.
        embeddings: (N, D) one vector per image.
        n: how many to pick (all N at most).
        seeds: (M, D) vectors of the images already labelled, or ``None``.
    """
    scores = np.asarray(scores, np.float64)
    points, seeds = _unit(np.asarray(embeddings, np.float64), seeds)
    n = min(int(n), len(points))
    radius = covering_radius(points, seeds, n)
    distance = _distance_to(points, seeds)
    picked = []
    for _ in range(n):
        near = np.minimum(1.0, distance / radius) if radius > 0 else (distance > 0).astype(np.float64)
        gain = scores * near
        gain[picked] = -1.0
        best = int(np.lexsort((-np.arange(len(points)), scores, distance, gain))[-1])
        picked.append(best)
        distance = np.minimum(distance, np.linalg.norm(points - points[best], axis=1))
    return picked


def covering_radius(points, seeds, n):
    """The largest distance from a point to its nearest centre after ``n`` greedy farthest-point picks that
    start from the seeds (from the first point when there are none)."""
    distance = _distance_to(points, seeds)
    for _ in range(min(n, len(points))):
        centre = int(np.argmax(distance))
        distance = np.minimum(distance, np.linalg.norm(points - points[centre], axis=1))
    return float(distance.max()) if len(points) else 0.0


def _unit(points, seeds):
    """``points`` and ``seeds`` centred on the mean of both and scaled to unit length (zero vectors stay zero)."""
    seeds = np.zeros((0, points.shape[1])) if seeds is None or len(seeds) == 0 else np.asarray(seeds, np.float64)
    both = np.concatenate([points, seeds]) - np.concatenate([points, seeds]).mean(axis=0)
    norms = np.linalg.norm(both, axis=1, keepdims=True)
    both = np.divide(both, norms, out=np.zeros_like(both), where=norms > 0)
    return both[: len(points)], both[len(points):]


def _distance_to(points, seeds):
    """Each point's distance to its nearest seed (infinite without seeds)."""
    distance = np.full(len(points), np.inf)
    for seed in seeds:
        distance = np.minimum(distance, np.linalg.norm(points - seed, axis=1))
    return distance
