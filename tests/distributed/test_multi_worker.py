"""Data-parallel training: 2 worker processes on 127.0.0.1 (MultiWorkerMirroredStrategy), kill and resume."""

import os
import pathlib
import sys
import time

import numpy as np
import pytest
from cluster import finish, start, start_cluster
from tinydata import write_tiny_dataset

WORKER = pathlib.Path(__file__).with_name("worker.py")
#: 3 SGD steps in float32 (12 pairs, global batch 4): the order of the gradient sums is the only difference
TOLERANCE = 1e-5


def weights(path):
    with np.load(path) as data:
        return [data[k] for k in sorted((k for k in data.files if k.startswith("arr_")), key=lambda k: int(k[4:]))]


@pytest.fixture
def dataset(tmp_path):
    return write_tiny_dataset(tmp_path / "data", n_images=12)


def test_two_workers_end_equal_to_one_process_with_the_same_global_batch(tmp_path, dataset):
    images, masks = (str(p) for p in dataset)
    common = dict(images=images, masks=masks, epochs=1)  # 3 steps: 12 pairs, 2 workers x batch 2

    def spec_for(i):
        return dict(common, batch_size=2, distribute="multi_worker", out=str(tmp_path / f"w{i}.npz"),
                    checkpoints_path=str(tmp_path / "ck" / "run"))

    workers = start_cluster(WORKER, spec_for)
    single = start(WORKER, dict(common, batch_size=4, distribute=None, out=str(tmp_path / "single.npz")))
    for process in [*workers, single]:
        code, output = finish(process)
        assert code == 0, output[-3000:]
    w0, w1, one = weights(tmp_path / "w0.npz"), weights(tmp_path / "w1.npz"), weights(tmp_path / "single.npz")
    assert all(np.array_equal(a, b) for a, b in zip(w0, w1)), "the workers' weights differ"
    assert max(float(np.abs(a - b).max()) for a, b in zip(w0, one)) < TOLERANCE
    start_weights = weights_of_the_untrained_model(tmp_path)
    assert max(float(np.abs(a - b).max()) for a, b in zip(w0, start_weights)) > 1e-3, "training changed nothing"
    # Only the chief wrote checkpoints.
    assert sorted(os.listdir(tmp_path / "ck")) == ["run.00001.weights.h5", "run.keras", "run_config.json", "run_history.json"]


def weights_of_the_untrained_model(tmp_path):
    sys.path.insert(0, str(WORKER.parent))
    try:
        from worker import tiny_model
    finally:
        sys.path.pop(0)
    return tiny_model().get_weights()


@pytest.mark.slow  # > 20 s: in CI's slow stage, keeping make test under 12 minutes
def test_a_killed_worker_leaves_loadable_checkpoints_and_a_restart_resumes(tmp_path, dataset):
    images, masks = (str(p) for p in dataset)
    prefix = tmp_path / "ck" / "run"
    common = dict(images=images, masks=masks, epochs=3, batch_size=2, distribute="multi_worker",
                  checkpoints_path=str(prefix))

    workers = start_cluster(WORKER, lambda i: dict(common, out=str(tmp_path / f"a{i}.npz"), die_at_epoch=1 if i == 1 else None))
    code, _ = finish(workers[1])
    assert code == 17  # died when epoch 2 began
    deadline = time.monotonic() + 60
    while not (prefix.parent / "run.00001.weights.h5").exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(2)
    workers[0].kill()  # the chief now waits forever for its peer: kill it as a scheduler would
    finish(workers[0])

    from keras_segmentation.checkpoints.load import load_model_from_checkpoint
    from keras_segmentation.checkpoints.names import list_checkpoints

    assert [epoch for epoch, _ in list_checkpoints(prefix)] == [1]
    assert not [name for name in os.listdir(prefix.parent) if name.startswith(".tmp-")]
    model = load_model_from_checkpoint(prefix)
    assert model.model_name == "tiny"

    restarted = start_cluster(WORKER, lambda i: dict(common, out=str(tmp_path / f"b{i}.npz"), resume=True))
    for process in restarted:
        code, output = finish(process)
        assert code == 0, output[-3000:]
    with np.load(tmp_path / "b0.npz") as data:
        assert int(data["epochs_run"]) == 2  # epochs 2 and 3: resumed after epoch 1
    assert [epoch for epoch, _ in list_checkpoints(prefix)] == [1, 2, 3]
    b0, b1 = weights(tmp_path / "b0.npz"), weights(tmp_path / "b1.npz")
    assert all(np.array_equal(a, b) for a, b in zip(b0, b1))
