"""verify_dataset: one report of every problem, with counts, sizes and modes."""

import logging
import os

import numpy as np
import pytest
from datafiles import save, truncate

from keras_segmentation.data.masks import ColourMap
from keras_segmentation.data.verify import verify_dataset, verify_segmentation_dataset
from keras_segmentation.errors import DataLoaderError, PairingError


def _mask(value=1, shape=(6, 8)):
    mask = np.zeros(shape, np.uint8)
    mask[:2, :3] = value
    return mask


@pytest.fixture
def clean(tmp_path):
    images, masks = tmp_path / "images", tmp_path / "masks"
    for i in range(3):
        save(images / f"{i}.png", np.full((6, 8, 3), 40 * i, np.uint8))
        save(masks / f"{i}.png", _mask(i))
    return str(images), str(masks)


def test_clean_dataset_report(clean):
    report = verify_dataset(*clean, n_classes=3)
    assert report and report.ok and report.problems == [] and report.warnings == []
    assert report.n_pairs == 3
    # mask i has 6 pixels of class i (class 0 elsewhere)
    assert report.class_pixel_counts == {0: 3 * 48 - 12, 1: 6, 2: 6}
    assert report.image_sizes == {(6, 8): 3}
    assert report.image_modes == {"RGB": 3} and report.mask_modes == {"L": 3}
    assert report.image_channels == {3: 3} and report.image_dtypes == {"uint8": 3}
    text = report.format(class_names=["bg", "one", "two"])
    assert "OK: dataset verified (3 pairs" in text and "8x6 (3)" in text
    assert "one" in text and "132" in text


def test_n_classes_none_reports_classes_found(clean):
    report = verify_dataset(*clean)
    assert report and report.classes_found == [0, 1, 2]
    assert "n_classes=3 covers them" in report.format()


