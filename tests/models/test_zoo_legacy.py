"""The 22 original model names: shared tester at tiny sizes, signatures, sizes, errors, original bugs."""

import inspect
import json
import pathlib

import keras
import numpy as np
import pytest
from model_tester import BaseModelTester, ModelCase, cached_model, predict

from keras_segmentation.errors import InputSizeError, ModelConfigError
from keras_segmentation.models import LEGACY_MODELS, fcn, list_models, model_from_name, pspnet, segnet, unet

REPO = pathlib.Path(__file__).resolve().parents[2]
ORIGINAL_COUNTS = REPO / "bench" / "original_model_params.json"

#: name -> (tiny input size, output size at that input, fast?)
TINY = {
    "fcn_8": ((64, 64), (72, 72), True),
    "fcn_32": ((64, 64), (96, 96), False),
    "fcn_8_vgg": ((64, 64), (72, 72), False),
    "fcn_32_vgg": ((64, 64), (96, 96), False),
    "fcn_8_resnet50": ((64, 64), (72, 72), False),
    "fcn_32_resnet50": ((64, 64), (96, 96), False),
    "fcn_8_mobilenet": ((64, 64), (72, 72), False),
    "fcn_32_mobilenet": ((64, 64), (96, 96), False),
    "pspnet": ((192, 192), (48, 48), True),
    "vgg_pspnet": ((192, 192), (48, 48), False),
    "resnet50_pspnet": ((192, 192), (48, 48), False),
    "pspnet_50": ((64, 64), (64, 64), False),
    "pspnet_101": ((64, 64), (64, 64), False),
    "unet_mini": ((32, 48), (32, 48), True),
    "unet": ((64, 64), (32, 32), True),
    "vgg_unet": ((64, 64), (32, 32), False),
    "resnet50_unet": ((64, 64), (32, 32), False),
    "mobilenet_unet": ((64, 64), (32, 32), False),
    "segnet": ((64, 64), (32, 32), True),
    "vgg_segnet": ((64, 64), (32, 32), False),
    "resnet50_segnet": ((64, 64), (32, 32), False),
    "mobilenet_segnet": ((64, 64), (32, 32), False),
}


#: FCN on VGG, ResNet-50 and MobileNet: a 7x7 convolution of 4096 filters on the encoder's last features (103M to
#: 411M weights). TensorFlow's random initialiser leaves three times a kernel's size resident (measured: a 1.6 GB
#: kernel takes 4.9 GB), so one test of these reaches 6 GB (MobileNet) to 11 GB (ResNet-50) by itself. The shared
#: tester leaves them out: the parameter-count test builds each at its default size in a process of its own, the FCN
#: head is tested on the small encoder (fcn_8, fcn_32), and each encoder under U-Net, SegNet and PSPNet.
BIG_FCN = [name for name in TINY if name.startswith("fcn_") and name not in ("fcn_8", "fcn_32")]


def _legacy_case(name):
    (height, width), output, fast = TINY[name]
    return ModelCase(
        id=name,
        build=lambda channels: model_from_name[name](3, input_height=height, input_width=width, channels=channels),
        input_size=(height, width),
        output=output,
        slow=not fast,
        expected={"model_name": name},
        # nearly flat at initialisation (ReLU + dropout-free U-Net, he_normal FCN scores): a longer step shows the descent
        learning_rate=1e-2 if name == "unet_mini" or name.startswith("fcn") else 1e-3,
    )


class TestLegacyModels(BaseModelTester):
    cases = [_legacy_case(name) for name in TINY if name not in BIG_FCN]

    def test_feature_layer_keeps_its_original_name(self, case):
        # the original's distillation read features from "seg_feats" ("conv5_4" for pspnet_50/101)
        name = "conv5_4" if case.id in ("pspnet_50", "pspnet_101") else "seg_feats"
        cached_model(case).get_layer(name)


def test_registry_has_the_22_original_names():
    assert sorted(model_from_name) == sorted(TINY)
    assert len(LEGACY_MODELS) == 22


