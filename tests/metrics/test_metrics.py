"""Confusion-matrix metrics: hand-computed cases, scikit-learn cross-check, the Keras metric."""

import numpy as np
import pytest
from sklearn import metrics as skm

from keras_segmentation.errors import MaskValueError, ModelConfigError, SegmentationError
from keras_segmentation.evaluation import format_scores
from keras_segmentation.metrics import (
    ConfusionMatrix,
    confusion_matrix,
    get_iou,
    iou_metric,
    segmentation_scores,
)

# gt / pr on 8 pixels, 4 classes: class 2 is only predicted, class 3 is absent, 255 ignored.
GT = np.array([[0, 0, 0, 1], [1, 1, 255, 255]], dtype=np.uint8)
PR = np.array([[0, 0, 1, 1], [1, 2, 3, 0]], dtype=np.uint8)


def test_confusion_matrix_by_hand():
    cm = confusion_matrix(GT, PR, 4, ignore_index=255)
    expected = np.zeros((4, 4), np.int64)
    expected[0, 0], expected[0, 1], expected[1, 1], expected[1, 2] = 2, 1, 2, 1
    np.testing.assert_array_equal(cm, expected)
    assert cm.dtype == np.int64


def test_ignored_pixels_are_not_counted_whatever_the_prediction():
    other = PR.copy()
    other[GT == 255] = 2
    np.testing.assert_array_equal(confusion_matrix(GT, PR, 4, 255), confusion_matrix(GT, other, 4, 255))


def test_ignore_index_inside_the_classes_empties_its_row():
    cm = confusion_matrix(np.array([0, 1, 2, 2]), np.array([0, 2, 2, 0]), 3, ignore_index=2)
    np.testing.assert_array_equal(cm, [[1, 0, 0], [0, 0, 1], [0, 0, 0]])


def test_out_of_range_ground_truth_raises_instead_of_counting_as_class_0():
    with pytest.raises(MaskValueError, match=r"\[255\] outside \[0, 4\)"):
        confusion_matrix(GT, PR, 4)
    with pytest.raises(MaskValueError, match="prediction"):
        confusion_matrix(np.array([0, 1]), np.array([0, 5]), 4)
    with pytest.raises(MaskValueError, match="shape"):
        confusion_matrix(np.zeros((2, 3), int), np.zeros((3, 2), int), 4)


def test_probabilities_are_argmaxed_and_float_labels_accepted():
    probs = np.eye(4, dtype=np.float32)[PR]  # (2, 4, 4)
    expected = confusion_matrix(GT, PR, 4, ignore_index=255)
    np.testing.assert_array_equal(confusion_matrix(GT.astype(np.float32), probs, 4, ignore_index=255), expected)
    with pytest.raises(MaskValueError, match="integer class ids"):
        confusion_matrix(np.array([0.5]), np.array([0]), 2)


def test_scores_by_hand_with_absent_class():
    s = segmentation_scores(confusion_matrix(GT, PR, 4, ignore_index=255))
    # IoU: class 0 = 2 / (3 + 2 - 2), class 1 = 2 / (3 + 3 - 2), class 2 = 0 / (0 + 1), class 3 absent.
    np.testing.assert_allclose(s["class_wise_IU"], [2 / 3, 0.5, 0.0, np.nan])
    assert s["mean_IU"] == pytest.approx((2 / 3 + 0.5 + 0.0) / 3)  # the original divided by 4
    assert s["present_classes"] == [0, 1, 2] and s["absent_classes"] == [3]
    assert s["frequency_weighted_IU"] == pytest.approx(0.5 * 2 / 3 + 0.5 * 0.5)
    assert s["pixel_accuracy"] == pytest.approx(4 / 6)
    # class 2 is not in the ground truth: no accuracy, left out of the mean.
    np.testing.assert_allclose(s["class_wise_accuracy"], [2 / 3, 2 / 3, np.nan, np.nan])
    assert s["mean_class_accuracy"] == pytest.approx(2 / 3)
    np.testing.assert_allclose(s["class_wise_dice"], [0.8, 4 / 6, 0.0, np.nan])
    assert s["mean_dice"] == pytest.approx((0.8 + 4 / 6) / 3)
    np.testing.assert_allclose(s["class_wise_frequency"], [0.5, 0.5, 0, 0])
    assert s["n_pixels"] == 6


