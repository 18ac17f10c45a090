"""Training: the tutorial's code, resuming (in process, after SIGKILL and after SIGINT), NaN, arguments."""

import os
import signal
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from keras_segmentation.checkpoints.names import list_checkpoints
from keras_segmentation.checkpoints.weights import read_interrupted
from keras_segmentation.errors import DataLoaderError, ModelConfigError, OutputWriteError, TrainingError
from keras_segmentation.models.segmentation_model import SegmentationModel
from keras_segmentation.train import train

SEED = 11


def small_net(n_classes=3, seed=SEED):
    """A seeded 2-level conv net with dropout (dropout exercises RNG state on resume)."""
    keras.utils.set_random_seed(seed)
    x = keras.Input((32, 48, 3))
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    h = keras.layers.Dropout(0.2)(h)
    h = keras.layers.MaxPooling2D()(h)
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(h)
    h = keras.layers.UpSampling2D()(h)
    y = keras.layers.Softmax()(keras.layers.Conv2D(n_classes, 1)(h))
    return SegmentationModel(x, y, model_name="", normalization="divide")


def weights_of(model):
    return [np.array(w) for w in model.get_weights()]


def assert_same_weights(a, b):
    assert len(a) == len(b)
    for wa, wb in zip(a, b):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)


def run_training(data, prefix, epochs, resume=False, **kwargs):
    model = small_net()
    train(model, *data, checkpoints_path=str(prefix), epochs=epochs, batch_size=2, seed=SEED,
          auto_resume_checkpoint=resume, verbose=0, workers=2, **kwargs)
    return model


