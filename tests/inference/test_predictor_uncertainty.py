"""Uncertainty maps in the Predictor: range and shape in both modes, TTA disagreement, temperature, errors."""

import keras
import numpy as np
import pytest
from uncertaintynets import half_res_net

from keras_segmentation.errors import ModelConfigError
from keras_segmentation.inference.predictor import Predictor
from keras_segmentation.inference.tiling import TestTimeAugmentation
from keras_segmentation.models.segmentation_model import SegmentationModel
from keras_segmentation.uncertainty import METHODS, raw_entropy, uncertainty_map, with_temperature


def free_net(kernel, seed=0):
    """Any input size; ``kernel=1``: every pixel on its own, so flipping the input flips the output exactly."""
    keras.utils.set_random_seed(seed)
    x = keras.Input((None, None, 3))
    h = keras.layers.Conv2D(8, kernel, padding="same", activation="relu")(x)
    y = keras.layers.Softmax()(keras.layers.Conv2D(3, kernel, padding="same")(h))
    return SegmentationModel(x, y, model_name="free", normalization="divide")


def image(height, width, seed=0):
    return np.random.default_rng(seed).integers(0, 255, (height, width, 3), dtype=np.uint8)


def predict_one(model, picture, **keywords):
    return next(Predictor(model, precision="float32", **keywords).run([picture], with_probabilities=True))


@pytest.mark.parametrize("mode", ["resize", "slide"])
@pytest.mark.parametrize("method", METHODS)
def test_maps_are_in_0_1_at_the_image_resolution_and_leave_the_labels_alone(mode, method):
    model, picture = half_res_net(), image(40, 60)
    plain = predict_one(model, picture, mode=mode)
    result = predict_one(model, picture, mode=mode, uncertainty=method)
    assert result.uncertainty.shape == (40, 60) and result.uncertainty.dtype == np.float32
    assert 0 <= result.uncertainty.min() and result.uncertainty.max() <= 1 and result.uncertainty.max() > 0
    assert result.score == pytest.approx(float(result.uncertainty.mean()), abs=1e-6)
    if method != "tta":  # "tta" adds its default flips, which change the probabilities
        np.testing.assert_array_equal(result.labels, plain.labels)
        np.testing.assert_array_equal(result.probabilities, plain.probabilities)
    assert plain.uncertainty is None and plain.score is None


def test_the_map_is_computed_at_the_output_resolution_then_resized():
    model, picture = half_res_net(), image(32, 48)  # the model's input: no resizing of the image
    out = model.predict(picture[None, :, :, ::-1].astype(np.float32) / 255.0, verbose=0)[0]  # 16 x 24
    expected = keras.ops.convert_to_numpy(keras.ops.image.resize(uncertainty_map("margin", out)[None, :, :, None],
                                                                 (32, 48), interpolation="bilinear"))[0, :, :, 0]
    result = predict_one(model, picture, uncertainty="margin")
    np.testing.assert_allclose(result.uncertainty, expected, atol=1e-5)


@pytest.mark.parametrize("method", METHODS)
def test_slide_with_one_tile_the_size_of_the_image_and_input_equals_resize(method):
    model, picture = half_res_net(), image(32, 48)
    slid = predict_one(model, picture, mode="slide", uncertainty=method)
    resized = predict_one(model, picture, mode="resize", uncertainty=method)
    np.testing.assert_array_equal(slid.labels, resized.labels)
    np.testing.assert_allclose(slid.uncertainty, resized.uncertainty, atol=1e-6)
    assert slid.score == pytest.approx(resized.score, abs=1e-6)


@pytest.mark.parametrize("mode", ["resize", "slide"])
def test_tta_disagreement_is_zero_for_a_flip_equivariant_model_and_positive_otherwise(mode):
    window = dict(mode=mode, tile=(32, 32), overlap=0.5) if mode == "slide" else dict(mode=mode)
    picture = image(40, 56)
    pointwise = predict_one(free_net(kernel=1), picture, uncertainty="tta", **window)
    assert pointwise.uncertainty.shape == (40, 56) and pointwise.uncertainty.max() < 1e-5
    spatial = predict_one(free_net(kernel=3), picture, uncertainty="tta", **window)
    assert spatial.uncertainty.max() > 1e-3 and spatial.score > 0
    assert predict_one(free_net(kernel=3), picture, uncertainty="entropy", **window).score > 0.5  # unsure, yet agreeing


def test_tta_uses_both_flips_unless_augmentations_are_asked():
    model = half_res_net()
    assert Predictor(model, uncertainty="tta").tta.flips == ("h", "v")
    assert Predictor(model, uncertainty="tta", tta="hflip").tta.flips == ("h",)
    assert Predictor(model, uncertainty="tta", flip_tta=True).tta.flips == ("h",)
    assert Predictor(model, uncertainty="entropy").tta.active is False  # only "tta" adds passes


def test_forward_gives_the_mean_of_the_passes_entropies_and_is_unchanged_without():
    model = free_net(kernel=3)
    batch = image(24, 32)[None].astype(np.float32) / 255.0
    passes = [model.predict(batch, verbose=0), np.flip(model.predict(np.flip(batch, 2).copy(), verbose=0), 2)]
    augment = TestTimeAugmentation(flips=("h",))
    probabilities, entropy = augment.forward(model, batch, pass_entropy=True)
    np.testing.assert_allclose(probabilities, np.mean(passes, 0), atol=1e-6)
    np.testing.assert_allclose(entropy, np.mean([raw_entropy(p) for p in passes], 0), atol=1e-5)
    np.testing.assert_array_equal(augment.forward(model, batch), probabilities)
    plain, plain_entropy = TestTimeAugmentation().forward(model, batch, pass_entropy=True)
    np.testing.assert_allclose(plain_entropy, raw_entropy(plain), atol=1e-6)


@pytest.mark.parametrize("mode", ["resize", "slide"])
def test_a_temperature_changes_the_maps_and_probabilities_but_not_the_labels(mode):
    model, picture = half_res_net(), image(40, 60)
    before = {method: predict_one(model, picture, mode=mode, uncertainty=method) for method in ("entropy", "margin")}
    model.temperature = 0.5
    try:
        after = {method: predict_one(model, picture, mode=mode, uncertainty=method) for method in ("entropy", "margin")}
        for method in ("entropy", "margin"):
            np.testing.assert_array_equal(after[method].labels, before[method].labels)
            assert after[method].score < before[method].score - 0.01  # sharper: surer
        assert (after["entropy"].uncertainty <= before["entropy"].uncertainty + 1e-6).all()
        np.testing.assert_allclose(after["entropy"].probabilities,
                                   with_temperature(before["entropy"].probabilities, 0.5), atol=1e-5)
    finally:
        del model.temperature


def test_the_temperature_is_read_before_a_copy_in_another_precision():
    model = half_res_net()
    model.temperature = 3.0
    predictor = Predictor(model, precision="mixed_bfloat16", uncertainty="entropy")
    assert predictor.temperature == 3.0 and predictor.model is not model


def test_a_bad_method_is_a_one_line_error():
    with pytest.raises(ModelConfigError, match=r"^uncertainty='variance': choose one of entropy, margin, tta$"):
        Predictor(half_res_net(), uncertainty="variance")


def test_unreadable_inputs_carry_no_map(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    good, broken = Predictor(half_res_net(), uncertainty="entropy").run([image(32, 48), str(bad)])
    assert good.uncertainty.shape == (32, 48) and broken.error is not None and broken.uncertainty is None
