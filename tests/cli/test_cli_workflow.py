"""The CLI end to end on tiny data: train (legacy name and decoder + encoder), predict, evaluate_model, video."""

import json
import os

import cv2
import numpy as np

from keras_segmentation.cli import main
from keras_segmentation.predict import evaluate, model_from_checkpoint_path, predict_multiple, predict_video


def test_train_predict_evaluate_from_the_command_line(tmp_path, tiny_dataset, capsys):
    images, masks = (str(p) for p in tiny_dataset)
    ckpt = str(tmp_path / "ckpt" / "mini")
    assert main(["train", "--model_name", "unet_mini", "--n_classes", "3", "--input_height", "32", "--input_width", "48",
                 "--train_images", images, "--train_annotations", masks, "--val_images", images,
                 "--val_annotations", masks, "--checkpoints_path", ckpt, "--epochs", "2", "--batch_size", "3",
                 "--loss", "ce+dice", "--class_weights", "median_frequency", "--seed", "1"]) == 0
    assert os.path.isfile(ckpt + ".00002.weights.h5") and os.path.isfile(ckpt + ".keras")

    out_dir = tmp_path / "preds"
    assert main(["predict", "--checkpoints_path", ckpt, "--input_path", images, "--output_path", str(out_dir)]) == 0
    assert sorted(os.listdir(out_dir)) == sorted(os.listdir(images))
    single = tmp_path / "one.png"
    assert main(["predict", "--checkpoints_path", ckpt, "--input_path", os.path.join(images, "img_000.png"),
                 "--output_path", str(single), "--overlay_img"]) == 0
    assert cv2.imread(str(single)).shape == (32, 48, 3)

    report = tmp_path / "scores.json"
    capsys.readouterr()
    assert main(["evaluate_model", "--checkpoints_path", ckpt, "--images_path", images, "--segs_path", masks,
                 "--class_names", "a,b,c", "--json", str(report)]) == 0
    printed = capsys.readouterr().out
    scores = json.loads(report.read_text())
    assert "mIoU" in printed and "| b " in printed.replace("|b", "| b")
    assert 0 <= scores["mean_IU"] <= 1 and len(scores["class_wise_IU"]) == 3

    # --flip_tta reaches the library: same confusion matrix / label maps as the API with flip_tta=True.
    flipped = tmp_path / "flipped.json"
    assert main(["evaluate_model", "--checkpoints_path", ckpt, "--images_path", images, "--segs_path", masks,
                 "--flip_tta", "--json", str(flipped)]) == 0
    expected = evaluate(checkpoints_path=ckpt, inp_images_dir=images, annotations_dir=masks, flip_tta=True, progress=False)
    assert json.loads(flipped.read_text())["confusion_matrix"] == np.asarray(expected["confusion_matrix"]).tolist()
    flipped_dir = tmp_path / "flipped"
    assert main(["predict", "--checkpoints_path", ckpt, "--input_path", images, "--output_path", str(flipped_dir),
                 "--flip_tta"]) == 0
    names = sorted(os.listdir(images))
    api = predict_multiple(checkpoints_path=ckpt, inps=[os.path.join(images, n) for n in names], flip_tta=True, progress=False)
    for name, labels in zip(names, api):
        np.testing.assert_array_equal(cv2.imread(str(flipped_dir / name), cv2.IMREAD_UNCHANGED), labels)


def test_decoder_on_an_encoder_trains_and_reloads_from_its_checkpoint(tmp_path, tiny_dataset):
    images, masks = (str(p) for p in tiny_dataset)
    ckpt = str(tmp_path / "ckpt" / "unet_vgg")
    assert main(["train", "--model_name", "unet", "--encoder", "vgg16", "--n_classes", "3", "--input_height", "32",
                 "--input_width", "64", "--train_images", images, "--train_annotations", masks,
                 "--checkpoints_path", ckpt, "--epochs", "1", "--batch_size", "2"]) == 0
    model = model_from_checkpoint_path(ckpt)
    assert model.build_config["builder"] == "build_model" and model.input_width == 64
    assert model.output_height == 32, "build_model defaults to full-resolution output"


def test_predict_video_writes_every_frame(tmp_path):
    import keras

    from keras_segmentation.models.segmentation_model import SegmentationModel

    x = keras.Input((32, 48, 3))
    model = SegmentationModel(x, keras.layers.Conv2D(3, 1, activation="softmax")(x), normalization="divide")
    source = tmp_path / "in.avi"
    writer = cv2.VideoWriter(str(source), cv2.VideoWriter_fourcc(*"MJPG"), 5, (64, 40))
    for i in range(5):
        writer.write(np.full((40, 64, 3), 40 * i, np.uint8))
    writer.release()
    out = tmp_path / "out.avi"
    assert predict_video(model, inp=str(source), output=str(out)) == 5
    capture = cv2.VideoCapture(str(out))
    frames = 0
    while capture.read()[0]:
        frames += 1
    assert frames == 5


def test_predict_shards_and_skip_existing_from_the_command_line(tmp_path, run_cli):
    """--shard K/N over N runs writes what one run writes; --skip_existing leaves finished files alone."""
    from keras_segmentation.checkpoints.config import write_config
    from keras_segmentation.checkpoints.weights import save_checkpoint
    from keras_segmentation.models.unet import unet_mini

    images = tmp_path / "imgs"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(5):
        cv2.imwrite(str(images / f"{i}.png"), rng.integers(0, 255, (32, 32, 3), dtype=np.uint8))
    model = unet_mini(3, 32, 32)
    write_config(tmp_path / "ck", model)
    save_checkpoint(model, tmp_path / "ck", 1)
    common = ["predict", "--checkpoints_path", str(tmp_path / "ck"), "--input_path", str(images)]
    assert run_cli(*common, "--output_path", str(tmp_path / "one"))[0] == 0
    for k in (1, 2, 3):
        code, out, _ = run_cli(*common, "--output_path", str(tmp_path / "shards"), "--shard", f"{k}/3")
        assert code == 0 and f"wrote {2 if k < 3 else 1} prediction(s)" in out
    for name in os.listdir(tmp_path / "one"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "shards" / name).read_bytes()
    assert len(os.listdir(tmp_path / "shards")) == 5
    (tmp_path / "shards" / "3.png").unlink()
    code, out, _ = run_cli(*common, "--output_path", str(tmp_path / "shards"), "--skip_existing")
    assert code == 0 and "wrote 1 prediction(s)" in out and "kept 4 existing" in out
    code, _, err = run_cli(*common, "--output_path", str(tmp_path / "x"), "--shard", "4/3")
    assert code == 2 and "K must be between 1 and N" in err
