"""Presets: save a model (or a fit run folder) as a preset folder, load it in a fresh process, the model card,
overwriting and atomic writes, ``hf://`` and ``push_to_hub`` offline (huggingface_hub missing or failing), the CLI."""

import json
import os
import subprocess
import sys
import textwrap
import types

import cv2
import h5py
import numpy as np
import pytest

from keras_segmentation import from_preset
from keras_segmentation.autofit.fingerprint import fingerprint_dataset
from keras_segmentation.autofit.plan import make_plan
from keras_segmentation.checkpoints import preset_folder as folder
from keras_segmentation.data.pairing import get_pairs_from_paths
from keras_segmentation.data.visualize import class_colors
from keras_segmentation.errors import OutputWriteError, PresetError
from keras_segmentation.inference import predict
from keras_segmentation.models.unet import unet_mini
from keras_segmentation.presets import push_to_hub, save_preset
from keras_segmentation.train import train

NAMES = ["background", "grass", "flower"]
PRESET_FILES = {"config.json", "model.weights.h5", "preprocessor.json", "metadata.json", "README.md"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """``(model, checkpoint prefix, image path)``: a 32x48 unet_mini trained for one step, with class names."""
    from tinydata import write_tiny_dataset

    root = tmp_path_factory.mktemp("trained")
    images, masks = write_tiny_dataset(root / "data")
    model = unet_mini(3, input_height=32, input_width=48)
    prefix = root / "ckpt" / "mini"
    train(model, images, masks, checkpoints_path=str(prefix), epochs=1, steps_per_epoch=1, batch_size=2, verbose=0,
          seed=0, class_names=NAMES)
    image = root / "fixed.png"
    cv2.imwrite(str(image), np.random.default_rng(7).integers(0, 256, (40, 56, 3), dtype=np.uint8))
    return model, prefix, image


def probabilities(model, image):
    labels, probs = predict(model, inp=str(image), return_probabilities=True, precision=None)
    return labels, probs


def one_line_error(raised, *parts):
    message = str(raised.value)
    assert "\n" not in message, message
    for part in parts:
        assert part in message, message
    return message


def read(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle) if str(path).endswith(".json") else handle.read()


# ------------------------------------------------------------------ save and load
def test_a_preset_predicts_as_the_original_in_a_fresh_process(trained, tmp_path):
    model, _, image = trained
    preset = model.save_preset(tmp_path / "mini")
    code = textwrap.dedent(f"""
        import json, numpy as np
        from keras_segmentation import from_preset
        from keras_segmentation.inference import predict
        model = from_preset({str(preset)!r})
        labels, probs = predict(model, inp={str(image)!r}, return_probabilities=True, precision=None)
        np.save("labels.npy", labels)
        np.save("probs.npy", probs)
        print(json.dumps([type(model).__name__, model.class_names]))
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.splitlines()[-1]) == ["SegmentationModel", NAMES]
    labels, probs = probabilities(model, image)
    np.testing.assert_array_equal(np.load(tmp_path / "labels.npy"), labels)
    np.testing.assert_allclose(np.load(tmp_path / "probs.npy"), probs, atol=1e-5)
    _, untrained = probabilities(unet_mini(3, input_height=32, input_width=48), image)
    assert np.abs(untrained - probs).max() > 1e-3  # the comparison tells weights apart


def test_the_preset_folder_holds_config_weights_preprocessing_classes_and_a_card(trained, tmp_path):
    model, _, _ = trained
    preset = save_preset(model, tmp_path / "mini")
    assert set(os.listdir(preset)) == PRESET_FILES and folder.is_preset(preset)
    config = read(tmp_path / "mini" / "config.json")
    assert (config["model_class"], config["n_classes"], config["class_names"]) == ("unet_mini", 3, NAMES)
    assert config["build_config"]["builder"] == "unet_mini"  # rebuilt from the registry: no custom objects
    preprocessor = read(tmp_path / "mini" / "preprocessor.json")
    assert [preprocessor[k] for k in ("input_height", "input_width", "channels", "channel_order")] == [32, 48, 3, "RGB"]
    assert preprocessor["normalization"]["name"] == model.normalization == "sub_mean"
    np.testing.assert_allclose(preprocessor["normalization"]["offset"], [-123.68, -116.779, -103.939], atol=1e-3)
    metadata = read(tmp_path / "mini" / "metadata.json")
    assert [(c["name"], tuple(c["color"])) for c in metadata["classes"]] == list(zip(NAMES, class_colors[:3]))
    assert metadata["parameter_count"] == model.count_params() and metadata["source"] == "model"
    with h5py.File(tmp_path / "mini" / "model.weights.h5") as weights:
        assert "optimizer" not in weights and "layers" in weights  # the model's weights, not the training state
    card = read(tmp_path / "mini" / "README.md")
    assert all(f"| {i} | {name} |" in card for i, name in enumerate(NAMES))
    assert "from_preset(\"mini\")" in card and "keras_segmentation predict --model mini" in card
    assert "## Scores\n\nNot recorded" in card


def test_scores_given_go_to_scores_json_and_the_card(trained, tmp_path):
    model, _, _ = trained
    scores = {"mean_IU": np.float64(0.4321), "class_wise_IU": np.array([0.5, np.nan, 0.25]), "pixel_accuracy": 0.9}
    save_preset(model, tmp_path / "scored", scores=scores, class_names=["sky", "road", "car"])
    saved = read(tmp_path / "scored" / "scores.json")["evaluation"]
    assert saved == {"mean_IU": 0.4321, "class_wise_IU": [0.5, None, 0.25], "pixel_accuracy": 0.9}
    card = read(tmp_path / "scored" / "README.md")
    assert "- mean_IU: 43.2 %" in card and "- pixel_accuracy: 90.0 %" in card
    assert "| 0 | sky | `#000000` | 50.0 % |" in card and "| 1 | road | `#800000` | - |" in card
    assert from_preset(tmp_path / "scored").class_names == ["sky", "road", "car"]


def test_a_hand_built_model_without_class_names_round_trips_through_its_architecture(tmp_path):
    import keras

    from keras_segmentation.models.segmentation_model import SegmentationModel

    inputs = keras.Input((16, 16, 1))
    outputs = keras.layers.Conv2D(2, 3, padding="same", activation="softmax")(inputs)
    model = SegmentationModel(inputs, outputs, model_name="", normalization="divide")
    preset = model.save_preset(tmp_path / "hand")
    config = read(tmp_path / "hand" / "config.json")
    assert config["build_config"] is None and config["architecture"]["class_name"] == "SegmentationModel"
    assert config["class_names"] is None and "| 1 | (no name) | `#800000` |" in read(tmp_path / "hand" / "README.md")
    assert read(tmp_path / "hand" / "preprocessor.json")["channel_order"] == "gray"
    image = np.random.default_rng(1).random((1, 16, 16, 1)).astype("float32")
    loaded = from_preset(preset)
    assert loaded.normalization == "divide"
    np.testing.assert_allclose(loaded.predict_on_batch(image), model.predict_on_batch(image), atol=1e-6)


def write_run_folder(run, model, data, class_colors=None):
    """A finished ``fit`` run folder made by hand: the files :mod:`keras_segmentation.checkpoints.run_folder` and fit write
    (``class_colors``: the colours its data carried, kept in ``predict.json``)."""
    run.mkdir()
    fingerprint = fingerprint_dataset(get_pairs_from_paths(*data), class_names=NAMES)
    contents = {
        "fingerprint.json": fingerprint,
        "plan.json": make_plan(fingerprint, epochs=1, n_train=5),
        "best.json": {"best": 0.5123, "best_epoch": 1, "last_epoch": 1, "early_stopped": False},
        "summary.json": {"run_folder": str(run), "model": "unet_mini", "input": [32, 48], "val_mIoU": 0.5123,
                         "val_pixel_accuracy": 0.875, "best_epoch": 1, "epochs": 1, "early_stopped": False,
                         "epochs_on_every_image": 2,
                         "flip_tta": {"kept": True}, "line": f"fit: unet_mini; {run / 'model.keras'}"},
        "predict.json": {"flip_tta": True, "ignore_index": None},
    }
    if class_colors is not None:
        contents["predict.json"]["class_colors"] = class_colors
    for name, content in contents.items():
        (run / name).write_text(json.dumps(content))
    model.save(run / "model.keras")
    return contents


def test_a_fit_run_folder_preset_carries_plan_fingerprint_scores_and_prediction_options(trained, tmp_path):
    from tinydata import write_tiny_dataset

    model, _, image = trained
    run = tmp_path / "run"
    contents = write_run_folder(run, model, write_tiny_dataset(tmp_path / "data"))
    preset = save_preset(run, tmp_path / "preset")
    assert set(os.listdir(preset)) == PRESET_FILES | {"plan.json", "fingerprint.json", "scores.json"}
    assert read(tmp_path / "preset" / "plan.json") == contents["plan.json"]
    fingerprint = read(tmp_path / "preset" / "fingerprint.json")
    assert fingerprint["class_pixel_share"] == contents["fingerprint.json"]["class_pixel_share"]
    assert fingerprint["groups"] == {"rule": "none", "n_groups": 1}  # counted, not named (file names)
    scores = read(tmp_path / "preset" / "scores.json")
    assert scores["fit"]["val_mIoU"] == 0.5123 and scores["best"]["best_epoch"] == 1
    assert "run_folder" not in scores["fit"] and "line" not in scores["fit"]
    assert read(tmp_path / "preset" / "preprocessor.json")["prediction"] == contents["predict.json"]
    assert read(tmp_path / "preset" / "metadata.json")["source"] == "fit run folder"
    card = read(tmp_path / "preset" / "README.md")
    assert "validation mIoU: 51.2 % with flip test-time augmentation" in card and "87.5 %" in card
    assert "best epoch 1 of 1; the model then trained 2 more epochs on every image, validation ones included" in card
    assert "data: 6 images in the training folder, median 32x48" in card and "flower 25.0%" in card
    assert "  architecture     fpn_vanilla" in card and "| 2 | flower |" in card
    assert not [name for name in os.listdir(preset) if str(tmp_path) in (tmp_path / "preset" / name).read_text("latin-1")]
    loaded = from_preset(preset)
    assert loaded.run_options == contents["predict.json"]  # predict applies the run's flip TTA
    np.testing.assert_array_equal(predict(str(preset), inp=str(image)), predict(str(run), inp=str(image)))


def test_a_run_folders_class_colours_paint_its_predictions_and_its_presets(trained, tmp_path):
    from tinydata import write_tiny_dataset

    from keras_segmentation.inference import predict_multiple

    model, _, image = trained  # a run folder made by hand, its predict.json with class colours
    run, colours = tmp_path / "run", [[10, 20, 30], [40, 50, 60], [70, 80, 90]]
    write_run_folder(run, model, write_tiny_dataset(tmp_path / "data"), class_colors=colours)

    def painted(source, name, **options):
        labels = predict(str(source), inp=str(image), out_fname=str(tmp_path / name), **options)
        return labels, cv2.imread(str(tmp_path / name))

    labels, image_of_run = painted(run, "run.png")
    np.testing.assert_array_equal(image_of_run, np.array(colours, np.uint8)[labels][:, :, ::-1])  # BGR on disk
    assert from_preset(run).run_options == {"flip_tta": True, "ignore_index": None}  # colours are no option
    preset = save_preset(run, tmp_path / "preset")
    assert [entry["color"] for entry in read(tmp_path / "preset" / "metadata.json")["classes"]] == colours
    assert "class_colors" not in read(tmp_path / "preset" / "preprocessor.json")["prediction"]
    np.testing.assert_array_equal(painted(preset, "preset.png")[1], image_of_run)
    from keras_segmentation.serve.served_model import ServedModel

    assert ServedModel(str(run)).colors == [tuple(colour) for colour in colours]  # what serve paints and describes
    predict_multiple(str(run), inps=[str(image)], out_dir=str(tmp_path / "many"), colored=True, progress=False)
    np.testing.assert_array_equal(cv2.imread(str(tmp_path / "many" / image.name)), image_of_run)
    # colours given win; a model file alone paints with the library's palette, as before
    mine = [(1, 2, 3), (4, 5, 6), (7, 8, 9)]
    np.testing.assert_array_equal(painted(run, "mine.png", colors=mine)[1], np.array(mine, np.uint8)[labels][:, :, ::-1])
    file_labels, image_of_file = painted(run / "model.keras", "file.png")  # without the run's flip TTA too
    np.testing.assert_array_equal(image_of_file, np.array(class_colors[:3], np.uint8)[file_labels][:, :, ::-1])


def test_cli_saves_a_checkpoint_as_a_preset_that_predict_takes_as_the_model(trained, run_cli, tmp_path):
    model, prefix, image = trained
    code, out, err = run_cli("preset", "save", "--model", prefix, "--out", tmp_path / "cli")
    assert code == 0, err
    assert out.strip() == f"wrote {tmp_path / 'cli'}" and folder.is_preset(tmp_path / "cli")
    assert read(tmp_path / "cli" / "config.json")["class_names"] == NAMES
    (tmp_path / "in").mkdir()
    cv2.imwrite(str(tmp_path / "in" / "a.png"), cv2.imread(str(image)))
    code, _, err = run_cli("predict", "--model", tmp_path / "cli", "--input_path", tmp_path / "in",
                           "--output_path", tmp_path / "out")
    assert code == 0, err
    written = cv2.imread(str(tmp_path / "out" / "a.png"), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(written, predict(model, inp=str(image)))


# ------------------------------------------------------------------ overwriting, atomic writes
def test_a_folder_of_other_files_is_kept_unless_overwrite(trained, tmp_path):
    model, _, _ = trained
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(PresetError) as raised:
        save_preset(model, target)
    one_line_error(raised, str(target), "overwrite=True")
    assert os.listdir(target) == ["notes.txt"]
    save_preset(model, target, overwrite=True)
    assert set(os.listdir(target)) == PRESET_FILES
    (tmp_path / "file").write_text("x")
    with pytest.raises(PresetError) as raised:
        save_preset(model, tmp_path / "file", overwrite=True)
    one_line_error(raised, "a file is in the way")


def test_an_existing_preset_is_replaced_whole_and_a_failed_write_leaves_it_intact(trained, tmp_path, monkeypatch):
    from keras_segmentation.presets import save as save_module

    model, _, _ = trained
    target = tmp_path / "preset"
    save_preset(model, target)
    save_preset(model, target, class_names=["a", "b", "c"])  # a preset is replaced without overwrite=
    assert read(target / "config.json")["class_names"] == ["a", "b", "c"]
    before = {name: (target / name).read_bytes() for name in os.listdir(target)}

    def full_disk(model, config, path, preset_dir):
        with open(path, "wb") as handle:
            handle.write(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(save_module, "_write_weights", full_disk)
    with pytest.raises(OutputWriteError) as raised:
        save_preset(model, target, class_names=["x", "y", "z"])
    one_line_error(raised, str(target), "free disk space")
    assert {name: (target / name).read_bytes() for name in os.listdir(target)} == before
    assert os.listdir(tmp_path) == ["preset"]  # no temporary folder left behind


# ------------------------------------------------------------------ bad inputs
def test_bad_sources_and_arguments_give_one_line_errors(trained, tmp_path):
    model, _, _ = trained
    with pytest.raises(PresetError) as raised:
        from_preset(tmp_path / "missing")
    one_line_error(raised, str(tmp_path / "missing"), "not found")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.json").write_text("{}")
    with pytest.raises(PresetError) as raised:
        from_preset(tmp_path / "other")
    one_line_error(raised, str(tmp_path / "other"), "not a keras-segmentation preset", "model.weights.h5")
    with pytest.raises(PresetError) as raised:
        save_preset(model, tmp_path / "p", class_names=["one", "two"])
    one_line_error(raised, "2 names for a model of 3 classes")
    with pytest.raises(PresetError) as raised:
        save_preset(types.SimpleNamespace(path="model.onnx"), tmp_path / "p")
    one_line_error(raised, "model.onnx", "not a keras-segmentation model")
    with pytest.raises(PresetError) as raised:
        save_preset(model, tmp_path / "p", run_folder=tmp_path / "other")
    one_line_error(raised, "not a fit run folder")
    assert not (tmp_path / "p").exists()


def test_a_damaged_preset_names_its_file(trained, tmp_path):
    model, _, _ = trained
    preset = save_preset(model, tmp_path / "preset")
    with open(os.path.join(preset, "config.json"), "w") as handle:
        handle.write('{"model_class": "unet_mini"')
    with pytest.raises(PresetError) as raised:
        from_preset(preset)
    one_line_error(raised, os.path.join(preset, "config.json"), "not valid JSON")


def test_cli_errors_are_one_line(run_cli, tmp_path):
    code, _, err = run_cli("preset", "save", "--model", tmp_path / "missing", "--out", tmp_path / "out")
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "missing" in err
    code, _, err = run_cli("preset", "push", "--preset", tmp_path, "--repo", "org/name")
    assert code == 2 and "not a keras-segmentation preset" in err and err.count("\n") == 1


# ------------------------------------------------------------------ the Hugging Face Hub, offline
def fake_hub(monkeypatch, **functions):
    """A stand-in ``huggingface_hub`` module holding ``functions``."""
    module = types.ModuleType("huggingface_hub")
    for name, value in functions.items():
        setattr(module, name, value)
    monkeypatch.setitem(sys.modules, "huggingface_hub", module)


def test_hf_sources_without_huggingface_hub_or_network_give_one_line_errors(monkeypatch):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # not installed
    with pytest.raises(PresetError) as raised:
        from_preset("hf://my-org/roads")
    one_line_error(raised, "hf://my-org/roads", "huggingface_hub", "pip install 'keras-segmentation[hub]'")

    def offline(repo_id):
        raise OSError(f"Max retries exceeded with url: /api/models/{repo_id}\n(Caused by Network is unreachable)")

    fake_hub(monkeypatch, snapshot_download=offline)
    with pytest.raises(PresetError) as raised:
        from_preset("hf://my-org/roads")
    one_line_error(raised, "hf://my-org/roads", "download failed", "Network is unreachable")
    with pytest.raises(PresetError) as raised:
        from_preset("hf://roads")
    one_line_error(raised, "hf://roads", "org/name")


def test_hf_sources_load_the_downloaded_folder_and_refuse_one_that_is_no_preset(trained, tmp_path, monkeypatch):
    model, _, image = trained
    save_preset(model, tmp_path / "snapshots" / "roads")
    (tmp_path / "snapshots" / "other").mkdir()
    fake_hub(monkeypatch, snapshot_download=lambda repo_id: str(tmp_path / "snapshots" / repo_id.split("/")[1]))
    np.testing.assert_array_equal(probabilities(from_preset("hf://my-org/roads"), image)[1],
                                  probabilities(model, image)[1])
    with pytest.raises(PresetError) as raised:
        from_preset("hf://my-org/other")
    one_line_error(raised, "hf://my-org/other", "not a keras-segmentation preset")


def test_push_to_hub_uploads_the_folder_or_fails_in_one_line_naming_the_repo(trained, tmp_path, monkeypatch):
    model, _, _ = trained
    preset = save_preset(model, tmp_path / "roads")
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(PresetError) as raised:
        push_to_hub(preset, "my-org/roads")
    one_line_error(raised, "my-org/roads", "pip install 'keras-segmentation[hub]'")
    calls = []

    class Api:
        def __init__(self, token=None):
            calls.append(("token", token))

        def create_repo(self, repo_id, private=False, exist_ok=False):
            calls.append(("create", repo_id, private, exist_ok))
            return f"https://huggingface.co/{repo_id}"

        def upload_folder(self, repo_id, folder_path, commit_message):
            calls.append(("upload", repo_id, folder_path))

    fake_hub(monkeypatch, HfApi=Api)
    assert push_to_hub(preset, "my-org/roads", private=True) == "https://huggingface.co/my-org/roads"
    assert calls == [("token", None), ("create", "my-org/roads", True, True), ("upload", "my-org/roads", preset)]

    class OfflineApi(Api):
        def create_repo(self, repo_id, **options):
            raise ConnectionError("Failed to resolve 'huggingface.co'\n[Errno -3] Temporary failure in name resolution")

    fake_hub(monkeypatch, HfApi=OfflineApi)
    with pytest.raises(PresetError) as raised:
        push_to_hub(preset, "my-org/roads")
    one_line_error(raised, "push_to_hub my-org/roads", "upload failed", "Temporary failure in name resolution")
    with pytest.raises(PresetError) as raised:
        push_to_hub(tmp_path, "my-org/roads")
    one_line_error(raised, str(tmp_path), "not a keras-segmentation preset")
