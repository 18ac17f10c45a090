"""``fit(start_from=RUN)``: a finished run continued on grown data (as ``convert`` writes it): its weights loaded,
its validation images held out again, new images trained, its decisions kept, the errors before any work, resuming
the continued run and the ``--start_from`` flag."""

import contextlib
import io
import pathlib
import shutil

import cv2
import numpy as np
import pytest
from test_fit_run import load_json, write_dataset

from keras_segmentation.autofit import fit
from keras_segmentation.autofit.start_from import Previous, continued_split, validation_folders
from keras_segmentation.checkpoints.load import load_model
from keras_segmentation.data.class_names import save_class_names
from keras_segmentation.errors import ChannelMismatchError, MaskValueError, ModelConfigError, SegmentationError

pytestmark = pytest.mark.slow  # two fits in module fixtures: the slow suite keeps make test under 12 minutes

OLD = [f"a_{i}" for i in range(4)] + [f"b_{i}" for i in range(4)] + [f"c_{i}" for i in range(2)]
NEW = ["a_9", "d_0", "d_1"]  # labelled since; c_1 (validation of the old run) was dropped
GROWN = [name for name in OLD if name != "c_1"] + NEW
NAMES = ["background", "box", "disc"]


@pytest.fixture(autouse=True)
def _no_imagenet_cache(tmp_path, monkeypatch):
    """No ImageNet MobileNetV2 in the Keras cache: the first run is planned the same on any machine."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))


def convert_layout(root, names, **kwargs):
    """A folder as ``convert`` writes it: ``images/``, ``annotations/`` and ``classes.txt``; returns the folder."""
    images, masks = write_dataset(root, names=names, n=len(names), size=(32, 48), void_border=1, **kwargs)
    masks.rename(pathlib.Path(root) / "annotations")
    save_class_names(pathlib.Path(root) / "classes.txt", NAMES)
    return pathlib.Path(root)


@pytest.fixture(scope="module")
def previous(tmp_path_factory):
    """A finished run: ``unet_mini`` for 3 epochs of 4 batches on the 10 ``OLD`` pairs (``c_*`` held out for the first 2)."""
    root = tmp_path_factory.mktemp("previous")
    images, masks = write_dataset(root / "data", names=OLD, n=len(OLD), size=(32, 48), void_border=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERAS_HOME", str(root / "keras_home"))
        fit(images, masks, epochs=3, out=root / "run", verbose=False, settings=["architecture=unet_mini", "batch_size=2"])
    return root / "run"


@pytest.fixture(scope="module")
def continued(previous, tmp_path_factory):
    """``(run folder, data folder, summary, printed)``: ``previous`` continued 1 epoch on ``GROWN`` in ``convert``'s
    layout, at a learning rate too small to move the weights."""
    root = tmp_path_factory.mktemp("continued")
    data = convert_layout(root / "data", GROWN)
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.setenv("KERAS_HOME", str(root / "keras_home"))
        summary = fit(data=data, epochs=1, out=root / "run", start_from=previous, settings=["learning_rate=1e-9"])
    return root / "run", data, summary, printed.getvalue()


def trainable(model):
    return [np.asarray(w) for w in model.trainable_weights]


def test_the_continued_run_starts_from_the_previous_weights(previous, continued):
    run, data, summary, _ = continued
    before, after = load_model(previous / "model.keras"), load_model(run / "model.keras")
    # its model trained on its validation images in its last epoch (rejoin), and they are held out again here:
    # the new run starts from its best validated epoch
    assert load_json(previous / "summary.json")["epochs_on_every_image"] == 1
    before.load_weights(str(previous / "best.weights.h5"))
    assert len(trainable(before)) == len(trainable(after))
    for old, new in zip(trainable(before), trainable(after)):
        np.testing.assert_allclose(new, old, atol=1e-5)  # one epoch at 1e-9 moves nothing
    image = cv2.imread(str(data / "images" / "c_0.png")).astype("float32")[None, :, :, :] / 255.0
    image = cv2.resize(image[0], (64, 64))[None]
    np.testing.assert_allclose(after.predict(image, verbose=0), before.predict(image, verbose=0), atol=1e-5)
    # so the model started from, as it predicts (with or without flip TTA), scores as the new one on the same image
    # (up to a few pixels: bfloat16 inference on several threads may break a near tie either way)
    same_tta = summary["flip_tta"]["flip" if load_json(previous / "predict.json")["flip_tta"] else "plain"]
    assert summary["start_from"]["val_mIoU"] == pytest.approx(same_tta, abs=0.02)
    assert summary["start_from"]["run_folder"] == str(previous.resolve())
    assert summary["start_from"]["its_val_mIoU"] == load_json(previous / "summary.json")["val_mIoU"]
    assert f"started from {previous.resolve()}" in summary["line"] and load_json(run / "summary.json") == summary


def test_a_fresh_run_does_not_start_from_the_previous_weights(previous, tmp_path):
    data = convert_layout(tmp_path / "data", GROWN)
    fit(data=data, epochs=1, out=tmp_path / "run", verbose=False, settings=["learning_rate=1e-9", "architecture=unet_mini"])
    before, fresh = load_model(previous / "model.keras"), load_model(tmp_path / "run" / "model.keras")
    assert max(float(np.abs(new - old).max()) for old, new in zip(trainable(before), trainable(fresh))) > 1e-3


def test_the_old_validation_images_stay_held_out_and_new_ones_train(previous, continued):
    run, _, _, printed = continued
    split = load_json(run / "split.json")
    assert split["val"] == ["c_0.png"]  # c_1 is no longer in the data
    assert sorted(split["train"]) == sorted(f"{name}.png" for name in GROWN if name != "c_0")
    assert split["start_from"] == {"run": str(previous.resolve()), "new": 3, "val_kept": 1, "val_gone": 1}
    assert sorted(p.stem for p in (run / "data" / "val" / "images").iterdir()) == ["c_0"]
    assert f"start_from {previous.resolve()}: 3 of the 12 images are new since it (they train)" in printed
    assert "held out again, 1 no longer in the data" in printed


def test_the_plan_keeps_what_the_weights_need_and_plans_the_rest_again(previous, continued):
    run, _, _, _ = continued
    plan, old = load_json(run / "plan.json"), load_json(previous / "plan.json")
    for name in ("architecture", "input", "mode", "void"):
        assert plan[name]["value"] == old[name]["value"] and plan[name]["why"].startswith("from start_from"), name
    assert plan["architecture"]["value"] == "unet_mini" and not plan["architecture"]["why"].startswith("set by you")
    assert plan["encoder_weights"]["value"] is None
    assert plan["learning_rate"]["value"] == 1e-9 and "0.0005" in plan["learning_rate"]["why"]
    assert not plan["loss"]["why"].startswith("from start_from")


def test_the_request_records_start_from_and_the_classes_come_from_classes_txt(previous, continued):
    run, data, _, _ = continued
    request = load_json(run / "run.json")["request"]
    assert request["start_from"] == str(previous.resolve())
    assert request["images"] == str((data / "images").resolve()) and request["masks"] == str((data / "annotations").resolve())
    assert load_model(run / "model.keras").class_names == NAMES


def test_an_unfinished_continued_run_resumes_with_the_same_start_from(previous, continued, tmp_path):
    run, data, _, _ = continued
    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    for name in ("summary.json", "model.keras"):  # stopped after its last epoch, before the end
        (copy / name).unlink()
    other = tmp_path / "other"
    shutil.copytree(previous, other)
    with pytest.raises(ModelConfigError, match="holds an unfinished run with start_from=") as raised:
        fit(data=data, epochs=1, out=copy, verbose=False, start_from=other, settings=["learning_rate=1e-9"])
    assert "\n" not in str(raised.value)
    summary = fit(data=data, epochs=1, out=copy, verbose=False, start_from=previous, settings=["learning_rate=1e-9"])
    assert summary["epochs"] == 1 and summary["start_from"]["run_folder"] == str(previous.resolve())
    assert (copy / "model.keras").is_file()


# ------------------------------------------------------------------ errors before any work
def _unfinished(tmp_path, previous):
    shutil.copytree(previous, tmp_path / "unfinished")
    (tmp_path / "unfinished" / "summary.json").unlink()
    return dict(start_from=tmp_path / "unfinished")


def _a_fourth_class(tmp_path, previous):
    mask = cv2.imread(str(tmp_path / "data" / "annotations" / "d_0.png"), cv2.IMREAD_UNCHANGED)
    mask[5:9, 5:9] = 3
    cv2.imwrite(str(tmp_path / "data" / "annotations" / "d_0.png"), mask)
    return {}


def _a_fourth_class_name(tmp_path, previous):
    save_class_names(tmp_path / "data" / "classes.txt", NAMES + ["cable"])
    return {}


def _old_validation_gone(tmp_path, previous):
    for folder in ("images", "annotations"):
        (tmp_path / "data" / folder / "c_0.png").unlink()
    return {}


ERROR_CASES = [
    ("no such folder", lambda t, p: dict(start_from=t / "nowhere"), ModelConfigError, "folder not found"),
    ("unfinished run", _unfinished, ModelConfigError, "not a finished fit run folder (no summary.json)"),
    ("out is start_from", lambda t, p: dict(out=p), ModelConfigError, "is start_from"),
    ("a decision the weights need", lambda t, p: dict(settings=["input=128x128"]), ModelConfigError, "--set input"),
    ("encoder weights", lambda t, p: dict(encoder_weights=__file__), ModelConfigError, "not used with start_from"),
    ("a class id the model lacks", _a_fourth_class, MaskValueError, "d_0.png"),
    ("a class name the model lacks", _a_fourth_class_name, ModelConfigError, "class 3 ('cable') is new"),
    ("old validation images gone", _old_validation_gone, ModelConfigError, "none of its 2 validation images"),
]


@pytest.mark.parametrize("make, error, words", [case[1:] for case in ERROR_CASES], ids=[case[0] for case in ERROR_CASES])
def test_bad_starts_are_one_line_errors_before_any_work(previous, tmp_path, make, error, words):
    data = convert_layout(tmp_path / "data", GROWN)
    kwargs = dict(dict(data=data, epochs=1, out=tmp_path / "out", start_from=previous), **make(tmp_path, previous))
    with pytest.raises(error) as raised:
        fit(verbose=False, **kwargs)
    assert isinstance(raised.value, SegmentationError)
    assert words in str(raised.value) and "\n" not in str(raised.value)
    if (tmp_path / "out").is_dir():
        assert not {"plan.json", "checkpoints", "model.keras"} & {p.name for p in (tmp_path / "out").iterdir()}
    assert (previous / "summary.json").is_file()


def test_other_channels_are_a_one_line_error(previous, tmp_path):
    data = convert_layout(tmp_path / "data", GROWN, channels=1)
    with pytest.raises(ChannelMismatchError, match="1-channel but the model of start_from") as raised:
        fit(data=data, epochs=1, out=tmp_path / "out", start_from=previous, verbose=False)
    assert "\n" not in str(raised.value) and not (tmp_path / "out" / "plan.json").exists()


def test_the_mask_error_names_the_mask_and_the_classes(previous, tmp_path):
    data = convert_layout(tmp_path / "data", GROWN)
    _a_fourth_class(tmp_path, previous)
    with pytest.raises(MaskValueError) as raised:
        fit(data=data, epochs=1, out=tmp_path / "out", start_from=previous, verbose=False)
    assert "predicts classes 0-2" in str(raised.value) and "values [3]" in str(raised.value)


# ------------------------------------------------------------------ the split and the validation folders, by hand
def _previous(train, val, request=None):
    return Previous(folder="runs/fit", plan={}, split={"train": train, "val": val}, request=request or {},
                    summary={}, n_outputs=3, class_names=[], channels=3)


def _pairs(names):
    return [(f"i/{name}", f"m/{name}") for name in names]


def test_continued_split_keeps_the_old_validation_names():
    split = continued_split(_pairs(["a.png", "v.png", "n.png", "w.png"]), None,
                            _previous(["a.png", "gone.png"], ["v.png", "w.png", "x.png"]), "i")
    assert split["val"] == ["v.png", "w.png"] and split["train"] == ["a.png", "n.png"]
    assert split["start_from"] == {"run": "runs/fit", "new": 1, "val_kept": 2, "val_gone": 1}
    assert split["how"] == "the 2 validation images of runs/fit held out again, 1 no longer in the data"


def test_continued_split_with_a_validation_set_trains_every_image():
    split = continued_split(_pairs(["a.png", "v.png", "n.png"]), _pairs(["q.png"]), _previous(["a.png"], ["v.png"]), "i")
    assert split["train"] == ["a.png", "v.png", "n.png"] and split["val"] == []
    assert split["start_from"] == {"run": "runs/fit", "new": 1}


def test_the_validation_folders_of_the_previous_run_are_used_again(tmp_path):
    (tmp_path / "vi").mkdir()
    (tmp_path / "vm").mkdir()
    own = _previous([], [], {"val_images": str(tmp_path / "vi"), "val_masks": str(tmp_path / "vm")})
    assert validation_folders(own, None, None) == (str(tmp_path / "vi"), str(tmp_path / "vm"))
    assert validation_folders(own, "mine/i", "mine/m") == ("mine/i", "mine/m")
    assert validation_folders(_previous(["a.png"], ["v.png"]), None, None) == (None, None)
    (tmp_path / "vm").rmdir()
    with pytest.raises(ModelConfigError, match="vm, which is gone; give val_images and val_masks"):
        validation_folders(own, None, None)


# ------------------------------------------------------------------ the command line
def test_the_start_from_flag_reaches_fit(run_cli, previous, tmp_path):
    data = convert_layout(tmp_path / "data", GROWN)
    code, _, err = run_cli("fit", "--data", data, "--epochs", "1", "--out", tmp_path / "out",
                           "--start_from", tmp_path / "nowhere")
    assert code == 2 and f"start_from={str(tmp_path / 'nowhere')!r}: folder not found" in err
    code, _, err = run_cli("fit", "--data", data, "--epochs", "1", "--out", previous, "--start_from", previous)
    assert code == 2 and "is start_from: a continued run writes a new run folder" in err
