"""The uncertainty maps: ranges, known values, temperature, errors."""

import numpy as np
import pytest

from keras_segmentation.errors import ModelConfigError
from keras_segmentation.uncertainty import (
    check_temperature,
    disagreement,
    entropy,
    image_score,
    log_probabilities,
    margin,
    model_temperature,
    raw_entropy,
    uncertainty_map,
    with_temperature,
)


def test_entropy_is_zero_when_sure_and_one_when_uniform():
    p = np.array([[[1, 0, 0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0]]], np.float32)
    values = entropy(p)
    assert values.shape == (1, 3) and values.dtype == np.float32
    np.testing.assert_allclose(values[0], [0, 1, np.log(2) / np.log(3)], atol=1e-5)


def test_margin_is_one_minus_the_gap_of_the_two_best():
    p = np.array([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2], [1, 0, 0]], np.float32)
    np.testing.assert_allclose(margin(p), [0.5, 1.0, 0.0], atol=1e-6)


def test_disagreement_is_zero_when_passes_agree_even_if_unsure():
    same = np.array([[0.5, 0.5], [0.5, 0.5]], np.float32)  # two passes, both unsure, agreeing
    assert disagreement(same.mean(0), raw_entropy(same).mean(0)) == pytest.approx(0, abs=1e-6)
    opposite = np.array([[0.9, 0.1], [0.1, 0.9]], np.float32)
    assert disagreement(opposite.mean(0), raw_entropy(opposite).mean(0)) > 0.5


def test_tta_map_needs_the_passes():
    with pytest.raises(ModelConfigError, match="tta"):
        uncertainty_map("tta", np.full((2, 2, 3), 1 / 3, np.float32))
    with pytest.raises(ModelConfigError, match="choose one of"):
        uncertainty_map("variance", np.full((2, 2, 3), 1 / 3, np.float32))


def test_temperature_keeps_the_argmax_and_softens_above_one():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(5), size=(4, 4)).astype(np.float32)
    soft, sharp = with_temperature(p, 2.0), with_temperature(p, 0.5)
    np.testing.assert_array_equal(soft.argmax(-1), p.argmax(-1))
    np.testing.assert_allclose(soft.sum(-1), 1, atol=1e-5)
    assert entropy(soft).mean() > entropy(p).mean() > entropy(sharp).mean()
    assert with_temperature(p, 1.0) is p
    with pytest.raises(ModelConfigError, match="positive"):
        with_temperature(p, 0)


def test_image_score_is_the_mean_over_valid_pixels():
    values = np.array([[0.0, 1.0], [0.5, 0.5]], np.float32)
    assert image_score(values) == pytest.approx(0.5)
    assert image_score(values, valid=values > 0.2) == pytest.approx(2 / 3)
    assert image_score(values, valid=np.zeros((2, 2), bool)) == 0.0


def test_temperatures_are_checked_and_a_model_without_one_has_one():
    assert check_temperature(3) == 3.0 and check_temperature(np.float32(0.5)) == 0.5
    for bad in (0, -1, float("nan"), float("inf"), "2", True, None):
        with pytest.raises(ModelConfigError, match="expected a positive number"):
            check_temperature(bad, "model.onnx.json")

    class Model:
        pass

    model = Model()
    assert model_temperature(model) == 1.0
    model.temperature = 1.5
    assert model_temperature(model) == 1.5
    model.temperature = -1
    with pytest.raises(ModelConfigError, match="model.temperature: temperature=-1"):
        model_temperature(model)
    p = np.array([0.0, 1.0], np.float32)
    assert np.isfinite(log_probabilities(p)).all() and log_probabilities(p)[1] == 0
