"""An ``ignore_index`` that is one of the model's classes (CamVid's void) is never scored, end to end.

The hand-computed case used throughout: 3 classes, ``ignore_index=2``, six pixels

    truth      [0, 0, 1, 1, 2, 2]
    prediction [0, 0, 1, 2, 2, 2]

The two void pixels of the truth are left out; the class-1 pixel predicted as void
is a miss of class 1. So IoU = [1, 1/2, nan] (class 0: 2/2; class 1: 1/(2+1-1)),
Dice = [1, 2/3, nan], class accuracy = [1, 1/2, nan]; mIoU 0.75 (not 0.5, the mean
with void's IoU 0), mean Dice 5/6, pixel accuracy 3/4, fwIoU 1/2*1 + 1/2*1/2 = 0.75.
"""

import json
import pathlib
import sys

import cv2
import keras
import numpy as np
import pytest

from keras_segmentation.checkpoints.config import write_config
from keras_segmentation.checkpoints.weights import save_checkpoint
from keras_segmentation.models.segmentation_model import SegmentationModel
from keras_segmentation.predict import evaluate

TRUTH = np.array([[0, 0, 1], [1, 2, 2]], np.uint8)
PREDICTION = np.array([[0, 0, 1], [2, 2, 2]], np.uint8)
#: RGB colour the model below maps to each class: class k = full intensity on RGB channel k.
RGB = np.eye(3, dtype=np.uint8) * 255


def colour_model():
    """A 2x3 model predicting class k where RGB channel k is the brightest (a fixed 1x1 convolution)."""
    x = keras.Input((2, 3, 3))
    conv = keras.layers.Conv2D(3, 1, use_bias=False)
    y = keras.layers.Softmax()(conv(x))
    model = SegmentationModel(x, y, model_name="", normalization="divide")
    conv.set_weights([20.0 * np.eye(3, dtype=np.float32).reshape(1, 1, 3, 3)])
    return model


def write_files(root):
    """``images/a.png`` drawing :data:`PREDICTION` in the model's colours and ``masks/a.png`` = :data:`TRUTH`."""
    images, masks = root / "images", root / "masks"
    images.mkdir(parents=True)
    masks.mkdir(parents=True)
    cv2.imwrite(str(images / "a.png"), RGB[PREDICTION][:, :, ::-1])  # OpenCV writes BGR
    cv2.imwrite(str(masks / "a.png"), TRUTH)
    return images, masks


def assert_hand_computed(scores):
    np.testing.assert_allclose(scores["class_wise_IU"], [1.0, 0.5, np.nan])
    np.testing.assert_allclose(scores["class_wise_dice"], [1.0, 2 / 3, np.nan])
    np.testing.assert_allclose(scores["class_wise_accuracy"], [1.0, 0.5, np.nan])
    assert scores["mean_IU"] == pytest.approx(0.75)
    assert scores["mean_dice"] == pytest.approx(5 / 6)
    assert scores["pixel_accuracy"] == pytest.approx(0.75)
    assert scores["mean_class_accuracy"] == pytest.approx(0.75)
    assert scores["frequency_weighted_IU"] == pytest.approx(0.75)
    assert scores["ignored_classes"] == [2] and scores["present_classes"] == [0, 1]
    assert scores["n_pixels"] == 4


def test_the_model_predicts_what_the_image_draws(tmp_path):
    images, _ = write_files(tmp_path)
    image = cv2.imread(str(images / "a.png"))[:, :, ::-1].astype(np.float32) / 255.0
    np.testing.assert_array_equal(colour_model().predict(image[None], verbose=0)[0].argmax(-1), PREDICTION)


