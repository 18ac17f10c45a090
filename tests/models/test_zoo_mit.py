"""MiT encoders (B0-B5) and the SegFormer head: shared tester, sizes, parameter/FLOP counts, keras-hub weights."""

import h5py
import keras
import numpy as np
import pytest
from keras import ops
from model_tester import BaseModelTester, ModelCase, predict
from test_zoo_encoders import _check_pyramid

from keras_segmentation.errors import ModelConfigError, WeightsError
from keras_segmentation.models import build_encoder_model, build_model, count_flops, list_models, resolve_model
from keras_segmentation.models.encoders import get_encoder, mit
from keras_segmentation.models.weights import adapt_first_kernel

#: encoder parameters: keras-hub's MiT preset counts (metadata "params") less their 10-class Dense,
#: 256 * 10 + 10 for B0 and 512 * 10 + 10 for B1-B5; the paper's Table 1 rounds them to 3.4M, 13.1M, 24.2M, ...
ENCODER_PARAMS = {
    "b0": 3_321_962 - 2_570,
    "b1": 13_156_554 - 5_130,
    "b2": 24_201_418 - 5_130,
    "b3": 44_077_258 - 5_130,
    "b4": 60_847_818 - 5_130,
    "b5": 81_448_138 - 5_130,
}


class TestMiT(BaseModelTester):
    cases = [
        ModelCase(
            "segformer_b0",
            lambda channels: resolve_model("segformer_b0", 3, 64, 64, channels=channels),
            (64, 64),
            (64, 64),
            expected={"model_name": "segformer_b0", "normalization": "torch"},
        ),
        ModelCase(
            "mit_b0-unet",
            lambda channels: build_model("unet", "mit_b0", 3, 64, 64, channels=channels),
            (64, 64),
            (64, 64),
            expected={"model_name": "mit_b0_unet"},
        ),
        ModelCase(
            "mit_b0-segformer-native",
            lambda channels: build_model("segformer", "mit_b0", 3, 64, 96, channels=channels, full_resolution=False),
            (64, 96),
            (16, 24),
            slow=True,
        ),
    ]


def test_pyramid_has_p2_to_p5_at_strides_4_to_32():
    _check_pyramid("mit_b0", 64)
    spec = get_encoder("mit_b0")
    assert (spec.family, spec.normalization, spec.channels) == ("MiT", "torch", (None, 32, 64, 160, 256))


@pytest.mark.parametrize("variant", ["b0", "b1", "b2", pytest.param("b3", marks=pytest.mark.slow),
                                     pytest.param("b4", marks=pytest.mark.slow), pytest.param("b5", marks=pytest.mark.slow)])
def test_encoder_parameters_match_the_published_ones(variant):
    assert build_encoder_model(f"mit_{variant}").count_params() == ENCODER_PARAMS[variant]


def test_segformer_b0_size_and_flops_match_the_paper():
    model = resolve_model("segformer_b0", 150, 512, 512)
    # the paper: 3.8M parameters, 8.4 GFLOPs (multiply-adds) at 512x512 on ADE20K; count_flops counts 2 per multiply-add
    assert model.count_params() == ENCODER_PARAMS["b0"] + (512 * 256 + 4 * 256) + 1024 * 256 + 4 * 256 + 256 * 150 + 150
    assert count_flops(model) / 2e9 == pytest.approx(8.4, abs=0.05)


def test_any_input_size_at_run_time():
    model = build_model("segformer", "mit_b0", 2)
    for height, width in ((64, 64), (70, 50), (32, 96)):
        y = predict(model, np.random.rand(1, height, width, 3).astype("float32"))
        assert y.shape == (1, height, width, 2)
        np.testing.assert_allclose(y.sum(-1), 1.0, atol=1e-4)


def test_named_models_are_listed_and_take_decoder_options():
    rows = {row["name"]: row for row in list_models() if row["builder"] == "named"}
    assert sorted(rows) == [f"segformer_b{k}" for k in range(6)]
    assert (rows["segformer_b2"]["encoder"], rows["segformer_b2"]["decoder"]) == ("mit_b2", "segformer")
    model = resolve_model("segformer_b0", 3, 64, 64)
    assert model.build_config["kwargs"]["decoder_filters"] == 256
    assert model.get_layer("segformer_fuse_conv").filters == 256
    with pytest.raises(ModelConfigError, match="decoder_levels"):
        build_model("segformer", "mit_b0", 3, 64, 64, decoder_levels=["P1", "P2"])


