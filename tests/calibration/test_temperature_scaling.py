"""Temperature fitting: a known temperature recovered, the bounded pixel sample, setting a model's temperature aside."""

import numpy as np
import pytest
from test_reliability import calibrated_sample

from keras_segmentation.calibration import (
    MAX_TEMPERATURE,
    MIN_TEMPERATURE,
    PixelSample,
    ReliabilityCounts,
    fit_temperature,
    without_temperature,
)
from keras_segmentation.errors import ModelConfigError
from keras_segmentation.uncertainty import with_temperature


@pytest.mark.parametrize("sharpen", [3.0, 0.5, 1.0])
def test_the_fitted_temperature_undoes_a_known_one(sharpen):
    p, labels = calibrated_sample(n=40_000, sharpen=sharpen)  # softmax(z * sharpen): T = sharpen undoes it
    temperature = fit_temperature(p, labels)
    assert temperature == pytest.approx(sharpen, rel=0.05)
    before, after = ReliabilityCounts(), ReliabilityCounts()
    before.add(p, labels)
    after.add(with_temperature(p, temperature), labels)
    assert after.nll <= before.nll + 1e-9
    assert after.ece < 0.01


def test_the_temperature_stays_in_its_range_and_needs_pixels():
    p = np.array([[0.6, 0.4]] * 10, np.float32)
    assert fit_temperature(p, np.zeros(10, int)) == pytest.approx(MIN_TEMPERATURE, rel=1e-3)  # always right: sharpen
    assert fit_temperature(np.array([[0.999, 0.001], [0.001, 0.999]]), np.array([1, 0])) == pytest.approx(
        MAX_TEMPERATURE, rel=1e-3)  # always wrong: as flat as allowed
    with pytest.raises(ModelConfigError, match="no pixel"):
        fit_temperature(np.zeros((0, 2)), np.zeros(0, int))


def test_the_pixel_sample_is_bounded_uniform_and_the_same_streamed_or_at_once():
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(4), (8, 40, 50)).astype(np.float32)
    labels = rng.integers(0, 4, (8, 40, 50))
    labels[:, :10] = 255  # ignored
    streamed, at_once = PixelSample(limit=3000, seed=5), PixelSample(limit=3000, seed=5)
    for image, truth in zip(probs, labels):
        streamed.add(image, truth, ignore_index=255)
    at_once.add(probs, labels, ignore_index=255)
    assert len(streamed) == len(at_once) == 3000 and streamed.n_seen == 8 * 30 * 50
    assert 255 not in streamed.labels
    rows = {tuple(row) for row in np.c_[streamed.labels, streamed.probabilities]}
    assert rows == {tuple(row) for row in np.c_[at_once.labels, at_once.probabilities]}
    # every image is equally likely to give its pixels: about 3000 / 8 each
    kept = (np.isin(probs[..., 0], streamed.probabilities[:, 0]) & (labels != 255)).sum(axis=(1, 2))
    assert kept.sum() == 3000 and kept.min() > 280 and kept.max() < 470
    few = PixelSample(limit=10_000)
    few.add(probs[0], labels[0], ignore_index=255)
    assert len(few) == 30 * 50  # fewer valid pixels than the limit: all of them


@pytest.mark.parametrize("limit", [0, -3, 2.5, True])
def test_a_bad_sample_size_is_a_one_line_error(limit):
    with pytest.raises(ModelConfigError, match="sample_pixels"):
        PixelSample(limit)


def test_without_temperature_sets_it_to_one_and_puts_it_back():
    class Model:
        pass

    model = Model()
    with without_temperature(model):
        assert model.temperature == 1.0
    assert not hasattr(model, "temperature")
    model.temperature = 2.5
    with pytest.raises(RuntimeError), without_temperature(model):
        assert model.temperature == 1.0
        raise RuntimeError("the block failed")
    assert model.temperature == 2.5
