"""The shared model tester (segmentation_models.pytorch style).

A test class subclasses :class:`BaseModelTester` and lists its ``cases``
(:class:`ModelCase`: how to build the model at a tiny size and what output to
expect); every test below then runs once per case (``conftest.py``
parametrises ``case`` from the class attribute, heavy cases carry the ``slow``
mark). The same tests run on TensorFlow, JAX and PyTorch (``KERAS_BACKEND``).
"""

import dataclasses
from collections.abc import Callable

import keras
import numpy as np
import pytest
from keras import ops

from keras_segmentation.models import SegmentationModel, build_model, rebuild_model
from keras_segmentation.precision import with_precision
from keras_segmentation.training.compile import xla_helps_training_here

BATCH = 2


@dataclasses.dataclass
class ModelCase:
    """One model to test: ``build(channels)`` returns it; ``output`` is its ``(h, w)``."""

    id: str
    build: Callable
    input_size: tuple
    output: tuple
    n_classes: int = 3
    slow: bool = False
    rebuildable: bool = True
    learning_rate: float = 1e-3
    expected: dict | None = None

    def __repr__(self):
        return self.id


def build_model_case(decoder, encoder, size=(64, 64), *, full_resolution=True, output=None, slow=False,
                     learning_rate=1e-3, **options):
    """The :class:`ModelCase` of ``build_model(decoder, encoder, 3, *size, **options)``."""

    def build(channels):
        return build_model(decoder, encoder, 3, *size, channels=channels, full_resolution=full_resolution, **options)

    return ModelCase(
        id=f"{encoder}-{decoder}" + ("" if full_resolution else "-native"),
        build=build,
        input_size=size,
        output=output or size,
        slow=slow,
        expected={"model_name": f"{encoder}_{decoder}"},
        learning_rate=learning_rate,
    )


def flat_sparse_ce(y_true, y_pred):
    """Sparse CE on ``(N, C)``: flattening avoids torch's "grad_input must be contiguous" on 4-D inputs."""
    n_classes = ops.shape(y_pred)[-1]
    y_true = ops.reshape(ops.cast(y_true, "int32"), (-1,))
    return keras.losses.sparse_categorical_crossentropy(y_true, ops.reshape(y_pred, (-1, n_classes)))


def batch_for(case, channels=3, seed=0, normalization="divide"):
    """A fixed batch: random 8-bit images normalised as the model expects, and integer masks at the output size."""
    from keras_segmentation.data.normalization import normalize_image

    rng = np.random.default_rng(seed)
    height, width = case.input_size
    raw = rng.integers(0, 256, (BATCH, height, width, channels), dtype=np.uint8)
    x = np.stack([normalize_image(image, normalization) for image in raw]).astype("float32")
    y = rng.integers(0, case.n_classes, (BATCH, *case.output)).astype("int32")
    return x, y


def predict(model, x):
    """Inference-mode forward pass as a NumPy array (a direct call: no predict-loop tracing)."""
    return ops.convert_to_numpy(model(x, training=False))


_CACHE = {}


def cached_model(case):
    """The 3-channel model of ``case``, built once per process (tests that mutate weights build their own)."""
    if case.id not in _CACHE:
        _CACHE.clear()
        keras.backend.clear_session()
        _CACHE[case.id] = case.build(3)
    return _CACHE[case.id]