def test_scores_of_an_empty_matrix_are_nan():
    s = segmentation_scores(np.zeros((3, 3), int))
    assert np.isnan(s["mean_IU"]) and np.isnan(s["pixel_accuracy"]) and np.isnan(s["frequency_weighted_IU"])
    assert s["absent_classes"] == [0, 1, 2]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_against_scikit_learn_on_random_label_maps(seed):
    rng = np.random.default_rng(seed)
    n = 6
    gt = rng.integers(0, n - 1, size=(3, 17, 13))  # class 5 never in gt
    pr = rng.integers(0, n - 2, size=gt.shape)  # ... nor predicted (absent); class 4 only in gt
    gt[rng.random(gt.shape) < 0.1] = 255
    keep = gt != 255
    y, p = gt[keep], pr[keep]
    labels = list(range(n))

    cm = confusion_matrix(gt, pr, n, ignore_index=255)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y, p, labels=labels))

    s = segmentation_scores(cm)
    present = [0, 1, 2, 3, 4]
    np.testing.assert_allclose(s["class_wise_IU"][present], skm.jaccard_score(y, p, labels=present, average=None))
    assert np.isnan(s["class_wise_IU"][5]) and s["absent_classes"] == [5]
    assert s["mean_IU"] == pytest.approx(skm.jaccard_score(y, p, labels=present, average="macro"))
    assert s["pixel_accuracy"] == pytest.approx(skm.accuracy_score(y, p))
    np.testing.assert_allclose(s["class_wise_dice"][present], skm.f1_score(y, p, labels=present, average=None))
    assert s["mean_class_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, p))
    assert s["frequency_weighted_IU"] == pytest.approx(skm.jaccard_score(y, p, labels=present, average="weighted"))


def test_accumulator_equals_one_shot_and_merges():
    rng = np.random.default_rng(3)
    gts, prs = rng.integers(0, 4, (6, 5, 7)), rng.integers(0, 4, (6, 5, 7))
    first, second = ConfusionMatrix(4), ConfusionMatrix(4)
    for g, p in zip(gts[:3], prs[:3]):
        first.update(g, p)
    second.update(gts[3:], prs[3:])
    np.testing.assert_array_equal(first.merge(second).matrix, confusion_matrix(gts, prs, 4))
    assert first.scores()["n_pixels"] == gts.size
    with pytest.raises(ModelConfigError, match="cannot add 5-class counts to a 4-class ConfusionMatrix"):
        first.merge(ConfusionMatrix(5))
    with pytest.raises(ModelConfigError, match="ignore_index=255"):
        first.merge(ConfusionMatrix(4, ignore_index=255))
    first.reset()
    assert first.matrix.sum() == 0


def test_format_scores_table():
    s = ConfusionMatrix(4, ignore_index=255).update(GT, PR).scores(class_names=["sky", "road", "car", "bicyclist"])
    text = format_scores(s)
    lines = text.splitlines()
    assert lines[0].split("|")[1:6] == [" class     ", "    IoU ", "    Acc ", "   Dice ", "  Share "]
    assert lines[2] == "| sky       |  66.67 |  66.67 |  80.00 |  50.00 |"
    assert lines[5] == "| bicyclist |      - |      - |      - |   0.00 |"
    assert "mIoU: 38.89 over 3 of 4 classes (absent: bicyclist)" in text
    assert "pixel accuracy: 66.67" in text and "mean class accuracy: 66.67" in text and "fwIoU: 58.33" in text


def test_get_iou_keeps_the_original_name():
    np.testing.assert_allclose(get_iou(np.array([0, 0, 1]), np.array([0, 1, 1]), 3), [0.5, 0.5, np.nan])


@pytest.mark.parametrize("ignore_index", [None, 3, 255])
def test_keras_iou_metric_matches_numpy_scores(ignore_index):
    rng = np.random.default_rng(4)
    gt = rng.integers(0, 3, (2, 5, 6)).astype(np.int32)  # class 3 (of 5) only as ignore label, class 4 absent
    gt[0, 0, :4] = 3
    if ignore_index == 255:
        gt[1, 1, :3] = 255
    probs = rng.random((2, 5, 6, 5)).astype(np.float32)
    probs[..., 4] = 0.0
    metric = iou_metric(5, ignore_index=ignore_index)
    metric.update_state(gt, probs)
    cm = confusion_matrix(gt, probs, 5, ignore_index=ignore_index)
    expected = segmentation_scores(cm, ignore_index=ignore_index)["mean_IU"]
    assert float(metric.result()) == pytest.approx(expected, abs=1e-6)
    if ignore_index == 3:  # class 3 is predicted, yet never averaged
        assert cm[:, 3].sum() > 0 and expected != pytest.approx(segmentation_scores(cm)["mean_IU"])


def test_keras_iou_metric_during_evaluate_matches_numpy():
    import keras

    from keras_segmentation.losses import CrossEntropyLoss

    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, 4, 4, 2)).astype(np.float32)
    y = rng.integers(0, 3, (4, 4, 4)).astype(np.int32)
    y[:, 0, 0] = 255
    inputs = keras.Input((4, 4, 2))
    model = keras.Model(inputs, keras.layers.Conv2D(4, 1, activation="softmax")(inputs))
    model.compile(loss=CrossEntropyLoss(ignore_index=255), metrics=[iou_metric(4, ignore_index=255)])
    result = model.evaluate(x, y, batch_size=2, verbose=0, return_dict=True)
    expected = segmentation_scores(confusion_matrix(y, model.predict(x, verbose=0), 4, ignore_index=255))["mean_IU"]
    assert result["mean_iou"] == pytest.approx(expected, abs=1e-6)


