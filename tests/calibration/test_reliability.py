"""Reliability bins, ECE and NLL: known values, calibrated and over-confident samples, ignored pixels, streaming."""

import re

import numpy as np
import pytest

from keras_segmentation.calibration import N_BINS, ReliabilityCounts, reliability_svg, valid_pixels


def softmax(logits):
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def calibrated_sample(n=60_000, n_classes=5, seed=0, sharpen=1.0):
    """Labels drawn from softmax(z); the probabilities given are softmax(z * sharpen) (1: calibrated)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2, (n, n_classes))
    p = softmax(logits)
    labels = (p.cumsum(-1) > rng.random((n, 1))).argmax(-1)
    return softmax(logits * sharpen).astype(np.float32), labels


def test_a_calibrated_sample_has_an_ece_near_zero_and_an_over_confident_one_does_not():
    p, labels = calibrated_sample()
    calibrated, over = ReliabilityCounts(), ReliabilityCounts()
    calibrated.add(p, labels)
    over.add(calibrated_sample(sharpen=3.0)[0], labels)
    assert calibrated.ece < 0.01
    assert over.ece > 0.1
    assert over.nll > calibrated.nll
    # the over-confident sample's bins sit below the diagonal: accuracy < confidence where it is sure
    top = ~np.isnan(over.accuracy) & (np.arange(N_BINS) >= N_BINS - 2)
    assert np.all(over.accuracy[top] < over.confidence[top])


def test_known_values_of_two_pixels():
    counts = ReliabilityCounts()
    counts.add(np.array([[0.9, 0.1], [0.6, 0.4]]), np.array([0, 1]))
    assert counts.ece == pytest.approx((0.1 + 0.6) / 2)
    assert counts.nll == pytest.approx(-(np.log(0.9) + np.log(0.4)) / 2)
    bins = counts.bins()
    assert len(bins) == N_BINS and sum(b["pixels"] for b in bins) == 2
    assert bins[13] == {"low": pytest.approx(13 / 15), "high": pytest.approx(14 / 15), "pixels": 1,
                        "confidence": pytest.approx(0.9), "accuracy": 1.0}
    assert bins[0]["accuracy"] is None and bins[0]["confidence"] is None


def test_ignore_index_and_labels_outside_the_classes_are_left_out():
    p = np.array([[[0.9, 0.1], [0.6, 0.4], [0.99, 0.01]]], np.float32)
    with_ignored, without = ReliabilityCounts(), ReliabilityCounts()
    with_ignored.add(p, np.array([[0, 255, 1]]), ignore_index=1)
    without.add(p[:, :1], np.array([[0]]))
    assert with_ignored.n_pixels == 1
    np.testing.assert_array_equal(with_ignored.counts, without.counts)
    assert with_ignored.ece == without.ece and with_ignored.nll == without.nll
    assert valid_pixels(np.array([0, 1, 2, 255]), 3, ignore_index=1).tolist() == [True, False, True, False]


def test_adding_images_one_at_a_time_equals_adding_them_at_once():
    p, labels = calibrated_sample(n=12_000, sharpen=2.0)
    images, truths = p.reshape(4, 30, 100, 5), labels.reshape(4, 30, 100)
    truths[0, :5] = 7  # an ignored label
    streamed, at_once, merged = ReliabilityCounts(), ReliabilityCounts(), ReliabilityCounts()
    for image, truth in zip(images, truths):
        streamed.add(image, truth, ignore_index=7)
        merged.merge(_counts(image, truth))
    at_once.add(images, truths, ignore_index=7)
    for other in (streamed, merged):
        np.testing.assert_array_equal(other.counts, at_once.counts)
        np.testing.assert_array_equal(other.correct, at_once.correct)
        np.testing.assert_allclose(other.confidence_sums, at_once.confidence_sums, rtol=1e-12)
        assert other.ece == pytest.approx(at_once.ece, abs=1e-12) and other.nll == pytest.approx(at_once.nll, rel=1e-12)
    assert at_once.n_pixels == 12_000 - 5 * 100


def _counts(image, truth):
    counts = ReliabilityCounts()
    counts.add(image, truth, ignore_index=7)
    return counts


def test_no_pixel_gives_nan_scores():
    counts = ReliabilityCounts()
    counts.add(np.full((2, 2, 3), 1 / 3), np.full((2, 2), 9), ignore_index=9)
    assert counts.n_pixels == 0 and np.isnan(counts.ece) and np.isnan(counts.nll)


def test_the_diagram_draws_a_bar_per_filled_bin_and_names_the_ece():
    counts = ReliabilityCounts()
    counts.add(*calibrated_sample(n=5000, sharpen=3.0))
    svg = reliability_svg(counts, "before")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count('class="bar"') == int((counts.counts > 0).sum())
    assert f"before: ECE {100 * counts.ece:.2f} %" in svg
    drawn = [float(v) for v in re.findall(r'data-accuracy="([0-9.e-]+)"', svg)]
    np.testing.assert_allclose(drawn, counts.accuracy[counts.counts > 0])
