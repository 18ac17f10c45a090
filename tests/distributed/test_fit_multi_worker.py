"""``fit(distribute="multi_worker")``: 2 worker processes on 127.0.0.1 train one plan, stop at the same epoch (by
epochs and by a budget), only the chief writes the run folder, and a killed run resumes."""

import json
import os
import pathlib
import time

import keras
import numpy as np
import pytest
from cluster import finish, start_cluster
from tinydata import write_tiny_dataset

from keras_segmentation.autofit import fit
from keras_segmentation.autofit import run as fit_module
from keras_segmentation.checkpoints.names import list_checkpoints
from keras_segmentation.errors import ModelConfigError
from keras_segmentation.inference import predict
from keras_segmentation.training import distribute, runner
from keras_segmentation.training.distribute import Replication

FIT_WORKER = pathlib.Path(__file__).with_name("fit_worker.py")
#: a tiny plan: U-Net mini at 64x64, 2 images per replica, no flip TTA to choose, no early stop
SETTINGS = ["architecture=unet_mini", "batch_size=2", "flip_tta=false", "patience=1000"]
#: what the chief writes in a run folder of a run without a budget
RUN_FILES = ["best.json", "best.weights.h5", "checkpoints", "data", "fingerprint.json", "model.keras", "plan.json",
             "predict.json", "report", "run.json", "split.json", "summary.json"]


@pytest.fixture
def dataset(tmp_path):
    return [str(p) for p in write_tiny_dataset(tmp_path / "data", n_images=12)]


def run_cluster(tmp_path, dataset, name, die_at_epoch=None, **options):
    """Start 2 fit workers on ``tmp_path / "run"``; each gets its own temporary folder ``tmp_path / name-i``."""
    images, masks = dataset
    for i in range(2):
        (tmp_path / f"{name}-{i}").mkdir()

    def spec_for(i):
        return dict(images=images, masks=masks, out=str(tmp_path / "run"), record=str(tmp_path / f"{name}-{i}.json"),
                    settings=SETTINGS, die_at_epoch=die_at_epoch if i == 1 else None, **options)

    return start_cluster(FIT_WORKER, spec_for, env_for=lambda i: {
        "KERAS_HOME": str(tmp_path / "keras_home"), "TMPDIR": str(tmp_path / f"{name}-{i}")})


def records(tmp_path, name, workers, timeout=400):
    """Each worker's record once it has ended well."""
    for process in workers:
        code, output = finish(process, timeout)
        assert code == 0, output[-3000:]
    return [json.loads((tmp_path / f"{name}-{i}.json").read_text()) for i in range(2)]


def assert_in_step(chief, other):
    """Both workers saw the same epochs, validation scores, learning rates and weights, and ended the same way."""
    assert "error" not in chief and "error" not in other, (chief.get("error"), other.get("error"))
    assert other["summary"] == chief["summary"]  # the chief's summary, on every worker
    assert other["epochs_seen"] == chief["epochs_seen"]
    validated = [seen for seen in chief["epochs_seen"] if seen["val_mean_iou"] >= 0]
    assert validated[-1]["epoch"] + 1 == chief["summary"]["epochs"]


@pytest.mark.slow  # two TensorFlow processes training: about a minute on 2 cores
def test_two_workers_fit_one_plan_for_some_epochs(tmp_path, dataset):
    workers = run_cluster(tmp_path, dataset, "epochs", epochs=2)
    chief, other = records(tmp_path, "epochs", workers)
    assert_in_step(chief, other)
    run = tmp_path / "run"
    assert chief["summary"]["epochs"] == 2 and chief["summary"]["run_folder"] == str(run)
    assert len({seen["weights"] for seen in chief["epochs_seen"]}) == 2, "training changed nothing"
    # Only the chief wrote: one run folder with one set of checkpoints; the other worker's folder is gone.
    assert sorted(os.listdir(run)) == RUN_FILES
    assert sorted(os.listdir(run / "checkpoints")) == ["model.00002.weights.h5", "model.keras", "model_config.json",
                                                       "model_history.json"]
    assert os.listdir(tmp_path / "epochs-1") == []
    plan = json.loads((run / "plan.json").read_text())
    assert plan["architecture"]["value"] == "unet_mini" and plan["batch_size"]["value"] == 2
    # The run folder's model predicts.
    labels = predict(model=str(run), inp=str(pathlib.Path(dataset[0]) / "img_000.png"))
    assert labels.shape == (32, 48) and set(np.unique(labels)) <= {0, 1, 2}


