"""Pretrained weights: local files, the ImageNet path (with a local stand-in file), channel adaptation, errors.

Nothing is downloaded: ``keras.applications``' downloader is replaced by a
function returning a weights file written by the test.
"""

import h5py
import keras
import numpy as np
import pytest

from keras_segmentation.errors import ModelConfigError, WeightsError
from keras_segmentation.models import build_encoder_model, build_model, unet
from keras_segmentation.models.encoders import get_encoder
from keras_segmentation.models.encoders.legacy import resnet50_keras_name
from keras_segmentation.models.weights import (
    DEFAULT_ENCODER_WEIGHTS,
    ENV_VAR,
    adapt_first_kernel,
    read_legacy_h5,
    resolve_encoder_weights,
)


def _randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        values = layer.get_weights()
        if values and not isinstance(layer, keras.layers.Normalization):
            layer.set_weights([(rng.standard_normal(v.shape) * 0.05 + 0.1).astype(v.dtype) for v in values])
    return model


def save_legacy_h5(model, path):
    """Write ``model``'s weights in the legacy Keras HDF5 layout (what keras.applications downloads)."""
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as handle:
        legacy_h5_format.save_weights_to_hdf5_group(handle, model)
    return str(path)


@pytest.fixture
def fake_download(monkeypatch):
    """Make keras.applications 'download' a given local file; returns a setter."""
    from keras.src.utils import file_utils

    def use(path):
        monkeypatch.setattr(file_utils, "get_file", lambda *args, **kwargs: str(path))

    return use


def _weighted(model):
    return {layer.name: layer.get_weights() for layer in model.layers if layer.weights}


# ---------------------------------------------------------------- channel adaptation


def test_adapt_first_kernel_averages_rgb_and_scales_by_3_over_c():
    kernel = np.random.default_rng(0).standard_normal((3, 3, 3, 5)).astype("float32")
    for channels in (1, 2, 4, 7):
        adapted = adapt_first_kernel(kernel, channels)
        assert adapted.shape == (3, 3, channels, 5)
        expected = kernel.mean(axis=2) * 3.0 / channels
        for c in range(channels):
            np.testing.assert_allclose(adapted[:, :, c, :], expected, rtol=1e-6)
    # a gray image repeated over C channels gives the RGB filter's response to that gray image
    gray = adapt_first_kernel(kernel, 4).sum(axis=2)
    np.testing.assert_allclose(gray, kernel.sum(axis=2), rtol=1e-5)


def test_local_h5_file_loads_by_name_into_1_and_4_channel_encoders(tmp_path):
    reference = _randomize(build_encoder_model("mobilenet", 64, 64, channels=3))
    path = save_legacy_h5(reference, tmp_path / "mobilenet.h5")
    expected = _weighted(reference)
    for channels in (1, 3, 4):
        encoder = build_encoder_model("mobilenet", 64, 64, channels=channels, weights=path)
        loaded = _weighted(encoder)
        assert loaded.keys() == expected.keys()
        for name, values in expected.items():
            if name == "conv1" and channels != 3:
                np.testing.assert_allclose(loaded[name][0], adapt_first_kernel(values[0], channels), rtol=1e-6)
            else:
                for got, want in zip(loaded[name], values):
                    np.testing.assert_array_equal(got, want)


def test_keras_weights_file_of_an_encoder_model_loads(tmp_path):
    reference = _randomize(build_encoder_model("vanilla", 32, 32), seed=1)
    path = tmp_path / "vanilla.weights.h5"
    reference.save_weights(path)
    encoder = build_encoder_model("vanilla", 64, 64, channels=4, weights=path)
    ref_kernels = [w for w in reference.get_weights()]
    got = encoder.get_weights()
    np.testing.assert_allclose(got[0], adapt_first_kernel(ref_kernels[0], 4), rtol=1e-6)
    for a, b in zip(got[1:], ref_kernels[1:]):
        np.testing.assert_array_equal(a, b)


def test_model_constructors_take_a_weights_file(tmp_path):
    reference = _randomize(build_encoder_model("mobilenet", 64, 64))
    path = save_legacy_h5(reference, tmp_path / "mobilenet.h5")
    model = unet.mobilenet_unet(3, 64, 64, channels=1, encoder_weights=path)
    np.testing.assert_array_equal(
        model.get_layer("conv_pw_5").get_weights()[0], reference.get_layer("conv_pw_5").get_weights()[0]
    )
    modern = build_model("unet", "mobilenet", 3, 64, 64, channels=4, encoder_weights=path)
    np.testing.assert_allclose(
        modern.get_layer("conv1").get_weights()[0],
        adapt_first_kernel(reference.get_layer("conv1").get_weights()[0], 4),
        rtol=1e-6,
    )