def test_every_problem_in_one_report(tmp_path):
    images, masks, depth = tmp_path / "images", tmp_path / "masks", tmp_path / "depth"
    image = np.zeros((6, 8, 3), np.uint8)
    for name in ("ok", "big", "wide", "binary", "colour", "corrupt", "lost", "dup", "cut", "nodepth"):
        save(images / f"{name}.png", image)
    for name in ("ok", "big", "dup", "binary", "colour", "corrupt", "cut"):
        save(depth / f"{name}.png", image[:, :, 0])
    save(depth / "wide.png", np.zeros((6, 9), np.uint8))
    save(masks / "ok.png", _mask(1))
    save(masks / "nodepth.png", _mask(1))
    save(masks / "big.png", _mask(7))
    save(masks / "wide.png", np.zeros((6, 10), np.uint8))
    save(masks / "binary.png", _mask(255))
    colour = np.zeros((6, 8, 3), np.uint8)
    colour[0, 0] = (0, 0, 128)
    save(masks / "colour.png", colour)
    (masks / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    save(masks / "dup.png", _mask(1))
    save(masks / "dup.bmp", _mask(1))
    truncate(save(masks / "cut.png", np.random.default_rng(0).integers(0, 2, (64, 64)).astype(np.uint8)))
    save(masks / "orphan.png", _mask(1))

    report = verify_dataset(images, masks, n_classes=2, other_inputs_paths=[depth])
    assert not report
    found = sorted((os.path.relpath(p.path, tmp_path), p.kind) for p in report.problems)
    assert found == sorted([
        (os.path.join("masks", "big.png"), "mask_values"),
        (os.path.join("masks", "wide.png"), "size_mismatch"),
        (os.path.join("depth", "wide.png"), "size_mismatch"),
        (os.path.join("masks", "binary.png"), "mask_values"),
        (os.path.join("masks", "colour.png"), "colour_mask"),
        (os.path.join("masks", "corrupt.png"), "unreadable"),
        (os.path.join("masks", "cut.png"), "unreadable"),
        (os.path.join("images", "lost.png"), "missing_mask"),
        (os.path.join("masks", "dup.bmp"), "ambiguous_mask"),
        (os.path.join("images", "nodepth.png"), "missing_other_input"),
    ])
    assert [(os.path.basename(p.path), p.kind) for p in report.warnings] == [("orphan.png", "mask_without_image")]
    message = {os.path.relpath(p.path, tmp_path): p.message for p in report.problems}
    assert "values [7] >= n_classes=2 (6 pixels)" in message[os.path.join("masks", "big.png")]
    assert message[os.path.join("masks", "wide.png")] == "mask is 10x6 but its image wide.png is 8x6 (width x height)"
    assert message[os.path.join("depth", "wide.png")] == "extra input is 9x6 but its image wide.png is 8x6"
    text = report.format(max_problems=None)
    assert "FAILED: 10 problem(s) in 7 pairs" in text
    for name in ("big.png", "wide.png", "binary.png", "colour.png", "corrupt.png", "cut.png", "lost.png", "dup.bmp"):
        assert name in text


def test_a_broken_image_link_and_two_images_of_one_name_are_problems(clean, tmp_path):
    images, masks = clean
    link = os.path.join(images, "3.png")
    os.symlink(tmp_path / "moved.png", link)
    save(os.path.join(masks, "3.png"), _mask(1))
    save(os.path.join(images, "0.jpg"), np.zeros((6, 8, 3), np.uint8))
    report = verify_dataset(images, masks, n_classes=3)
    assert [(p.path, p.kind) for p in report.problems] == [
        (os.path.join(images, "0.jpg"), "ambiguous_image"), (link, "unreadable")]
    assert report.problems[1].message == \
        f"broken symbolic link to {tmp_path / 'moved.png'} (no such file); fix or remove the link"
    assert report.warnings == [] and report.n_pairs == 2
    with pytest.raises(DataLoaderError, match="2 problem"):
        report.raise_for_problems()


def test_binary_0_255_mask_gets_an_actionable_hint(clean, tmp_path):
    images, masks = clean
    save(os.path.join(masks, "1.png"), _mask(255))
    report = verify_dataset(images, masks, n_classes=3)
    (problem,) = report.problems
    assert problem.kind == "mask_values" and problem.path.endswith("1.png")
    assert "values [255]" in problem.message
    assert "divide it by 255" in problem.message and "mask // 255" in problem.message
    assert "n_classes=256 would be wrong" in problem.message


def test_void_255_hint_and_ignore_index(clean):
    images, masks = clean
    mask = _mask(1)
    mask[5, 7] = 255
    save(os.path.join(masks, "1.png"), mask)
    report = verify_dataset(images, masks, n_classes=3)
    assert [p.kind for p in report.problems] == ["mask_values"]
    assert "ignore_index=255" in report.problems[0].message
    ignored = verify_dataset(images, masks, n_classes=3, ignore_index=255)
    assert ignored and ignored.class_pixel_counts[255] == 1
    assert "ignored" in ignored.format()


def test_class_table_is_capped_for_many_ids(tmp_path):
    save(tmp_path / "i" / "a.png", np.zeros((10, 20, 3), np.uint8))
    save(tmp_path / "m" / "a.png", (np.arange(200).reshape(10, 20) * 300).astype(np.uint16))
    report = verify_dataset(tmp_path / "i", tmp_path / "m")
    assert len(report.class_pixel_counts) == 200 and report.classes_found[-1] == 59700
    assert "... and 136 more classes" in report.format()


def test_many_bad_values_are_listed_and_counted(clean):
    images, masks = clean
    save(os.path.join(masks, "2.png"), np.arange(48, dtype=np.uint8).reshape(6, 8))
    (problem,) = verify_dataset(images, masks, n_classes=3).problems
    assert "[3, 4, 5, 6, 7, 8, 9, 10, 11, 12, ... (45 values)]" in problem.message
    assert "(45 pixels)" in problem.message and "at least 48" in problem.message


def test_colour_map_turns_colour_masks_into_classes(tmp_path):
    rgb_mask = np.zeros((4, 4, 3), np.uint8)
    rgb_mask[0, :] = (0, 0, 255)  # red in BGR
    save(tmp_path / "i" / "a.png", np.zeros((4, 4, 3), np.uint8))
    save(tmp_path / "m" / "a.png", rgb_mask)
    assert [p.kind for p in verify_dataset(tmp_path / "i", tmp_path / "m", 2).problems] == ["colour_mask"]
    csv = tmp_path / "colours.csv"
    csv.write_text("0,0,0,0\n255,0,0,1\n")
    report = verify_dataset(tmp_path / "i", tmp_path / "m", 2, colour_map=ColourMap.from_csv(csv))
    assert report and report.class_pixel_counts == {0: 12, 1: 4}
    report = verify_dataset(tmp_path / "i", tmp_path / "m", 2, colour_map={(0, 0, 0): 0})
    assert [p.kind for p in report.problems] == ["mask_format"]
    assert "(255,0,0)" in report.problems[0].message


def test_empty_and_non_image_files(clean):
    images, masks = clean
    open(os.path.join(images, "0.png"), "wb").close()
    with open(os.path.join(masks, "1.png"), "w") as handle:
        handle.write("hello")
    report = verify_dataset(images, masks, n_classes=3)
    messages = {os.path.basename(p.path): (p.kind, p.message) for p in report.problems}
    assert messages["0.png"] == ("unreadable", "file is empty (0 bytes)")
    assert messages["1.png"][0] == "unreadable" and "not a readable image" in messages["1.png"][1]


def test_unchanged_read_reports_modes_and_mixed_channels(tmp_path):
    save(tmp_path / "i" / "a.png", np.zeros((4, 4, 4), np.uint8))
    save(tmp_path / "i" / "b.png", np.zeros((4, 4), np.uint16))
    for name in "ab":
        save(tmp_path / "m" / f"{name}.png", np.zeros((4, 4), np.uint8))
    report = verify_dataset(tmp_path / "i", tmp_path / "m", 1, read_image_type=-1)
    assert report.image_modes == {"RGBA": 1, "I;16": 1}
    assert report.image_channels == {4: 1, 1: 1} and report.image_dtypes == {"uint8": 1, "uint16": 1}
    assert [p.kind for p in report.problems] == ["channels"]
    assert verify_dataset(tmp_path / "i", tmp_path / "m", 1)  # colour read: 3 channels each


def test_header_only_image_check(clean):
    images, masks = clean
    truncate(save(os.path.join(images, "1.png"), np.random.default_rng(0).integers(0, 255, (6, 8, 3), np.uint8)))
    with open(os.path.join(images, "2.png"), "w") as handle:
        handle.write("not an image")
    full = verify_dataset(images, masks, 3)
    assert sorted(os.path.basename(p.path) for p in full.problems) == ["1.png", "2.png"]
    quick = verify_dataset(images, masks, 3, decode_images=False)
    assert [(os.path.basename(p.path), p.kind) for p in quick.problems] == [("2.png", "unreadable")]
    assert quick.image_sizes == {(6, 8): 2} and not quick.image_channels
    assert "as read" not in quick.format() and "as read" in full.format()


def test_absent_classes_are_a_warning(clean):
    report = verify_dataset(*clean, n_classes=5)
    assert report
    assert [(p.kind, p.message) for p in report.warnings] == [("absent_classes", "classes [3, 4] never appear in the masks")]
    assert "absent" in report.format()


def test_result_does_not_depend_on_workers(clean):
    one, many = verify_dataset(*clean, n_classes=2, workers=1), verify_dataset(*clean, n_classes=2, workers=4)
    assert [str(p) for p in one.problems] == [str(p) for p in many.problems]
    assert one.class_pixel_counts == many.class_pixel_counts


def test_format_limits_the_listed_problems(clean):
    images, masks = clean
    for i in range(3):
        save(os.path.join(masks, f"{i}.png"), _mask(9))
    text = verify_dataset(images, masks, n_classes=2).format(max_problems=1)
    assert "Problems (3): mask_values 3" in text and "... and 2 more" in text


def test_raise_for_problems(clean):
    images, masks = clean
    verify_dataset(images, masks, 3).raise_for_problems()
    with pytest.raises(DataLoaderError, match=r"2\.png: values \[2\]"):
        verify_dataset(images, masks, 2).raise_for_problems()


def test_bad_arguments_raise(clean, tmp_path):
    with pytest.raises(PairingError, match="folder not found"):
        verify_dataset(tmp_path / "nope", clean[1], 2)
    with pytest.raises(DataLoaderError, match="n_classes=0"):
        verify_dataset(*clean, n_classes=0)


def test_original_name_returns_truthy_report_and_logs(clean, caplog):
    with caplog.at_level(logging.INFO, logger="keras_segmentation.data.verify"):
        assert verify_segmentation_dataset(*clean, 3)
        report = verify_segmentation_dataset(*clean, 2)
    assert not report
    assert "FAILED" in caplog.records[-1].getMessage() and caplog.records[-1].levelno == logging.WARNING


@pytest.mark.camvid
def test_camvid_train_split(camvid_dir):
    report = verify_dataset(camvid_dir / "images_prepped_train", camvid_dir / "annotations_prepped_train", 12)
    assert report and report.n_pairs == 367
    assert report.classes_found == list(range(12))
    assert report.image_sizes == {(360, 480): 367}
    road_share = report.class_pixel_counts[3] / sum(report.class_pixel_counts.values())
    assert road_share == pytest.approx(0.317, abs=0.002)
