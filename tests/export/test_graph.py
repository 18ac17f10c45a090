"""The exported graph's normalisation equals the library's, for every normalisation and channel count."""

import numpy as np
import pytest
from keras import ops

from keras_segmentation.data.normalization import NORMALIZATIONS, normalize_image
from keras_segmentation.data.rasters import rgb_to_bgr
from keras_segmentation.export.graph import LABELS, PROBABILITIES, UInt8Normalization, deployable_model
from keras_segmentation.models.unet import unet_mini


@pytest.mark.parametrize("normalization", NORMALIZATIONS)
@pytest.mark.parametrize("channels", [1, 3, 4, 6])
def test_uint8_normalization_matches_normalize_image(normalization, channels):
    rng = np.random.default_rng(channels)
    bgr = rng.integers(0, 256, (5, 7, channels), dtype=np.uint8)
    rgb = rgb_to_bgr(bgr) if channels in (3, 4) else bgr  # what a deployer feeds: RGB(A), other bands as stored
    expected = normalize_image(bgr, normalization)
    got = ops.convert_to_numpy(UInt8Normalization(normalization, channels)(rgb[None]))[0]
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-4)


def test_deployable_model_outputs_the_models_probabilities_and_labels():
    model = unet_mini(4, input_height=32, input_width=32)
    served = deployable_model(model, labels=True)
    images = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    outputs = served.predict_on_batch(images)
    normalized = np.stack([normalize_image(rgb_to_bgr(image), model.normalization) for image in images])
    expected = ops.convert_to_numpy(model(normalized, training=False))
    np.testing.assert_allclose(outputs[PROBABILITIES], expected, atol=1e-5)
    np.testing.assert_array_equal(outputs[LABELS], expected.argmax(-1))
    assert served.input.dtype == "uint8" and outputs[LABELS].dtype == np.int32


def test_resize_upsampling_equals_keras_upsampling_and_shares_weights():
    import keras

    from keras_segmentation.export.graph import NearestUpsampling, with_resize_upsampling

    inputs = keras.Input((None, None, 2))
    x = keras.layers.Conv2D(3, 3, padding="same")(inputs)
    outputs = keras.layers.UpSampling2D((2, 3))(x)
    model = keras.Model(inputs, outputs)
    swapped = with_resize_upsampling(model)
    assert any(isinstance(layer, NearestUpsampling) for layer in swapped.layers)
    assert swapped.layers[1] is model.layers[1]  # the convolution is shared, not copied
    x = np.random.default_rng(1).normal(size=(2, 5, 7, 2)).astype("float32")
    got, expected = swapped.predict_on_batch(x), model.predict_on_batch(x)
    assert got.shape == (2, 10, 21, 3)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("channels", [1, 3, 4, 6])
def test_graph_input_short_path_for_8_bit_equals_the_general_one(channels):
    from keras_segmentation.export.contract import graph_input, to_uint8

    image = np.random.default_rng(channels).integers(0, 256, (9, 11, channels), dtype=np.uint8)
    for size in (None, (5, 7)):
        expected = to_uint8(normalize_image(image, "none", size))
        got = graph_input(image, size)
        assert got.dtype == np.uint8 and got.flags.c_contiguous
        np.testing.assert_array_equal(got, expected)
    wide = (image.astype(np.uint16) * 257)  # 16 bits: the general path
    np.testing.assert_array_equal(graph_input(wide), to_uint8(normalize_image(wide, "none")))
