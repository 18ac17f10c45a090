"""The FPN, LinkNet, U-Net++, UPerNet and DeepLabV3 decoders: the shared tester on several encoders, shapes, options.

Every decoder of the registry also runs in ``test_zoo_build_model.py`` (vanilla
encoder, default options, any input size); here they run with small decoder
options on more encoders, including ones without P1 and dilated ones.
"""

import keras
import numpy as np
import pytest
from model_tester import BaseModelTester, build_model_case

from keras_segmentation.errors import ModelConfigError
from keras_segmentation.models import build_model, resolve_model
from keras_segmentation.models.decoders import DECODERS
from keras_segmentation.models.head import apply_head

#: small widths so that the tests are fast
SMALL = {
    "fpn": {"decoder_pyramid_filters": 32, "decoder_segmentation_filters": 16},
    "linknet": {"decoder_final_filters": 8},
    "unetplusplus": {"decoder_filters": (32, 16, 16, 8, 8)},
    "upernet": {"decoder_filters": 32},
    "deeplabv3": {"aspp_filters": 32},
}
#: output stride without full_resolution on an encoder with P1..P5 at strides 2..32
NATIVE = {"fpn": 4, "linknet": 2, "unetplusplus": 2, "upernet": 4, "deeplabv3": 32}
NEW = sorted(SMALL)


def _case(decoder, encoder, slow=False, full_resolution=True, output=None):
    return build_model_case(decoder, encoder, full_resolution=full_resolution, output=output, slow=slow, **SMALL[decoder])


class TestNewDecodersOnMobileNetV3Small(BaseModelTester):
    """A keras.applications encoder (P1..P5), full resolution; the cheapest two in the fast suite."""

    cases = [_case(decoder, "mobilenetv3small", slow=decoder not in ("linknet", "deeplabv3")) for decoder in NEW]


