"""Bad datasets through the Python API: verify_dataset, visualize_dataset, train, evaluate, predict.

Each case of :data:`badfiles.CASES` must give its specific exception class (a
SegmentationError, never AssertionError or SystemExit) with a one-line message
naming the file; odd but valid files (upper-case extensions, unicode names,
grayscale, 16-bit, large images, stray non-image files) must just work.
"""

import os

import cv2
import numpy as np
import pytest
from badfiles import (
    CASE_NAMES,
    DRAWN_WITH_A_WARNING,
    N_CLASSES,
    good_image,
    good_mask,
    make_case,
    save,
    tiny_model,
)

from keras_segmentation import errors
from keras_segmentation.data.preview import visualize_dataset
from keras_segmentation.data.verify import verify_dataset
from keras_segmentation.predict import evaluate, predict, predict_multiple
from keras_segmentation.train import train


def check_error(info, case, culprit):
    """The exact class, a one-line message naming the culprit and containing the case's words."""
    expected = getattr(errors, case.error)
    assert isinstance(info.value, expected) and isinstance(info.value, errors.SegmentationError)
    message = str(info.value)
    assert "\n" not in message
    assert str(culprit) in message, message
    assert case.words in message, message
    return message


@pytest.mark.parametrize("name", CASE_NAMES)
def test_verify_dataset(name, tmp_path, monkeypatch):
    images, masks, culprit, case = make_case(name, tmp_path, monkeypatch)
    if case.kind is None:  # a folder problem: an error, not a report
        with pytest.raises(errors.SegmentationError) as info:
            verify_dataset(images, masks, N_CLASSES)
        check_error(info, case, culprit)
        return
    report = verify_dataset(images, masks, N_CLASSES)
    assert {p.kind for p in report.problems} == {case.kind}
    assert str(culprit) in report.format(max_problems=None)
    with pytest.raises(errors.SegmentationError) as info:
        report.raise_for_problems()
    assert type(info.value) is getattr(errors, case.error)
    check_error(info, case, culprit)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_train(name, tmp_path, monkeypatch):
    images, masks, culprit, case = make_case(name, tmp_path, monkeypatch)
    with pytest.raises(errors.SegmentationError) as info:
        train(tiny_model(), images, masks, epochs=1, verbose=0, workers=1)
    check_error(info, case, culprit)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_visualize_dataset(name, tmp_path, monkeypatch):
    images, masks, culprit, case = make_case(name, tmp_path, monkeypatch)
    out_dir = tmp_path / "previews"
    if name in DRAWN_WITH_A_WARNING:
        with pytest.warns(UserWarning, match=r"values >= n_classes=3, drawn black") as record:
            paths = visualize_dataset(images, masks, N_CLASSES, out_dir, workers=1)
        assert len(paths) == 2 and str(culprit) in str(record[0].message)
        return
    with pytest.raises(errors.SegmentationError) as info:
        visualize_dataset(images, masks, N_CLASSES, out_dir, workers=1)
    check_error(info, case, culprit)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_evaluate(name, tmp_path, monkeypatch, model):
    images, masks, culprit, case = make_case(name, tmp_path, monkeypatch)
    with pytest.raises(errors.SegmentationError) as info:
        evaluate(model, inp_images_dir=images, annotations_dir=masks, progress=False, workers=1)
    check_error(info, case, culprit)


IMAGE_CASES = ["corrupt_image", "truncated_image", "truncated_jpeg_image", "zero_byte_image", "text_file_named_png",
               "unreadable_image"]


@pytest.mark.parametrize("name", IMAGE_CASES)
def test_predict_refuses_and_predict_multiple_skips_a_bad_image(name, tmp_path, monkeypatch, model):
    images, _, culprit, case = make_case(name, tmp_path, monkeypatch)
    with pytest.raises(errors.ImageReadError) as info:
        predict(model, inp=culprit)
    check_error(info, case, culprit)
    out_dir = tmp_path / "out"
    with pytest.warns(UserWarning, match=r"skipped 1 unreadable input") as record:
        results = predict_multiple(model, inp_dir=images, out_dir=out_dir, progress=False)
    assert str(culprit) in str(record[0].message)
    names = sorted(os.listdir(images))
    assert [r is None for r in results] == [os.path.join(images, n) == culprit for n in names]
    good = [os.path.splitext(n)[0] + ".png" for n in names if os.path.join(images, n) != culprit]
    assert sorted(os.listdir(out_dir)) == good


def test_predict_multiple_on_an_empty_folder_is_an_error_not_zero_results(tmp_path, model):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "readme.txt").write_text("no images here")
    with pytest.raises(errors.PairingError, match=r"inp_dir .*in: no image files .*readme\.txt"):
        predict_multiple(model, inp_dir=tmp_path / "in", out_dir=tmp_path / "out", progress=False)


