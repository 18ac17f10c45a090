"""Batch norms folded into their convolutions for prediction: which pairs fold, the same outputs, fresh weights."""

import keras
import numpy as np
import pytest

from keras_segmentation.models.folding import fold_batch_norms, foldable_pairs
from keras_segmentation.models.model_utils import get_segmentation_model
from keras_segmentation.precision import for_prediction


def _with_statistics(model, seed=0):
    """Non-trivial batch-norm statistics and affine weights (fresh ones are mean 0, variance 1: folding a no-op)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            for variable, positive in ((layer.gamma, True), (layer.beta, False), (layer.moving_mean, False),
                                       (layer.moving_variance, True)):
                if variable is not None:
                    shape = tuple(variable.shape)
                    variable.assign(rng.uniform(0.5, 2.0, shape) if positive else rng.normal(0.0, 0.5, shape))
    return model


def mixed_model():
    """Pairs that fold (with and without a bias, depthwise with a multiplier, batch norm without scale) and pairs
    that must not (an activation inside the convolution, a convolution output used twice, a norm after an add)."""
    layers = keras.layers
    inputs = keras.Input((16, 16, 3))
    x = layers.Conv2D(8, 3, padding="same", use_bias=False, name="plain")(inputs)
    x = layers.BatchNormalization(name="bn_plain")(x)
    x = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, name="depthwise")(x)
    x = layers.BatchNormalization(scale=False, name="bn_depthwise")(x)
    x = layers.ReLU()(x)
    activated = layers.Conv2D(16, 1, activation="relu", name="activated")(x)
    x = layers.BatchNormalization(name="bn_activated")(activated)
    shared = layers.Conv2D(16, 1, name="shared")(x)
    x = layers.Add()([layers.BatchNormalization(name="bn_shared")(shared), shared])
    x = layers.BatchNormalization(name="bn_after_add")(x)
    x = layers.Conv2D(4, 1, name="head")(x)
    return _with_statistics(get_segmentation_model(inputs, layers.Softmax()(x)))


def test_only_a_linear_convolution_feeding_one_batch_norm_folds():
    assert foldable_pairs(mixed_model().get_config()) == {"bn_plain": "plain", "bn_depthwise": "depthwise"}


def test_the_folded_model_predicts_what_the_model_does():
    model = mixed_model()
    folded, pairs = fold_batch_norms(model)
    assert set(pairs) == {"bn_plain", "bn_depthwise"}
    kinds = {layer.name: type(layer).__name__ for layer in folded.layers}
    assert kinds["bn_plain"] == kinds["bn_depthwise"] == "Identity" and kinds["bn_activated"] == "BatchNormalization"
    assert folded.get_layer("plain").use_bias and type(folded) is type(model)
    x = np.random.default_rng(1).uniform(0, 1, (2, 16, 16, 3)).astype("float32")
    expected = model.predict(x, verbose=0)
    assert np.abs(folded.predict(x, verbose=0) - expected).max() < 1e-5
    assert np.abs(expected - keras.models.clone_model(model).predict(x, verbose=0)).max() > 1e-3  # weights matter


def test_a_model_with_nothing_to_fold_is_given_back():
    inputs = keras.Input((8, 8, 3))
    model = get_segmentation_model(inputs, keras.layers.Conv2D(2, 1, activation="softmax")(inputs))
    assert fold_batch_norms(model) == (model, {})


def test_prediction_folds_and_follows_the_models_weights():
    model = mixed_model()
    copy = for_prediction(model, "float32")
    assert copy is not model and type(copy.get_layer("bn_plain")).__name__ == "Identity"
    assert for_prediction(model, None) is model  # precision=None: the model as it is
    x = np.random.default_rng(2).uniform(0, 1, (1, 16, 16, 3)).astype("float32")
    _with_statistics(model, seed=5)  # e.g. trained further
    assert for_prediction(model, "float32") is copy
    assert np.abs(copy.predict(x, verbose=0) - model.predict(x, verbose=0)).max() < 1e-5


@pytest.mark.parametrize(("decoder", "encoder"), [("unet", "mobilenetv2"), ("fpn", "resnet50")])
def test_library_models_fold_their_encoders_batch_norms(decoder, encoder):
    from keras_segmentation.models.build import build_model

    model = _with_statistics(build_model(decoder, encoder, 3, 64, 64, encoder_weights=None))
    folded, pairs = fold_batch_norms(model)
    batch_norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(pairs) >= 0.8 * len(batch_norms)
    x = np.random.default_rng(3).uniform(0, 255, (1, 64, 64, 3)).astype("float32")
    expected = model.predict(x, verbose=0)
    assert np.abs(folded.predict(x, verbose=0) - expected).max() < 1e-4


REFRESH_ON_ANOTHER_BACKEND = """
import keras, numpy as np
from keras_segmentation.models.model_utils import get_segmentation_model
from keras_segmentation.precision import for_prediction
inputs = keras.Input((8, 8, 3))
x = keras.layers.BatchNormalization(name="bn")(keras.layers.Conv2D(4, 3, padding="same", name="conv")(inputs))
model = get_segmentation_model(inputs, keras.layers.Conv2D(2, 1, activation="softmax", name="head")(x))
x = np.random.default_rng(0).uniform(0, 1, (1, 8, 8, 3)).astype("float32")
for mean in (0.0, 0.5):  # the second call refreshes the folded copy from the model's new statistics
    model.get_layer("bn").moving_mean.assign(np.full(4, mean, "float32"))
    copy = for_prediction(model, "float32")
    print(float(np.abs(np.asarray(copy.predict(x, verbose=0)) - np.asarray(model.predict(x, verbose=0))).max()))
"""


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_the_folded_copy_refreshes_on_every_backend(backend):
    import importlib.util
    import os
    import subprocess
    import sys

    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed (pip install -e .[test] installs every backend)")
    done = subprocess.run([sys.executable, "-c", REFRESH_ON_ANOTHER_BACKEND], env=dict(os.environ, KERAS_BACKEND=backend),
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    gaps = [float(line) for line in done.stdout.split()]
    assert len(gaps) == 2 and max(gaps) < 1e-5
