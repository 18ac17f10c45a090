"""The exported graph's normalisation equals the library's, for every normalisation and channel count."""

import numpy as np
import pytest
from keras import ops

from keras_segmentation.data.images import NORMALIZATIONS, normalize_image
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