class TestNewDecodersNativeStride(BaseModelTester):
    """full_resolution=False keeps each decoder's native stride (vanilla encoder)."""

    cases = [
        _case(decoder, "vanilla", full_resolution=False, output=(64 // NATIVE[decoder],) * 2, slow=decoder != "fpn")
        for decoder in NEW
    ]


class TestNewDecodersOnBigEncoders(BaseModelTester):
    """No P1 (ConvNeXt) and a dilated encoder (P3..P5 all at stride 8)."""

    cases = [_case(decoder, "convnexttiny", slow=True) for decoder in NEW] + [
        _case(decoder, "resnet50_dilated", slow=True) for decoder in NEW
    ]


def _pyramid(sizes, channels=8):
    """Encoder-like pyramid of ``keras.Input`` maps: ``{"P2": (h, w), ...}``."""
    return {level: keras.Input((*size, channels)) for level, size in sizes.items()}


#: a 45x67 image: an encoder without P1 (strides 4..32) and a dilated one (P1..P5 at 2, 4, 8, 8, 8)
NO_P1 = {"P2": (12, 17), "P3": (6, 9), "P4": (3, 5), "P5": (2, 3)}
DILATED = {"P1": (23, 34), "P2": (12, 17), "P3": (6, 9), "P4": (6, 9), "P5": (6, 9)}


@pytest.mark.parametrize("decoder", NEW)
@pytest.mark.parametrize("sizes", [NO_P1, DILATED], ids=["no_p1", "dilated"])
def test_odd_sizes_without_p1_and_dilated(decoder, sizes):
    image = keras.Input((45, 67, 3))
    spec = DECODERS[decoder]
    for full_resolution in (True, False):
        decoded = spec.build(_pyramid(sizes), image, 3, None, full_resolution, **SMALL[decoder])
        scores = apply_head(decoded, 3, image, full_resolution)
        top = "P5" if decoder == "deeplabv3" else "P2" if spec.native_stride == 4 else min(sizes)
        assert scores.shape[1:3] == ((45, 67) if full_resolution else sizes[top]), full_resolution


@pytest.mark.parametrize("decoder", NEW)
def test_full_resolution_output_is_the_input_size(decoder):
    model = build_model(decoder, "vanilla", 4, 66, 90, **SMALL[decoder])
    y = np.asarray(model(np.random.rand(1, 66, 90, 3).astype("float32")))
    assert y.shape == (1, 66, 90, 4)
    np.testing.assert_allclose(y.sum(-1), 1.0, atol=1e-4)
    assert DECODERS[decoder].native_stride == NATIVE[decoder]


def test_fpn_merge_policies_and_norms():
    def build(**options):
        return build_model("fpn", "vanilla", 3, 64, 64, decoder_pyramid_filters=32, decoder_segmentation_filters=16, **options)

    add, cat = build(), build(decoder_merge="cat")
    assert add.get_layer("fpn_merge_add").output.shape[-1] == 16
    assert cat.get_layer("fpn_merge_concat").output.shape[-1] == 64
    # the 1x1 classifier sees 4x the channels; nothing else changes
    assert cat.count_params() - add.count_params() == 3 * 16 * 3
    norms = {type(layer).__name__ for layer in add.layers if layer.name.startswith("fpn_P")}
    assert "GroupNormalization" in norms and "BatchNormalization" not in norms
    batch = build(decoder_norm="batch")
    assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in batch.layers if layer.name.startswith("fpn_P"))
    with pytest.raises(ModelConfigError, match="decoder_merge='mean'; choose one of: add, cat"):
        build(decoder_merge="mean")
    with pytest.raises(ModelConfigError, match="decoder_norm='layer'; choose one of: batch, group"):
        build(decoder_norm="layer")


def test_fpn_stages_per_level():
    model = build_model("fpn", "vanilla", 3, 64, 64, decoder_pyramid_filters=32, decoder_segmentation_filters=16)
    convs = [layer.name for layer in model.layers if layer.name.startswith("fpn_P") and layer.name.endswith("_conv")]
    assert sorted(convs) == sorted(
        ["fpn_P2_stage0_conv"] + [f"fpn_P{k}_stage{s}_conv" for k in (3, 4, 5) for s in range(k - 2)]
    )


def test_unetplusplus_nodes_are_nested():
    def concats(encoder, full_resolution):
        model = build_model("unetplusplus", encoder, 3, 64, 64, full_resolution=full_resolution, **SMALL["unetplusplus"])
        return {layer.name: len(layer.input) for layer in model.layers if isinstance(layer, keras.layers.Concatenate)}

    nodes = concats("vanilla", False)  # P1..P5: 4 + 3 + 2 + 1 nodes; X[i][j] concatenates j + 1 maps
    assert nodes == {f"decoder_x{i}{j}_concat": j + 1 for j in range(1, 5) for i in range(5 - j)}
    with pytest.raises(ModelConfigError, match="decoder_filters needs 5 values"):
        build_model("unetplusplus", "vanilla", 3, 64, 64, decoder_filters=(16, 8, 8, 8))


def test_linknet_adds_each_skip():
    model = build_model("linknet", "vanilla", 3, 64, 64, full_resolution=False)
    adds = [layer for layer in model.layers if isinstance(layer, keras.layers.Add)]
    assert [layer.name for layer in adds] == ["linknet_P4_add", "linknet_P3_add", "linknet_P2_add", "linknet_P1_add"]
    assert [layer.output.shape[-1] for layer in adds] == [256, 256, 128, 64]  # the vanilla encoder's channels


def test_upernet_and_deeplabv3_reuse_ppm_and_aspp():
    upernet = build_model("upernet", "vanilla", 3, 64, 64, **SMALL["upernet"])
    assert {f"upernet_ppm_pool{b}" for b in (1, 2, 3, 6)} <= {layer.name for layer in upernet.layers}
    assert upernet.get_layer("upernet_fuse_concat").output.shape[1:] == (16, 16, 4 * 32)
    deeplab = build_model("deeplabv3", "vanilla", 3, 64, 64, aspp_filters=32, aspp_rates=(2, 4))
    assert {"aspp_rate2_conv", "aspp_rate4_conv", "aspp_image_pool"} <= {layer.name for layer in deeplab.layers}
    assert "aspp_rate6_conv" not in {layer.name for layer in deeplab.layers}


@pytest.mark.parametrize("decoder", NEW)
def test_decoder_names_resolve_like_the_others(decoder, capsys):
    from keras_segmentation.cli import main

    assert resolve_model(decoder, 3, 64, 64, encoder="vanilla").model_name == f"vanilla_{decoder}"
    assert main(["models", "--no-params"]) == 0
    assert f"<encoder>_{decoder}" in capsys.readouterr().out
