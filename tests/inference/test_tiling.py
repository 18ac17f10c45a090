"""Inference at any size: sliding windows, blending, padding, test-time augmentation, bounded memory, CLI."""

import warnings

import cv2
import keras
import numpy as np
import pytest

from keras_segmentation.errors import ModelConfigError
from keras_segmentation.inference.tiling import SlidingWindow, TestTimeAugmentation, slide, tile_starts
from keras_segmentation.models.segmentation_model import SegmentationModel
from keras_segmentation.predict import evaluate, predict, predict_multiple


def free_net(kernel=1, n_classes=3, seed=0):
    """A fully convolutional net that takes any size; ``kernel=1`` makes every pixel independent of the others."""
    keras.utils.set_random_seed(seed)
    x = keras.Input((None, None, 3))
    h = keras.layers.Conv2D(8, kernel, padding="same", activation="relu")(x)
    y = keras.layers.Softmax()(keras.layers.Conv2D(n_classes, kernel, padding="same")(h))
    return SegmentationModel(x, y, model_name="free", normalization="divide")


def fixed_net(seed=0):
    """Input 32x48, output 16x24 (like the original's half-resolution models)."""
    keras.utils.set_random_seed(seed)
    x = keras.Input((32, 48, 3))
    h = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
    y = keras.layers.Softmax()(keras.layers.Conv2D(3, 1)(h))
    return SegmentationModel(x, y, model_name="", normalization="divide")


def image(height, width, seed=0):
    return np.random.default_rng(seed).integers(0, 255, (height, width, 3), dtype=np.uint8)


def whole(model, picture):
    return model.predict(picture[None, :, :, ::-1].astype(np.float32) / 255.0, verbose=0)[0]


def test_tiles_cover_the_length_and_the_last_is_flush_with_the_end():
    assert tile_starts(10, 4, 3) == [0, 3, 6]
    assert tile_starts(9, 4, 3) == [0, 3, 5]
    assert tile_starts(4, 4, 3) == [0]


def test_slide_on_an_image_the_size_of_the_tile_equals_resize_mode():
    model, picture = fixed_net(), image(32, 48)
    slid, slid_probs = predict(model, inp=picture, mode="slide", return_probabilities=True)
    resized, resized_probs = predict(model, inp=picture, mode="resize", return_probabilities=True)
    np.testing.assert_array_equal(slid, resized)
    np.testing.assert_allclose(slid_probs, resized_probs, atol=1e-6)


def test_a_pointwise_model_slides_to_exactly_the_whole_image_prediction():
    model, picture = free_net(kernel=1), image(70, 90)
    _, probs = predict(model, inp=picture, mode="slide", tile=(32, 32), overlap=0.5, return_probabilities=True,
                       precision="float32")
    np.testing.assert_allclose(probs, whole(model, picture), atol=1e-5)


def test_a_3x3_model_slides_close_to_the_whole_image_away_from_the_borders():
    """Tolerance: tiles see zero padding at their own edges, which the Gaussian weights mostly discount.

    Measured: mean |dprob| 1.5e-4, labels 99.94 % equal (uniform weights: 3.5e-3 and 98.2 %).
    """
    model, picture = free_net(kernel=3), image(96, 128)
    labels, probs = predict(model, inp=picture, mode="slide", tile=(48, 48), overlap=0.5, return_probabilities=True)
    reference = whole(model, picture)
    inner = (slice(4, -4), slice(4, -4))
    assert np.abs(probs[inner] - reference[inner]).mean() < 5e-4
    assert (labels[inner] == reference[inner].argmax(-1)).mean() > 0.995


@pytest.mark.parametrize("blend", ["gaussian", "uniform"])
def test_overlapping_weights_leave_no_seams_on_a_constant_output(blend):
    x = keras.Input((None, None, 3))
    y = keras.layers.Softmax()(keras.layers.Conv2D(3, 1, kernel_initializer="zeros", bias_initializer="ones")(x))
    constant = SegmentationModel(x, y, model_name="constant", normalization="divide")
    _, probs = predict(constant, inp=image(77, 101), mode="slide", tile=(32, 40), overlap=0.4, blend=blend,
                       return_probabilities=True)
    np.testing.assert_allclose(probs, np.full((77, 101, 3), 1 / 3, np.float32), atol=1e-6)


@pytest.mark.parametrize("shape", [(37, 53), (1, 100), (100, 1), (10, 12), (1, 1)])
def test_odd_sizes_strips_and_images_smaller_than_the_tile(shape):
    model = free_net(kernel=1)
    picture = image(*shape)
    labels = predict(model, inp=picture, mode="slide", tile=(16, 16), overlap=0.25)
    assert labels.shape == shape
    np.testing.assert_array_equal(labels, whole(model, picture).argmax(-1))  # pointwise: exact at any size
    fixed = predict(fixed_net(), inp=picture, mode="slide")
    assert fixed.shape == shape and fixed.max() < 3


def test_bands_are_at_most_a_tile_high_and_add_up_to_the_whole_map():
    model, picture = free_net(kernel=1), image(100, 60)
    window = SlidingWindow((24, 24), overlap=0.5)
    bands = [(top, band.copy()) for top, band in slide(model, picture, window, TestTimeAugmentation(), "divide", 3)]
    assert max(band.shape[0] for _, band in bands) <= 24 and len(bands) > 3
    assert [top for top, _ in bands] == list(np.cumsum([0] + [b.shape[0] for _, b in bands[:-1]]))
    np.testing.assert_allclose(np.concatenate([b for _, b in bands]), whole(model, picture), atol=1e-5)


