"""The demo job end to end (tiny sizes): data, previews, training, evaluation, predictions."""

import os

from keras_segmentation.cli import main
from keras_segmentation.demo import run_demo


def test_data_only_demo_generates_verifies_and_previews(tmp_path):
    lines = []
    run = run_demo(tmp_path / "demo", n_train=4, n_test=2, height=48, width=48, train=False, log=lines.append)
    assert run.train_report and run.train_report.n_pairs == 4
    assert len(os.listdir(run.visualize_dir)) == 4
    assert run.scores == {} and len(lines) == 3


def test_demo_trains_evaluates_and_writes_predictions(tmp_path, capsys):
    status = main(["demo", "--out_dir", str(tmp_path / "demo"), "--n_train", "16", "--n_test", "4",
                   "--height", "64", "--width", "64", "--epochs", "2"])
    out = capsys.readouterr().out
    assert status == 0
    assert "test mIoU:" in out and "mIoU" in out
    assert sorted(os.listdir(tmp_path / "demo" / "predictions")) == [f"demo_{i:05d}.png" for i in range(4)]
    assert os.path.isfile(tmp_path / "demo" / "checkpoints" / "unet_mini.00002.weights.h5")
