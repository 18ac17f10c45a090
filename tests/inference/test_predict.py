"""Prediction and evaluation: full resolution, batching, outputs on disk, bad inputs, metrics."""

import os
import subprocess
import sys

import cv2
import keras
import numpy as np
import pytest

from keras_segmentation.errors import ModelConfigError, OutputWriteError
from keras_segmentation.inference.upscale import upscale_probabilities
from keras_segmentation.models.segmentation_model import SegmentationModel
from keras_segmentation.predict import evaluate, predict, predict_multiple


def half_res_net(n_classes=3, channels=3, seed=0):
    """Input 32x48, output 16x24 (like the original's 1/2-resolution UNet/SegNet)."""
    keras.utils.set_random_seed(seed)
    x = keras.Input((32, 48, channels))
    h = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
    y = keras.layers.Softmax()(keras.layers.Conv2D(n_classes, 1)(h))
    return SegmentationModel(x, y, model_name="", normalization="divide")


def write_image(path, height=40, width=60, seed=0, channels=3):
    rng = np.random.default_rng(seed)
    shape = (height, width, channels) if channels > 1 else (height, width)
    cv2.imwrite(str(path), rng.integers(0, 255, shape, dtype=np.uint8))
    return path


def test_labels_come_back_at_the_image_resolution(tmp_path):
    model = half_res_net()
    path = write_image(tmp_path / "a.png", 40, 60)
    labels, probs = predict(model, inp=str(path), return_probabilities=True, precision="float32")
    assert labels.shape == (40, 60) and probs.shape == (40, 60, 3)
    # The same computation by hand: network at 32x48, probabilities resized bilinearly, then argmax.
    image = cv2.imread(str(path))
    x = cv2.resize(image, (48, 32)).astype(np.float32)[:, :, ::-1] / 255.0
    out = model.predict(x[None], verbose=0)[0]
    expected = cv2.resize(out, (60, 40), interpolation=cv2.INTER_LINEAR).argmax(-1)
    np.testing.assert_array_equal(labels, expected)


def test_flip_tta_averages_the_image_and_its_mirror(tmp_path):
    model = half_res_net()
    path = write_image(tmp_path / "a.png", 32, 48)
    image = cv2.imread(str(path))
    x = image.astype(np.float32)[None, :, :, ::-1] / 255.0
    out, mirrored = model.predict(x, verbose=0)[0], model.predict(x[:, :, ::-1], verbose=0)[0, :, ::-1]
    expected = cv2.resize((out + mirrored) / 2, (48, 32), interpolation=cv2.INTER_LINEAR)
    _, probs = predict(model, inp=str(path), return_probabilities=True, flip_tta=True, precision="float32")
    np.testing.assert_allclose(probs, expected, atol=1e-6)
    _, plain = predict(model, inp=str(path), return_probabilities=True, precision="float32")
    assert np.abs(plain - expected).max() > 1e-3, "this random net is not mirror-symmetric: TTA must change it"
    # Batched prediction gives the same labels as one image at a time.
    paths = [str(path), str(write_image(tmp_path / "b.png", 40, 60, seed=1))]
    batched = predict_multiple(model, inps=paths, batch_size=2, progress=False, flip_tta=True)
    for p, labels in zip(paths, batched):
        np.testing.assert_array_equal(labels, predict(model, inp=p, flip_tta=True))


def test_upscale_handles_hundreds_of_classes():
    probs = np.random.default_rng(0).random((4, 5, 600)).astype(np.float32)
    up = upscale_probabilities(probs, (8, 10))
    assert up.shape == (8, 10, 600)
    np.testing.assert_allclose(up[..., 599], cv2.resize(probs[..., 599], (10, 8)), rtol=1e-6)


def test_predict_accepts_a_bgr_array_and_a_grayscale_model_accepts_2d_images(tmp_path):
    model = half_res_net()
    image = np.random.default_rng(1).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    assert predict(model, inp=image).shape == (20, 30)
    gray_model = half_res_net(channels=1)
    assert predict(gray_model, inp=image[:, :, 0]).shape == (20, 30)
    path = write_image(tmp_path / "g.png", channels=1)
    assert predict(gray_model, inp=str(path), read_image_type=0).shape == (40, 60)


def test_predict_writes_a_colour_image_with_legend(tmp_path):
    model = half_res_net()
    path = write_image(tmp_path / "a.png")
    out = tmp_path / "sub" / "out.png"
    predict(model, inp=str(path), out_fname=str(out), show_legends=True, class_names=["a", "b", "c"])
    written = cv2.imread(str(out))
    assert written.shape[0] >= 40 and written.shape[1] > 60, "legend panel added next to the 60 px wide result"