def test_drop_path_is_identity_at_inference_and_drops_samples_in_training():
    layer = mit.DropPath(0.5, seed=1)
    x = np.ones((64, 2, 2, 3), "float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x)), x)
    dropped = keras.ops.convert_to_numpy(layer(x, training=True))
    assert set(np.unique(dropped)) == {0.0, 2.0} and (dropped[:, 0, 0, 0] == 0).sum() > 10
    config = mit.MixTransformerBlock(32, 1, 8, drop_path_rate=0.1).get_config()
    assert mit.MixTransformerBlock.from_config(config).get_config() == config


# ------------------------------------------------------------------ keras-hub weights


class OverlappingPatchingAndEmbedding(mit.OverlapPatchEmbed):
    """Named as keras-hub's class: Keras 3 names a layer's weight group after its class."""


class HierarchicalTransformerEncoder(mit.MixTransformerBlock):
    """Named as keras-hub's class (same attribute names: attn.q, attn.sr, mlp.dwconv, norm1, ...)."""


_HUB_CLASSES = {mit.OverlapPatchEmbed: OverlappingPatchingAndEmbedding, mit.MixTransformerBlock: HierarchicalTransformerEncoder}


def _hub_preset(directory, variant="b0", seed=0):
    """A keras-hub-style SegFormerBackbone ``model.weights.h5`` (MiT nested in a functional, plus a head layer)."""
    inputs = keras.Input((None, None, 3))
    source = keras.Model(inputs, mit.build_mit(inputs, variant))
    rng = np.random.default_rng(seed)
    source.set_weights([(rng.standard_normal(w.shape) * 0.1).astype("float32") for w in source.get_weights()])
    hub_mit = keras.models.clone_model(
        source, clone_function=lambda layer: _HUB_CLASSES.get(type(layer), type(layer)).from_config(layer.get_config())
    )
    hub_mit.set_weights(source.get_weights())
    image = keras.Input((None, None, 3))
    backbone = keras.Model(image, keras.layers.Dense(8, name="linear_32")(hub_mit(image)["P2"]))
    directory.mkdir(exist_ok=True)
    backbone.save_weights(directory / "model.weights.h5")
    return source


def test_keras_hub_preset_loads_by_variable_name(tmp_path):
    source = _hub_preset(tmp_path / "segformer_b0_preset")
    with h5py.File(tmp_path / "segformer_b0_preset" / "model.weights.h5") as handle:
        keys = set()
        handle.visit(keys.add)
    hub = "layers/functional/layers/"
    for key in ("overlapping_patching_and_embedding/proj/vars/0", "hierarchical_transformer_encoder_5/attn/sr/vars/0",
                "hierarchical_transformer_encoder_7/mlp/dwconv/vars/1", "layer_normalization_3/vars/1"):
        assert hub + key in keys
    encoder = build_encoder_model("mit_b0", 64, 64, weights=tmp_path / "segformer_b0_preset")
    x = np.random.default_rng(1).random((2, 64, 64, 3)).astype("float32")
    expected, got = source(x), encoder(x)
    for level in ("P2", "P3", "P4", "P5"):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(got[level]), keras.ops.convert_to_numpy(expected[level]),
                                   rtol=1e-5, atol=1e-5)
    model = build_model("segformer", "mit_b0", 3, 64, 64, channels=4, encoder_weights=tmp_path / "segformer_b0_preset")
    np.testing.assert_allclose(model.get_layer("mit_stage1_embed").proj.get_weights()[0],
                               adapt_first_kernel(source.get_layer("mit_stage1_embed").proj.get_weights()[0], 4), rtol=1e-6)


def test_keras_hub_weights_errors_name_the_file_and_the_weight(tmp_path):
    _hub_preset(tmp_path / "p")
    path = tmp_path / "p" / "model.weights.h5"
    with pytest.raises(WeightsError, match=r"model.weights.h5: weight '.*overlapping_patching_and_embedding/proj/vars/0' "
                       r"has shape \(7, 7, 3, 32\), encoder 'mit_b1' expects \(7, 7, 3, 64\)"):
        build_encoder_model("mit_b1", 64, 64, weights=path)
    with pytest.raises(WeightsError, match="with 8 transformer blocks; encoder 'mit_b2' has 16"):
        build_encoder_model("mit_b2", 64, 64, weights=path)
    with h5py.File(path, "a") as handle:
        del handle["layers/functional/layers/hierarchical_transformer_encoder_2/attn/sr/vars/1"]
    with pytest.raises(WeightsError) as info:
        build_encoder_model("mit_b0", 64, 64, weights=tmp_path / "p")
    assert "no weight 'layers/functional/layers/hierarchical_transformer_encoder_2/attn/sr/vars/1'" in str(info.value)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(WeightsError, match="empty/model.weights.h5 does not exist"):
        build_encoder_model("mit_b0", 64, 64, weights=tmp_path / "empty")


def test_own_weights_file_still_loads(tmp_path):
    reference = build_encoder_model("mit_b0", 32, 32)
    reference.set_weights([w + 0.01 for w in reference.get_weights()])
    reference.save_weights(tmp_path / "mit.weights.h5")
    encoder = build_encoder_model("mit_b0", 64, 64, weights=tmp_path / "mit.weights.h5")
    for got, want in zip(encoder.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_mix_ffn_gelu_is_keras_exact_gelu_without_erfc():
    """The Mix-FFN's GELU is written with erf (TensorFlow's exact GELU uses Erfc, which tf2onnx cannot export)."""
    x = np.linspace(-8, 8, 2001, dtype="float32")
    np.testing.assert_allclose(ops.convert_to_numpy(mit.exact_gelu(x)),
                               ops.convert_to_numpy(ops.gelu(x, approximate=False)), atol=2e-6)
    ffn = mit.MixFFN(4, 8)
    ffn.build((1, 3, 3, 4))
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        graph = tf.function(ffn.call).get_concrete_function(tf.TensorSpec((1, 3, 3, 4))).graph
        assert not {op.type for op in graph.get_operations()} & {"Erfc"}