# ------------------------------------------- ignore_index that is a class id (CamVid's void)
# 3 classes, ignore_index=2: the truth's two 2-pixels are left out, the 1-pixel predicted as 2 is a miss
# of class 1. IoU [2/2, 1/(2+1-1), nan] -> mIoU 0.75 (0.5 if the ignored class counted with IoU 0);
# Dice [1, 2/3, nan] -> 5/6; class accuracy [1, 1/2, nan] -> 0.75; pixel accuracy 3/4; fwIoU 0.75.
VOID_GT = np.array([0, 0, 1, 1, 2, 2])
VOID_PR = np.array([0, 0, 1, 2, 2, 2])


def test_ignored_class_id_is_not_scored_by_hand():
    s = ConfusionMatrix(3, ignore_index=2).update(VOID_GT, VOID_PR).scores()
    np.testing.assert_array_equal(s["confusion_matrix"], [[2, 0, 0], [0, 1, 1], [0, 0, 0]])
    assert len(s["class_wise_IU"]) == 3
    np.testing.assert_allclose(s["class_wise_IU"], [1.0, 0.5, np.nan])
    assert s["mean_IU"] == pytest.approx(0.75)
    np.testing.assert_allclose(s["class_wise_dice"], [1.0, 2 / 3, np.nan])
    assert s["mean_dice"] == pytest.approx(5 / 6)
    np.testing.assert_allclose(s["class_wise_accuracy"], [1.0, 0.5, np.nan])
    assert s["mean_class_accuracy"] == pytest.approx(0.75)
    assert s["pixel_accuracy"] == pytest.approx(3 / 4)
    assert s["frequency_weighted_IU"] == pytest.approx(0.5 * 1.0 + 0.5 * 0.5)
    np.testing.assert_allclose(s["class_wise_frequency"], [0.5, 0.5, 0.0])
    assert s["present_classes"] == [0, 1] and s["absent_classes"] == [] and s["ignored_classes"] == [2]
    assert s["n_pixels"] == 4


def test_segmentation_scores_ignores_the_row_and_scores_the_column_as_misses():
    full = confusion_matrix(VOID_GT, VOID_PR, 3)  # counted without ignore_index: row 2 = [0, 0, 2]
    s = segmentation_scores(full, ignore_index=2)
    assert s["mean_IU"] == pytest.approx(0.75) and s["pixel_accuracy"] == pytest.approx(0.75)
    np.testing.assert_array_equal(s["confusion_matrix"], [[2, 0, 0], [0, 1, 1], [0, 0, 0]])
    assert full[2, 2] == 2, "the caller's matrix is left as it was"
    # An ignore_index outside [0, n) (or None) changes nothing.
    for other in (None, 255, -1):
        plain = segmentation_scores(full, ignore_index=other)
        assert plain["mean_IU"] == pytest.approx((1 + 0.5 + 2 / 3) / 3) and plain["ignored_classes"] == []


def test_ignored_class_that_is_never_predicted_is_still_not_absent():
    s = ConfusionMatrix(3, ignore_index=2).update(np.array([0, 1, 2]), np.array([0, 1, 1])).scores()
    assert s["absent_classes"] == [] and s["ignored_classes"] == [2]
    assert s["mean_IU"] == pytest.approx(1.0)


def test_format_scores_shows_the_ignored_class_as_not_scored():
    s = ConfusionMatrix(3, ignore_index=2).update(VOID_GT, VOID_PR).scores(class_names=["sky", "road", "void"])
    lines = format_scores(s).splitlines()
    assert lines[:5] == [
        "| class          |    IoU |    Acc |   Dice |  Share |",
        "|----------------|--------|--------|--------|--------|",
        "| sky            | 100.00 | 100.00 | 100.00 |  50.00 |",
        "| road           |  50.00 |  50.00 |  66.67 |  50.00 |",
        "| void (ignored) |      - |      - |      - |      - |",
    ]
    assert lines[5:] == [
        "mIoU: 75.00 over 2 of 3 classes (ignored, not scored: void)",
        "fwIoU: 75.00",
        "pixel accuracy: 75.00",
        "mean class accuracy: 75.00",
        "mean Dice: 83.33",
        "pixels: 4",
    ]
    # Scores saved before ``ignored_classes`` existed still format.
    old = {k: v for k, v in s.items() if k != "ignored_classes"}
    assert "void (ignored)" not in format_scores(old)


