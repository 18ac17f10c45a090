"""build_model: every decoder on every encoder family, through the shared tester; options and errors."""

import json

import numpy as np
import pytest
from model_tester import BaseModelTester, build_model_case, predict

from keras_segmentation.errors import InputSizeError, ModelConfigError
from keras_segmentation.models import build_model, list_models, rebuild_model
from keras_segmentation.models.decoders import DECODERS

DECODER_NAMES = sorted(DECODERS)


def _case(decoder, encoder, size=(64, 64), slow=False, full_resolution=True, output=None):
    learning_rate = 1e-2 if decoder.startswith("fcn") else 1e-3  # FCN scores start nearly flat
    return build_model_case(
        decoder, encoder, size, full_resolution=full_resolution, output=output, slow=slow, learning_rate=learning_rate
    )


class TestDecodersOnVanilla(BaseModelTester):
    """Every decoder at full resolution on the small vanilla encoder (fast)."""

    cases = [_case(decoder, "vanilla") for decoder in DECODER_NAMES]


class TestNativeResolution(BaseModelTester):
    """full_resolution=False keeps each decoder's own output stride."""

    cases = [
        _case("unet", "vanilla", full_resolution=False, output=(32, 32)),
        _case("deeplabv3plus", "vanilla", full_resolution=False, output=(16, 16), slow=True),
        _case("pspnet", "resnet50_dilated", full_resolution=False, output=(8, 8), slow=True),
    ]


#: one encoder per keras.applications family (and the original encoders), each with one decoder
FAMILY_CASES = [
    ("unet", "mobilenetv3small", (64, 64), False),
    ("deeplabv3plus", "efficientnetb0", (64, 64), True),
    ("fcn_8", "vgg16", (64, 64), True),
    ("segnet", "resnet50", (64, 64), True),
    ("pspnet", "mobilenet", (64, 64), True),
    ("unet", "resnet50v2", (64, 64), True),
    ("deeplabv3plus", "resnet101", (64, 64), True),
    ("fcn_32", "mobilenetv2", (64, 64), True),
    ("unet", "mobilenetv3large", (64, 64), True),
    ("unet", "efficientnetv2b0", (64, 64), True),
    ("segnet", "convnexttiny", (64, 64), True),
    ("pspnet", "densenet121", (64, 64), True),
    ("deeplabv3plus", "xception", (96, 96), True),
    ("unet", "resnet50_dilated", (64, 64), True),
    ("fcn_8", "efficientnetb0", (64, 96), True),
]


class TestEncoderFamilies(BaseModelTester):
    cases = [_case(decoder, encoder, size, slow) for decoder, encoder, size, slow in FAMILY_CASES]


@pytest.mark.slow
@pytest.mark.parametrize("decoder", DECODER_NAMES)
@pytest.mark.parametrize("encoder", ["vgg16", "resnet50", "mobilenet", "efficientnetv2b0", "convnexttiny", "xception"])
def test_decoder_by_encoder_matrix_forward(decoder, encoder):
    size = 96 if encoder == "xception" else 64
    model = build_model(decoder, encoder, 4, size, size + 32, channels=3)
    y = predict(model, np.random.rand(1, size, size + 32, 3).astype("float32"))
    assert y.shape == (1, size, size + 32, 4)
    np.testing.assert_allclose(y.sum(-1), 1.0, atol=1e-4)


@pytest.mark.parametrize("decoder", DECODER_NAMES)
def test_any_input_size_at_run_time(decoder):
    model = build_model(decoder, "vanilla", 3)
    assert model.input_shape == (None, None, None, 3)
    for height, width in ((64, 64), (70, 50)):
        y = np.asarray(model.predict(np.zeros((1, height, width, 3), "float32"), verbose=0))
        assert y.shape == (1, height, width, 3)


def test_unknown_names_and_bad_options_raise_model_config_error():
    with pytest.raises(ModelConfigError, match="unknown decoder 'hrnet'; choose one of: deeplabv3, deeplabv3plus"):
        build_model("hrnet", "vanilla", 3)
    with pytest.raises(ModelConfigError, match="unknown encoder 'resnet18'"):
        build_model("unet", "resnet18", 3)
    with pytest.raises(ModelConfigError, match="decoder 'unet'"):
        build_model("unet", "vanilla", 3, 64, 64, bogus_option=1)
    with pytest.raises(ModelConfigError, match="decoder_filters needs 5 values"):
        build_model("unet", "vanilla", 3, 64, 64, decoder_filters=(16, 8))
    with pytest.raises(ModelConfigError, match="n_classes"):
        build_model("unet", "vanilla", 0, 64, 64)
    with pytest.raises(ModelConfigError, match="channels"):
        build_model("unet", "vanilla", 3, 64, 64, channels=0)


def test_too_small_input_raises_input_size_error():
    with pytest.raises(InputSizeError, match="xception.*input_height=64 is too small; the smallest valid value is 71"):
        build_model("unet", "xception", 3, 64, 96)


def test_decoder_options_are_used_and_stored():
    small = build_model("unet", "vanilla", 3, 64, 64, decoder_filters=(32, 16, 16, 8, 8))
    default = build_model("unet", "vanilla", 3, 64, 64)
    assert small.count_params() < default.count_params()
    config = small.build_config
    assert config["builder"] == "build_model"
    assert config["kwargs"]["decoder_filters"] == [32, 16, 16, 8, 8]
    json.dumps(config)
    assert rebuild_model(config).count_params() == small.count_params()


@pytest.mark.parametrize(
    "encoder, normalization",
    [
        ("vanilla", "sub_mean"),
        ("vgg16", "caffe"),
        ("resnet50", "caffe"),
        ("mobilenet", "tf"),
        ("mobilenetv3small", "none"),
        ("efficientnetb0", "none"),
        ("convnexttiny", "none"),
        ("densenet121", "torch"),
        ("xception", "tf"),
        ("resnet50v2", "tf"),
    ],
)
def test_model_normalization_is_the_encoders(encoder, normalization):
    from keras_segmentation.models.encoders import get_encoder

    assert get_encoder(encoder).normalization == normalization
    if encoder in ("vanilla", "mobilenetv3small"):
        assert build_model("unet", encoder, 3, 64, 64).normalization == normalization


def test_list_models_covers_legacy_names_and_decoders():
    rows = list_models()
    legacy = [row for row in rows if row["builder"] == "legacy"]
    decoders = [row["decoder"] for row in rows if row["builder"] == "build_model"]
    assert len(legacy) == 22
    assert sorted(decoders) == DECODER_NAMES
    for row in legacy:
        assert set(row) >= {"name", "encoder", "decoder", "default_input", "output"}


def test_load_model_reads_saved_files(tmp_path):
    from keras_segmentation.checkpoints.load import load_model
    from keras_segmentation.models import SegmentationModel

    model = build_model("pspnet", "vanilla", 3, 64, 64)
    model.save(tmp_path / "psp.keras")
    loaded = load_model(tmp_path / "psp.keras")
    assert type(loaded) is SegmentationModel and loaded.build_config == model.build_config
    x = np.random.rand(1, 64, 64, 3).astype("float32")
    np.testing.assert_allclose(predict(loaded, x), predict(model, x), rtol=1e-5, atol=1e-6)