@pytest.mark.slow
def test_two_workers_stop_at_the_same_epoch_by_the_chiefs_clock(tmp_path, dataset):
    workers = run_cluster(tmp_path, dataset, "budget", budget="60s", min_probe_s=1.0)  # a probe of 3 % of 60 s
    chief, other = records(tmp_path, "budget", workers)
    assert_in_step(chief, other)  # equal learning rates and weights: the cosine followed shared figures only
    probe = json.loads((tmp_path / "run" / "run.json").read_text())["probe"]
    assert probe["images_per_second"] > 0  # the chief probed, and its plan trained on both workers
    validated = [s for s in chief["epochs_seen"] if s["val_mean_iou"] >= 0]
    every = chief["epochs_seen"][len(validated):]  # then the last quarter on every image, without validation
    assert every and chief["summary"]["epochs_on_every_image"] == len(every)
    for seen, state in ((validated, "budget.json"), (every, "budget_all_images.json")):
        assert seen[-1]["stop"] and not any(s["stop"] for s in seen[:-1])
        assert len({s["learning_rate"] for s in seen}) == len(seen), "the cosine over the time did not move"
        budget = json.loads((tmp_path / "run" / state).read_text())  # written by the chief
        assert budget["stopped_by_budget"] and len(budget["epoch_seconds"]) == len(seen)
        assert budget["spent_s"] <= budget["budget_s"] + max(budget["epoch_seconds"])
    assert len(validated) >= 2


@pytest.mark.slow
def test_a_killed_multi_worker_fit_resumes_from_the_chiefs_run_folder(tmp_path, dataset):
    run = tmp_path / "run"
    workers = run_cluster(tmp_path, dataset, "killed", die_at_epoch=0, epochs=3)
    code, _ = finish(workers[1], 400)
    assert code == 17  # worker 1 died at the end of epoch 1
    deadline = time.monotonic() + 60
    while not (run / "best.json").exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(2)
    workers[0].kill()  # the chief waits for its peer forever: kill it as a scheduler would
    finish(workers[0])
    assert [epoch for epoch, _ in list_checkpoints(run / "checkpoints" / "model")] == [1]
    assert not (run / "summary.json").exists()

    chief, other = records(tmp_path, "resumed", run_cluster(tmp_path, dataset, "resumed", epochs=3))
    assert_in_step(chief, other)
    # resumed after epoch 1: the second of the 2 validated epochs, then the last quarter's 1 on every image
    assert [seen["epoch"] for seen in chief["epochs_seen"]] == [1, 0]
    assert chief["summary"]["epochs"] == 2 and chief["summary"]["epochs_on_every_image"] == 1
    assert [epoch for epoch, _ in list_checkpoints(run / "checkpoints" / "model")] == [2]
    assert [epoch for epoch, _ in list_checkpoints(run / "checkpoints" / "all_images")] == [1]


# ------------------------------------------------------------------ what is refused, and the command's flag (fast)
def test_fit_on_several_jax_processes_is_a_one_line_error_before_any_work(tmp_path, dataset, monkeypatch):
    several = Replication(keras.distribution.DataParallel(devices=["cpu:0"]), replicas=2, worker=0, workers=2)
    monkeypatch.setattr(distribute, "resolve", lambda given: several)
    with pytest.raises(ModelConfigError, match=r"^distribute=.*: fit on several JAX processes is not supported") as raised:
        fit(*dataset, epochs=1, out=tmp_path / "run", distribute=several.engine, verbose=False)
    assert "\n" not in str(raised.value) and not (tmp_path / "run").exists()
    with pytest.raises(ModelConfigError, match=r"^budget= on several JAX processes: each would stop by its own clock"):
        runner.time_budget("60s", None, None, None, False, replication=several)  # train(budget=...) likewise


def test_the_fit_command_hands_distribute_to_fit(monkeypatch, run_cli, tmp_path):
    given = {}
    monkeypatch.setattr(fit_module, "fit", lambda *args, **kwargs: given.update(kwargs))
    code, _, _ = run_cli("fit", "--images", "i", "--masks", "m", "--distribute", "multi_worker")
    assert code == 0 and given["distribute"] == "multi_worker"
    code, _, err = run_cli("fit", "--images", "i", "--masks", "m", "--distribute", "everywhere")
    assert code == 2 and "multi_worker" in err
