"""Fused batch norms in training: the same step as Keras' own batch norm, and nothing else changed."""

import keras
import numpy as np
import pytest

from keras_segmentation.training.fused_batch_norm import fuse_batch_norms

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's fused op")


def conv_bn_net(dtype=None, **bn_options):
    """Conv → BN → ReLU twice, the second inside a nested model, and a 2-D BN over pooled features (not fused)."""
    keras.utils.set_random_seed(3)
    inner_in = keras.Input((8, 12, 6))
    inner = keras.Model(inner_in, keras.layers.BatchNormalization(name="inner_bn", dtype=dtype, **bn_options)(
        keras.layers.Conv2D(6, 3, padding="same", dtype=dtype)(inner_in)), name="inner")
    x = keras.Input((8, 12, 3))
    h = keras.layers.Conv2D(6, 3, padding="same", dtype=dtype)(x)
    h = keras.layers.ReLU(dtype=dtype)(keras.layers.BatchNormalization(name="outer_bn", dtype=dtype, **bn_options)(h))
    h = keras.layers.ReLU(dtype=dtype)(inner(h))
    pooled = keras.layers.BatchNormalization(name="flat_bn", dtype=dtype)(keras.layers.GlobalAveragePooling2D(dtype=dtype)(h))
    h = keras.layers.Multiply(dtype=dtype)([h, keras.layers.Reshape((1, 1, 6), dtype=dtype)(pooled)])
    y = keras.layers.Conv2D(4, 1, dtype=dtype)(h)
    return keras.Model(x, y)


def one_step(model, seed=0):
    """One SGD step on fixed data; the weights and moving statistics after it, and the training-mode output."""
    rng = np.random.default_rng(seed)
    x = rng.normal(2.0, 3.0, (4, 8, 12, 3)).astype("float32")
    y = rng.normal(size=(4, 8, 12, 4)).astype("float32")
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    out = keras.ops.convert_to_numpy(keras.ops.cast(model(x, training=True), "float32"))
    model.train_on_batch(x, y)
    return out, [w.numpy().astype("float32") for w in model.weights]


def test_fuses_every_plain_batch_norm_once_and_keeps_config_and_weights():
    model = conv_bn_net()
    config, weights = model.get_config(), [w.numpy() for w in model.weights]
    assert fuse_batch_norms(model) == 3  # outer_bn, inner_bn, and flat_bn (2-D: it falls back at call time)
    assert fuse_batch_norms(model) == 0  # once only
    assert model.get_config() == config
    assert all(np.array_equal(a, b.numpy()) for a, b in zip(weights, model.weights))


def fused_op_count(model):
    """How many ``FusedBatchNormV3`` ops ``model``'s training-mode forward pass traces to."""
    import tensorflow as tf

    graph = tf.function(lambda x: model(x, training=True)).get_concrete_function(
        tf.TensorSpec((None, *model.input_shape[1:]), "float32")).graph
    return sum(op.type == "FusedBatchNormV3" for op in graph.get_operations())


# momentum 0: the moving statistics are the last batch's, so that a wrong variance (e.g. Bessel's) shows;
# momentum 0.9: the running average itself
@pytest.mark.parametrize("options", [dict(momentum=0.0), dict(momentum=0.9),
                                     dict(momentum=0.0, scale=False, center=False, epsilon=1e-5)])
def test_float32_step_matches_keras_batch_norm(options):
    reference, fused = conv_bn_net(**options), conv_bn_net(**options)
    fuse_batch_norms(fused)
    assert fused_op_count(fused) == 2 and fused_op_count(reference) == 0  # flat_bn (2-D) falls back
    out_ref, after_ref = one_step(reference)
    out_fused, after_fused = one_step(fused)
    np.testing.assert_allclose(out_fused, out_ref, rtol=1e-4, atol=1e-4)
    names = [w.path for w in reference.weights]
    assert len(names) == len(fused.weights)
    for name, a, b in zip(names, after_ref, after_fused):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5, err_msg=name)
    moving = [i for i, name in enumerate(names) if "moving" in name]
    assert len(moving) == 6
    assert all(not np.allclose(after_fused[i], [0.0, 1.0][name.endswith("variance")])
               for i, name in ((i, names[i]) for i in moving))  # the step did move the statistics


