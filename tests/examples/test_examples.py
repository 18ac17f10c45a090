"""The recipes' equal-compute rule (examples/time_budget.py) and the CamVid example's helpers."""

import math
import pathlib
import sys

import keras
import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "examples"))

import time_budget  # noqa: E402


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class FakeOptimizer:
    def __init__(self):
        self.learning_rate = keras.Variable(0.0)


class FakeModel:
    def __init__(self):
        self.stop_training = False
        self.optimizer = FakeOptimizer()


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(time_budget.time, "perf_counter", fake)
    return fake


def _budget(budget_s, lr=None, **kwargs):
    callback = time_budget.make_time_budget(keras.callbacks.Callback, budget_s, lr=lr, **kwargs)
    callback.set_model(FakeModel())
    callback.on_train_begin()
    return callback


def test_stops_when_the_next_epoch_would_pass_the_budget(clock):
    budget = _budget(100.0)
    for epoch, (duration, expect_stop) in enumerate([(30, False), (30, False), (30, True)]):
        clock.now += duration
        budget.on_epoch_end(epoch, {"loss": 1.0})
        assert budget.model.stop_training is expect_stop, epoch
    summary = budget.summary()
    assert summary["epochs"] == 3 and summary["stopped_by_budget"]
    assert summary["train_seconds"] == pytest.approx(90.0)
    assert [row["epoch_s"] for row in summary["history"]] == [30, 30, 30]


def test_an_epoch_longer_than_the_budget_stops_at_once(clock):
    budget = _budget(100.0)
    clock.now += 120
    budget.on_epoch_end(0)
    assert budget.model.stop_training


def test_cosine_rate_over_the_planned_time(clock):
    budget = _budget(100.0, lr=1e-2, min_lr_ratio=0.1)
    budget.on_train_batch_begin(0)
    assert float(budget.model.optimizer.learning_rate) == pytest.approx(1e-2)
    clock.now += 50  # half of the budget: cosine at its midpoint
    budget.on_train_batch_begin(1)
    assert float(budget.model.optimizer.learning_rate) == pytest.approx(1e-2 * (0.1 + 0.9 * 0.5))
    clock.now += 10
    budget.on_epoch_end(0)  # 60 s epoch: no second one fits, the planned end is now
    budget.on_train_batch_begin(0)
    assert float(budget.model.optimizer.learning_rate) == pytest.approx(1e-3)


def test_without_lr_the_rate_is_left_alone(clock):
    budget = _budget(100.0)
    budget.on_train_batch_begin(0)
    assert float(budget.model.optimizer.learning_rate) == 0.0


def test_history_is_written_after_every_epoch(clock, tmp_path):
    import json

    path = tmp_path / "history.json"
    budget = _budget(100.0, log_path=str(path))
    clock.now += 10
    budget.on_epoch_end(0, {"val_mean_iou": np.float32(0.5)})
    written = json.loads(path.read_text())
    assert written["history"][0]["val_mean_iou"] == pytest.approx(0.5)
    assert not math.isnan(written["train_seconds"])


def test_camvid_figure_images_are_spread_and_stable():
    import camvid

    names = [f"{i:03d}.png" for i in range(101)]
    chosen = camvid.figure_images(names, 4)
    assert chosen == ["012.png", "037.png", "062.png", "087.png"]
    assert camvid.figure_images(names, 0) == []


# ---------------------------------------------------------------- CamVid protocols (examples/camvid.py --protocol)


def _fake_camvid(root, train_names, test_names):
    """Empty files named like CamVid frames: the split only reads names."""
    for folder, names in (("train", train_names), ("test", test_names)):
        for kind in ("images", "annotations"):
            path = root / f"{kind}_prepped_{folder}"
            path.mkdir(parents=True, exist_ok=True)
            for name in names:
                (path / name).write_bytes(b"")
    return root


FAKE_TRAIN = ([f"0001TP_{i:06d}.png" for i in range(3)] + [f"0006R0_f{i:05d}.png" for i in range(4)]
              + [f"0016E5_{i:05d}.png" for i in range(0, 50, 10)])
FAKE_TEST = [f"0016E5_{i:05d}.png" for i in (21, 23)]


def _names(pairs):
    return {pathlib.Path(image).name for image, _ in pairs}


@pytest.fixture
def fake_camvid(tmp_path):
    return _fake_camvid(tmp_path / "camvid", FAKE_TRAIN, FAKE_TEST)