@pytest.mark.parametrize("name", sorted(TINY))
def test_signature_and_default_size_match_the_original(name):
    constructor = model_from_name[name]
    params = inspect.signature(constructor).parameters
    names = list(params)
    assert names[0] == "n_classes"
    assert "channels" in params and params["channels"].default == 3
    height, width = LEGACY_MODELS[name].default_size
    assert (params["input_height"].default, params["input_width"].default) == (height, width)
    if name in (
        "unet", "vgg_unet", "resnet50_unet", "mobilenet_unet", "segnet", "vgg_segnet", "resnet50_segnet", "mobilenet_segnet"
    ):
        assert names[:5] == ["n_classes", "input_height", "input_width", "encoder_level", "channels"]
        assert params["encoder_level"].default == 3
    elif name in ("fcn_8", "fcn_32"):
        assert names[:5] == ["n_classes", "encoder", "input_height", "input_width", "channels"]
    else:
        assert names[:4] == ["n_classes", "input_height", "input_width", "channels"]


def test_output_sizes_at_default_input_match_the_original_table():
    # original_library.md section 1.3 (and the counts measured in the original environment)
    table = {row["name"]: row for row in list_models() if row["builder"] == "legacy"}
    assert table["vgg_unet"]["output"] == (208, 304)
    assert table["fcn_8"]["output"] == (424, 616)
    assert table["fcn_32"]["output"] == (448, 640)
    assert table["fcn_8_mobilenet"]["output"] == (232, 232)
    assert table["fcn_32_mobilenet"]["output"] == (256, 256)
    assert table["pspnet"]["output"] == (96, 144)
    assert table["pspnet_50"]["output"] == (473, 473)
    assert table["unet_mini"]["output"] == (360, 480)
    assert table["mobilenet_segnet"]["output"] == (112, 112)
    if ORIGINAL_COUNTS.exists():
        original = json.loads(ORIGINAL_COUNTS.read_text())["models"]
        for name, row in table.items():
            assert row["output"] == (original[name]["output_height"], original[name]["output_width"]), name


@pytest.mark.parametrize("name", ["unet", "segnet", "pspnet", "fcn_8", "unet_mini"])
def test_default_graph_matches_original_output_size_and_params(name):
    height, width = LEGACY_MODELS[name].default_size
    model = model_from_name[name](12)
    assert (model.input_height, model.input_width) == (height, width)
    assert (model.output_height, model.output_width) == LEGACY_MODELS[name].output_size(height, width)
    if ORIGINAL_COUNTS.exists():
        original = json.loads(ORIGINAL_COUNTS.read_text())["models"][name]
        assert model.count_params() == original["params"]


@pytest.mark.slow
@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.own_process) if name in BIG_FCN else name
                                  for name in sorted(TINY)])
def test_every_default_graph_has_the_original_parameter_count(name):
    if not ORIGINAL_COUNTS.exists():
        pytest.skip("bench/original_model_params.json not generated")
    original = json.loads(ORIGINAL_COUNTS.read_text())["models"][name]
    # the 7x7x2048x4096 layers of the big FCNs take 5.7 GiB in float32: bfloat16 weights halve it, same count
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("bfloat16" if name in BIG_FCN else previous)
    try:
        model = model_from_name[name](original["n_classes"])
    finally:
        keras.config.set_dtype_policy(previous)
    assert model.count_params() == original["params"]
    assert (model.output_height, model.output_width) == (original["output_height"], original["output_width"])


@pytest.mark.parametrize(
    "constructor, height, width, expected",
    [
        (unet.vgg_unet, 416, 600, "nearest valid values are 576 and 608"),
        (pspnet.pspnet, 400, 576, "multiple of 192; the nearest valid values are 384 and 576"),
        (unet.unet_mini, 30, 48, "multiple of 4; the nearest valid values are 28 and 32"),
        (unet.unet, 72, 64, "multiple of 16"),
    ],
)
def test_bad_input_size_raises_input_size_error_naming_valid_sizes(constructor, height, width, expected):
    with pytest.raises(InputSizeError, match=expected):
        constructor(3, input_height=height, input_width=width)


def test_pspnet_50_accepts_sizes_other_than_473_and_713():
    # the original printed a message and called sys.exit(1)
    model = pspnet.pspnet_50(5, input_height=96, input_width=128)
    assert model.output_shape == (None, 96, 128, 5)
    assert model.get_layer("conv5_4") is not None and model.get_layer("conv6") is not None


