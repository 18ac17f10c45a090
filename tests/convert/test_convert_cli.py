"""``keras_segmentation convert``: exit codes, written files, one-line errors, re-runs."""

import base64
import json

import numpy as np
import pytest
from convertfiles import image_png, read_lines, read_mask

from keras_segmentation.cli import convert as cli_convert
from keras_segmentation.data import convert as library
from keras_segmentation.data.convert.coco import CROWD_RULES

SHAPES = [{"label": "cat", "shape_type": "rectangle", "points": [[2, 1], [4, 3]]}]
EXPECTED = np.zeros((8, 10), np.uint8)
EXPECTED[1:4, 2:5] = 1  # rectangle corners (2, 1) and (4, 3), both included


@pytest.fixture
def source(tmp_path):
    folder = tmp_path / "labelme"
    folder.mkdir()
    document = {"shapes": SHAPES, "imageData": base64.b64encode(image_png()).decode(), "imagePath": "x.png"}
    (folder / "x.json").write_text(json.dumps(document), encoding="utf-8")
    return folder


def test_convert_writes_the_dataset_and_reports_it(run_cli, source, tmp_path):
    out = tmp_path / "out"
    code, stdout, stderr = run_cli("convert", "--from", "labelme", source, "--out_dir", out)
    assert code == 0, stderr
    np.testing.assert_array_equal(read_mask(out / "annotations" / "x.png"), EXPECTED)
    assert read_lines(out / "classes.txt") == ["0\tbackground", "1\tcat"]
    assert stdout.startswith(f"Converted 1 image(s) from labelme {source}")
    assert "OK: dataset verified (1 pairs" in stdout


def test_rerun_is_refused_without_overwrite_and_stale_files_are_reported(run_cli, source, tmp_path):
    out = tmp_path / "out"
    assert run_cli("convert", "--from", "labelme", source, "--out_dir", out)[0] == 0
    code, stdout, stderr = run_cli("convert", "--from", "labelme", source, "--out_dir", out)
    assert code == 2 and stdout == ""
    assert stderr.startswith(f"error: {out}: already holds a dataset") and stderr.count("\n") == 1
    (out / "images" / "old.png").write_bytes(image_png())  # left by an earlier conversion: no mask
    code, stdout, _ = run_cli("convert", "--from", "labelme", source, "--out_dir", out, "--overwrite")
    assert code == 1 and "old.png: No corresponding segmentation found" in stdout


def test_an_option_of_another_format_is_a_one_line_error(run_cli, source, tmp_path):
    code, _, stderr = run_cli("convert", "--from", "labelme", source, "--out_dir", tmp_path / "o", "--crowd", "skip")
    assert code == 2 and stderr == "error: option(s) crowd do not apply to labelme (it takes labels, overwrite)\n"


def test_the_parser_lists_the_library_formats_and_crowd_rules():
    assert cli_convert.FORMATS == tuple(library.CONVERTERS)
    assert set(cli_convert._OPTIONS) | {"overwrite"} == {o for f in library.CONVERTERS for o in library.options_of(f)}
    assert cli_convert.CROWD_CHOICES == CROWD_RULES
