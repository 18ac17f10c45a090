"""``fit`` end to end on synthetic folders: the run folder, every command taking it as the model, ``--set``, errors
before any work, crops on large images, 6-band TIFFs, resuming after SIGKILL and a 60-second budget."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from keras_segmentation.autofit import fit
from keras_segmentation.checkpoints.load import load_model
from keras_segmentation.checkpoints.names import list_checkpoints
from keras_segmentation.data.pairing import get_pairs_from_paths
from keras_segmentation.errors import (
    DataLoaderError,
    MaskValueError,
    ModelConfigError,
    PairingError,
    SegmentationError,
)
from keras_segmentation.evaluation import evaluate
from keras_segmentation.export import export_model
from keras_segmentation.inference import predict, predict_multiple

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
VOID = 255


def write_dataset(root, n=6, size=(48, 64), channels=3, n_classes=3, names="img_{i:03d}", ext=".png",
                  dtype=np.uint8, void_border=0, seed=0):
    """``(images, masks)`` folders of ``n`` learnable pairs: on class 0, a rectangle of each odd class and a disc of
    each even one, every class in its own colour (per band) plus noise; ``void_border`` px of 255 round each mask.

    ``names`` is a format string of ``i`` or a list; images with more than 4 bands (or ``ext=".tif"``) are TIFFs.
    """
    rng = np.random.default_rng(seed)
    height, width = size
    images, masks = pathlib.Path(root) / "images", pathlib.Path(root) / "masks"
    images.mkdir(parents=True, exist_ok=True)
    masks.mkdir(parents=True, exist_ok=True)
    colours = np.random.default_rng(99).integers(0, 200, (n_classes, channels))
    scale = 256 if dtype == np.uint16 else 1
    for i in range(n):
        name = names[i] if isinstance(names, list) else names.format(i=i)
        mask = np.zeros((height, width), np.uint8)
        for class_id in range(1, n_classes):
            h, w = int(rng.integers(height // 4, height // 2)), int(rng.integers(width // 4, width // 2))
            y, x = int(rng.integers(0, height - h)), int(rng.integers(0, width - w))
            if class_id % 2:
                mask[y : y + h, x : x + w] = class_id
            else:
                cv2.circle(mask, (x + w // 2, y + h // 2), min(h, w) // 2, class_id, -1)
        image = (colours[mask] + rng.integers(0, 40, (height, width, channels))).astype(np.int64) * scale
        image = image.astype(dtype)
        if void_border:
            mask[:void_border], mask[-void_border:], mask[:, :void_border], mask[:, -void_border:] = VOID, VOID, VOID, VOID
        if channels > 4 or ext in (".tif", ".tiff"):
            import tifffile

            tifffile.imwrite(images / f"{name}{ext}", image, photometric="minisblack", planarconfig="contig")
        else:
            assert cv2.imwrite(str(images / f"{name}{ext}"), image if channels > 1 else image[..., 0])
        assert cv2.imwrite(str(masks / f"{name}.png"), mask)
    return images, masks


def load_json(path):
    with open(path) as handle:
        return json.load(handle)


def weight_files(folder):
    return sorted(p.name for p in pathlib.Path(folder).glob("*.weights.h5"))


@pytest.fixture(autouse=True)
def _no_imagenet_cache(tmp_path, monkeypatch):
    """No ImageNet MobileNetV2 in the Keras cache: every plan trains FPN from scratch, on any machine."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))


# ------------------------------------------------------------------ one finished run, used by many tests
GROUPS = [f"a_{i}" for i in range(4)] + [f"b_{i}" for i in range(4)] + [f"c_{i}" for i in range(2)]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """``(run folder, images, masks, summary)``: ``fit`` for 2 epochs on 10 48x64 pairs in 3 name groups, void 255."""
    root = tmp_path_factory.mktemp("finished")
    images, masks = write_dataset(root / "data", n=len(GROUPS), names=GROUPS, void_border=2)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERAS_HOME", str(root / "keras_home"))
        summary = fit(images, masks, epochs=2, out=root / "run", verbose=False)
    return root / "run", images, masks, summary