def test_batched_prediction_equals_one_by_one(tmp_path):
    model = half_res_net()
    paths = [str(write_image(tmp_path / f"{i}.png", 30 + i, 50, seed=i)) for i in range(5)]
    batched = predict_multiple(model, inps=paths, batch_size=4, progress=False)
    single = [predict(model, inp=p) for p in paths]
    for a, b in zip(batched, single):
        np.testing.assert_array_equal(a, b)


ONEDNN_CHILD = """
import os, sys
import numpy as np
import keras_segmentation
from keras_segmentation.checkpoints.load import load_model
from keras_segmentation.predict import predict
labels, probs = predict(load_model(sys.argv[1]), inp=sys.argv[2], return_probabilities=True, precision="float32")
np.savez(sys.argv[3], labels=labels, probs=probs, flag=np.array(os.environ.get("TF_ENABLE_ONEDNN_OPTS", "")))
"""


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="oneDNN is a TensorFlow option")
def test_the_onednn_default_keeps_predictions_the_same(tmp_path):
    """Importing the package turns TensorFlow's oneDNN kernels on (unless set); results must not change."""
    model_path = str(tmp_path / "m.keras")
    half_res_net(seed=3).save(model_path)
    image = str(write_image(tmp_path / "a.png", 64, 96, seed=4))
    runs = {}
    for setting in (None, "0"):
        env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
        if setting is not None:
            env["TF_ENABLE_ONEDNN_OPTS"] = setting
        out = str(tmp_path / f"out_{setting}.npz")
        subprocess.run([sys.executable, "-c", ONEDNN_CHILD, model_path, image, out], env=env, check=True,
                       capture_output=True, timeout=300)
        runs[setting] = np.load(out)
    assert str(runs[None]["flag"]) == "1", "the package's default"
    assert str(runs["0"]["flag"]) == "0", "the user's setting wins"
    on, off = runs[None], runs["0"]
    np.testing.assert_allclose(on["probs"], off["probs"], atol=1e-5)
    top2 = np.sort(off["probs"], axis=-1)[..., -2:]
    decided = top2[..., 1] - top2[..., 0] > 1e-4
    assert decided.mean() > 0.99
    np.testing.assert_array_equal(on["labels"][decided], off["labels"][decided])


def test_predict_multiple_reads_every_extension_writes_lossless_png_and_creates_out_dir(tmp_path):
    model = half_res_net()
    inputs = tmp_path / "in"
    inputs.mkdir()
    write_image(inputs / "a.BMP")
    write_image(inputs / "b.PNG", seed=1)
    write_image(inputs / "c.jpg", seed=2)
    (inputs / "notes.txt").write_text("not an image")
    out_dir = tmp_path / "does" / "not" / "exist"
    results = predict_multiple(model, inp_dir=str(inputs), out_dir=str(out_dir), progress=False)
    assert sorted(os.listdir(out_dir)) == ["a.png", "b.png", "c.png"]
    for name, labels in zip(["a", "b", "c"], results):
        np.testing.assert_array_equal(cv2.imread(str(out_dir / f"{name}.png"), cv2.IMREAD_UNCHANGED), labels)


def test_unreadable_inputs_are_skipped_and_listed(tmp_path):
    model = half_res_net()
    good = write_image(tmp_path / "good.png")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.warns(UserWarning, match=r"skipped 2 unreadable.*broken\.png.*empty\.png"):
        results = predict_multiple(model, inps=[str(broken), str(good), str(empty)], out_dir=str(tmp_path / "o"), progress=False)
    assert results[0] is None and results[2] is None and results[1].shape == (40, 60)
    assert os.listdir(tmp_path / "o") == ["good.png"]


def test_predict_multiple_never_overwrites_its_inputs(tmp_path):
    model = half_res_net()
    path = write_image(tmp_path / "a.png")
    before = path.read_bytes()
    with pytest.raises(ModelConfigError, match="overwrite"):
        predict_multiple(model, inp_dir=str(tmp_path), out_dir=str(tmp_path), progress=False)
    assert path.read_bytes() == before


def test_an_output_path_that_is_a_directory_is_named_as_the_cause(tmp_path):
    path = write_image(tmp_path / "a.png")
    (tmp_path / "out.png").mkdir()
    with pytest.raises(OutputWriteError) as err:
        predict(half_res_net(), inp=str(path), out_fname=str(tmp_path / "out.png"))
    assert str(err.value) == (f"{tmp_path / 'out.png'}: cannot write (Is a directory); nothing was replaced, "
                              "move away the directory in its place")


