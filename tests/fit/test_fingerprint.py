"""The dataset fingerprint: void, classes, shares, widths, layout, groups and validation splits on tiny hand-made folders."""

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from keras_segmentation.autofit import fingerprint
from keras_segmentation.autofit import machine as machine_module
from keras_segmentation.autofit.fingerprint import REPORT_CLASSES, data_report, fingerprint_dataset
from keras_segmentation.autofit.inputs import output_colors
from keras_segmentation.autofit.split import find_groups, natural_key, validation_split
from keras_segmentation.data.visualize import class_colors
from keras_segmentation.errors import ChannelMismatchError, DataLoaderError, ImageReadError, PairingError


def write_pairs(folder, masks, channels=3, names=None):
    """One random image (PNG; TIFF beyond 4 bands) per mask, and the mask as a PNG; the ``(image, mask)`` pairs."""
    rng = np.random.default_rng(0)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "masks").mkdir(parents=True, exist_ok=True)
    names = names or [f"{i:03d}" for i in range(len(masks))]
    pairs = []
    for name, mask in zip(names, masks):
        image = rng.integers(0, 256, (*mask.shape, channels), dtype=np.uint8)
        if channels > 4:
            tifffile = pytest.importorskip("tifffile", reason="6-band images are written with tifffile")
            image_path = folder / "images" / f"{name}.tif"
            tifffile.imwrite(image_path, image, photometric="minisblack", planarconfig="contig")
        else:
            image_path = folder / "images" / f"{name}.png"
            assert cv2.imwrite(str(image_path), image)
        mask_path = folder / "masks" / f"{name}.png"
        assert cv2.imwrite(str(mask_path), mask.astype(np.uint8))
        pairs.append((str(image_path), str(mask_path)))
    return pairs


