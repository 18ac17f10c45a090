"""Benchmark worker for the ORIGINAL keras_segmentation 0.3.0 (runs in bench/.envs/original).

Started by ``bench/run.py`` as ``python worker_original.py SPEC.json RESULT.json``
with the working directory outside the repository (so ``import keras_segmentation``
finds the installed 0.3.0, never this repository's package). Nothing installed is
edited; in this process only:

* ``keras.utils.get_file`` and ``keras.Model.load_weights`` are rebound while a
  model is **built**: the VGG encoder downloads ImageNet weights during
  construction and there is no network. The real ``load_weights`` is restored
  right after the build, so benchmark weights load normally.
* ``keras.layers.merge`` (imported by ``models/_pspnet_2.py`` through
  ``all_models``, gone from Keras 2.15) is provided as an alias module.

Known 0.3.0 bugs worked around here, as the benchmark brief says: its
``model_from_checkpoint_path`` cannot find TensorFlow-format checkpoints, so the
model is built and ``load_weights`` is called directly; its ``predict_multiple``
writes nothing when ``out_dir`` does not exist, so the folder is created first.
"""

import os
import sys
import time
import types

sys.dont_write_bytecode = True
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import _common  # noqa: E402  (bench/ is sys.path[0])


def _offline_build(build):
    """Call ``build()`` with the ImageNet download and weight load disabled (this process only)."""
    import keras

    real_get_file, real_load = keras.utils.get_file, keras.Model.load_weights
    keras.utils.get_file = lambda *args, **kwargs: os.devnull
    keras.Model.load_weights = lambda self, *args, **kwargs: None
    try:
        return build()
    finally:
        keras.utils.get_file, keras.Model.load_weights = real_get_file, real_load


def _alias_merge_module():
    import keras

    if "keras.layers.merge" not in sys.modules:
        merge = types.ModuleType("keras.layers.merge")
        merge.Concatenate = keras.layers.Concatenate
        merge.Add = keras.layers.Add
        merge.concatenate = keras.layers.concatenate
        sys.modules["keras.layers.merge"] = merge


def _setup_tf(spec):
    import tensorflow as tf

    threads = _common.pin_threads(tf, spec)
    if spec.get("seed") is not None:
        tf.keras.utils.set_random_seed(int(spec["seed"]))
    _alias_merge_module()
    return tf, threads


def _build(name, height, width, n_classes):
    from keras_segmentation.models.all_models import model_from_name

    return _offline_build(lambda: model_from_name[name](n_classes, input_height=height, input_width=width))


def _load(spec):
    """Build the model and load the benchmark weights (0.3.0's checkpoint lookup is broken)."""
    model = _build(spec["model"], spec["height"], spec["width"], spec["n_classes"])
    if spec.get("weights"):
        model.load_weights(spec["weights"])
    return model


# ---------------------------------------------------------------- workloads
def w_matmul(spec):
    tf, threads = _setup_tf(spec)
    result = _common.matmul_peak(tf, spec["sizes"], spec["repeats"], spec["inner"])
    result.update(threads=threads, tf_version=tf.__version__)
    return result


def w_model_info(spec):
    """Parameters, output size and profiler-counted FLOPs of the original model (graph identity check)."""
    tf, _ = _setup_tf(spec)
    model = _build(spec["model"], spec["height"], spec["width"], spec["n_classes"])
    return {
        "params": int(model.count_params()),
        "output_height": int(model.output_height),
        "output_width": int(model.output_width),
        "profiler_forward_flops": _common.profiler_flops(tf, model, (spec["height"], spec["width"], 3)),
        "weight_shapes": [list(w.shape) for w in model.weights],
    }


def w_make_weights(spec):
    """Save the benchmark weights: ours (same order and shapes) when given, else this library's own init."""
    import numpy as np

    _setup_tf(spec)
    model = _build(spec["model"], spec["height"], spec["width"], spec["n_classes"])
    source = "original's own random initialisation"
    if spec.get("from_npz") and os.path.isfile(spec["from_npz"]):
        arrays = np.load(spec["from_npz"])
        ours = [arrays[f"w{i}"] for i in range(len(arrays.files))]
        shapes = [tuple(w.shape) for w in model.weights]
        if [a.shape for a in ours] == shapes:
            model.set_weights(ours)
            source = "the weights created by our library (copied tensor by tensor; same order and shapes)"
        else:
            source += " (our weights did not match the original's order/shapes)"
    model.save_weights(spec["out"])
    return {"weights": spec["out"], "source": source}