def test_fit_writes_the_run_folder(finished):
    run, _, _, summary = finished
    for name in ("fingerprint.json", "plan.json", "split.json", "run.json", "model.keras", "best.weights.h5",
                 "best.json", "predict.json", "summary.json", "report/index.html"):
        assert (run / name).is_file(), name
    assert load_json(run / "summary.json") == summary
    assert 0.0 <= summary["val_mIoU"] <= 1.0 and 0.0 <= summary["val_pixel_accuracy"] <= 1.0
    assert summary["epochs"] == 2 and summary["best_epoch"] in (1, 2) and not summary["early_stopped"]
    assert summary["input"] == [64, 64] and summary["model"] == "vanilla_fpn"
    assert summary["budget_s"] is None and summary["run_folder"] == str(run)
    # the epoch checkpoints: only the last one is kept
    assert weight_files(run / "checkpoints") == ["model.00002.weights.h5"]
    plan = {name: entry["value"] for name, entry in load_json(run / "plan.json").items()}
    assert plan["mode"] == "resize" and plan["architecture"] == "fpn_vanilla" and plan["void"] == VOID
    assert load_json(run / "fingerprint.json")["void"] == VOID
    options = load_json(run / "predict.json")
    assert options == {"flip_tta": summary["flip_tta"]["kept"], "ignore_index": VOID}
    report = (run / "report" / "index.html").read_text()
    assert "mean IoU" in report and f"{100 * summary['val_mIoU']:.2f} %" in report


def test_validation_holds_out_whole_name_groups(finished):
    run, images, masks, _ = finished
    split = load_json(run / "split.json")
    held = sorted(pathlib.Path(name).stem for name in split["val"])
    trained = sorted(pathlib.Path(name).stem for name in split["train"])
    assert sorted(held + trained) == sorted(pathlib.Path(i).stem for i, _ in get_pairs_from_paths(images, masks))
    assert held == ["c_0", "c_1"], split["how"]
    assert len(trained) == 8 and not any(name.startswith("c_") for name in trained)
    assert sorted(p.stem for p in (run / "data" / "val" / "images").iterdir()) == held


def test_the_validation_images_train_in_the_last_quarter_and_that_model_is_kept(tmp_path):
    images, masks = write_dataset(tmp_path / "data", n=len(GROUPS), names=GROUPS, void_border=2)
    run = tmp_path / "run"
    summary = fit(images, masks, epochs=4, out=run, verbose=False)
    assert load_json(run / "run.json")["rejoin"] == {"epochs": 1} and load_json(run / "plan.json")["rejoin"]["value"] == 0.25
    assert summary["epochs"] == 3 and summary["epochs_on_every_image"] == 1
    assert "then 1 epoch on every image (validation ones too)" in summary["line"]
    assert load_json(run / "all_images.json")["last_epoch"] == 1
    assert weight_files(run / "checkpoints") == ["all_images.00001.weights.h5", "model.00003.weights.h5"]
    every = sorted(p.name for p in (run / "data" / "all" / "images").iterdir())
    assert every == sorted(pathlib.Path(image).name for image, _ in get_pairs_from_paths(images, masks))
    # the model kept is the one trained on every image; the report scored the best validated epoch
    model = load_model(str(run / "model.keras"), compile=False)
    kept = model.get_weights()
    model.load_weights(str(run / "all_images.weights.h5"))
    assert all(np.array_equal(a, b) for a, b in zip(kept, model.get_weights()))
    model.load_weights(str(run / "best.weights.h5"))
    assert not all(np.array_equal(a, b) for a, b in zip(kept, model.get_weights()))


def test_an_early_stop_gives_the_epochs_it_left_to_the_training_on_every_image(tmp_path):
    images, masks = write_dataset(tmp_path / "data", n=len(GROUPS), names=GROUPS, void_border=2)
    run = tmp_path / "run"
    # a learning rate too small to move validation mIoU (and no batch norm, whose statistics would move it): the first
    # epoch stays the best, patience 1 stops at the second
    summary = fit(images, masks, epochs=8, out=run, verbose=False,
                  settings=["patience=1", "learning_rate=1e-9", "architecture=unet_mini"])
    assert load_json(run / "run.json")["rejoin"] == {"epochs": 2}  # 6 validated epochs planned, then 2 on every image
    assert summary["early_stopped"] and summary["best_epoch"] == 1 and summary["epochs"] == 2
    assert summary["epochs_on_every_image"] == 2 + (6 - 2)