def test_predict_never_overwrites_its_input(tmp_path, model):
    path = save(tmp_path / "a.png", good_image())
    before = open(path, "rb").read()
    with pytest.raises(errors.ModelConfigError, match=r"a\.png: writing the prediction would overwrite"):
        predict(model, inp=path, out_fname=str(tmp_path / "." / "a.png"))
    assert open(path, "rb").read() == before


def test_rgba_image_for_an_rgb_model_read_unchanged_names_the_file(tmp_path, model):
    path = save(tmp_path / "rgba.png", good_image(channels=4))
    with pytest.raises(errors.ChannelMismatchError, match=r"rgba\.png: image has 4 channel\(s\) but the model expects 3"):
        predict(model, inp=path, read_image_type=-1)
    assert predict(model, inp=path).shape == (32, 32), "the default colour read drops alpha"


def test_colour_images_for_a_grayscale_model_and_grayscale_for_rgb(tmp_path, model):
    gray_model = tiny_model(channels=1)
    colour = save(tmp_path / "c.png", good_image())
    pixels = good_image(channels=1)
    gray = save(tmp_path / "g.png", pixels)
    assert predict(gray_model, inp=colour).shape == (32, 32), "colour files are read as grayscale"
    np.testing.assert_array_equal(predict(gray_model, inp=gray), predict(gray_model, inp=pixels))
    np.testing.assert_array_equal(predict(model, inp=gray), predict(model, inp=np.repeat(pixels[:, :, None], 3, 2)))
    with pytest.raises(errors.ChannelMismatchError, match=r"c\.png: image has 3 channel"):
        predict(gray_model, inp=colour, read_image_type=-1)


def test_16_bit_images_predict_like_their_8_bit_version(tmp_path, model):
    eight = good_image()
    sixteen = save(tmp_path / "deep.png", eight.astype(np.uint16) * 257)  # v * 257: exact on both scales
    expected = predict(model, inp=eight)
    np.testing.assert_array_equal(predict(model, inp=sixteen), expected)
    np.testing.assert_array_equal(predict(model, inp=sixteen, read_image_type=-1), expected)


def test_odd_but_valid_files_train_predict_and_evaluate(tmp_path):
    """Upper-case and unusual extensions, unicode and spaces, grayscale, 16-bit and a large image, with stray files."""
    images, masks = tmp_path / "ïmages with space", tmp_path / "masks ñ"
    names = {
        "Ünïcode näme.PNG": good_image(0),
        "spaced name.Jpg": good_image(1),
        "gray.TIF": good_image(2, channels=1),
        "deep.png": good_image(3, dtype=np.uint16),
        "big.jpeg": cv2.resize(good_image(4), (400, 300)),
    }
    for name, image in names.items():
        save(images / name, image)
        size = image.shape[:2]
        save(masks / (os.path.splitext(name)[0] + (".BMP" if name.startswith("g") else ".png")),
             cv2.resize(good_mask(), size[::-1], interpolation=cv2.INTER_NEAREST))
    (images / "notes.txt").write_text("ignored")
    (images / ".hidden.png").write_text("ignored")
    model = tiny_model(size=None)  # any input size: the large image is read at its own size
    history = train(model, images, masks, epochs=1, batch_size=1, verbose=0, seed=0, workers=1,
                    input_height=None, input_width=None, steps_per_epoch=2)
    assert np.isfinite(history.history["loss"]).all()
    results = predict_multiple(model, inp_dir=images, out_dir=tmp_path / "out", progress=False)
    assert [r.shape for r in results] == [(300, 400), (32, 32), (32, 32), (32, 32), (32, 32)]
    assert sorted(os.listdir(tmp_path / "out")) == sorted(os.path.splitext(n)[0] + ".png" for n in names)
    scores = evaluate(model, inp_images_dir=images, annotations_dir=masks, progress=False)
    assert scores["confusion_matrix"].sum() == 300 * 400 + 4 * 32 * 32


def test_large_images_get_labels_in_bounded_memory(monkeypatch, model):
    """Labels for a photo far larger than the model output: classes are resized a few at a time, same result."""
    import keras_segmentation.inference.upscale as upscale

    big = cv2.resize(good_image(), (1500, 1000))
    assert predict(model, inp=big).shape == (1000, 1500)

    probs = np.random.default_rng(0).random((8, 10, 7)).astype(np.float32)
    full = upscale.upscale_probabilities(probs, (300, 500)).argmax(-1)
    monkeypatch.setattr(upscale, "_LABELS_CHUNK_BYTES", 2 * 4 * 300 * 500)  # 2 classes at a time
    np.testing.assert_array_equal(upscale.upscale_labels(probs, (300, 500)), full)
