"""Image vectors: the deepest feature map of Keras models (fixed or free size), probabilities otherwise."""

import keras
import numpy as np
import pytest

from keras_segmentation.models.registry import model_from_name
from keras_segmentation.models.segmentation_model import SegmentationModel
from keras_segmentation.suggest.embeddings import Embedder, feature_tensor, probability_embedding


def pyramid_net(size=64):
    """Stride 2, 4, 8 ("deep", 32 channels), an image-level pool (excluded: 64x smaller), a thinner decoder."""
    keras.utils.set_random_seed(0)
    x = keras.Input((size, size, 3))
    h = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
    h = keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(h)
    deep = keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu", name="deep")(h)
    pooled = keras.layers.GlobalAveragePooling2D(keepdims=True, name="image_pool")(deep)
    fused = keras.layers.Add()([keras.layers.Conv2D(8, 1)(deep), keras.layers.Conv2D(8, 1)(pooled)])
    y = keras.layers.Softmax()(keras.layers.Conv2D(3, 1)(keras.layers.UpSampling2D(8)(fused)))
    return SegmentationModel(x, y, model_name="pyramid", normalization="divide")


@pytest.mark.parametrize("size", [64, None])
def test_the_deepest_widest_map_is_chosen_for_fixed_and_free_sizes(size):
    model = pyramid_net(size)
    assert feature_tensor(model) is model.get_layer("deep").output


def test_a_legacy_model_gives_its_encoders_last_map():
    model = model_from_name["unet_mini"](3, 64, 96)
    assert tuple(feature_tensor(model).shape[1:]) == (16, 24, 128)  # stride 4: unet_mini's deepest, 128 channels


def test_same_images_give_same_vectors_and_others_differ():
    embed = Embedder(pyramid_net())
    rng = np.random.default_rng(0)
    a, b = (rng.integers(0, 255, (50, 70, 3), dtype=np.uint8) for _ in range(2))
    vectors = embed.images([a, b, a])
    assert vectors.shape == (3, 32) and vectors.dtype == np.float32 and not embed.needs_probabilities
    np.testing.assert_allclose(vectors[0], vectors[2], rtol=1e-5)
    assert not np.allclose(vectors[0], vectors[1])


def test_an_exported_model_is_compared_by_its_probabilities_and_says_so():
    class Exported:  # what load_engine returns: no layers, probabilities only
        path = "model.onnx"

    embed = Embedder(Exported())
    assert embed.needs_probabilities
    with pytest.warns(UserWarning, match="model.onnx: no encoder features .* 4x4 grid"):
        embed.warn_once()


def test_the_probability_embedding_is_a_4x4_average_per_class():
    p = np.zeros((8, 12, 2), np.float32)
    p[:, :6, 0] = p[:, 6:, 1] = 1  # class 0 on the left half, class 1 on the right
    vector = probability_embedding(p).reshape(4, 4, 2)
    np.testing.assert_allclose(vector[:, :2, 0], 1) and np.testing.assert_allclose(vector[:, 2:, 0], 0)
    np.testing.assert_allclose(vector.sum(-1), 1)