def test_pspnet_50_at_473_pools_like_the_original():
    from keras_segmentation.models.layers import AdaptiveAveragePooling2D

    model = pspnet.pspnet_50(5)
    pools = [layer for layer in model.layers if isinstance(layer, AdaptiveAveragePooling2D)]
    assert sorted(p.bins for p in pools) == [(1, 1), (2, 2), (3, 3), (6, 6)]
    assert {tuple(p.input.shape[1:3]) for p in pools} == {(60, 60)}  # 60 / bins = the original's 60, 30, 20, 10


def test_unet_encoder_level_is_used():
    # the original accepted encoder_level but always started from f4
    default = unet.unet(3, 64, 64)
    deeper = unet.unet(3, 64, 64, encoder_level=4)
    shallower = unet.unet(3, 64, 64, encoder_level=2)
    assert default.output_shape == deeper.output_shape == shallower.output_shape == (None, 32, 32, 3)
    assert shallower.count_params() < default.count_params() < deeper.count_params()
    with pytest.raises(ModelConfigError, match="encoder_level"):
        unet.unet(3, 64, 64, encoder_level=5)


def test_original_layer_names_are_kept():
    model = unet.vgg_unet(3, 64, 64)
    for name in ("block1_conv1", "block4_conv3", "block4_pool", "seg_feats"):  # f5 is unused by the U-Net
        model.get_layer(name)
    resnet = segnet.resnet50_segnet(3, 64, 64)
    for name in ("conv1", "bn_conv1", "res2a_branch2a", "bn4f_branch2c", "seg_feats"):
        resnet.get_layer(name)
    mobile = unet.mobilenet_unet(3, 64, 64)
    for name in ("conv1", "conv_dw_11", "conv_pw_11_bn", "conv_pw_11_relu"):
        mobile.get_layer(name)


@pytest.mark.slow
def test_fcn_feature_layers():
    assert fcn.fcn_8(3, input_height=64, input_width=64).get_layer("seg_feats").__class__.__name__ == "Add"
    assert fcn.fcn_32(3, input_height=64, input_width=64).get_layer("seg_feats").__class__.__name__ == "Conv2D"


def test_resnet50_encoder_works_below_224_pixels():
    # the original's trailing AveragePooling2D((7, 7)) made inputs under 224 px fail
    model = unet.resnet50_unet(3, input_height=64, input_width=96)
    assert model.output_shape == (None, 32, 48, 3)


def test_no_lambda_layers_anywhere():
    import keras

    for model in (pspnet.resnet50_pspnet(3, 192, 192), pspnet.pspnet_50(3, 64, 64), unet.mobilenet_unet(3, 64, 64)):
        assert not any(isinstance(layer, keras.layers.Lambda) for layer in model.layers)


@pytest.mark.parametrize(
    "constructor, size, full_output",
    [
        (lambda **kw: unet.unet(3, **kw), (64, 64), (64, 64)),
        (lambda **kw: segnet.segnet(3, **kw), (64, 96), (64, 96)),
        (lambda **kw: pspnet.pspnet(3, **kw), (192, 192), (192, 192)),
        (lambda **kw: fcn.fcn_8(3, **kw), (64, 64), (64, 64)),
        pytest.param(lambda **kw: fcn.fcn_32(3, **kw), (64, 96), (64, 96), marks=pytest.mark.slow),
    ],
)
def test_full_resolution_option(constructor, size, full_output):
    default = constructor(input_height=size[0], input_width=size[1])
    full = constructor(input_height=size[0], input_width=size[1], full_resolution=True)
    assert (full.output_height, full.output_width) == full_output
    assert (default.output_height, default.output_width) != full_output
    assert full.count_params() == default.count_params()
    assert full.build_config["kwargs"]["full_resolution"] is True