def test_tta_equals_the_hand_computed_average_of_flips_and_scales():
    model, picture = free_net(kernel=3), image(40, 56)
    x = picture[None, :, :, ::-1].astype(np.float32) / 255.0

    def run(batch):
        return model.predict(batch, verbose=0)

    outputs = []
    for scale in (0.5, 1.0):
        size = (int(round(56 * scale)), int(round(40 * scale)))
        scaled = x if scale == 1 else cv2.resize(x[0], size, interpolation=cv2.INTER_LINEAR)[None]
        for flip in (None, 2, 1):
            out = run(scaled if flip is None else np.flip(scaled, flip).copy())
            out = out if flip is None else np.flip(out, flip)
            outputs.append(out[0] if scale == 1 else cv2.resize(out[0], (56, 40), interpolation=cv2.INTER_LINEAR))
    expected = np.mean(outputs, axis=0)
    _, probs = predict(model, inp=picture, tta="flip,scale", scales=(0.5, 1.0), return_probabilities=True,
                       precision="float32")
    np.testing.assert_allclose(probs, expected, atol=1e-5)
    _, slid = predict(model, inp=picture, mode="slide", tile=(40, 56), tta="flip,scale", scales=(0.5, 1.0),
                      return_probabilities=True, precision="float32")
    np.testing.assert_allclose(slid, expected, atol=1e-5)  # one tile: slide composes with TTA the same way
    _, old = predict(model, inp=picture, flip_tta=True, return_probabilities=True)
    _, new = predict(model, inp=picture, tta="hflip", return_probabilities=True)
    np.testing.assert_allclose(old, new, atol=1e-6)


def test_bad_options_are_one_line_errors():
    with pytest.raises(ModelConfigError, match="rescaling needs a model that takes any input size"):
        predict(fixed_net(), inp=image(32, 48), tta="scale")
    with pytest.raises(ModelConfigError, match="tile height 16: this model takes inputs of 32 pixels"):
        predict(fixed_net(), inp=image(32, 48), mode="slide", tile=(16, 48))
    with pytest.raises(ModelConfigError, match="overlap=1"):
        predict(free_net(), inp=image(8, 8), mode="slide", overlap=1)
    with pytest.raises(ModelConfigError, match="tta='mirror'"):
        predict(free_net(), inp=image(8, 8), tta="mirror")
    with pytest.raises(ModelConfigError, match="mode='tiles'"):
        predict(free_net(), inp=image(8, 8), mode="tiles")


def test_a_large_image_in_the_default_mode_says_once_that_slide_exists(tmp_path):
    model = fixed_net()
    big = [image(100, 120, seed=i) for i in range(3)]
    with pytest.warns(UserWarning, match="mode='slide' predicts it tile by tile") as caught:
        predict_multiple(model, inps=big, progress=False)
    assert sum("mode='slide'" in str(w.message) for w in caught) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        predict_multiple(model, inps=big, progress=False, mode="resize")  # chosen: no hint


def test_evaluate_and_predict_multiple_take_the_slide_options(tmp_path, tiny_dataset):
    model = free_net(kernel=1)
    images, masks = tiny_dataset
    plain = evaluate(model, inp_images_dir=images, annotations_dir=masks, progress=False)
    slid = evaluate(model, inp_images_dir=images, annotations_dir=masks, progress=False, mode="slide", tile=16)
    assert slid["mean_IU"] == pytest.approx(plain["mean_IU"], abs=1e-6)  # pointwise model: the same labels
    maps = predict_multiple(model, inp_dir=images, progress=False, mode="slide", tile=(16, 16), overlap=0.5)
    assert all(m.shape == (32, 48) for m in maps)


def test_cli_predict_in_slide_mode_with_flip_and_scale_tta(tmp_path, run_cli):
    from keras_segmentation.checkpoints.config import write_config
    from keras_segmentation.checkpoints.weights import save_checkpoint
    from keras_segmentation.models import build_model

    model = build_model("unet", "vanilla", 3, encoder_weights=None)  # takes any size (multiples of 32)
    write_config(tmp_path / "ck", model)
    save_checkpoint(model, tmp_path / "ck", 1)
    folder = tmp_path / "imgs"
    folder.mkdir()
    cv2.imwrite(str(folder / "big.png"), image(70, 100))
    code, out, err = run_cli("predict", "--checkpoints_path", tmp_path / "ck", "--input_path", folder,
                             "--output_path", tmp_path / "out", "--mode", "slide", "--tile", "64", "--overlap", "0.5",
                             "--tta", "flip,scale", "--scales", "0.5,1")
    assert code == 0, err
    labels = cv2.imread(str(tmp_path / "out" / "big.png"), cv2.IMREAD_UNCHANGED)
    expected = predict(model, inp=str(folder / "big.png"), mode="slide", tile=64, overlap=0.5, tta="flip,scale",
                       scales=(0.5, 1))
    np.testing.assert_array_equal(labels, expected)