def test_predict_takes_the_run_folder(finished, tmp_path):
    run, images, _, summary = finished
    image = images / "a_0.png"
    labels = predict(model=str(run), inp=str(image))
    assert labels.shape == (48, 64) and set(np.unique(labels)) <= {0, 1, 2}
    # the run folder predicts as its model.keras with the prediction options the run chose
    plain = predict(model=str(run / "model.keras"), inp=str(image), flip_tta=summary["flip_tta"]["kept"])
    np.testing.assert_array_equal(labels, plain)

    out = tmp_path / "predictions"
    maps = predict_multiple(model=run, inp_dir=str(images), out_dir=str(out), progress=False)
    assert len(maps) == len(GROUPS) and all(m.shape == (48, 64) for m in maps)
    written = sorted(out.iterdir())
    assert len(written) == len(GROUPS)
    np.testing.assert_array_equal(cv2.imread(str(out / "a_0.png"), cv2.IMREAD_UNCHANGED), labels)


def test_evaluate_takes_the_run_folder_and_its_void(finished):
    run, images, masks, summary = finished
    held = [pair for pair in get_pairs_from_paths(images, masks) if pathlib.Path(pair[0]).stem.startswith("c_")]
    scores = evaluate(model=str(run), inp_images=[p[0] for p in held], annotations=[p[1] for p in held],
                      progress=False)
    assert scores["mean_IU"] == pytest.approx(summary["val_mIoU"], abs=1e-6)
    # the void value (255) comes from the run folder: the bare model file does not know it
    with pytest.raises(MaskValueError):
        evaluate(model=str(run / "model.keras"), inp_images=[p[0] for p in held], annotations=[p[1] for p in held],
                 progress=False)


def test_export_takes_the_run_folder(finished, tmp_path):
    run, images, _, _ = finished
    result = export_model(str(run), str(tmp_path / "exported.keras"), fmt="keras")
    assert pathlib.Path(result.path).is_file() and result.size_bytes > 0
    assert result.parity is not None and result.parity.max_abs_diff < 1e-4
    exported = load_model(result.path, compile=False)  # the deployable graph: image in, probabilities out
    assert tuple(exported.input_shape[1:]) == (64, 64, 3) and exported.output_shape[-1] == 3
    labels = predict(model=result.path, inp=str(images / "b_1.png"))
    keras_labels = predict(model=str(run / "model.keras"), inp=str(images / "b_1.png"))
    assert np.mean(labels == keras_labels) >= 0.995  # the export takes uint8 pixels: a rare tie may flip