def test_format_scores_lists_absent_and_ignored_classes():
    # 5 classes, ignore_index=3 (never seen), class 4 absent, class 2 an ordinary class: IoU [1, 1/2, 2/3].
    s = ConfusionMatrix(5, ignore_index=3).update(VOID_GT, VOID_PR).scores()
    assert s["absent_classes"] == [4] and s["ignored_classes"] == [3]
    assert "mIoU: 72.22 over 3 of 5 classes (absent: 4; ignored, not scored: 3)" in format_scores(s).splitlines()


def test_keras_iou_metric_with_an_ignored_class_id_by_hand():
    probs = np.eye(3, dtype=np.float32)[VOID_PR][None]  # (1, 6, 3)
    metric = iou_metric(3, ignore_index=2)
    metric.update_state(VOID_GT[None].astype(np.int32), probs)
    assert float(metric.result()) == pytest.approx(0.75, abs=1e-6)  # MeanIoU(ignore_class=2) gave 0.5
    # The metric survives serialisation (a built-in Keras class: no custom_objects needed).
    import keras

    revived = keras.metrics.deserialize(keras.metrics.serialize(metric))
    revived.update_state(VOID_GT[None].astype(np.int32), probs)
    assert float(revived.result()) == pytest.approx(0.75, abs=1e-6) and revived.name == "mean_iou"


def test_keras_iou_metric_with_ignore_index_outside_the_classes():
    gt = np.array([[0, 0, 1, 1, 255, 255]], np.int32)
    probs = np.eye(3, dtype=np.float32)[[0, 0, 1, 2, 2, 1]][None]
    metric = iou_metric(3, ignore_index=255)
    metric.update_state(gt, probs)
    # 255 pixels left out; class 2 predicted once on a class-1 pixel: IoU [1, 1/2, 0] -> 0.5.
    assert float(metric.result()) == pytest.approx(0.5, abs=1e-6)
    expected = ConfusionMatrix(3, ignore_index=255).update(gt, probs).scores()["mean_IU"]
    assert expected == pytest.approx(0.5)


def test_keras_iou_metric_during_evaluate_with_an_ignored_class_id():
    import keras

    from keras_segmentation.losses import CrossEntropyLoss

    rng = np.random.default_rng(6)
    x = rng.normal(size=(4, 4, 4, 2)).astype(np.float32)
    y = rng.integers(0, 4, (4, 4, 4)).astype(np.int32)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4, 4, 2))
    model = keras.Model(inputs, keras.layers.Conv2D(4, 1, activation="softmax")(inputs))
    model.compile(loss=CrossEntropyLoss(ignore_index=3), metrics=[iou_metric(4, ignore_index=3)])
    result = model.evaluate(x, y, batch_size=2, verbose=0, return_dict=True)
    cm = confusion_matrix(y, model.predict(x, verbose=0), 4, ignore_index=3)
    assert cm[:, 3].sum() > 0, "class 3 must be predicted for this test to mean something"
    expected = segmentation_scores(cm, ignore_index=3)["mean_IU"]
    assert result["mean_iou"] == pytest.approx(expected, abs=1e-6)


# ------------------------------------------------------------------ argument errors
@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: ConfusionMatrix(0), "n_classes=0: must be a positive integer"),
        (lambda: confusion_matrix([0], [0], "3"), "n_classes='3'"),
        (lambda: segmentation_scores(np.zeros((2, 3))), "cm: a confusion matrix must be square"),
        (lambda: segmentation_scores(np.zeros((2, 2)), class_names=["a"]), "class_names has 1 names for 2 classes"),
        (lambda: format_scores(segmentation_scores(np.eye(2)), ["a", "b", "c"]), "class_names has 3 names"),
        (lambda: iou_metric(1, ignore_index=0), "leaves none of the 1 class(es) to score"),
        (lambda: iou_metric(3, ignore_index="void"), "ignore_index='void'"),
    ],
)
def test_argument_errors_are_one_line_segmentation_errors(call, words):
    with pytest.raises(SegmentationError) as info:
        call()
    assert isinstance(info.value, ModelConfigError) and words in str(info.value)
    assert "\n" not in str(info.value)