class BaseModelTester:
    """Build, forward, train, save/load, rebuild, bfloat16 and channel checks for every case."""

    cases = ()

    def test_forward_shape(self, case):
        model = cached_model(case)
        assert isinstance(model, SegmentationModel)
        x, _ = batch_for(case, normalization=model.normalization)
        y = predict(model, x)
        assert y.shape == (BATCH, *case.output, case.n_classes)
        assert y.dtype == np.float32
        np.testing.assert_allclose(y.sum(-1), 1.0, atol=1e-4)
        assert (model.output_height, model.output_width, model.n_classes) == (*case.output, case.n_classes)
        assert model.normalization
        for attribute, value in (case.expected or {}).items():
            assert getattr(model, attribute) == value, attribute

    def test_training_step_decreases_loss(self, case):
        """One SGD step lowers the training-mode loss on a fixed batch.

        Dropout is switched off so the loss before and after the step is
        measured the same deterministic way (BatchNorm uses the batch
        statistics both times); the step length is bounded by gradient
        clipping. BatchNorm over a batch of 2 makes the loss surface rough for
        deep encoders on tiny inputs, so when the case's learning rate does not
        descend, a 10x smaller and a 10x larger step are tried from the same
        weights (a line search): the gradient must be a descent direction.
        """
        keras.utils.set_random_seed(1)
        model = case.build(3)
        for layer in model.layers:
            if isinstance(layer, keras.layers.Dropout):
                layer.rate = 0.0
        # XLA where train() uses it (TensorFlow on a CPU without oneDNN) and where Keras always compiles (JAX);
        # elsewhere eagerly: each compiled step of a new model kept 260-550 MB of the test process for good
        xla = keras.backend.backend() == "jax" or xla_helps_training_here()
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=case.learning_rate, global_clipnorm=1.0),
            loss=flat_sparse_ce,
            jit_compile=xla,
            run_eagerly=not xla,
        )
        x, y = batch_for(case, normalization=model.normalization)

        def loss():
            return float(np.mean(ops.convert_to_numpy(flat_sparse_ce(y, model(x, training=True)))))

        initial = model.get_weights()
        tried = []
        for learning_rate in (case.learning_rate, case.learning_rate / 10, case.learning_rate * 10):
            model.set_weights(initial)
            model.optimizer.learning_rate.assign(learning_rate)
            before = loss()
            reported = float(model.train_on_batch(x, y))
            after = loss()
            assert np.isfinite([before, reported, after]).all()
            assert reported == pytest.approx(before, rel=1e-3, abs=1e-4)
            tried.append((learning_rate, before, after))
            if after < before:
                return
        pytest.fail(f"no SGD step lowered the loss (learning rate, before, after): {tried}")

    def test_save_load_roundtrip(self, case, tmp_path):
        model = cached_model(case)
        x, _ = batch_for(case, seed=3, normalization=model.normalization)
        expected = predict(model, x)
        path = tmp_path / "model.keras"
        model.save(path)
        loaded = keras.saving.load_model(path)  # no custom_objects, safe mode
        assert type(loaded) is SegmentationModel
        np.testing.assert_allclose(predict(loaded, x), expected, rtol=1e-5, atol=1e-6)
        for attribute in ("model_name", "normalization", "build_config", "n_classes", "output_height", "channels"):
            assert getattr(loaded, attribute) == getattr(model, attribute), attribute

    def test_rebuild_from_build_config(self, case):
        model = cached_model(case)
        if not case.rebuildable:
            assert model.build_config is None
            return
        rebuilt = rebuild_model(model.build_config)
        assert rebuilt.model_name == model.model_name
        assert rebuilt.count_params() == model.count_params()
        rebuilt.set_weights(model.get_weights())
        x, _ = batch_for(case, seed=4, normalization=model.normalization)
        np.testing.assert_allclose(predict(rebuilt, x), predict(model, x), rtol=1e-5, atol=1e-6)

    def test_bfloat16_copy_computes_every_weighted_layer_in_bfloat16(self, case):
        """``with_precision`` reaches the sublayers a custom layer builds, not only the model's own layers.

        A nested model (keras.applications' ConvNeXt builds its stem as a Sequential) has no dtype of its own to set:
        its layers, reached by the recursion, are what must compute in bfloat16."""
        model = cached_model(case)
        fast = with_precision(model, "mixed_bfloat16")
        weighted = [layer for layer in fast._flatten_layers(include_self=False)
                    if layer.weights and not isinstance(layer, keras.Model)]
        in_float32 = sorted({layer.name for layer in weighted if layer.compute_dtype != "bfloat16"})
        assert in_float32 == [], in_float32
        x, _ = batch_for(case, seed=5, normalization=model.normalization)
        plain, half = predict(model, x), predict(fast, x)
        assert half.dtype == np.float32
        # 8 bits of mantissa: the untrained models' probabilities move by a few hundredths at most on average
        assert np.abs(plain - half).mean() < 0.05

    @pytest.mark.parametrize("channels", [1, 4])
    def test_input_channels(self, case, channels):
        model = case.build(channels)
        assert model.channels == channels
        x, _ = batch_for(case, channels=channels, normalization=model.normalization)
        y = predict(model, x)
        assert y.shape == (BATCH, *case.output, case.n_classes)
        assert np.isfinite(y).all()