def test_camvid_folder_protocol_is_the_two_folders(fake_camvid):
    import camvid

    train, scored = camvid.camvid_split(str(fake_camvid), "folder")
    assert _names(train) == set(FAKE_TRAIN)
    assert list(scored) == ["test_folder"] and _names(scored["test_folder"]) == set(FAKE_TEST)
    assert all(pathlib.Path(mask).name == pathlib.Path(image).name for image, mask in train)


def test_camvid_heldout_sequence_trains_on_both_folders_without_0001TP(fake_camvid):
    import camvid

    train, scored = camvid.camvid_split(str(fake_camvid), "heldout-sequence")
    assert camvid.sequence_counts(train) == {"0006R0": 4, "0016E5": 7}  # 5 train-folder + 2 test-folder frames
    assert list(scored) == ["heldout_0001TP"]
    assert camvid.sequence_counts(scored["heldout_0001TP"]) == {"0001TP": 3}
    assert not _names(train) & _names(scored["heldout_0001TP"])


def test_camvid_both_keeps_the_test_folder_and_0001TP_out_of_training(fake_camvid):
    import camvid

    train, scored = camvid.camvid_split(str(fake_camvid), "both")
    assert camvid.sequence_counts(train) == {"0006R0": 4, "0016E5": 5}
    assert list(scored) == ["test_folder", "heldout_0001TP"]
    assert _names(scored["test_folder"]) == set(FAKE_TEST)
    assert camvid.sequence_counts(scored["heldout_0001TP"]) == {"0001TP": 3}
    for pairs in scored.values():
        assert not _names(train) & _names(pairs)
    assert all(pathlib.Path(image).parent.name == "images_prepped_train" for image, _ in train)


def test_camvid_split_refuses_what_it_cannot_hold_out(tmp_path, fake_camvid):
    import camvid

    with pytest.raises(ValueError, match="no frame of sequence '0001TP'"):
        camvid.camvid_split(str(_fake_camvid(tmp_path / "a", FAKE_TRAIN[3:], FAKE_TEST)), "both")
    with pytest.raises(ValueError, match="0016E5 has frames in images_prepped_test"):
        camvid.camvid_split(str(fake_camvid), "both", heldout="0016E5")
    with pytest.raises(ValueError, match="also trained on"):  # one frame in both folders
        camvid.camvid_split(str(_fake_camvid(tmp_path / "b", FAKE_TRAIN, FAKE_TEST + FAKE_TRAIN[-1:])), "folder")
    with pytest.raises(ValueError, match="unknown protocol"):
        camvid.camvid_split(str(fake_camvid), "random")


def test_camvid_link_pairs_links_without_copying(tmp_path, fake_camvid):
    import camvid

    from keras_segmentation.data.links import link_pairs

    train, _ = camvid.camvid_split(str(fake_camvid), "heldout-sequence")
    images, annotations = link_pairs(train, str(tmp_path / "work" / "train"), masks="annotations")
    assert pathlib.Path(annotations).name == "annotations"
    linked = sorted(pathlib.Path(images).iterdir())
    assert [p.name for p in linked] == sorted(_names(train))
    assert all(p.is_symlink() for p in linked) and all(p.is_symlink() for p in pathlib.Path(annotations).iterdir())
    assert {str(p.resolve()) for p in linked} == {str(pathlib.Path(image).resolve()) for image, _ in train}
    link_pairs(train[:2], str(tmp_path / "work" / "train"), masks="annotations")  # remade, not added to
    assert len(list(pathlib.Path(images).iterdir())) == 2


@pytest.mark.camvid
def test_camvid_sequences_of_the_real_data(camvid_dir):
    import camvid

    train, scored = camvid.camvid_split(str(camvid_dir), "both")
    assert camvid.sequence_counts(train) == {"0006R0": 101, "0016E5": 204}
    assert {name: len(pairs) for name, pairs in scored.items()} == {"test_folder": 101, "heldout_0001TP": 62}
    assert camvid.sequence_counts(scored["test_folder"]) == {"0016E5": 101}
    train, scored = camvid.camvid_split(str(camvid_dir), "heldout-sequence")
    assert camvid.sequence_counts(train) == {"0006R0": 101, "0016E5": 305}
    assert len(scored["heldout_0001TP"]) == 62