def test_none_input_size_where_the_graph_allows_it():
    model = unet.unet(3, input_height=None, input_width=None)
    for height, width in ((64, 64), (96, 128)):
        y = predict(model, np.zeros((1, height, width, 3), "float32"))
        assert y.shape == (1, height // 2, width // 2, 3)
    full = segnet.segnet(3, None, None, full_resolution=True)
    assert predict(full, np.zeros((1, 48, 80, 3), "float32")).shape == (1, 48, 80, 3)
    with pytest.raises(InputSizeError, match="fixed input size"):
        pspnet.pspnet(3, input_height=None, input_width=None)


@pytest.mark.slow
def test_fcn_accepts_original_encoder_functions_and_names():
    from keras_segmentation.models.vgg16 import get_vgg_encoder

    by_function = fcn.fcn_8(3, get_vgg_encoder, 64, 64)
    by_name = fcn.fcn_8(3, "vgg16", 64, 64)
    assert by_function.count_params() == by_name.count_params()
    assert by_function.build_config["kwargs"]["encoder"] == "vgg16"
    assert by_function.normalization == "caffe"


def test_legacy_assembly_accepts_original_encoder_functions_and_names():
    from keras_segmentation.models.vgg16 import get_vgg_encoder

    by_function = segnet._segnet(3, get_vgg_encoder, 64, 64)
    by_name = segnet._segnet(3, "vgg16", 64, 64)
    assert by_function.count_params() == by_name.count_params()
    assert by_function.normalization == by_name.normalization == "caffe"


def test_custom_encoder_function_builds_without_build_config():
    from keras_segmentation.models.basic_models import vanilla_encoder

    def my_encoder(input_height, input_width, channels):
        return vanilla_encoder(input_height, input_width, channels)

    model = segnet._segnet(3, my_encoder, 64, 64)
    assert model.output_shape == (None, 32, 32, 3)
    assert model.build_config is None


@pytest.mark.slow
def test_fcn_with_unknown_input_size():
    model = fcn.fcn_8(3, input_height=None, input_width=None)
    assert predict(model, np.zeros((1, 96, 128, 3), "float32")).shape == (1, 104, 136, 3)
    full = fcn.fcn_8(3, input_height=None, input_width=None, full_resolution=True)
    for size in ((64, 64), (96, 128)):
        assert predict(full, np.zeros((1, *size, 3), "float32")).shape == (1, *size, 3)


@pytest.mark.parametrize("name", sorted(TINY))
def test_every_constructor_accepts_the_common_keywords(name):
    # checkpoint and demo code call any registered name with these keywords
    params = inspect.signature(model_from_name[name]).parameters
    assert {"n_classes", "input_height", "input_width", "channels", "encoder_weights", "full_resolution"} <= set(params)


def test_models_without_pretrained_encoders_refuse_encoder_weights():
    with pytest.raises(ModelConfigError, match="no pretrained encoder"):
        unet.unet_mini(3, 32, 32, encoder_weights="imagenet")
    with pytest.raises(ModelConfigError, match="keras_segmentation.pretrained"):
        pspnet.pspnet_50(3, 64, 64, encoder_weights="imagenet")


def test_each_original_name_is_one_declaration():
    # the constructor is made from its LegacyModel; the registry and the table read the same declaration
    for name, constructor in model_from_name.items():
        assert constructor.__name__ == name
        assert constructor.legacy_model is LEGACY_MODELS[name]
        assert constructor.legacy_model.encoder in constructor.__doc__ or name == "unet_mini"


def test_options_off_their_default_are_recorded_and_rebuild_the_same_graph():
    from keras_segmentation.models import rebuild_model

    model = unet.unet(3, 64, 64, decoder_activation=None, l1_skip_conn=False)
    kwargs = model.build_config["kwargs"]
    assert kwargs["decoder_activation"] is None and kwargs["l1_skip_conn"] is False
    assert "decoder_activation" not in unet.unet(3, 64, 64).build_config["kwargs"]  # defaults stay unrecorded
    rebuilt = rebuild_model(model.build_config)
    assert [type(layer).__name__ for layer in rebuilt.layers] == [type(layer).__name__ for layer in model.layers]
    assert rebuilt.count_params() == model.count_params()


def test_option_values_and_names_are_checked():
    from keras_segmentation.models.decoders.segnet import SEGNET
    from keras_segmentation.models.legacy_models import build_legacy

    with pytest.raises(ModelConfigError, match="decoder_activation must be one of 'relu', None"):
        unet.unet(3, 64, 64, decoder_activation="gelu")
    with pytest.raises(ModelConfigError, match="encoder_level"):
        segnet.segnet(3, 64, 64, encoder_level=True)
    with pytest.raises(ModelConfigError, match="unknown option"):
        build_legacy(SEGNET, "vanilla", 3, 64, 64, decoder_activation=None)
    with pytest.raises(TypeError):
        segnet.segnet(3, 64, 64, decoder_activation=None)
