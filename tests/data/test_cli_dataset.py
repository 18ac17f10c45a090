"""CLI: verify_dataset, visualize_dataset and demo (exit codes, messages, files)."""

import importlib.util
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
from datafiles import save

from keras_segmentation import cli


@pytest.fixture
def run(monkeypatch, run_cli):
    """Run the CLI in-process with only the dataset commands; returns (exit code, stdout, stderr)."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("dataset", "demo"))
    return run_cli


@pytest.fixture
def data(tmp_path):
    for i in range(2):
        mask = np.zeros((6, 8), np.uint8)
        mask[:, 4:] = i + 1
        save(tmp_path / "images" / f"{i}.png", np.full((6, 8, 3), 60, np.uint8))
        save(tmp_path / "masks" / f"{i}.png", mask)
    return tmp_path / "images", tmp_path / "masks"


@pytest.mark.parametrize(
    "command, flags",
    [
        ("verify_dataset", ["--images_path", "--segs_path", "--n_classes", "--class_names", "--colormap",
                            "--workers", "--ignore_index", "--other_inputs_paths", "--read_image_type", "--quick"]),
        ("visualize_dataset", ["--images_path", "--segs_path", "--n_classes", "--do_augment", "--out_dir",
                               "--class_names", "--colormap", "--workers", "--show", "--augmentation_name"]),
        ("demo", ["--out_dir", "--seed", "--n_train", "--height"]),
    ],
)
def test_help(run, command, flags):
    code, out, _ = run(command, "--help")
    assert code == 0
    for flag in flags:
        assert flag in out


def test_verify_clean_dataset_exits_0_with_table(run, data, tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("0\tbackground\n1\tleft\n2\tright\n")
    code, out, _ = run("verify_dataset", "--images_path", data[0], "--segs_path", data[1], "--n_classes", 3,
                       "--class_names", names)
    assert code == 0
    assert "OK: dataset verified (2 pairs" in out and "right" in out and "8x6 (2)" in out


def test_verify_with_problems_exits_1_and_names_files(run, data):
    save(data[1] / "1.png", np.full((6, 8), 255, np.uint8))
    code, out, _ = run("verify_dataset", "--images_path", data[0], "--segs_path", data[1], "--n_classes", 2)
    assert code == 1
    assert "FAILED: 1 problem(s)" in out and os.path.join("masks", "1.png") in out and "divide it by 255" in out


def test_verify_a_broken_image_link_exits_1_and_names_it(run, data, tmp_path):
    link = data[0] / "2.png"
    os.symlink(tmp_path / "moved.png", link)
    save(data[1] / "2.png", np.zeros((6, 8), np.uint8))
    code, out, _ = run("verify_dataset", "--images_path", data[0], "--segs_path", data[1], "--n_classes", 3)
    assert code == 1 and f"{link}: broken symbolic link to {tmp_path / 'moved.png'}" in out
    assert "mask has no image" not in out


def test_verify_colormap_and_ignore_index(run, data, tmp_path):
    rgb = np.zeros((6, 8, 3), np.uint8)
    rgb[:, 4:] = (0, 0, 255)
    rgb[0, 0] = (0, 255, 0)  # green: void
    save(data[1] / "0.png", rgb)
    save(data[1] / "1.png", rgb)
    colours = tmp_path / "colours.csv"
    colours.write_text("r,g,b,class\n0,0,0,0\n255,0,0,1\n0,255,0,255\n")
    args = ["verify_dataset", "--images_path", data[0], "--segs_path", data[1], "--n_classes", 2]
    assert run(*args)[0] == 1  # colour-coded without a colour map
    assert run(*args, "--colormap", colours)[0] == 1  # 255 out of range
    code, out, _ = run(*args, "--colormap", colours, "--ignore_index", 255, "--workers", 1)
    assert code == 0 and "ignored" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["verify_dataset", "--images_path", "nowhere", "--segs_path", "nowhere"], "images_path nowhere: folder not found"),
        (["verify_dataset", "--images_path", "x", "--segs_path", "y", "--n_classes", "0"], "0 must be at least 1"),
        (["verify_dataset", "--images_path", "x"], "the following arguments are required: --segs_path"),
        (["visualize_dataset", "--images_path", "x", "--segs_path", "y", "--colormap", "no.csv"], "no.csv"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(run, args, message):
    code, out, err = run(*args)
    assert code == 2 and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_bad_augmentation_name_exits_2(run, data, tmp_path):
    code, _, err = run("visualize_dataset", "--images_path", data[0], "--segs_path", data[1], "--out_dir",
                       tmp_path / "out", "--do_augment", "--augmentation_name", "aug_none")
    assert code == 2 and "'aug_none' is unknown" in err and len(err.strip().splitlines()) == 1


def test_visualize_writes_previews(run, data, tmp_path):
    out_dir = tmp_path / "preview"
    code, out, _ = run("visualize_dataset", "--images_path", data[0], "--segs_path", data[1], "--n_classes", 3,
                       "--out_dir", out_dir, "--class_names", "bg,left,right", "--do_augment", "--max_images", 1)
    assert code == 0 and f"wrote 1 preview(s) to {out_dir}" in out
    assert os.listdir(out_dir) == ["0.png"]


def test_demo_command(run, tmp_path):
    code, out, _ = run("demo", "--out_dir", tmp_path / "demo", "--n_train", 3, "--n_test", 2, "--height", 40,
                       "--width", 40, "--seed", 1)
    assert code == 0
    assert "OK: dataset verified (3 pairs" in out and os.path.join("demo", "visualize") in out
    assert len(os.listdir(tmp_path / "demo" / "visualize")) == 3
    assert sorted(os.listdir(tmp_path / "demo" / "data")) == [
        "annotations_prepped_test", "annotations_prepped_train", "classes.txt", "images_prepped_test",
        "images_prepped_train",
    ]


@pytest.mark.camvid
def test_verify_camvid_like_the_original_example(run, camvid_dir):
    code, out, _ = run("verify_dataset", "--images_path", camvid_dir / "images_prepped_train", "--segs_path",
                       camvid_dir / "annotations_prepped_train", "--n_classes", 12, "--class_names",
                       camvid_dir / "classes.txt")
    assert code == 0
    assert "Classes      12 found, n_classes=12" in out and "OK: dataset verified (367 pairs" in out
    assert "Road" in out and "Bicyclist" in out


@pytest.mark.camvid
def test_visualize_camvid_like_the_original_example(run, camvid_dir, tmp_path):
    code, out, _ = run("visualize_dataset", "--images_path", camvid_dir / "images_prepped_test", "--segs_path",
                       camvid_dir / "annotations_prepped_test", "--n_classes", 12, "--class_names",
                       camvid_dir / "classes.txt", "--do_augment", "--max_images", 2, "--out_dir", tmp_path / "v")
    assert code == 0
    previews = sorted(os.listdir(tmp_path / "v"))
    assert len(previews) == 2
    panel = cv2.imread(str(tmp_path / "v" / previews[0]))
    assert panel.shape[0] == 360 and panel.shape[1] > 3 * 480  # legend + image | colours | overlay


@pytest.mark.camvid
def test_python_m_verify_dataset_on_camvid(camvid_dir):
    missing = [m for m in cli.COMMAND_MODULES if importlib.util.find_spec(f"keras_segmentation.cli.{m}") is None]
    if missing:
        pytest.skip(f"CLI command modules not written yet: {', '.join(missing)}")
    result = subprocess.run(
        [sys.executable, "-m", "keras_segmentation", "verify_dataset", "--images_path",
         str(camvid_dir / "images_prepped_train"), "--segs_path", str(camvid_dir / "annotations_prepped_train"),
         "--n_classes", "12"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "Classes      12 found, n_classes=12" in result.stdout
