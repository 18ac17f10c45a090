"""Generated values for the numeric and path options of commands that check their input before any heavy work.

Each run exits 0 or 1 with the command's output, or 2 with one ``error:`` line (argparse's
``keras_segmentation <command>: error: argument --x: ...`` or the library's) naming an option
or a path it was given; never a traceback. The inference commands get a checkpoint that does
not exist, so no model is ever built.
"""

import os
import tempfile

import pytest
from generated import image_png, write_file, write_json
from hypothesis import given
from hypothesis import strategies as st
from tinydata import write_tiny_dataset

#: Text as typed on a command line (no control characters or line separators, which shells rarely pass).
TYPED = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=8)
NUMBERS = st.integers(-(10**6), 10**6).map(str) | st.floats().map(str) | TYPED | st.sampled_from(
    ("", " 3", "1e3", "0x10", "1_000", "٣", "2/4", "4/2", "0,5", "1,2,3", "-1", "nan", "inf")
)
PATHS = TYPED | st.sampled_from(("", ".", "/", "missing/", "classes.txt"))

DATASET_OPTIONS = {
    "verify_dataset": ("--n_classes", "--workers", "--max_problems", "--ignore_index", "--read_image_type"),
    "visualize_dataset": ("--n_classes", "--workers", "--max_images", "--seed", "--read_image_type"),
}
INFERENCE_OPTIONS = {
    "predict": ("--batch_size", "--tile", "--overlap", "--scales", "--shard", "--prediction_width", "--read_image_type"),
    "evaluate_model": ("--batch_size", "--tile", "--overlap", "--scales", "--ignore_index", "--report_images"),
    "predict_geotiff": ("--batch_size", "--tile", "--overlap", "--bands", "--nodata_label"),
}


def options(table):
    """``(command, {option: value})``: a command of ``table`` and generated values for some of its options."""
    return st.sampled_from(sorted(table)).flatmap(
        lambda command: st.tuples(st.just(command), st.dictionaries(st.sampled_from(table[command]), NUMBERS, max_size=3))
    )


def check_run(code, out, err, *names):
    """Exit 0/1, or 2 with one error line (warnings aside) naming one of ``names`` (options with or without their
    dashes: the library names an argument by its Python name); never a traceback."""
    assert "Traceback" not in err and code in (0, 1, 2), (code, err)
    if code != 2:
        return
    lines = [line for line in err.strip().split("\n") if not line.startswith("warning: ")]
    assert len(lines) == 1 and "error: " in lines[0], err
    assert any(str(name).lstrip("-") in lines[0] for name in names if name and str(name).strip("- ")), (names, lines[0])


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Two tiny 8x8 pairs; the commands only read them."""
    return write_tiny_dataset(tmp_path_factory.mktemp("data"), n_images=2, height=8, width=8)


@given(options(DATASET_OPTIONS), st.none() | PATHS, st.none() | PATHS, st.none() | PATHS)
def test_dataset_commands(run_cli, dataset, command_options, images, class_names, colormap):
    command, values = command_options
    images = images if images is not None else dataset[0]
    argv = [command, "--images_path", images, "--segs_path", dataset[1]]
    argv += [f"{option}={value}" for option, value in values.items()]
    argv += [] if class_names is None else [f"--class_names={class_names}"]
    argv += [] if colormap is None else [f"--colormap={colormap}"]
    with tempfile.TemporaryDirectory() as folder:
        code, out, err = run_cli(*argv, "--out_dir", folder) if command == "visualize_dataset" else run_cli(*argv)
        check_run(code, out, err, *values, "--images_path", "--class_names", "--colormap", images, dataset[1])
        if code == 0:
            assert "OK: dataset verified" in out if command == "verify_dataset" else "preview(s) to" in out


@given(options(INFERENCE_OPTIONS), PATHS)
def test_inference_commands(run_cli, command_options, input_path):
    command, values = command_options
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = os.path.join(folder, "run")
        inputs = ["--images_path", input_path, "--segs_path", folder] if command == "evaluate_model" else [
            "--input_path", input_path, "--output_path", os.path.join(folder, "out")]
        argv = [command, "--checkpoints_path", checkpoint, *inputs, *(f"{o}={v}" for o, v in values.items())]
        code, out, err = run_cli(*argv)
        assert code == 2  # there is no model to run
        check_run(code, out, err, *values, "--input_path", "--images_path", folder)


@given(st.sampled_from(("labelme", "coco", "cvat", "voc", "cityscapes")) | TYPED, TYPED, st.none() | PATHS,
       st.none() | TYPED, st.none() | TYPED)
def test_convert(run_cli, source_format, out_name, labels, crowd, split):
    with tempfile.TemporaryDirectory() as folder:
        write_file(folder, "a.png", image_png())
        source = write_json(os.path.join(folder, "a.json"), {"shapes": [], "imagePath": "a.png"})
        out_dir = os.path.join(folder, "out" + out_name.replace("/", ""))  # never outside the folder
        argv = ["convert", source, f"--from={source_format}", f"--out_dir={out_dir}"]
        argv += [f"--{name}={value}" for name, value in (("labels", labels), ("crowd", crowd), ("split", split))
                 if value is not None]
        code, out, err = run_cli(*argv)
        # a --labels value is a file or class names: a bad name is named by "class N name '...'"
        check_run(code, out, err, "--from", "--crowd", "--split", "--labels", labels, "label list", "name ", folder)
        if code == 0:
            assert "Converted 1 image(s) from labelme" in out
