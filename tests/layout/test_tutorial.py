"""The seed tutorial's code, verbatim: only paths, n_classes and sizes changed (to the synthetic demo data)."""

import os

import numpy as np
import pytest

from keras_segmentation.data.demo import make_demo_dataset


@pytest.fixture
def dataset_path(tmp_path, monkeypatch):
    demo = make_demo_dataset(tmp_path / "dataset_path", n_train=8, n_test=3, height=64, width=96, seed=0)
    monkeypatch.chdir(tmp_path)
    return demo


def test_seed_tutorial_runs_verbatim(dataset_path):
    n_classes, input_height, input_width = dataset_path.n_classes, 64, 96
    test_image = sorted(os.listdir("dataset_path/images_prepped_test/"))[0]

    # --- "Building the model": the hand-written UNet ---------------------------------------
    from keras.layers import Conv2D, Dropout, Input, MaxPooling2D, UpSampling2D, concatenate

    img_input = Input(shape=(input_height, input_width, 3))

    conv1 = Conv2D(32, (3, 3), activation='relu', padding='same')(img_input)
    conv1 = Dropout(0.2)(conv1)
    conv1 = Conv2D(32, (3, 3), activation='relu', padding='same')(conv1)
    pool1 = MaxPooling2D((2, 2))(conv1)

    conv2 = Conv2D(64, (3, 3), activation='relu', padding='same')(pool1)
    conv2 = Dropout(0.2)(conv2)
    conv2 = Conv2D(64, (3, 3), activation='relu', padding='same')(conv2)
    pool2 = MaxPooling2D((2, 2))(conv2)

    conv3 = Conv2D(128, (3, 3), activation='relu', padding='same')(pool2)
    conv3 = Dropout(0.2)(conv3)
    conv3 = Conv2D(128, (3, 3), activation='relu', padding='same')(conv3)

    up1 = concatenate([UpSampling2D((2, 2))(conv3), conv2], axis=-1)
    conv4 = Conv2D(64, (3, 3), activation='relu', padding='same')(up1)
    conv4 = Dropout(0.2)(conv4)
    conv4 = Conv2D(64, (3, 3), activation='relu', padding='same')(conv4)

    up2 = concatenate([UpSampling2D((2, 2))(conv4), conv1], axis=-1)
    conv5 = Conv2D(32, (3, 3), activation='relu', padding='same')(up2)
    conv5 = Dropout(0.2)(conv5)
    conv5 = Conv2D(32, (3, 3), activation='relu', padding='same')(conv5)

    out = Conv2D( n_classes, (1, 1) , padding='same')(conv5)

    from keras_segmentation.models.model_utils import get_segmentation_model

    model = get_segmentation_model(img_input ,  out ) # this would build the segmentation model

    model.train(
        train_images =  "dataset_path/images_prepped_train/",
        train_annotations = "dataset_path/annotations_prepped_train/",
        checkpoints_path = "checkpoints/custom_unet_1" , epochs=1
    )
    assert model.predict_segmentation(inp="dataset_path/images_prepped_test/" + test_image).shape == (64, 96)

    # --- "Choosing the model": a ready-made one ----------------------------------------------
    from keras_segmentation.models.unet import vgg_unet

    model = vgg_unet(n_classes=n_classes ,  input_height=input_height, input_width=input_width  )

    model.train(
        train_images =  "dataset_path/images_prepped_train/",
        train_annotations = "dataset_path/annotations_prepped_train/",
        checkpoints_path = "checkpoints/vgg_unet_1" , epochs=1
    )

    out = model.predict_segmentation(
        inp="dataset_path/images_prepped_test/" + test_image,
        out_fname="out.png"
    )
    assert out.shape == (64, 96) and os.path.getsize("out.png") > 0

    from keras_segmentation.predict import predict

    predict(
        checkpoints_path="checkpoints/vgg_unet_1",
        inp="dataset_path/images_prepped_test/" + test_image,
        out_fname="output.png"
    )
    assert os.path.getsize("output.png") > 0

    from keras_segmentation.predict import predict_multiple

    predict_multiple(
        checkpoints_path="checkpoints/vgg_unet_1",
        inp_dir="dataset_path/images_prepped_test/",
        out_dir="outputs/"
    )
    assert sorted(os.listdir("outputs")) == sorted(os.listdir("dataset_path/images_prepped_test"))

    # --- The README's evaluation call ----------------------------------------------------------
    scores = model.evaluate_segmentation(
        inp_images_dir="dataset_path/images_prepped_test/",
        annotations_dir="dataset_path/annotations_prepped_test/",
    )
    assert 0.0 <= scores["mean_IU"] <= 1.0 and len(scores["class_wise_IU"]) == n_classes
    assert np.isfinite(scores["frequency_weighted_IU"])