def test_channels_first_axis_and_pure_bfloat16_run_keras_code():
    reference, fused = conv_bn_net(axis=1), conv_bn_net(axis=1)
    fuse_batch_norms(fused)
    assert fused_op_count(fused) == 0
    x = np.random.default_rng(2).normal(size=(2, 8, 12, 3)).astype("float32")
    np.testing.assert_array_equal(np.array(fused(x, training=True)), np.array(reference(x, training=True)))
    assert fuse_batch_norms(conv_bn_net(dtype="bfloat16")) == 0  # its variables are bfloat16: Keras' code


def test_weights_saved_after_a_fused_step_load_into_a_plain_model(tmp_path):
    fused = conv_bn_net(momentum=0.5)
    fuse_batch_norms(fused)
    one_step(fused)
    fused.save_weights(tmp_path / "fused.weights.h5")
    plain = conv_bn_net(momentum=0.5)
    plain.load_weights(tmp_path / "fused.weights.h5")
    x = np.random.default_rng(3).normal(size=(2, 8, 12, 3)).astype("float32")
    np.testing.assert_array_equal(np.array(plain(x, training=False)), np.array(fused(x, training=False)))


def test_bfloat16_step_close_to_keras_batch_norm():
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        reference, fused = conv_bn_net(momentum=0.0), conv_bn_net(momentum=0.0)
        fuse_batch_norms(fused)
        out_ref, after_ref = one_step(reference)
        out_fused, after_fused = one_step(fused)
    finally:
        keras.config.set_dtype_policy(policy)
    scale = np.abs(out_ref).max()
    assert np.abs(out_fused - out_ref).max() < 0.05 * scale  # bfloat16 keeps 8 bits of mantissa
    for a, b in zip(after_ref, after_fused):
        np.testing.assert_allclose(b, a, rtol=0.03, atol=0.03)


def test_inference_and_frozen_layers_run_keras_code():
    reference, fused = conv_bn_net(), conv_bn_net()
    x = np.random.default_rng(1).normal(size=(2, 8, 12, 3)).astype("float32")
    for model in (reference, fused):  # moving statistics away from 0 / 1 so that inference uses them
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.moving_mean.assign(np.full(layer.moving_mean.shape, 0.3, "float32"))
    fuse_batch_norms(fused)
    np.testing.assert_array_equal(np.array(fused(x, training=False)), np.array(reference(x, training=False)))
    for model in (reference, fused):
        model.get_layer("outer_bn").trainable = False
    outer_ref = keras.Model(reference.input, reference.get_layer("outer_bn").output)
    outer_fused = keras.Model(fused.input, fused.get_layer("outer_bn").output)
    np.testing.assert_array_equal(np.array(outer_fused(x, training=True)), np.array(outer_ref(x, training=True)))


def test_synchronized_and_renorm_batch_norms_are_left_alone():
    assert fuse_batch_norms(conv_bn_net(synchronized=True)) == 1  # flat_bn only
    assert fuse_batch_norms(conv_bn_net(renorm=True)) == 1


def test_compile_model_fuses_a_library_model():
    from keras_segmentation.models.build import build_model
    from keras_segmentation.training.compile import compile_model

    model = build_model("fpn", "mobilenetv2", 3, 64, 64, encoder_weights=None)
    compile_model(model, "adam", None, None, "categorical_crossentropy", None, None, 1, 1, False)
    assert fuse_batch_norms(model) == 0  # compile_model did them all
    assert fuse_batch_norms(build_model("fpn", "mobilenetv2", 3, 64, 64, encoder_weights=None)) > 30
    moving_mean = next(w for w in model.weights if "moving_mean" in w.path)
    before = moving_mean.numpy()
    x = np.random.default_rng(0).normal(size=(2, 64, 64, 3)).astype("float32")
    model.train_on_batch(x, np.zeros((2, model.output_height, model.output_width), "int32"))
    assert not np.array_equal(moving_mean.numpy(), before)