def test_imagenet_weights_come_through_keras_applications(tmp_path, fake_download):
    # stand-in for mobilenet_v3_small_..._no_top.h5: a random MobileNetV3Small saved the way Keras ships it
    reference = _randomize(
        keras.applications.MobileNetV3Small(
            include_top=False, weights=None, input_shape=(224, 224, 3), include_preprocessing=False
        )
    )
    fake_download(save_legacy_h5(reference, tmp_path / "mobilenet_v3_small.h5"))
    model = build_model("unet", "mobilenetv3small", 3, 64, 64, channels=4, encoder_weights="imagenet")
    expected = _weighted(reference)
    checked = 0
    for layer in model.layers:
        if layer.name in expected and layer.weights:
            values = layer.get_weights()
            if layer.name == "conv":  # the stem convolution: adapted to 4 channels
                np.testing.assert_allclose(values[0], adapt_first_kernel(expected["conv"][0], 4), rtol=1e-6)
            else:
                for got, want in zip(values, expected[layer.name]):
                    np.testing.assert_array_equal(got, want)
            checked += 1
    assert checked == len(expected)


def test_legacy_resnet50_maps_keras_names(tmp_path, fake_download):
    reference = _randomize(keras.applications.ResNet50(include_top=False, weights=None, input_shape=(64, 64, 3)))
    fake_download(save_legacy_h5(reference, tmp_path / "resnet50.h5"))
    encoder = build_encoder_model("resnet50", 64, 64, weights="imagenet")
    for layer in encoder.layers:
        if layer.weights:
            source = reference.get_layer(resnet50_keras_name(layer.name))
            for got, want in zip(layer.get_weights(), source.get_weights()):
                np.testing.assert_array_equal(got, want)


@pytest.mark.slow
def test_efficientnet_imagenet_graph_is_reproduced(tmp_path, fake_download):
    # keras' ImageNet EfficientNet adds a Rescaling(1/sqrt(std)) after its Normalization; the encoder folds it in
    reference = keras.applications.EfficientNetB0(include_top=False, weights=None, input_shape=(64, 64, 3))
    for layer in reference.layers:
        if isinstance(layer, keras.layers.Normalization):
            layer.set_weights(
                [
                    np.array([0.485, 0.456, 0.406], "float32"),
                    np.array([0.229, 0.224, 0.225], "float32") ** 2,
                    layer.get_weights()[2],
                ]
            )
    fake_download(save_legacy_h5(reference, tmp_path / "efficientnetb0.h5"))
    keras_model = keras.applications.EfficientNetB0(include_top=False, weights="imagenet", input_shape=(64, 64, 3))
    encoder = build_encoder_model("efficientnetb0", 64, 64, weights="imagenet")
    x = np.random.default_rng(0).random((1, 64, 64, 3)).astype("float32") * 255
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(encoder(x)["P5"]), keras.ops.convert_to_numpy(keras_model(x)), rtol=1e-4, atol=1e-6
    )
    # the folded statistics survive saving
    model = build_model("unet", "efficientnetb0", 2, 64, 64, encoder_weights="imagenet")
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x)), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------- errors


def test_offline_download_raises_weights_error_naming_the_url(monkeypatch):
    from keras.src.utils import file_utils

    url = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/weights_mobilenet_v3_small.h5"

    def offline(*args, **kwargs):
        raise Exception(f"URL fetch failure on {url}: None -- [Errno -2] Name or service not known")

    monkeypatch.setattr(file_utils, "get_file", offline)
    with pytest.raises(WeightsError) as info:
        build_model("unet", "mobilenetv3small", 3, 64, 64, encoder_weights="imagenet")
    message = str(info.value)
    assert url in message
    assert "pass encoder_weights=None to train from scratch or a local file path" in message
    assert "\n" not in message


def test_missing_or_mismatched_weights_file(tmp_path):
    with pytest.raises(WeightsError, match="does not exist"):
        build_encoder_model("mobilenet", 64, 64, weights=tmp_path / "nope.h5")
    other = save_legacy_h5(build_encoder_model("vanilla", 64, 64), tmp_path / "vanilla.h5")
    with pytest.raises(WeightsError, match="no match"):
        build_encoder_model("mobilenet", 64, 64, weights=other)
    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(b"not an hdf5 file")
    with pytest.raises(WeightsError):
        build_encoder_model("mobilenet", 64, 64, weights=garbage)


