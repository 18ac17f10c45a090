"""The library's layers (ResizeLike, AdaptiveAveragePooling2D), count_flops, model_utils and the models CLI."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_segmentation.models import count_flops, get_segmentation_model, transfer_weights
from keras_segmentation.models.layers import AdaptiveAveragePooling2D, ResizeLike, resize_images
from keras_segmentation.models.model_utils import resize_image

# ------------------------------------------------------------------ layers


@pytest.mark.parametrize("size", [(20, 13), (3, 4), (7, 9)])
def test_dynamic_bilinear_resize_matches_keras(size):
    x = np.random.default_rng(0).random((2, 7, 9, 3)).astype("float32")
    expected = ops.convert_to_numpy(ops.image.resize(x, size, interpolation="bilinear"))
    # sizes given as tensors take the matrix path used inside graphs with unknown sizes
    got = ops.convert_to_numpy(
        resize_images(ops.convert_to_tensor(x), ops.convert_to_tensor(size[0]), ops.convert_to_tensor(size[1]))
    )
    np.testing.assert_allclose(got, expected, atol=1e-5)
    nearest = ops.convert_to_numpy(ops.image.resize(x, size, interpolation="nearest"))
    got = ops.convert_to_numpy(
        resize_images(ops.convert_to_tensor(x), ops.convert_to_tensor(size[0]), ops.convert_to_tensor(size[1]), "nearest")
    )
    np.testing.assert_allclose(got, nearest, atol=1e-6)
    np.testing.assert_array_equal(ops.convert_to_numpy(resize_images(ops.convert_to_tensor(x), *size, "nearest")), nearest)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="XLA on CPU through TensorFlow")
def test_nearest_resize_trains_under_xla():
    # TensorFlow's nearest resize has no XLA gradient kernel on CPU; train() compiles with XLA there.
    image = keras.Input((16, 16, 3))
    coarse = keras.layers.Conv2D(4, 3, strides=2, padding="same")(image)
    model = keras.Model(image, ResizeLike(interpolation="nearest")([coarse, image]))
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    rng = np.random.default_rng(0)
    loss = model.train_on_batch(rng.random((2, 16, 16, 3), "float32"), rng.random((2, 16, 16, 4), "float32"))
    assert np.isfinite(loss)


def test_resize_like_with_unknown_sizes_trains_and_predicts():
    image = keras.Input((None, None, 3))
    coarse = keras.layers.Conv2D(2, 3, strides=4, padding="same")(image)
    model = keras.Model(image, ResizeLike()([coarse, image]))
    for height, width in ((16, 16), (20, 36), (9, 7)):
        assert model.predict(np.ones((1, height, width, 3), "float32"), verbose=0).shape == (1, height, width, 2)
    model.compile("sgd", "mse")
    model.fit(np.ones((2, 12, 20, 3)), np.ones((2, 12, 20, 2)), verbose=0)


def test_adaptive_pooling_equals_average_pooling_when_bins_divide_the_size():
    x = np.random.default_rng(1).random((2, 12, 18, 4)).astype("float32")
    for bins in (1, 2, 3, 6):
        expected = ops.convert_to_numpy(keras.layers.AveragePooling2D((12 // bins, 18 // bins))(x))
        np.testing.assert_allclose(ops.convert_to_numpy(AdaptiveAveragePooling2D(bins)(x)), expected, rtol=1e-5)
    # uneven sizes: cells overlap like PyTorch's AdaptiveAvgPool2d
    y = ops.convert_to_numpy(AdaptiveAveragePooling2D(3)(x[:, :10, :7]))
    assert y.shape == (2, 3, 3, 4)
    np.testing.assert_allclose(y[:, 0, 0], x[:, 0:4, 0:3].mean(axis=(1, 2)), rtol=1e-5)


def test_layers_serialize(tmp_path):
    image = keras.Input((None, None, 3))
    pooled = AdaptiveAveragePooling2D((2, 3))(image)
    model = keras.Model(image, ResizeLike(interpolation="nearest")([pooled, image]))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(2).random((1, 10, 12, 3)).astype("float32")
    np.testing.assert_allclose(ops.convert_to_numpy(loaded(x)), ops.convert_to_numpy(model(x)), rtol=1e-6)
    assert loaded.layers[1].get_config()["bins"] == [2, 3]


# ------------------------------------------------------------------- flops


def test_count_flops_on_a_hand_computable_model():
    x = keras.Input((8, 8, 3))
    a = keras.layers.Conv2D(4, 3, padding="same")(x)  # 2 * 64 * 4 * 27 = 13824
    b = keras.layers.DepthwiseConv2D(3, padding="same")(a)  # 2 * 64 * 4 * 9 = 4608
    c = keras.layers.SeparableConv2D(6, 3, strides=2, padding="same")(b)  # 2 * 16 * (4*9 + 4*6) = 1920
    d = keras.layers.Conv2DTranspose(2, 2, strides=2)(c)  # 2 * 16 * 6 * 2 * 4 = 1536
    e = keras.layers.Dense(5)(d)  # 2 * 64 * 2 * 5 = 1280
    f = keras.layers.Conv2D(4, 1, groups=2)(a)  # 2 * 64 * 4 * 1 * 4 / 2 = 1024
    nested = keras.Sequential([keras.layers.Conv2D(3, 1)])  # 2 * 64 * 3 * 4 = 1536
    g = nested(f)
    pooled = keras.layers.GlobalAveragePooling2D()(g)
    model = keras.Model(x, [e, keras.layers.Dense(7)(pooled)])  # 2 * 3 * 7 = 42
    assert count_flops(model) == 13824 + 4608 + 1920 + 1536 + 1280 + 1024 + 1536 + 42


def test_count_flops_needs_fixed_sizes():
    from keras_segmentation.errors import ModelConfigError
    from keras_segmentation.models import build_model

    with pytest.raises(ModelConfigError, match="fixed input_height"):
        count_flops(build_model("unet", "vanilla", 2))


def test_count_flops_of_a_legacy_model_scales_with_area():
    from keras_segmentation.models.unet import unet

    small, large = count_flops(unet(3, 64, 64)), count_flops(unet(3, 128, 128))
    assert large == 4 * small
    assert small > 0


# ------------------------------------------------------------- model_utils


def test_tutorial_hand_written_unet_becomes_a_library_model(tmp_path):
    from keras.layers import Conv2D, Dropout, Input, MaxPooling2D, UpSampling2D, concatenate

    from keras_segmentation.models import SegmentationModel

    input_height, input_width, n_classes = 32, 48, 4
    img_input = Input(shape=(input_height, input_width, 3))
    conv1 = Conv2D(8, (3, 3), activation="relu", padding="same")(img_input)
    conv1 = Dropout(0.2)(conv1)
    conv1 = Conv2D(8, (3, 3), activation="relu", padding="same")(conv1)
    pool1 = MaxPooling2D((2, 2))(conv1)
    conv2 = Conv2D(16, (3, 3), activation="relu", padding="same")(pool1)
    pool2 = MaxPooling2D((2, 2))(conv2)
    conv3 = Conv2D(32, (3, 3), activation="relu", padding="same")(pool2)
    up1 = concatenate([UpSampling2D((2, 2))(conv3), conv2], axis=-1)
    conv4 = Conv2D(16, (3, 3), activation="relu", padding="same")(up1)
    up2 = concatenate([UpSampling2D((2, 2))(conv4), conv1], axis=-1)
    conv5 = Conv2D(8, (3, 3), activation="relu", padding="same")(up2)
    out = Conv2D(n_classes, (1, 1), padding="same")(conv5)

    model = get_segmentation_model(img_input, out)
    assert isinstance(model, SegmentationModel)
    assert (model.model_name, model.n_classes, model.output_height, model.output_width) == ("", 4, 32, 48)
    assert model.build_config is None
    y = ops.convert_to_numpy(model(np.zeros((1, 32, 48, 3), "float32")))
    np.testing.assert_allclose(y.sum(-1), 1.0, atol=1e-5)
    model.save(tmp_path / "tutorial.keras")
    assert keras.saving.load_model(tmp_path / "tutorial.keras").n_classes == 4


def test_get_segmentation_model_rejects_flat_outputs():
    from keras_segmentation.errors import ModelConfigError

    image = keras.Input((8, 8, 3))
    with pytest.raises(ModelConfigError, match="4-D"):
        get_segmentation_model(image, keras.layers.Flatten()(image))


def test_transfer_weights_copies_matching_layers(capsys):
    from keras_segmentation.errors import ModelConfigError
    from keras_segmentation.models.unet import unet, unet_mini

    source, target = unet(5, 64, 64), unet(3, 64, 64)
    copied, skipped = transfer_weights(source, target)
    assert "Copied weights of" in capsys.readouterr().out
    assert skipped == 1 and copied > 10
    np.testing.assert_array_equal(target.get_layer("seg_feats").get_weights()[0], source.get_layer("seg_feats").get_weights()[0])
    with pytest.raises(ModelConfigError, match="same number of layers"):
        transfer_weights(source, unet_mini(3, 32, 32), verbose=False)


def test_resize_image_upsamples_bilinearly():
    image = keras.Input((4, 6, 2))
    assert resize_image(image, (2, 3), "channels_last").shape == (None, 8, 18, 2)


def test_original_module_layout_imports():
    from keras_segmentation.models import _pspnet_2, all_models, basic_models, config, mobilenet, resnet50, vgg16  # noqa: F401

    assert config.IMAGE_ORDERING == "channels_last"
    assert callable(basic_models.vanilla_encoder) and callable(vgg16.get_vgg_encoder)
    assert callable(resnet50.get_resnet50_encoder) and callable(mobilenet.get_mobilenet_encoder)
    assert len(all_models.model_from_name) == 22
    img_input, levels = resnet50.get_resnet50_encoder(64, 64, pretrained=None, channels=1)
    assert img_input.shape == (None, 64, 64, 1) and len(levels) == 5


# --------------------------------------------------------------------- CLI


def test_models_cli_without_parameters(capsys):
    from keras_segmentation.cli import main

    assert main(["models", "--no-params"]) == 0
    out = capsys.readouterr().out
    for name in ("vgg_unet", "pspnet_50", "fcn_8_mobilenet", "<encoder>_deeplabv3plus"):
        assert name in out
    assert "416x608" in out and "208x304" in out


def test_models_cli_counts_parameters(capsys):
    from keras_segmentation.cli import main

    assert main(["models", "--names", "unet_mini", "segnet", "--n_classes", "12"]) == 0
    out = capsys.readouterr().out
    assert "471,916" in out  # the original library's unet_mini, 12 classes
    assert "3,703,372" in out  # the original segnet


def test_models_cli_encoders_and_errors(capsys):
    from keras_segmentation.cli import main

    assert main(["models", "--encoders"]) == 0
    out = capsys.readouterr().out
    assert "efficientnetv2b0" in out and "P5:1280/32" in out
    assert main(["models", "--names", "nope", "--no-params"]) == 2
    assert "unknown model name" in capsys.readouterr().err


def test_cli_help_does_not_import_keras():
    import subprocess
    import sys

    code = (
        "import sys; from keras_segmentation.cli import build_parser; build_parser(); "
        "print('keras' in sys.modules, 'tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"