def test_resume_continues_at_the_right_epoch_with_identical_weights(tmp_path, tiny_dataset):
    straight = run_training(tiny_dataset, tmp_path / "a" / "run", epochs=3)
    run_training(tiny_dataset, tmp_path / "b" / "run", epochs=1)
    history_epochs = []

    class Record(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            history_epochs.append(epoch)

    resumed = run_training(tiny_dataset, tmp_path / "b" / "run", epochs=3, resume=True, callbacks=[Record()])
    assert history_epochs == [1, 2], "resumed after the completed epoch 1"
    assert [e for e, _ in list_checkpoints(tmp_path / "b" / "run")] == [1, 2, 3]
    assert_same_weights(weights_of(resumed), weights_of(straight))
    assert (tmp_path / "b" / "run.keras").is_file()


def test_corrupt_last_checkpoint_is_skipped_on_resume(tmp_path, tiny_dataset):
    straight = run_training(tiny_dataset, tmp_path / "a" / "run", epochs=2)
    prefix = tmp_path / "b" / "run"
    run_training(tiny_dataset, prefix, epochs=1)
    (tmp_path / "b" / "run.00002.weights.h5").write_bytes(b"truncated")
    with pytest.warns(UserWarning, match=r"run\.00002\.weights\.h5.*skipping"):
        resumed = run_training(tiny_dataset, prefix, epochs=2, resume=True)
    assert_same_weights(weights_of(resumed), weights_of(straight))


SCRIPT = textwrap.dedent(
    """
    import sys, time, keras
    sys.path.insert(0, {tests!r})
    from test_train import small_net, SEED
    from keras_segmentation.train import train

    class Slow(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            print("step", flush=True)
            time.sleep({delay})

    model = small_net()
    train(model, {images!r}, {masks!r}, checkpoints_path={prefix!r}, epochs={epochs}, batch_size=2,
          seed=SEED, auto_resume_checkpoint=True, verbose=0, workers=2, callbacks=[Slow()])
    print("done", flush=True)
    """
)


def start_script(tiny_dataset, prefix, epochs, delay):
    code = SCRIPT.format(tests=os.path.dirname(__file__), images=str(tiny_dataset[0]), masks=str(tiny_dataset[1]),
                         prefix=str(prefix), epochs=epochs, delay=delay)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def wait_for_steps(process, n_steps):
    seen = 0
    while seen < n_steps:
        line = process.stdout.readline()
        if not line:
            raise AssertionError(f"training process ended early: {process.stderr.read()[-2000:]}")
        seen += line.startswith("step")


def test_sigkill_at_a_random_step_then_resume_matches_an_uninterrupted_run(tmp_path, tiny_dataset):
    straight = run_training(tiny_dataset, tmp_path / "a" / "run", epochs=3)
    prefix = tmp_path / "b" / "run"
    kill_after = int(np.random.default_rng().integers(2, 8))  # 3 steps per epoch, 9 in all
    process = start_script(tiny_dataset, prefix, epochs=3, delay=0.2)
    wait_for_steps(process, kill_after)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    done = [e for e, _ in list_checkpoints(prefix)]
    assert len(done) <= 3
    resumed = run_training(tiny_dataset, prefix, epochs=3, resume=True)
    assert [e for e, _ in list_checkpoints(prefix)] == [1, 2, 3]
    assert_same_weights(weights_of(resumed), weights_of(straight))


def test_sigint_saves_a_mid_epoch_checkpoint_that_resume_continues_from(tmp_path, tiny_dataset):
    straight = run_training(tiny_dataset, tmp_path / "a" / "run", epochs=2)
    prefix = tmp_path / "b" / "run"
    process = start_script(tiny_dataset, prefix, epochs=2, delay=0.5)
    wait_for_steps(process, 4)  # epoch 2, after its first batch
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode != 0 and "done" not in out
    assert "saved" in out and "interrupted" in out
    progress = read_interrupted(prefix)
    assert progress is not None and progress[0] == 1 and 1 <= progress[1] < 3
    resumed = run_training(tiny_dataset, prefix, epochs=2, resume=True)
    assert read_interrupted(prefix) is None
    assert [e for e, _ in list_checkpoints(prefix)] == [1, 2]
    assert_same_weights(weights_of(resumed), weights_of(straight))


def test_nan_loss_stops_with_a_clear_error_and_keeps_the_last_good_checkpoint(tmp_path, tiny_dataset):
    prefix = tmp_path / "run"
    run_training(tiny_dataset, prefix, epochs=1)

    class Poison(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            for w in self.model.trainable_weights:
                w.assign(keras.ops.full(w.shape, float("nan")))

    with pytest.raises(TrainingError, match=r"NaN.*epoch 2.*run\.00001\.weights\.h5"):
        run_training(tiny_dataset, prefix, epochs=3, resume=True, callbacks=[Poison()])
    assert [e for e, _ in list_checkpoints(prefix)] == [1]


def test_steps_per_epoch_defaults_to_one_pass_and_validation_turns_itself_on(tiny_dataset):
    steps = []

    class CountSteps(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            steps.append(batch)

    history = train(small_net(), *tiny_dataset, epochs=1, batch_size=4, val_images=str(tiny_dataset[0]),
                    val_annotations=str(tiny_dataset[1]), verbose=0, seed=0, callbacks=[CountSteps()])
    assert "val_loss" in history.history and "val_mean_iou" in history.history or any(
        k.startswith("val_") and "iou" in k for k in history.history
    )
    assert steps == [0, 1]  # 6 images / batch 4


def test_user_callbacks_are_added_to_the_defaults(tmp_path, tiny_dataset):
    calls = []

    class Mine(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            calls.append(epoch)

    run_training(tiny_dataset, tmp_path / "run", epochs=2, callbacks=[Mine()])
    assert calls == [0, 1]
    assert len(list_checkpoints(tmp_path / "run")) == 2, "the default checkpoint callback still ran"


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="XLA on CPU is the TensorFlow backend's choice")
def test_training_steps_use_xla_on_a_cpu_without_onednn_and_inference_does_not(tiny_dataset, monkeypatch):
    seen = []

    class RecordJit(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append(self.model.jit_compile)

    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    model = small_net()
    train(model, *tiny_dataset, epochs=1, verbose=0, seed=0, callbacks=[RecordJit()])
    assert seen == [True], "jit_compile='auto' trains with XLA on a TensorFlow CPU without oneDNN (Keras would not)"
    assert model.jit_compile is False, "predict after train() runs without XLA, as on a freshly loaded model"
    train(small_net(), *tiny_dataset, epochs=1, verbose=0, seed=0, callbacks=[RecordJit()], jit_compile=False)
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    train(small_net(), *tiny_dataset, epochs=1, verbose=0, seed=0, callbacks=[RecordJit()])
    assert seen == [True, False, False], "with oneDNN on, 'auto' leaves XLA off (its CPU kernels are slower there)"


def test_onednn_rule_follows_tensorflow():
    from keras_segmentation.precision import onednn_enabled

    assert not onednn_enabled(flags={"avx2", "fma"}, environ={})
    assert onednn_enabled(flags={"avx512f", "avx512_vnni"}, environ={})
    assert onednn_enabled(flags={"avx2"}, environ={"TF_ENABLE_ONEDNN_OPTS": "1"})
    assert not onednn_enabled(flags={"amx_bf16"}, environ={"TF_ENABLE_ONEDNN_OPTS": "0"})


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="XLA on CPU is the TensorFlow backend's choice")
def test_a_model_xla_cannot_compile_trains_without_xla_and_says_so(tiny_dataset, monkeypatch):
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")  # where "auto" picks XLA
    class NearestUpsampling(keras.layers.Layer):
        def call(self, x):  # TensorFlow's nearest resize: XLA on CPU has no kernel for its gradient
            return keras.ops.image.resize(x, (32, 48), interpolation="nearest")

    keras.utils.set_random_seed(0)
    x = keras.Input((32, 48, 3))
    h = NearestUpsampling()(keras.layers.Conv2D(8, 3, strides=2, padding="same")(x))
    model = SegmentationModel(x, keras.layers.Softmax()(keras.layers.Conv2D(3, 1)(h)), model_name="", normalization="divide")
    with pytest.warns(UserWarning, match=r"XLA cannot compile this model's training step \(ResizeNearestNeighborGrad\)"):
        history = train(model, *tiny_dataset, epochs=2, batch_size=2, verbose=0, seed=0)
    assert len(history.history["loss"]) == 2 and model.optimizer.iterations.numpy() == 6  # 2 epochs x 6 images / 2
    assert model.jit_compile is False


def test_bad_arguments_raise_specific_errors(tiny_dataset, tmp_path):
    with pytest.raises(ModelConfigError, match="needs both val_images and val_annotations"):
        train(small_net(), *tiny_dataset, validate=True, epochs=1)
    with pytest.raises(ModelConfigError, match="unknown model name 'no_net'"):
        train("no_net", *tiny_dataset, n_classes=3)
    with pytest.raises(ModelConfigError, match="class_weights has 2 values"):
        train(small_net(), *tiny_dataset, class_weights=[1, 2], epochs=1, verbose=0)
    with pytest.raises(ModelConfigError, match=r"class_weights: class 3 is not in 0\.\.2"):
        train(small_net(), *tiny_dataset, class_weights={3: 2.0}, epochs=1, verbose=0)
    with pytest.raises(ModelConfigError, match="val_images is given without val_annotations"):
        train(small_net(), *tiny_dataset, val_images=tiny_dataset[0], epochs=1)
    with pytest.raises(ModelConfigError, match="pass optimizer_name"):
        train(small_net(), *tiny_dataset, optimizer_name=None, distribute="mirrored", epochs=1)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataLoaderError, match="empty"):
        train(small_net(), empty, tiny_dataset[1], epochs=1)


def test_output_paths_in_the_way_stop_training_before_anything_is_written(tmp_path, tiny_dataset):
    taken = tmp_path / "taken"
    taken.write_text("mine")
    prefix = str(taken / "run")
    with pytest.raises(OutputWriteError, match=f"checkpoints_path={prefix!r}: {taken} is not a folder"):
        train(small_net(), *tiny_dataset, checkpoints_path=prefix, epochs=1, verbose=0)
    (tmp_path / "ck" / "run_history.json").mkdir(parents=True)
    with pytest.raises(OutputWriteError, match="run_history.json is a folder, where training writes a file"):
        train(small_net(), *tiny_dataset, checkpoints_path=str(tmp_path / "ck" / "run"), epochs=1, verbose=0)
    assert os.listdir(tmp_path / "ck") == ["run_history.json"] and taken.read_text() == "mine"


def test_class_weights_ignore_index_and_losses_train(tiny_dataset):
    model = small_net()
    history = train(model, *tiny_dataset, epochs=2, batch_size=3, loss="ce+dice", class_weights="median_frequency",
                    ignore_index=0, learning_rate=1e-2, lr_schedule="cosine", verbose=0, seed=0)
    losses = history.history["loss"]
    assert all(np.isfinite(losses))


def test_an_interrupted_checkpoint_after_the_last_batch_resumes_at_the_next_epoch(tmp_path, tiny_dataset):
    """Ctrl-C after an epoch's last batch leaves no epoch checkpoint, only a complete interrupted one."""
    from keras_segmentation.checkpoints.weights import save_interrupted

    prefix = tmp_path / "run"
    model = run_training(tiny_dataset, prefix, epochs=1)
    save_interrupted(model, prefix, epoch=1, step=3)  # 6 pairs, batch 2: all 3 batches of epoch 2 done
    history_epochs = []

    class Record(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            history_epochs.append(epoch)

    run_training(tiny_dataset, prefix, epochs=3, resume=True, callbacks=[Record()])
    assert history_epochs == [2]
    assert [e for e, _ in list_checkpoints(prefix)] == [1, 3]
    assert read_interrupted(prefix) is None