def w_train(spec):
    tf, threads = _setup_tf(spec)
    import keras

    from keras_segmentation.data_utils.data_loader import image_segmentation_generator

    model = _build(spec["model"], spec["height"], spec["width"], spec["n_classes"])
    # What 0.3.0's train() does (loss, metrics), with the optimizer both libraries use here.
    model.compile(loss="categorical_crossentropy", optimizer=spec["optimizer"], metrics=["accuracy"])
    gen = image_segmentation_generator(
        spec["images"], spec["annotations"], spec["batch_size"], spec["n_classes"],
        model.input_height, model.input_width, model.output_height, model.output_width,
    )
    timer = _common.make_batch_timer(keras.callbacks.Callback)()
    steps = spec["warmup_steps"] + spec["steps"]
    with _common.Stopwatch() as total:
        model.fit(gen, steps_per_epoch=steps, epochs=1, callbacks=[timer], verbose=0)
    result = _common.steady_throughput(timer, spec["warmup_steps"], spec["batch_size"])
    result.update(total_seconds=total.seconds, threads=threads)
    return result


def w_predict(spec):
    tf, threads = _setup_tf(spec)
    from keras_segmentation.predict import predict_multiple

    inputs = _common.image_list(spec["images"], spec.get("limit"))
    with _common.Stopwatch() as load:
        model = _load(spec)
    os.makedirs(spec["out_dir"])  # 0.3.0 silently writes nothing into a missing folder
    with _common.Stopwatch() as run:
        predict_multiple(model=model, inps=inputs, out_dir=spec["out_dir"])
    written = _common.count_files(spec["out_dir"])
    return {
        "n_images": len(inputs),
        "load_seconds": load.seconds,
        "predict_seconds": run.seconds,
        "seconds": load.seconds + run.seconds,
        "images_per_s": len(inputs) / run.seconds,
        "cpu_seconds_per_image": run.cpu_seconds / len(inputs),
        "files_written": written,
        "threads": threads,
    }


def w_evaluate(spec):
    tf, threads = _setup_tf(spec)
    from keras_segmentation.predict import evaluate

    inputs = _common.image_list(spec["images"], spec.get("limit"))
    masks = [os.path.join(spec["annotations"], os.path.splitext(os.path.basename(p))[0] + ".png") for p in inputs]
    with _common.Stopwatch() as load:
        model = _load(spec)
    with _common.Stopwatch() as run:
        scores = evaluate(model=model, inp_images=inputs, annotations=masks)
    return {
        "n_images": len(inputs),
        "load_seconds": load.seconds,
        "evaluate_seconds": run.seconds,
        "seconds": load.seconds + run.seconds,
        "images_per_s": len(inputs) / run.seconds,
        "cpu_seconds_per_image": run.cpu_seconds / len(inputs),
        "mean_IU": float(scores["mean_IU"]),
        "threads": threads,
    }


def w_verify(spec):
    with _common.Stopwatch() as import_time:
        from keras_segmentation.data_utils.data_loader import verify_segmentation_dataset
    with _common.Stopwatch() as run:
        ok = verify_segmentation_dataset(spec["images"], spec["annotations"], spec["n_classes"])
    n = len(os.listdir(spec["images"]))
    return {"ok": bool(ok), "n_pairs": n, "seconds": run.seconds, "import_seconds": import_time.seconds,
            "pairs_per_s": n / run.seconds, "cpu_seconds": run.cpu_seconds}


WORKLOADS = {
    "matmul": w_matmul,
    "model_info": w_model_info,
    "make_weights": w_make_weights,
    "train": w_train,
    "predict": w_predict,
    "evaluate": w_evaluate,
    "verify": w_verify,
}


def main():
    spec, out = _common.read_spec()
    start = time.perf_counter()
    result = WORKLOADS[spec["workload"]](spec)
    result["worker_seconds"] = time.perf_counter() - start
    import keras_segmentation

    result["library_file"] = keras_segmentation.__file__
    _common.write_result(out, result)


if __name__ == "__main__":
    main()
