"""Knowledge distillation (``keras_segmentation.distillation``, the original ``model_compression``).

The comparison runs on the demo dataset (64x64, seed 0): a ``unet_mini`` teacher trained on 8
labelled images; a small student (16-32 filters, output at half resolution) distilled on the
96 training images without their masks beats the same student, from the same initial weights,
trained on the 8 labelled images for the same 240 steps. Measured over seeds 0-5 in
``docs/distillation.md`` (smallest margin +0.035 mIoU); the test asks for +0.02.
"""

import os
import shutil

import keras
import numpy as np
import pytest

from keras_segmentation.checkpoints.config import read_config
from keras_segmentation.checkpoints.history import read_history
from keras_segmentation.checkpoints.load import load_model_from_checkpoint
from keras_segmentation.checkpoints.names import final_model_path, list_checkpoints
from keras_segmentation.data.demo import make_demo_dataset
from keras_segmentation.distillation import Distiller, distill
from keras_segmentation.errors import SegmentationError
from keras_segmentation.evaluation.evaluate import evaluate
from keras_segmentation.models.segmentation_model import SegmentationModel
from keras_segmentation.models.unet import unet_mini
from keras_segmentation.training import train

SEED, SIZE, N_LABELLED, STEPS = 0, 64, 8, 240


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo dataset and a folder pair holding its first ``N_LABELLED`` training images with masks."""
    root = tmp_path_factory.mktemp("distillation")
    data = make_demo_dataset(root / "demo", n_train=96, n_test=24, height=SIZE, width=SIZE, seed=SEED)
    labelled = {"images": root / "labelled_images", "masks": root / "labelled_masks"}
    for folder, source in ((labelled["images"], data.train_images), (labelled["masks"], data.train_annotations)):
        folder.mkdir()
        for name in sorted(os.listdir(source))[:N_LABELLED]:
            shutil.copy(os.path.join(source, name), folder)
    return data, labelled


@pytest.fixture(scope="module")
def teacher(demo):
    data, labelled = demo
    keras.utils.set_random_seed(SEED)
    model = unet_mini(data.n_classes, SIZE, SIZE)
    train(model, labelled["images"], labelled["masks"], epochs=1, batch_size=4, steps_per_epoch=150, seed=SEED,
          verbose=0)
    return model


def student(n_classes=5, width=16):
    """A small CNN whose output is at half the input resolution (the teacher's is full size)."""
    x = keras.Input((SIZE, SIZE, 3))
    y = keras.layers.Conv2D(width, 3, padding="same", activation="relu")(x)
    y = keras.layers.MaxPooling2D()(y)
    y = keras.layers.Conv2D(2 * width, 3, padding="same", activation="relu")(y)
    y = keras.layers.Conv2D(2 * width, 3, padding="same", activation="relu", name="seg_feats")(y)
    y = keras.layers.Conv2D(n_classes, 1, activation="softmax")(y)
    return SegmentationModel(x, y, model_name="tiny_student")


def mean_iou(model, data):
    return evaluate(model, inp_images_dir=data.test_images, annotations_dir=data.test_annotations)["mean_IU"]


@pytest.mark.slow  # > 20 s: in CI's slow stage, keeping make test under 12 minutes
def test_distilled_student_beats_the_same_student_trained_on_labels(demo, teacher):
    data, labelled = demo
    keras.utils.set_random_seed(SEED)
    alone, distilled = student(), student()
    distilled.set_weights(alone.get_weights())
    options = dict(epochs=1, batch_size=4, steps_per_epoch=STEPS, seed=SEED, learning_rate=3e-3, verbose=0)
    train(alone, labelled["images"], labelled["masks"], **options)
    history = distill(teacher, distilled, data.train_images, temperature=2.0, **options)
    scores = {"teacher": mean_iou(teacher, data), "alone": mean_iou(alone, data), "distilled": mean_iou(distilled, data)}
    print("mIoU", {k: round(v, 3) for k, v in scores.items()})
    assert scores["distilled"] > scores["alone"] + 0.02, scores
    assert history.history["agreement"][-1] > 0.8
    assert teacher.trainable, "the teacher is frozen only while distilling"


def test_checkpoints_are_train_checkpoints_and_resume_continues(demo, teacher, tmp_path):
    data, _ = demo
    keras.utils.set_random_seed(SEED)
    whole, resumed = student(), student()
    resumed.set_weights(whole.get_weights())
    teacher_weights = [w.copy() for w in teacher.get_weights()]
    options = dict(batch_size=4, steps_per_epoch=3, seed=SEED, verbose=0, temperature=2.0)
    distill(teacher, whole, data.train_images, epochs=3, checkpoints_path=tmp_path / "whole" / "run", **options)

    prefix = tmp_path / "resumed" / "run"
    distill(teacher, resumed, data.train_images, epochs=1, checkpoints_path=prefix, **options)  # "interrupted"
    history = distill(teacher, resumed, data.train_images, epochs=3, checkpoints_path=prefix,
                      auto_resume_checkpoint=True, **options)
    assert history.epoch == [1, 2], "the resumed run starts at the second epoch"
    for a, b in zip(whole.get_weights(), resumed.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    for a, b in zip(teacher_weights, teacher.get_weights()):
        np.testing.assert_array_equal(a, b)

    assert [epoch for epoch, _ in list_checkpoints(prefix)] == [1, 2, 3]
    assert [e["epoch"] for e in read_history(prefix)] == [1, 2, 3]
    assert read_config(prefix)["seed"] == SEED
    reloaded = load_model_from_checkpoint(prefix)
    for a, b in zip(resumed.get_weights(), reloaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert os.path.isfile(final_model_path(prefix))


def test_original_perform_distilation_with_feature_loss(demo, teacher, tmp_path):
    from keras_segmentation.model_compression import perform_distilation

    data, _ = demo
    model = student()
    before = [w.copy() for w in model.get_weights()]
    perform_distilation(teacher, model, data.test_images, distilation_loss="l2", batch_size=4,
                        checkpoints_path=str(tmp_path / "student"), epochs=1, steps_per_epoch=2,
                        feats_distilation_loss="pa", feats_distilation_loss_w=0.5)
    history = read_history(tmp_path / "student")
    assert history[0]["feature_loss"] > 0 and history[0]["distillation_loss"] > 0
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_masks_mix_in_the_labels_and_the_original_distiller_takes_teacher_sized_images(demo, teacher):
    data, labelled = demo
    history = distill(teacher, student(), labelled["images"], masks_path=labelled["masks"], alpha=0.5, epochs=1,
                      batch_size=4, steps_per_epoch=2, seed=SEED, verbose=0)
    assert {"label_loss", "distillation_loss", "mean_iou", "accuracy"} <= set(history.history)

    distiller = Distiller(student(), teacher, "kl")
    try:
        assert not teacher.trainable, "the Distiller freezes its teacher"
        distiller.compile(optimizer="adam")
        images = np.random.default_rng(0).random((4, SIZE, SIZE, 3), np.float32)
        logs = distiller.fit(images, batch_size=2, epochs=1, verbose=0).history
    finally:
        teacher.trainable = True
    assert np.isfinite(logs["loss"][0]) and logs["agreement"][0] >= 0


BAD_ARGUMENTS = {
    "unknown loss": (lambda teacher, tmp: dict(loss="hinge"), "loss='hinge'"),
    "temperature": (lambda teacher, tmp: dict(temperature=0), "temperature=0"),
    "alpha": (lambda teacher, tmp: dict(alpha=1.5), "alpha=1.5"),
    "kl on features": (lambda teacher, tmp: dict(features="seg_feats", feature_loss="kl"), "not probabilities"),
    "missing layer": (lambda teacher, tmp: dict(features="no_such_layer"), "no layer 'no_such_layer'"),
    "three layers": (lambda teacher, tmp: dict(features=("a", "b", "c")), "features="),
    "batch size": (lambda teacher, tmp: dict(batch_size=0), "batch_size=0"),
    "no optimizer": (lambda teacher, tmp: dict(optimizer_name=None), "optimizer_name=None"),
    "student by name": (lambda teacher, tmp: dict(student="unet"), "student must be a keras_segmentation model"),
    "other classes": (lambda teacher, tmp: dict(student=student(n_classes=3)), "3 classes"),
    "student is teacher": (lambda teacher, tmp: dict(student=teacher), "same model"),
    "no folder": (lambda teacher, tmp: dict(images_path=tmp / "missing"), "missing: folder not found"),
}


@pytest.mark.parametrize("case", sorted(BAD_ARGUMENTS))
def test_bad_arguments_give_one_line_errors(demo, teacher, case, tmp_path):
    change, message = BAD_ARGUMENTS[case]
    arguments = dict(teacher=teacher, student=student(), images_path=demo[0].train_images, epochs=1, verbose=0)
    arguments.update(change(teacher, tmp_path))
    with pytest.raises(SegmentationError, match=message) as raised:
        distill(**arguments)
    assert "\n" not in str(raised.value)
    assert teacher.trainable, "a failed call leaves the teacher as it was"
