"""train(distribute=...) in one process, the sharded batch stream, the CLI flag, and JAX DataParallel."""

import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from tinydata import write_tiny_dataset

from keras_segmentation.data.loader import SegmentationDataset
from keras_segmentation.data.pairing import get_pairs_from_paths
from keras_segmentation.errors import ModelConfigError
from keras_segmentation.training.distribute import ShardedBatches, resolve, steps_per_epoch

WORKER = pathlib.Path(__file__).with_name("worker.py")


@pytest.fixture
def dataset(tmp_path):
    images, masks = write_tiny_dataset(tmp_path / "data", n_images=7)
    pairs = get_pairs_from_paths(images, masks)
    return SegmentationDataset(pairs, 1, 3, (32, 48), (32, 48), "divide", seed=5, workers=1)


def test_two_workers_read_disjoint_slices_that_make_up_each_global_batch(dataset):
    steps = 2  # 7 pairs, global batch 4 (2 workers x 2 replicas x 1): the last step pads with 1 pair
    workers = [ShardedBatches(dataset, 1, 4, w, 2, steps) for w in (0, 1)]
    for epoch in (0, 1):
        seen = []
        for step in range(steps):
            element = (epoch * steps + step) * 2
            for batches in workers:
                for replica in (0, 1):
                    seen += [k for _, k in batches.positions(element + replica)]
        assert sorted(seen) == list(range(8))  # every place of the padded epoch exactly once
        order = dataset.order(epoch)
        assert {order[k % 7] for k in seen} == set(range(7))  # every pair at least once per epoch
    assert dataset.order(0).tolist() != dataset.order(1).tolist()


def test_batches_equal_the_single_process_batches_and_validation_pads_with_ignored_blanks(dataset):
    one = ShardedBatches(dataset, 4, 1, 0, 1, steps=2)
    halves = [ShardedBatches(dataset, 2, 2, w, 2, steps=2) for w in (0, 1)]
    images, masks = one.element(0)
    np.testing.assert_array_equal(np.concatenate([h.element(0)[0] for h in halves]), images)
    np.testing.assert_array_equal(np.concatenate([h.element(0)[1] for h in halves]), masks)
    padded = ShardedBatches(dataset, 4, 1, 0, 1, steps=2, blank_label=9)
    _, last = padded.element(1)  # places 4..7 of 7 pairs: the 8th is blank
    assert (last[3] == 9).all() and not (last[2] == 9).any()


def test_steps_cover_the_pairs_once_per_global_batch():
    class Two:
        replicas = 2

    assert steps_per_epoch(7, 2, Two()) == 2 and steps_per_epoch(8, 2, Two()) == 2 and steps_per_epoch(9, 2, Two()) == 3


def test_unknown_distribute_values_are_one_line_errors():
    with pytest.raises(ModelConfigError, match="distribute='ring'"):
        resolve("ring")
    with pytest.raises(ModelConfigError, match="tf.distribute.Strategy"):
        resolve(42)


def test_mirrored_training_gives_the_model_its_weights_and_writes_checkpoints(tmp_path):
    import keras

    from keras_segmentation.checkpoints.names import list_checkpoints
    from keras_segmentation.training import train

    sys.path.insert(0, str(WORKER.parent))
    try:
        from worker import tiny_model
    finally:
        sys.path.pop(0)
    images, masks = write_tiny_dataset(tmp_path / "data", n_images=4)
    model = tiny_model()
    before = model.get_weights()
    history = train(model, images, masks, epochs=2, batch_size=2, seed=1, verbose=0, jit_compile=False,
                    distribute="mirrored", checkpoints_path=str(tmp_path / "ck" / "run"),
                    val_images=images, val_annotations=masks)
    assert len(history.history["val_mean_iou"]) == 2
    assert max(float(np.abs(a - b).max()) for a, b in zip(before, model.get_weights())) > 1e-4
    assert [epoch for epoch, _ in list_checkpoints(tmp_path / "ck" / "run")] == [1, 2]
    assert isinstance(model, keras.Model) and getattr(model, "optimizer", None) is None  # a compiled copy trained


def test_cli_train_distribute(tmp_path, run_cli):
    images, masks = write_tiny_dataset(tmp_path / "data", n_images=4)
    code, _, err = run_cli("train", "--model_name", "unet_mini", "--n_classes", "3", "--input_height", "32",
                           "--input_width", "48", "--train_images", images, "--train_annotations", masks,
                           "--epochs", "1", "--distribute", "mirrored", "--checkpoints_path", tmp_path / "ck")
    assert code == 0, err
    assert (tmp_path / "ck.00001.weights.h5").exists()
    code, _, err = run_cli("train", "--model_name", "unet_mini", "--n_classes", "3", "--train_images", images,
                           "--train_annotations", masks, "--distribute", "ring")
    assert code == 2 and "distribute='ring'" in err


@pytest.mark.slow  # > 20 s: in CI's slow stage, keeping make test under 12 minutes
@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="JAX is not installed (pip install .[jax])")
def test_jax_data_parallel_over_two_virtual_devices_equals_one_device(tmp_path):
    images, masks = write_tiny_dataset(tmp_path / "data", n_images=8)
    env = dict(os.environ, KERAS_BACKEND="jax", XLA_FLAGS="--xla_force_host_platform_device_count=2")
    outputs = {}
    # One reader thread on one device: with several, Keras on JAX hands fit() the second batch first.
    for name, distribute, batch in (("two", "mirrored", 2), ("one", None, 4)):
        spec = dict(images=str(images), masks=str(masks), epochs=1, batch_size=batch, distribute=distribute,
                    out=str(tmp_path / f"{name}.npz"), workers=1)
        run = subprocess.run([sys.executable, str(WORKER), json.dumps(spec)], env=env, capture_output=True, text=True,
                             timeout=300)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        with np.load(spec["out"]) as data:
            outputs[name] = [data[k] for k in data.files if k.startswith("arr_")]
    assert max(float(np.abs(a - b).max()) for a, b in zip(outputs["one"], outputs["two"])) < 1e-5