def test_colored_outputs(tmp_path):
    model = half_res_net()
    path = write_image(tmp_path / "a.png")
    predict_multiple(model, inps=[str(path)], out_dir=str(tmp_path / "o"), overlay_img=True, progress=False)
    assert cv2.imread(str(tmp_path / "o" / "a.png"), cv2.IMREAD_UNCHANGED).shape == (40, 60, 3)


def test_evaluate_matches_scikit_learn_on_the_same_predictions(tmp_path, tiny_dataset):
    from sklearn.metrics import confusion_matrix, jaccard_score

    model = half_res_net()
    images, masks = tiny_dataset
    scores = evaluate(model, inp_images_dir=str(images), annotations_dir=str(masks), progress=False)
    names = sorted(os.listdir(images))
    preds = [predict(model, inp=str(images / n)) for n in names]
    truth = [cv2.imread(str(masks / n), cv2.IMREAD_UNCHANGED) for n in names]
    gt, pr = np.concatenate([t.ravel() for t in truth]), np.concatenate([p.ravel() for p in preds])
    np.testing.assert_array_equal(scores["confusion_matrix"], confusion_matrix(gt, pr, labels=[0, 1, 2]))
    present = sorted(set(gt) | set(pr))
    iou = jaccard_score(gt, pr, labels=present, average=None)
    np.testing.assert_allclose(scores["mean_IU"], iou.mean(), rtol=1e-9)
    np.testing.assert_allclose(scores["pixel_accuracy"], (gt == pr).mean(), rtol=1e-9)
    assert {"frequency_weighted_IU", "mean_IU", "class_wise_IU"} <= set(scores)


def test_three_shards_together_write_what_one_run_writes(tmp_path):
    model = half_res_net()
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(7):
        write_image(folder / f"{i:02d}.png", 40, 60, seed=i)
    predict_multiple(model, inp_dir=str(folder), out_dir=str(tmp_path / "one"), progress=False)
    returned = []
    for index in range(3):
        returned += predict_multiple(model, inp_dir=str(folder), out_dir=str(tmp_path / "sharded"), progress=False,
                                     shard=(index, 3))
    one = sorted(os.listdir(tmp_path / "one"))
    assert one == sorted(os.listdir(tmp_path / "sharded")) and len(one) == 7 and len(returned) == 7
    for name in one:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "sharded" / name).read_bytes(), name
    first = predict_multiple(model, inp_dir=str(folder), progress=False, shard=(1, 3))
    assert len(first) == 2  # inputs 01 and 04 (sorted names, every third from index 1)
    np.testing.assert_array_equal(first[1], cv2.imread(str(tmp_path / "one" / "04.png"), cv2.IMREAD_UNCHANGED))


def test_skip_existing_predicts_only_what_is_missing(tmp_path):
    model = half_res_net()
    paths = [str(write_image(tmp_path / f"{name}.png", 40, 60, seed=i)) for i, name in enumerate("abc")]
    out = tmp_path / "out"
    out.mkdir()
    (out / "b.png").write_bytes(b"finished earlier")
    results = predict_multiple(model, inps=paths, out_dir=str(out), progress=False, skip_existing=True)
    assert results[1] is None and results[0].shape == (40, 60) and results[2].shape == (40, 60)
    assert (out / "b.png").read_bytes() == b"finished earlier"
    assert sorted(os.listdir(out)) == ["a.png", "b.png", "c.png"]  # no temporary file left behind
    with pytest.raises(ModelConfigError, match="skip_existing=True needs out_dir"):
        predict_multiple(model, inps=paths, skip_existing=True)
    (out / "c.png").unlink()
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    statuses = predict_multiple(model, inps=[*paths, str(bad)], out_dir=str(out), progress=False,
                                skip_existing=True, keep_labels=False)
    assert statuses == [False, False, True, None]  # kept, kept, written, unreadable
    np.testing.assert_array_equal(cv2.imread(str(out / "c.png"), cv2.IMREAD_UNCHANGED), results[2])


@pytest.mark.parametrize("shard", [(3, 3), (-1, 2), (0, 0), ("a", 2), (1,)])
def test_a_bad_shard_is_a_one_line_error(tmp_path, shard):
    paths = [str(write_image(tmp_path / "a.png"))]
    with pytest.raises(ModelConfigError, match=r"^shard="):
        predict_multiple(half_res_net(), inps=paths, shard=shard)