def filled(values, size=16):
    """A mask whose rows are split into equal bands of ``values`` (top to bottom)."""
    mask = np.zeros((size, size), np.uint8)
    for band, value in enumerate(values):
        mask[band * size // len(values) : (band + 1) * size // len(values)] = value
    return mask


# ------------------------------------------------------------------ void and classes
def test_255_is_proposed_as_void_and_left_out_of_the_classes(tmp_path):
    fp = fingerprint_dataset(write_pairs(tmp_path, [filled([0, 1, 255, 255]), filled([0, 1, 2, 255])]))
    assert fp["mask_values"] == [0, 1, 2, 255]
    assert fp["void"] == 255 and "255" in fp["void_reason"]
    assert fp["n_classes"] == 3
    assert fp["void_share"] == pytest.approx(3 / 8)
    assert fp["class_pixel_share"] == pytest.approx([2 / 5, 2 / 5, 1 / 5])
    assert fp["class_image_share"] == pytest.approx([1, 1, 0.5])


def test_255_next_to_large_values_is_a_class(tmp_path):
    fp = fingerprint_dataset(write_pairs(tmp_path, [filled([0, 100, 255])]))
    assert fp["void"] is None and "100" in fp["void_reason"]
    assert fp["n_classes"] == 256 and fp["void_share"] == 0.0


def test_void_from_class_names(tmp_path):
    pairs = write_pairs(tmp_path, [filled(range(12), size=24)])
    names = ["Sky", "Building", "Pole", "Road", "Pavement", "Tree", "SignSymbol", "Fence", "Car", "Pedestrian",
             "Bicyclist", "Unlabelled (void)"]
    fp = fingerprint_dataset(pairs, class_names=names)
    assert fp["void"] == 11 and "Unlabelled" in fp["void_reason"]
    assert fp["n_classes"] == 11 and len(fp["class_pixel_share"]) == 11
    assert fp["void_share"] == pytest.approx(2 / 24)
    assert sum(fp["class_pixel_share"]) == pytest.approx(1, abs=1e-5)


def test_a_void_name_that_is_not_last_keeps_its_slot(tmp_path):
    fp = fingerprint_dataset(write_pairs(tmp_path, [filled([0, 1, 2, 2])]), class_names=["ignore", "cat", "dog"])
    assert fp["void"] == 0 and fp["n_classes"] == 3
    assert fp["class_pixel_share"] == pytest.approx([0, 1 / 3, 2 / 3])
    assert fp["class_width_px"][0] is None and fp["object_size"][0] is None


def test_no_void_for_binary_masks_and_names_raise_the_class_count(tmp_path):
    pairs = write_pairs(tmp_path, [filled([0, 1, 1, 1])])
    fp = fingerprint_dataset(pairs)
    assert fp["void"] is None and fp["n_classes"] == 2 and fp["void_share"] == 0.0
    assert fp["class_pixel_share"] == pytest.approx([0.25, 0.75])  # the imbalance is recorded
    named = fingerprint_dataset(pairs, class_names=["a", "b", "c", "d"])
    assert named["void"] is None and named["n_classes"] == 4
    assert named["class_pixel_share"][2:] == [0.0, 0.0] and named["class_width_px"][2:] == [None, None]


def test_pixel_shares_sum_to_one_and_rare_classes_show(tmp_path):
    common = np.zeros((40, 40), np.uint8)
    rare = common.copy()
    rare[:4, :4] = 1  # 1 % of the pixels of this mask
    fp = fingerprint_dataset(write_pairs(tmp_path, [common, rare]))
    assert sum(fp["class_pixel_share"]) == pytest.approx(1, abs=1e-5)
    assert fp["class_pixel_share"][1] == pytest.approx(16 / 3200)
    assert fp["class_image_share"] == pytest.approx([1.0, 0.5])


# ------------------------------------------------------------------ images
@pytest.mark.parametrize("channels", [1, 3, 6])
def test_channels_dtype_and_sizes(tmp_path, channels):
    masks = [np.zeros((16, 24), np.uint8), np.zeros((20, 24), np.uint8), np.zeros((30, 8), np.uint8)]
    fp = fingerprint_dataset(write_pairs(tmp_path, masks, channels=channels))
    assert fp["channels"] == channels and fp["dtype"] == "uint8"
    assert fp["image_size"] == {"min": [16, 8], "median": [20, 24], "max": [30, 24], "n_distinct": 3}


def test_mixed_channel_counts_are_refused_naming_two_files(tmp_path):
    pairs = write_pairs(tmp_path / "rgb", [filled([0, 1])], channels=3, names=["a"])
    pairs += write_pairs(tmp_path / "gray", [filled([0, 1])], channels=1, names=["b"])
    with pytest.raises(ChannelMismatchError) as error:
        fingerprint_dataset(pairs)
    message = str(error.value)
    assert "\n" not in message and "a.png" in message and "b.png" in message


def test_empty_pairs_and_unreadable_files(tmp_path):
    with pytest.raises(PairingError, match="no image/mask pairs"):
        fingerprint_dataset([])
    pairs = write_pairs(tmp_path, [filled([0, 1])])
    (tmp_path / "masks" / "000.png").write_bytes(b"not a png")
    with pytest.raises(ImageReadError, match="000.png"):
        fingerprint_dataset(pairs)


def test_large_datasets_are_sampled_evenly_and_the_result_is_json(tmp_path):
    pairs = write_pairs(tmp_path, [np.full((8, 8), i, np.uint8) for i in range(9)])
    fp = fingerprint_dataset(pairs, max_masks=3)
    assert fp["n_images"] == 9 and fp["sampled"] == 3
    values = fp["mask_values"]
    assert len(values) == 3 and values[0] < 3 <= values[1] < 6 <= values[2]  # one from each third
    assert fingerprint_dataset(pairs, max_masks=3) == fp
    assert json.loads(json.dumps(fp)) == fp


# ------------------------------------------------------------------ widths, objects and layout
def line_and_half(width=3, size=64):
    """Class 2 fills the left half, class 1 is a vertical line ``width`` pixels wide in the right half, class 0 the rest."""
    mask = np.zeros((size, size), np.uint8)
    mask[:, : size // 2] = 2
    mask[:, 3 * size // 4 : 3 * size // 4 + width] = 1
    return mask


def test_stroke_width_and_object_size(tmp_path):
    fp = fingerprint_dataset(write_pairs(tmp_path, [line_and_half()]))
    widths = fp["class_width_px"]
    assert widths[1] == pytest.approx(3, abs=1.5)
    assert widths[2] > 4 * widths[1]
    assert fp["object_size"][1] == pytest.approx(3 * 64 / 64**2)
    assert fp["object_size"][2] == pytest.approx(0.5)
    assert fp["object_size"][0] == pytest.approx(14.5 * 64 / 64**2, rel=1e-5)  # median of two pieces, 16 and 13 wide


def test_widths_measured_on_downscaled_masks_are_in_native_pixels(tmp_path, monkeypatch):
    pairs = write_pairs(tmp_path, [line_and_half(width=8)])
    native = fingerprint_dataset(pairs)["class_width_px"][1]
    monkeypatch.setattr(fingerprint, "STATS_SIDE", 32)
    halved = fingerprint_dataset(pairs)["class_width_px"][1]
    assert halved == pytest.approx(native, rel=0.35) and halved > 4


def test_top_bottom_and_left_right_differences(tmp_path):
    top_bottom = filled([0, 1], size=32)
    fp = fingerprint_dataset(write_pairs(tmp_path / "tb", [top_bottom]))
    assert fp["top_bottom_difference"] == pytest.approx(1.0) and fp["left_right_difference"] == pytest.approx(0.0)
    fp = fingerprint_dataset(write_pairs(tmp_path / "lr", [top_bottom.T.copy()]))
    assert fp["top_bottom_difference"] == pytest.approx(0.0) and fp["left_right_difference"] == pytest.approx(1.0)


def test_void_is_left_out_of_the_layout(tmp_path):
    mask = filled([0, 1], size=32)
    mask[:16, :8] = 255  # void only on top: the class shares of the halves stay apart
    fp = fingerprint_dataset(write_pairs(tmp_path, [mask]))
    assert fp["void"] == 255
    assert fp["top_bottom_difference"] == pytest.approx(1.0)
    assert fp["left_right_difference"] == pytest.approx(0.5 * (abs(8 / 24 - 0.5) + abs(16 / 24 - 0.5)), abs=1e-5)


# ------------------------------------------------------------------ groups and validation splits
@pytest.mark.parametrize(
    "name, key",
    [("0016E5_07959", "0016E5"), ("sceneA_r3_c4", "sceneA"), ("patient01_slice12", "patient01"),
     ("slice_012", "slice"), ("img001", "img"), ("12", ""), ("a-b_7", "a"), ("tile.3", "tile")],
)
def test_group_keys(name, key):
    rule, keys = find_groups([name, "zz_1", "zz_2"])
    assert keys[0] == key and rule != "none"


def test_group_rules_and_no_grouping():
    assert find_groups(["0006R0_1", "0006R0_2", "0016E5_1"]) == ("prefix before the first '_'",
                                                              ["0006R0", "0006R0", "0016E5"])
    assert find_groups(["cat1", "cat2", "dog1"])[0] == "the name without its trailing digits"
    assert find_groups(["img1", "img2", "img3"]) == ("none", ["", "", ""])  # one group
    assert find_groups(["a_1", "b_1", "c_1"]) == ("none", ["", "", ""])  # each name alone
    assert find_groups([]) == ("none", [])


def test_natural_key():
    assert sorted(["f10", "f2", "f1", "e11"], key=natural_key) == ["e11", "f1", "f2", "f10"]


def test_camvid_like_names_hold_out_a_whole_sequence(tmp_path):
    names = [f"0006R0_{i:04d}" for i in range(1, 18)] + [f"0016E5_{i:04d}" for i in range(1, 4)]
    masks = [np.zeros((4, 4), np.uint8)] * len(names)
    groups = fingerprint_dataset(write_pairs(tmp_path, masks, names=names))["groups"]
    assert groups == {"rule": "prefix before the first '_'", "n_groups": 2,
                      "sizes": {"0006R0": 17, "0016E5": 3}, "truncated": False}
    rule, keys = find_groups(names)
    train, val, how = validation_split(names, keys)
    assert val == [17, 18, 19] and train == list(range(17))
    assert "0016E5" in how and "1 group" in how


def test_small_groups_are_combined(tmp_path):
    names = [f"s{g:02d}_{i}" for g in range(20) for i in range(2)]  # 20 groups of 2 names: 5 % each
    train, val, how = validation_split(names, find_groups(names)[1])
    held = {names[i].split("_")[0] for i in val}
    assert 4 <= len(val) <= 8 and len(val) == 2 * len(held)  # whole groups, 10-20 % of 40
    assert sorted(train + val) == list(range(40)) and how.startswith(f"{len(held)} groups held out")
    assert validation_split(names, find_groups(names)[1]) == (train, val, how)


def test_one_group_gives_a_contiguous_block_at_the_end():
    names = [f"img_{i}" for i in (5, 20, 1, 12, 3, 18, 7, 19, 2, 9, 10, 4, 15, 6, 8, 11, 13, 14, 16, 17)]
    rule, keys = find_groups(names)
    assert rule == "none"
    train, val, how = validation_split(names, keys)
    assert sorted(names[i] for i in val) == ["img_18", "img_19", "img_20"]
    assert train == sorted(set(range(20)) - set(val)) and "block" in how


def test_groups_too_large_give_a_block_of_the_largest(tmp_path):
    names = [f"a_{i}" for i in range(1, 11)] + [f"b_{i}" for i in range(1, 13)]
    train, val, how = validation_split(names, find_groups(names)[1])
    assert [names[i] for i in val] == ["b_10", "b_11", "b_12"] and "'b'" in how


def test_validation_split_needs_two_names():
    with pytest.raises(DataLoaderError, match="at least 2"):
        validation_split(["only"], [""])
    assert validation_split(["a", "b"], ["", ""])[:2] == ([0], [1])


def test_many_groups_are_truncated_to_the_largest(tmp_path):
    names = [f"g{g:03d}_{i}" for g in range(60) for i in range(1 + (g < 5))]  # 5 groups of 2, 55 of 1
    groups = fingerprint_dataset(write_pairs(tmp_path, [np.zeros((2, 2), np.uint8)] * len(names), names=names))["groups"]
    assert groups["n_groups"] == 60 and groups["truncated"] is True and len(groups["sizes"]) == 50
    assert all(groups["sizes"][f"g{g:03d}"] == 2 for g in range(5))
    assert list(groups["sizes"]) == sorted(groups["sizes"])


# ------------------------------------------------------------------ class colours
#: a VOC-like palette: classes 0..2 and void 255 in colour
PALETTE = {0: (0, 0, 0), 1: (128, 0, 0), 2: (0, 128, 0), 255: (224, 224, 192)}


def as_palette_pngs(pairs, palette=PALETTE):
    """Rewrite the masks of ``pairs`` as palette ("P") PNGs of the same ids with ``palette`` ({index: (r, g, b)})."""
    from PIL import Image

    flat = [0] * 768
    for index, colour in palette.items():
        flat[3 * index : 3 * index + 3] = colour
    for _, mask_path in pairs:
        image = Image.fromarray(cv2.imread(mask_path, cv2.IMREAD_UNCHANGED), "P")
        image.putpalette(flat)
        image.save(mask_path)
    return pairs


def test_palette_png_masks_give_the_class_and_void_colours(tmp_path):
    pairs = as_palette_pngs(write_pairs(tmp_path, [filled([0, 1, 255]), filled([0, 2, 255])]))
    fp = fingerprint_dataset(pairs)
    assert fp["mask_values"] == [0, 1, 2, 255] and fp["void"] == 255  # read as palette indices, as before
    assert fp["class_colors"] == [[0, 0, 0], [128, 0, 0], [0, 128, 0]] and fp["void_color"] == [224, 224, 192]
    assert fp["colors_from"] == "the palette of the PNG masks"
    assert json.loads(json.dumps(fp)) == fp
    # one colour per model output: a class beyond the data's gets the library's colour
    assert output_colors(fp, 4) == [[0, 0, 0], [128, 0, 0], [0, 128, 0], list(class_colors[3])]
    report = data_report(fp, ["bg", "a", "b"], "images")
    assert "colours: from the palette of the PNG masks (bg 0,0,0; a 128,0,0; b 0,128,0)" in report


def test_a_small_void_id_keeps_its_colour_for_its_output(tmp_path):
    palette = {0: (1, 1, 1), 1: (2, 0, 0), 2: (0, 3, 0), 3: (9, 9, 0)}
    pairs = as_palette_pngs(write_pairs(tmp_path, [filled([0, 1, 2, 3])]), palette)
    fp = fingerprint_dataset(pairs, class_names=["a", "b", "c", "void"])
    assert fp["void"] == 3 and fp["n_classes"] == 3 and fp["void_color"] == [9, 9, 0]
    assert output_colors(fp, 4)[3] == [9, 9, 0]


def test_a_classes_file_colour_column_comes_before_the_palette(tmp_path):
    pairs = as_palette_pngs(write_pairs(tmp_path, [filled([0, 1, 2])]))
    fp = fingerprint_dataset(pairs, class_colors=[(5, 5, 5), (6, 6, 6), (7, 7, 7)])
    assert fp["class_colors"] == [[5, 5, 5], [6, 6, 6], [7, 7, 7]]
    assert fp["colors_from"] == "the class names file's colour column"


def test_no_colours_from_plain_gray_or_disagreeing_masks(tmp_path):
    plain = fingerprint_dataset(write_pairs(tmp_path / "plain", [filled([0, 1])]))
    assert plain["class_colors"] is None and plain["void_color"] is None and plain["colors_from"].startswith("none")
    assert output_colors(plain, 2) is None and "colours" not in data_report(plain, ["a", "b"], "images")
    gray = as_palette_pngs(write_pairs(tmp_path / "gray", [filled([0, 1])]), {0: (0, 0, 0), 1: (1, 1, 1)})
    assert "gray levels" in fingerprint_dataset(gray)["colors_from"]
    differ = write_pairs(tmp_path / "differ", [filled([0, 1]), filled([0, 1])])
    as_palette_pngs(differ[:1])
    as_palette_pngs(differ[1:], {0: (0, 0, 0), 1: (0, 0, 128)})
    fp = fingerprint_dataset(differ)
    assert fp["class_colors"] is None and "different colours" in fp["colors_from"]


# ------------------------------------------------------------------ many classes, many images
def test_the_report_of_60_classes_stays_short(tmp_path):
    row = np.concatenate([np.zeros(10, np.uint8), np.arange(60, dtype=np.uint8)])  # class 0 the commonest: 11 of 70
    masks = [np.repeat(row[None, :], 6, axis=0)]
    fp = fingerprint_dataset(as_palette_pngs(write_pairs(tmp_path, masks), {i: (i, 2 * i, 3) for i in range(60)}))
    names = [f"class{i:02d}" for i in range(60)]
    report = data_report(fp, names, "images")
    assert fp["n_classes"] == 60 and len(fp["class_colors"]) == 60
    lines = report.splitlines()
    assert len(lines) == 5 and max(len(line) for line in lines) < 240, report
    classes = next(line for line in lines if line.startswith("classes: 60 "))
    assert "the commonest class00 15.7%" in classes and "the rarest class59 1.4%" in classes
    assert f"{60 - REPORT_CLASSES + 1} more" in classes
    assert sum(name in classes for name in names) == REPORT_CLASSES - 1
    assert "; ... 57 more)" in lines[-1]


def test_1500_images_are_fingerprinted_from_a_sample_of_400(tmp_path, monkeypatch):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    image = np.zeros((8, 8, 3), np.uint8)
    pairs = []
    for i in range(1500):  # 15 scenes of 100 frames; the left half class 0, the right half class 1, 2 or 3 by scene
        mask = np.zeros((8, 8), np.uint8)
        mask[:, 4:] = 1 + (i // 100) % 3
        name = f"scene{i // 100:02d}_{i % 100:03d}"
        cv2.imwrite(str(tmp_path / "images" / f"{name}.png"), image)
        cv2.imwrite(str(tmp_path / "masks" / f"{name}.png"), mask)
        pairs.append((str(tmp_path / "images" / f"{name}.png"), str(tmp_path / "masks" / f"{name}.png")))
    reads = {"masks": 0, "images": 0, "palettes": 0}

    def counted(kind, function):
        def call(*args, **kwargs):
            reads[kind] += 1
            return function(*args, **kwargs)
        return call

    monkeypatch.setattr(fingerprint, "read_mask", counted("masks", fingerprint.read_mask))
    monkeypatch.setattr(fingerprint, "read_image", counted("images", fingerprint.read_image))
    monkeypatch.setattr(fingerprint, "mask_palette", counted("palettes", fingerprint.mask_palette))
    fp = fingerprint_dataset(pairs)
    assert reads == {"masks": 400, "images": 400, "palettes": 400}
    assert fp["n_images"] == 1500 and fp["sampled"] == 400
    assert fp["mask_values"] == [0, 1, 2, 3] and fp["n_classes"] == 4 and fp["void"] is None
    assert fp["class_pixel_share"][0] == pytest.approx(0.5)
    assert fp["class_pixel_share"][1:] == pytest.approx([1 / 6] * 3, abs=0.01)
    assert fp["groups"]["n_groups"] == 15 and set(fp["groups"]["sizes"].values()) == {100}
    assert "statistics from an even sample of 400" in data_report(fp, ["a", "b", "c", "d"], "images")
    # a dataset read whole says nothing of a sample
    assert "sample" not in data_report(fingerprint_dataset(pairs[:10]), ["a", "b", "c", "d"], "images")


# ------------------------------------------------------------------ machine
def test_machine_and_no_keras_import(tmp_path):
    fp = fingerprint_dataset(write_pairs(tmp_path, [filled([0, 1])]))
    machine = fp["machine"]
    assert machine["cpu_cores"] == os.cpu_count() and isinstance(machine["bfloat16"], bool)
    assert isinstance(machine["gpus"], list) and all(isinstance(name, str) for name in machine["gpus"])
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16384000 kB\nMemFree: 1 kB\n")
    assert machine_module._memory_gb(meminfo) == 15.6 and machine_module._memory_gb(tmp_path / "absent") is None
    code = "import sys, keras_segmentation.autofit.fingerprint; print(sorted({'keras', 'tensorflow'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
