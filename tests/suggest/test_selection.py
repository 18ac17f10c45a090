"""Choosing images: k-center weighted by uncertainty, uncertainty alone, seeded random."""

import numpy as np
import pytest

from keras_segmentation.errors import SuggestError
from keras_segmentation.suggest.selection import at_random, by_uncertainty, check_strategy, covering_radius, diverse


def test_copies_of_a_picked_image_come_after_every_distinct_one():
    # five copies of the most uncertain image, then three distinct, less uncertain ones
    vectors = np.array([[1.0, 0, 0]] * 5 + [[0, 1.0, 0], [0, 0, 1.0], [1.0, 1.0, 1.0]])
    scores = np.array([0.9] * 5 + [0.3, 0.2, 0.1])
    picks = diverse(scores, vectors, 6)
    assert picks[:4] == [0, 5, 6, 7]
    assert set(picks[4:]) <= {1, 2, 3, 4}
    assert by_uncertainty(scores, 4) == [0, 1, 2, 3]  # what uncertainty alone would pick


def test_images_far_apart_are_ranked_by_uncertainty_alone():
    vectors = np.eye(6)  # every pair equally far: the covering radius is that distance
    scores = np.array([0.1, 0.7, 0.3, 0.9, 0.5, 0.2])
    assert diverse(scores, vectors, 4) == by_uncertainty(scores, 4) == [3, 1, 4, 2]


def test_a_near_copy_gains_less_than_a_distinct_image():
    vectors = np.concatenate([np.eye(8), np.eye(8)[:1] + 0.001])  # image 8 is a near copy of image 0
    scores = np.array([0.9, 0.5, 0.4, 0.3, 0.3, 0.2, 0.2, 0.1, 0.85])
    assert by_uncertainty(scores, 3) == [0, 8, 1]
    assert diverse(scores, vectors, 3) == [0, 1, 2]


def test_labelled_images_seed_the_centres():
    vectors = np.array([[1.0, 0], [0, 1.0], [-1.0, 0]])
    scores = np.array([0.9, 0.5, 0.4])
    assert diverse(scores, vectors, 1)[0] == 0
    assert diverse(scores, vectors, 1, seeds=np.array([[1.0, 0]]))[0] == 1  # image 0 is a copy of a labelled one


def test_the_covering_radius_shrinks_with_more_centres_and_is_0_when_every_point_is_one():
    points = np.random.default_rng(0).normal(size=(30, 4))
    radii = [covering_radius(points, np.zeros((0, 4)), n) for n in (1, 5, 15, 30)]
    assert radii == sorted(radii, reverse=True) and radii[-1] == 0


def test_random_is_seeded_and_draws_without_replacement():
    assert at_random(100, 10, seed=3) == at_random(100, 10, seed=3)
    assert at_random(100, 10, seed=3) != at_random(100, 10, seed=4)
    assert sorted(at_random(5, 10)) == [0, 1, 2, 3, 4]


def test_an_unknown_strategy_is_one_line():
    with pytest.raises(SuggestError, match="strategy='best': choose one of uncertainty\\+diversity, uncertainty, random"):
        check_strategy("best")