def _result(tag, protocol=None, folder=None, heldout=None):
    """A results JSON of examples/camvid.py, cut down to what the report reads."""
    def summary(miou):
        return {"mIoU_11": miou, "pixel_accuracy": 0.9, "mean_class_accuracy_11": 0.7,
                "class_IoU": {f"c{k}": miou for k in range(11)}, "void_predicted_pixels": 0}

    result = {"tag": tag, "training": {"epochs": 3, "train_seconds": 120.0}, "model": {"name": tag, "input": [192, 256]}}
    if protocol is None:  # a run from before --protocol: the test folder only
        result.update(scores=summary(folder), flip_tta={"scores": summary(folder)})
        return result
    sets = {}
    if folder is not None:
        sets["test_folder"] = {"scores": summary(folder), "flip_tta": {"scores": summary(folder)}}
    if heldout is not None:
        sets["heldout_0001TP"] = {"scores": summary(heldout), "flip_tta": {"scores": summary(heldout)}}
    result.update(sets=sets, scores=next(iter(sets.values()))["scores"],
                  protocol={"name": protocol, "train": {"n_images": 305},
                            "scored": {name: {"n_images": 62 if name.startswith("heldout") else 101} for name in sets}})
    return result


def test_camvid_report_shows_the_heldout_column_where_present():
    import camvid_report

    names = [f"c{k}" for k in range(12)]
    old = camvid_report.run_row("old", _result("old", folder=0.5))
    assert camvid_report.tables([old], names).splitlines()[0].count("mIoU") == 1  # no held-out column
    rows = [old, camvid_report.run_row("both", _result("both", "both", folder=0.6, heldout=0.4)),
            camvid_report.run_row("held", _result("held", "heldout-sequence", heldout=0.3))]
    lines = camvid_report.tables(rows, names).splitlines()
    assert "mIoU (11), 0001TP (62 frames)" in lines[0]
    cells = {line.split(" | ")[0][2:]: line.split(" | ") for line in lines[2:5]}
    assert cells["old"][2] == "folder" and cells["old"][9] == "–"
    assert cells["both"][2] == "both (305)" and cells["both"][5] == "**60.0**" and cells["both"][8] == "**40.0**"
    assert cells["held"][5] == "–" and cells["held"][8] == "**30.0**"
    heldout_table = lines[lines.index("Per-class IoU (%), 0001TP (62 frames):") + 2]
    assert heldout_table == "| class | both | held |"


def test_camvid_report_architecture_table_gives_parameters_throughput_and_both_scores():
    import camvid_report

    result = _result("fpn", "both", folder=0.6, heldout=0.4)
    result["model"]["parameters"] = 3410572
    result["settings"] = {"precision": "auto", "precision_used": "mixed_bfloat16"}
    result["sets"]["test_folder"].update(n_images=101, evaluate_seconds=5.05)
    lines = camvid_report.architecture_table([camvid_report.run_row("ours, fpn", result)]).splitlines()
    assert len(lines) == 3 and "training img/s" in lines[0]
    # 305 images x 3 epochs in 120 s; 101 images scored in 5.05 s
    assert lines[2] == "| ours, fpn | `fpn` | 3,410,572 | mixed_bfloat16 | 3 | 7.62 | 20.0 | 60.0 | 40.0 |"


def test_camvid_train_crop_cuts_native_scale_windows_and_keeps_masks_aligned():
    import argparse

    import camvid

    args = argparse.Namespace(height=24, width=32, train_crop=True, augment="none")
    crop = camvid.training_augmentation(args)
    image = np.arange(60 * 80 * 3, dtype=np.uint32).reshape(60, 80, 3).astype(np.uint8)
    mask = (np.arange(60 * 80).reshape(60, 80) % 11).astype(np.uint8)
    out = crop(image=image, mask=mask)
    assert out["image"].shape == (24, 32, 3) and out["mask"].shape == (24, 32)
    # a window of the original pixels (no resizing): find it and compare the mask at the same place
    rows, cols = np.nonzero((image[:, :, 0] == out["image"][0, 0, 0]) & (image[:, :, 1] == out["image"][0, 0, 1]))
    assert any(np.array_equal(image[r:r + 24, c:c + 32], out["image"]) and np.array_equal(mask[r:r + 24, c:c + 32],
                                                                                            out["mask"])
               for r, c in zip(rows, cols))
    args.augment, args.train_crop = "flip_scale", False
    assert "RandomCrop" not in repr(camvid.training_augmentation(args))
    args.train_crop = True
    assert "RandomCrop" in repr(camvid.training_augmentation(args))
    args.augment, args.train_crop = "none", False
    assert camvid.training_augmentation(args) is None