def test_imagenet_for_an_encoder_without_pretrained_weights():
    with pytest.raises(ModelConfigError, match="has no ImageNet weights"):
        build_model("unet", "vanilla", 3, 64, 64, encoder_weights="imagenet")


def test_default_weights_follow_the_environment_variable(monkeypatch):
    spec = get_encoder("vgg16")
    monkeypatch.setenv(ENV_VAR, "none")
    assert resolve_encoder_weights(DEFAULT_ENCODER_WEIGHTS, spec) is None
    monkeypatch.delenv(ENV_VAR)
    assert resolve_encoder_weights(DEFAULT_ENCODER_WEIGHTS, spec) == "imagenet"
    assert resolve_encoder_weights(DEFAULT_ENCODER_WEIGHTS, get_encoder("vanilla")) is None
    assert resolve_encoder_weights("imagenet", spec) == "imagenet"  # explicit choice ignores the variable
    assert resolve_encoder_weights(None, spec) is None
    assert repr(DEFAULT_ENCODER_WEIGHTS) == "'imagenet'"


def test_read_legacy_h5_rejects_other_files(tmp_path):
    path = tmp_path / "k3.weights.h5"
    build_encoder_model("vanilla", 32, 32).save_weights(path)
    assert read_legacy_h5(str(path)) is None


# ------------------------------------------------------------- PSPNet releases


def test_release_loader_downloads_or_reads_a_local_file(tmp_path, monkeypatch):
    from keras_segmentation import pretrained
    from keras_segmentation.models import unet as unet_module

    # a tiny stand-in release: unet_mini with 4 classes
    source = unet_module.unet_mini(4, 32, 32)
    _randomize(source)
    path = save_legacy_h5(source, tmp_path / "tiny_release.h5")
    monkeypatch.setitem(
        pretrained.PSPNET_RELEASES, "tiny", ("unet_mini", 4, (32, 32), "https://example.invalid/tiny.h5", "tiny.h5")
    )

    model = pretrained.load_release("tiny", path)
    for layer, ref in zip(model.layers, source.layers):
        for got, want in zip(layer.get_weights(), ref.get_weights()):
            np.testing.assert_array_equal(got, want)

    def offline(fname, origin, *args, **kwargs):
        raise Exception(f"URL fetch failure on {origin}: offline")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    with pytest.raises(WeightsError, match="https://example.invalid/tiny.h5"):
        pretrained.load_release("tiny")
    with pytest.raises(WeightsError, match="does not exist"):
        pretrained.load_release("tiny", tmp_path / "missing.h5")


def test_release_table_keeps_the_original_urls():
    from keras_segmentation import pretrained

    assert pretrained.PSPNET_RELEASES["pspnet_50_ADE_20K"][3] == "https://www.dropbox.com/s/0uxn14y26jcui4v/pspnet50_ade20k.h5?dl=1"
    assert pretrained.PSPNET_RELEASES["pspnet_101_cityscapes"][:3] == ("pspnet_101", 19, (713, 713))
    assert pretrained.PSPNET_RELEASES["pspnet_101_voc12"][:3] == ("pspnet_101", 21, (473, 473))


@pytest.mark.slow
def test_pspnet_50_release_file_loads_by_caffe_layer_names(tmp_path):
    from keras_segmentation import pretrained
    from keras_segmentation.models import pspnet

    source = pspnet.pspnet_50(150, 64, 64)
    rng = np.random.default_rng(0)
    for name in ("conv1_1_3x3_s2", "conv5_3_pool6_conv", "conv5_4", "conv6"):
        layer = source.get_layer(name)
        layer.set_weights([rng.standard_normal(w.shape).astype(w.dtype) for w in layer.get_weights()])
    path = save_legacy_h5(source, tmp_path / "pspnet50_ade20k.h5")
    with h5py.File(path) as handle:
        names = [n.decode() if isinstance(n, bytes) else n for n in handle.attrs["layer_names"]]
    assert {"conv1_1_3x3_s2", "conv1_1_3x3_s2_bn", "conv5_3_pool1_conv_bn", "conv5_4", "conv6"} <= set(names)
    model = pretrained.pspnet_50_ADE_20K(path, input_height=96, input_width=96)
    assert model.output_shape == (None, 96, 96, 150)
    for name in ("conv1_1_3x3_s2", "conv5_3_pool6_conv", "conv5_4", "conv6"):
        for got, want in zip(model.get_layer(name).get_weights(), source.get_layer(name).get_weights()):
            np.testing.assert_array_equal(got, want)
