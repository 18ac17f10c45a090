"""The encoder registry: the pyramid contract (levels, strides, channels), sizes, registration."""

import keras
import numpy as np
import pytest

from keras_segmentation.errors import InputSizeError, ModelConfigError
from keras_segmentation.models import build_encoder_model, build_model, list_encoders, register_encoder
from keras_segmentation.models.encoders import ENCODERS, LEVELS, EncoderSpec, check_input_size, get_encoder

FAST_ENCODERS = ["vanilla", "vgg16", "resnet50", "mobilenet", "mobilenetv3small"]
REQUIRED_FAMILIES = {
    "resnet50v2", "resnet101", "mobilenetv2", "mobilenetv3small", "mobilenetv3large", "efficientnetb0",
    "efficientnetv2b0", "convnexttiny", "densenet121", "xception",
}


def _check_pyramid(name, size=96):
    spec = get_encoder(name)
    encoder = build_encoder_model(name, size, size)
    pyramid = encoder.output
    levels = [level for level, channels in zip(LEVELS, spec.channels) if channels is not None]
    assert sorted(pyramid) == levels
    for level, stride, channels in zip(LEVELS, spec.strides, spec.channels):
        if channels is None:
            continue
        shape = tuple(pyramid[level].shape)
        assert shape[-1] == channels, (name, level)
        assert round(size / shape[1]) == stride, (name, level, shape)


@pytest.mark.parametrize("name", FAST_ENCODERS)
def test_pyramid_contract_fast(name):
    _check_pyramid(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(ENCODERS) - set(FAST_ENCODERS)))
def test_pyramid_contract_every_encoder(name):
    _check_pyramid(name, size=128)


def test_registry_covers_the_required_families():
    assert REQUIRED_FAMILIES <= set(ENCODERS)
    assert {"vanilla", "vgg16", "resnet50", "mobilenet", "resnet50_dilated", "resnet101_dilated"} <= set(ENCODERS)
    rows = {row["name"]: row for row in list_encoders()}
    assert rows["vgg16"]["normalization"] == "caffe" and rows["vgg16"]["pretrained"] == "imagenet"
    assert rows["vanilla"]["pretrained"] is None and rows["vanilla"]["normalization"] == "sub_mean"
    assert rows["densenet121"]["normalization"] == "torch"
    assert rows["efficientnetv2b0"]["normalization"] == "none"
    assert "P1" not in rows["convnexttiny"]["channels"]
    assert rows["resnet50_dilated"]["strides"]["P5"] == 8
    from keras_segmentation.data.normalization import NORMALIZATIONS

    assert {row["normalization"] for row in rows.values()} <= set(NORMALIZATIONS)


def test_unknown_encoder_lists_the_choices():
    with pytest.raises(ModelConfigError, match="unknown encoder 'nope'; choose one of: .*efficientnetb0"):
        get_encoder("nope")


def test_check_input_size_messages():
    check_input_size(None, 64, divisor=32)
    with pytest.raises(InputSizeError, match="input_width=100 must be a multiple of 32; the nearest valid values are 96 and 128"):
        check_input_size(64, 100, divisor=32, what="x")
    with pytest.raises(InputSizeError, match="too small; the smallest valid value is 32"):
        check_input_size(16, 64, divisor=32, what="x")
    with pytest.raises(InputSizeError, match="needs a fixed input size"):
        check_input_size(None, 64, allow_none=False, what="x")


def test_preprocessing_constants_extend_to_any_channel_count():
    model = build_encoder_model("mobilenetv3small", 64, 64, channels=4)
    rescaling = model.get_layer("input_rescaling")
    assert len(rescaling.scale) == 4
    convnext = build_model("unet", "convnexttiny", 2, 64, 64, channels=1)
    scale = convnext.get_layer("input_rescaling").scale
    assert len(scale) == 1
    np.testing.assert_allclose(scale[0], np.mean([1 / (255 * s) for s in (0.229, 0.224, 0.225)]), rtol=1e-6)


def test_register_a_new_encoder():
    def build(inputs):
        x, pyramid = inputs, {}
        for level in range(1, 6):
            x = keras.layers.Conv2D(4 * level, 3, strides=2, padding="same")(x)
            pyramid[f"P{level}"] = x
        return pyramid

    spec = register_encoder(EncoderSpec("tiny_test_encoder", "test", build, "divide", (4, 8, 12, 16, 20)))
    try:
        model = build_model("unet", "tiny_test_encoder", 2, 64, 64)
        assert model.output_shape == (None, 64, 64, 2) and model.normalization == "divide"
        _check_pyramid(spec.name, 64)
    finally:
        ENCODERS.pop("tiny_test_encoder")