def test_evaluate_leaves_the_ignored_class_out_of_the_scores(tmp_path):
    images, masks = write_files(tmp_path)
    model = colour_model()
    scores = evaluate(model, inp_images_dir=str(images), annotations_dir=str(masks), ignore_index=2, progress=False)
    np.testing.assert_array_equal(scores["confusion_matrix"], [[2, 0, 0], [0, 1, 1], [0, 0, 0]])
    assert_hand_computed(scores)
    # Without ignore_index class 2 is an ordinary class: IoU [1, 1/2, 2/3].
    plain = evaluate(model, inp_images_dir=str(images), annotations_dir=str(masks), progress=False)
    assert plain["mean_IU"] == pytest.approx((1 + 0.5 + 2 / 3) / 3) and plain["ignored_classes"] == []


def test_evaluate_model_cli_prints_and_writes_the_scores_without_the_ignored_class(tmp_path, run_cli):
    images, masks = write_files(tmp_path)
    model = colour_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.optimizer.build(model.trainable_variables)
    prefix = tmp_path / "ckpt" / "colours"
    write_config(prefix, model, ignore_index=2)  # evaluate_model reads ignore_index from the config
    save_checkpoint(model, prefix, 1)
    report = tmp_path / "scores.json"
    code, out, err = run_cli("evaluate_model", "--checkpoints_path", prefix, "--images_path", images,
                             "--segs_path", masks, "--class_names", "sky,road,void", "--json", report)
    assert code == 0, err
    lines = out.splitlines()
    assert "| sky            | 100.00 | 100.00 | 100.00 |  50.00 |" in lines
    assert "| road           |  50.00 |  50.00 |  66.67 |  50.00 |" in lines
    assert "| void (ignored) |      - |      - |      - |      - |" in lines
    assert "mIoU: 75.00 over 2 of 3 classes (ignored, not scored: void)" in lines
    assert "pixel accuracy: 75.00" in lines and "mean Dice: 83.33" in lines and "fwIoU: 75.00" in lines
    scores = json.loads(report.read_text())
    assert scores["mean_IU"] == pytest.approx(0.75) and scores["mean_dice"] == pytest.approx(5 / 6)
    assert scores["class_wise_IU"] == [1.0, 0.5, None]  # NaN -> null
    assert scores["pixel_accuracy"] == pytest.approx(0.75)
    assert scores["ignored_classes"] == [2] and scores["present_classes"] == [0, 1]
    assert scores["confusion_matrix"] == [[2, 0, 0], [0, 1, 1], [0, 0, 0]]


def test_camvid_example_reports_the_library_means_over_the_11_classes():
    """``mIoU (11 classes)`` keeps its meaning: the mean over classes 0..10 of the library's per-class IoU."""
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "examples"))
    import camvid

    from keras_segmentation.metrics import ConfusionMatrix

    rng = np.random.default_rng(0)
    gt = rng.integers(0, 12, (4, 30, 40))
    gt[gt == 3] = 4  # class 3 absent from the truth ...
    pr = rng.integers(0, 12, gt.shape)  # ... but predicted; void (11) predicted on labelled pixels
    names = [f"c{c}" for c in range(11)] + ["void"]
    scores = ConfusionMatrix(12, ignore_index=camvid.VOID).update(gt, pr).scores(class_names=names)
    summary = camvid.scores_summary(scores, names)
    iou = np.asarray(scores["class_wise_IU"])
    acc = np.asarray(scores["class_wise_accuracy"])
    assert summary["mIoU_11"] == pytest.approx(np.nanmean(iou[:11]))  # the example's former work-around
    assert summary["mean_class_accuracy_11"] == pytest.approx(np.nanmean(acc[:11]))
    assert list(summary["class_IoU"]) == names[:11]
    assert summary["void_predicted_pixels"] == int(((pr == 11) & (gt != 11)).sum()) > 0
    # Each class-k pixel predicted as void is a miss of k: class 0's IoU by hand.
    keep = gt != 11
    tp = ((gt == 0) & (pr == 0) & keep).sum()
    assert summary["class_IoU"]["c0"] == pytest.approx(tp / (((gt == 0) | (pr == 0)) & keep).sum())