def test_the_predict_command_takes_the_run_folder(finished, tmp_path):
    run, images, _, _ = finished
    out = tmp_path / "cli"
    done = subprocess.run([sys.executable, "-m", "keras_segmentation", "predict", "--model", str(run), "--input_path",
                           str(images), "--output_path", str(out)], capture_output=True, text=True, timeout=300,
                          cwd=REPO_ROOT, env=dict(os.environ))
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"wrote {len(GROUPS)} prediction(s)" in done.stdout
    written = cv2.imread(str(out / "a_0.png"), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(written, predict(model=str(run), inp=str(images / "a_0.png")))


def test_a_finished_run_folder_is_not_trained_again(finished):
    run, images, masks, _ = finished
    before = (run / "model.keras").stat().st_mtime_ns
    with pytest.raises(ModelConfigError, match="holds a finished run"):
        fit(images, masks, epochs=1, out=run, verbose=False)
    assert (run / "model.keras").stat().st_mtime_ns == before


# ------------------------------------------------------------------ settings
def test_settings_override_the_plan(tmp_path):
    images, masks = write_dataset(tmp_path / "data", n=6, size=(32, 48))
    summary = fit(images, masks, epochs=1, out=tmp_path / "run", verbose=False,
                  settings={"loss": "ce", "architecture": "unet_mini"})
    plan = load_json(tmp_path / "run" / "plan.json")
    assert plan["loss"]["value"] == "ce" and plan["loss"]["why"].startswith("set by you")
    assert plan["architecture"]["value"] == "unet_mini" and plan["architecture"]["why"].startswith("set by you")
    assert not plan["augment"]["why"].startswith("set by you")
    assert summary["model"] == "unet_mini" and load_model(tmp_path / "run" / "model.keras").model_name == "unet_mini"


def test_a_bad_setting_can_be_corrected_in_the_same_run_folder(tmp_path):
    images, masks = write_dataset(tmp_path / "data", n=6, size=(32, 48))
    with pytest.raises(ModelConfigError, match="loss 'nope'"):
        fit(images, masks, epochs=1, out=tmp_path / "run", verbose=False, settings=["loss=nope", "architecture=unet_mini"])
    assert not (tmp_path / "run" / "checkpoints").exists()
    summary = fit(images, masks, epochs=1, out=tmp_path / "run", verbose=False, settings=["loss=ce", "architecture=unet_mini"])
    assert load_json(tmp_path / "run" / "plan.json")["loss"]["value"] == "ce" and summary["epochs"] == 1


# ------------------------------------------------------------------ errors before any work
def _empty_images(tmp_path, images, masks):
    (tmp_path / "empty").mkdir()
    return dict(images=tmp_path / "empty", masks=masks)


def _image_without_mask(tmp_path, images, masks):
    cv2.imwrite(str(images / "lonely.png"), np.zeros((32, 48, 3), np.uint8))
    return dict(images=images, masks=masks)


def _a_file_as_out(tmp_path, images, masks):
    (tmp_path / "out").write_text("a file")
    return dict(images=images, masks=masks)


def _a_full_folder_as_out(tmp_path, images, masks):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    return dict(images=images, masks=masks)


ERROR_CASES = [
    ("empty images folder", _empty_images, PairingError, "no image files"),
    ("image without a mask", _image_without_mask, PairingError, "lonely.png"),
    ("missing images folder", lambda t, i, m: dict(images=t / "nowhere", masks=m), DataLoaderError, "images folder"),
    ("void 255 declared not void", lambda t, i, m: dict(images=i, masks=m, settings=["void=none"]), MaskValueError,
     "255"),
    ("out is a file", _a_file_as_out, ModelConfigError, "a file is in the way"),
    ("out is another folder", _a_full_folder_as_out, ModelConfigError, "holds notes.txt, not a fit run folder"),
    ("data and images", lambda t, i, m: dict(images=i, masks=m, data=t / "data"), ModelConfigError, "not both"),
    ("no data", lambda t, i, m: dict(images=i), ModelConfigError, "give images= and masks="),
    ("unknown setting", lambda t, i, m: dict(images=i, masks=m, settings=["speed=11"]), ModelConfigError, "--set speed"),
    ("bad setting value", lambda t, i, m: dict(images=i, masks=m, settings=["input=100x100"]), ModelConfigError,
     "--set input"),
    ("bad budget", lambda t, i, m: dict(images=i, masks=m, budget="soon", epochs=None), ModelConfigError, "budget="),
    ("no epochs", lambda t, i, m: dict(images=i, masks=m, epochs=0), ModelConfigError, "epochs=0"),
]


@pytest.mark.parametrize("make, error, words", [case[1:] for case in ERROR_CASES], ids=[case[0] for case in ERROR_CASES])
def test_bad_inputs_are_one_line_errors_before_any_work(tmp_path, make, error, words):
    images, masks = write_dataset(tmp_path / "data", n=4, size=(32, 48), void_border=1)
    kwargs = dict(dict(epochs=1), **make(tmp_path, images, masks))
    out = tmp_path / "out"
    with pytest.raises(error) as raised:
        fit(out=out, verbose=False, **kwargs)
    assert isinstance(raised.value, SegmentationError)
    message = str(raised.value)
    assert words in message and "\n" not in message
    # nothing was trained or planned: out holds only what was there before
    if out.is_dir():
        assert not {"plan.json", "checkpoints", "model.keras"} & {p.name for p in out.iterdir()}


# ------------------------------------------------------------------ large images, many bands
def test_large_images_are_cropped_and_predicted_by_sliding_window(tmp_path):
    images, masks = write_dataset(tmp_path / "data", n=3, size=(2000, 2000), n_classes=2)
    summary = fit(images, masks, epochs=1, out=tmp_path / "run", verbose=False,
                  settings=["flip_tta=false", "architecture=unet_mini"])  # quicker than FPN; mode and input: the plan's
    plan = load_json(tmp_path / "run" / "plan.json")
    assert plan["mode"]["value"] == "crop" and plan["input"]["value"] == [224, 224]
    options = load_json(tmp_path / "run" / "predict.json")
    assert options["mode"] == "slide" and options["overlap"] == 0.25
    assert summary["input"] == [224, 224] and 0.0 <= summary["val_mIoU"] <= 1.0
    # validation ran on tiles of the model's input: 2000 = 8 x 224 + one last tile per side
    tiles = list((tmp_path / "run" / "data" / "val" / "images").iterdir())
    assert len(tiles) == 81 and all(p.suffix == ".npy" for p in tiles)


def test_six_band_tiffs_train_a_six_channel_model(tmp_path):
    images, masks = write_dataset(tmp_path / "data", n=6, size=(64, 64), channels=6, ext=".tif", dtype=np.uint16)
    summary = fit(images, masks, epochs=1, out=tmp_path / "run", verbose=False)
    fingerprint = load_json(tmp_path / "run" / "fingerprint.json")
    assert fingerprint["channels"] == 6 and fingerprint["dtype"] == "uint16"
    model = load_model(tmp_path / "run" / "model.keras", compile=False)
    assert model.channels == 6 and model.input_shape[-1] == 6
    assert summary["epochs"] == 1
    labels = predict(model=str(tmp_path / "run"), inp=str(images / "img_000.tif"))
    assert labels.shape == (64, 64) and set(np.unique(labels)) <= {0, 1, 2}


# ------------------------------------------------------------------ resuming and the budget (slow: over 30 s each)
def _fit_command(images, masks, out, budget):
    return [sys.executable, "-m", "keras_segmentation", "fit", "--images", str(images), "--masks", str(masks),
            "--budget", budget, "--out", str(out), "--set", "patience=1000"]


def _wait_for(condition, process, timeout):
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"fit ended before the condition: {process.stderr.read()[-2000:]}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("timed out waiting for the run folder")
        time.sleep(0.2)


def _epochs_done(run):
    try:
        return load_json(run / "best.json")["last_epoch"]
    except (OSError, ValueError, KeyError):
        return 0


@pytest.mark.slow
def test_a_killed_fit_resumes_with_the_budget_left(tmp_path):
    images, masks = write_dataset(tmp_path / "data", n=6, size=(32, 48))
    run = tmp_path / "run"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    command = _fit_command(images, masks, run, "40s")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT, env=env)
    try:
        # an epoch checkpoint, and the records written after it (budget, best epoch)
        _wait_for(lambda: weight_files(run / "checkpoints") and _epochs_done(run) >= 1, process, timeout=240)
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
    killed_at = _epochs_done(run)
    checkpoint = list_checkpoints(run / "checkpoints" / "model")[-1][0]
    before = load_json(run / "budget.json")
    assert before["spent_s"] > 0 and not (run / "summary.json").exists()

    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=REPO_ROOT, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (run / "summary.json").is_file()
    after = load_json(run / "budget.json")
    assert after["spent_s"] >= before["spent_s"]
    assert after["epoch_seconds"][: len(before["epoch_seconds"])] == before["epoch_seconds"]
    assert after["spent_s"] <= after["budget_s"] + max(after["epoch_seconds"])
    assert after["budget_s"] == load_json(run / "run.json")["training_budget_s"] < 40
    best = load_json(run / "best.json")
    assert best["last_epoch"] > killed_at
    # the epochs went on from the checkpoint: the resumed log starts after it
    numbers = [int(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("epoch ")]
    assert numbers and numbers[0] == checkpoint + 1 and numbers[-1] == best["last_epoch"]
    # then the last quarter on every image, within its own share of the budget
    every = load_json(run / "budget_all_images.json")
    assert every["budget_s"] == load_json(run / "run.json")["rejoin"]["seconds"] == pytest.approx(after["budget_s"] / 3)
    assert 0 < every["spent_s"] <= every["budget_s"] + max(every["epoch_seconds"])
    last = load_json(run / "all_images.json")["last_epoch"]
    assert [line for line in done.stdout.splitlines() if line.startswith("every image: epoch ")][-1].split()[3] == str(last)
    assert weight_files(run / "checkpoints") == [f"all_images.{last:05d}.weights.h5",
                                                 f"model.{best['last_epoch']:05d}.weights.h5"]


@pytest.mark.slow
def test_a_60_second_budget_ends_within_one_epoch_of_it(tmp_path):
    images, masks = write_dataset(tmp_path / "data", n=6, size=(32, 48))
    started = time.perf_counter()
    summary = fit(images, masks, budget="60s", out=tmp_path / "run", verbose=False, settings=["patience=1000"])
    wall = time.perf_counter() - started
    state = load_json(tmp_path / "run" / "budget.json")
    every = load_json(tmp_path / "run" / "budget_all_images.json")  # the last quarter, on every image
    run = load_json(tmp_path / "run" / "run.json")
    longest = max(state["epoch_seconds"] + every["epoch_seconds"])
    assert state["budget_s"] == run["training_budget_s"] and every["budget_s"] == run["rejoin"]["seconds"]
    assert 40 < state["budget_s"] + every["budget_s"] < 60 - 5 and every["budget_s"] == pytest.approx(state["budget_s"] / 3)
    for part in (state, every):
        assert part["stopped_by_budget"]
        assert part["budget_s"] - part["epoch_seconds"][-1] - 0.01 <= part["spent_s"] <= part["budget_s"] + longest + 0.01
    assert not summary["early_stopped"] and summary["budget_s"] == 60.0
    assert summary["training_seconds"] == pytest.approx(state["spent_s"] + every["spent_s"], abs=1e-3)
    assert summary["epochs"] == len(state["epoch_seconds"]) > 1
    assert summary["epochs_on_every_image"] == len(every["epoch_seconds"]) >= 1
    assert wall < 60 + longest + 60  # the end (flip TTA, model file, report) takes seconds: generous on a shared machine


# ------------------------------------------------------------------ masks, void, resuming with other options
def test_masks_of_0_and_255_stop_with_a_one_line_error(tmp_path):
    images, masks = write_dataset(tmp_path / "data", n=4, size=(32, 48), n_classes=2)
    for path in masks.iterdir():
        cv2.imwrite(str(path), cv2.imread(str(path), cv2.IMREAD_UNCHANGED) * 255)
    with pytest.raises(MaskValueError, match="fewer than two classes") as raised:
        fit(images, masks, epochs=1, out=tmp_path / "run", verbose=False)
    assert "\n" not in str(raised.value) and not (tmp_path / "run" / "plan.json").exists()


def test_a_small_void_id_declared_a_class_trains_it(tmp_path):
    images, masks = write_dataset(tmp_path / "data", n=6, size=(32, 48), n_classes=3)
    for path in masks.iterdir():  # CamVid-like: class 11 named void, a border of it round each mask
        mask = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        mask[:2], mask[-2:] = 11, 11
        cv2.imwrite(str(path), mask)
    names = ["a", "b", "c"] + [str(i) for i in range(3, 11)] + ["void"]
    fit(images, masks, epochs=1, out=tmp_path / "voided", verbose=False, class_names=names,
        settings=["architecture=unet_mini"])
    assert load_json(tmp_path / "voided" / "plan.json")["void"]["value"] == 11
    fit(images, masks, epochs=1, out=tmp_path / "classed", verbose=False, class_names=names,
        settings=["void=none", "architecture=unet_mini"])
    plan = load_json(tmp_path / "classed" / "plan.json")
    assert plan["void"]["value"] is None and plan["void"]["why"].startswith("set by you")
    assert load_model(tmp_path / "classed" / "model.keras").n_classes == 12


def test_an_unfinished_run_resumes_only_with_the_options_it_was_started_with(finished, tmp_path):
    run, images, masks, _ = finished
    copy = tmp_path / "copy"
    import shutil

    shutil.copytree(run, copy)
    for name in ("summary.json", "model.keras"):  # as if stopped after its last epoch, before the end
        (copy / name).unlink()
    with pytest.raises(ModelConfigError, match="holds an unfinished run with epochs=2") as raised:
        fit(images, masks, epochs=3, out=copy, verbose=False)
    assert "\n" not in str(raised.value)
    summary = fit(images, masks, epochs=2, out=copy, verbose=False)
    assert summary["epochs"] == 2 and (copy / "model.keras").is_file()


def test_evaluate_takes_the_run_folder_as_checkpoints_path(finished, tmp_path):
    run, images, masks, summary = finished
    held = [pair for pair in get_pairs_from_paths(images, masks) if pathlib.Path(pair[0]).stem.startswith("c_")]
    scores = evaluate(checkpoints_path=str(run), inp_images=[p[0] for p in held], annotations=[p[1] for p in held],
                      progress=False, report_dir=str(tmp_path / "report"))
    assert scores["mean_IU"] == pytest.approx(summary["val_mIoU"], abs=1e-6)
    assert "Training curves" in (tmp_path / "report" / "index.html").read_text()
