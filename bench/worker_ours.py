"""Benchmark worker for THIS library (runs in the project's environment, Keras 3 / TF backend).

Started by ``bench/run.py`` (also ``export.py``, ``peers.py``) as ``python worker_ours.py SPEC.json RESULT.json``.
Every workload goes through the public API a user calls (``train``,
``model_from_checkpoint_path``, ``predict_multiple``, ``evaluate``,
``verify_dataset``, ``export_model``); models are built without ImageNet weights (there is no
network here, and speed does not depend on the values).
"""

import os
import sys
import time

sys.dont_write_bytecode = True
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("KERAS_SEGMENTATION_ENCODER_WEIGHTS", "none")

import _common  # noqa: E402  (bench/ is sys.path[0])


def _setup_tf(spec):
    # Imported first, as a user's program would: the package sets its TensorFlow defaults (oneDNN).
    import tensorflow as tf

    import keras_segmentation  # noqa: F401

    threads = _common.pin_threads(tf, spec)
    if spec.get("seed") is not None:
        import keras

        keras.utils.set_random_seed(int(spec["seed"]))
    return tf, threads


def _build(spec):
    """The spec's model, without ImageNet weights: an original U-Net name (``"model"``), or an ``"architecture"``:
    ``{"named": "segformer_b0"}`` or ``{"decoder": "fpn", "encoder": "resnet50", "options": {...}}`` (``build_model``)."""
    name, height, width, n_classes = spec["model"], spec["height"], spec["width"], spec["n_classes"]
    architecture = spec.get("architecture")
    if architecture:
        from keras_segmentation.models.build import build_model, build_named_model

        options = architecture.get("options", {})
        if "named" in architecture:
            return build_named_model(architecture["named"], n_classes, height, width, **options)
        return build_model(architecture["decoder"], architecture["encoder"], n_classes, height, width,
                           encoder_weights=None, **options)
    from keras_segmentation.models import unet

    kwargs = {"input_height": height, "input_width": width}
    if name != "unet_mini":
        kwargs["encoder_weights"] = None
    return getattr(unet, name)(n_classes, **kwargs)


def _count_flops(model):
    """The library's own forward-FLOP count, or ``None`` while it does not exist yet."""
    try:
        from keras_segmentation.models.flops import count_flops
    except ImportError:
        return None
    return int(count_flops(model))


def _experiment(model, spec):
    """Profiling-only switches (never set by ``run.py``): XLA for inference."""
    if spec.get("inference_jit_compile") is not None:
        model.jit_compile = bool(spec["inference_jit_compile"])


# ---------------------------------------------------------------- workloads
def w_matmul(spec):
    tf, threads = _setup_tf(spec)
    result = _common.matmul_peak(tf, spec["sizes"], spec["repeats"], spec["inner"], spec.get("dtype", "float32"))
    result.update(threads=threads, tf_version=tf.__version__)
    return result


def w_model_info(spec):
    """Parameters, output size and FLOPs (library count + TF profiler count unless ``"profiler": false``)."""
    tf, _ = _setup_tf(spec)
    model = _build(spec)
    return {
        "params": int(model.count_params()),
        "output_height": int(model.output_height),
        "output_width": int(model.output_width),
        "library_forward_flops": _count_flops(model),
        "profiler_forward_flops": (_common.profiler_flops(tf, model, (spec["height"], spec["width"], 3))
                                   if spec.get("profiler", True) else None),
        "weight_shapes": [list(w.shape) for w in model.weights],
    }


def w_make_checkpoint(spec):
    """A checkpoint of a randomly initialised model, in our format, plus (with ``"npz"``) its weights as .npz for
    the original."""
    import numpy as np

    _setup_tf(spec)
    from keras_segmentation.checkpoints.config import write_config
    from keras_segmentation.checkpoints.weights import save_checkpoint

    model = _build(spec)
    write_config(spec["checkpoints_path"], model)
    save_checkpoint(model, spec["checkpoints_path"], 1)
    if spec.get("npz"):
        np.savez(spec["npz"], **{f"w{i}": np.asarray(w) for i, w in enumerate(model.get_weights())})
    return {"checkpoints_path": spec["checkpoints_path"], "npz": spec.get("npz")}


def w_export(spec):
    """The checkpoint exported by the library (``export_model``: ``"format"``, ``"precision"`` (default float32), int8
    calibrated on ``"calibration_images"``), parity-checked against Keras."""
    _setup_tf(spec)
    from keras_segmentation.export import export_model

    with _common.Stopwatch() as took:
        result = export_model(checkpoints_path=spec["checkpoints_path"], output=spec["output"], fmt=spec["format"],
                              precision=spec.get("precision", "float32"),
                              calibration_images=spec.get("calibration_images"),
                              calibration_count=spec.get("calibration_count", 100))
    return {"output": spec["output"], "export_seconds": took.seconds, "size_mib": result.size_bytes / 2**20,
            "parity": result.parity.line() if result.parity else None}


def _precision_used(model, precision):
    """The dtype policy ``model`` computes with for ``precision`` (``None``: as it is) on this machine."""
    from keras_segmentation.precision import target_precision

    return target_precision(model, precision)


def w_check_bugs(spec):
    """Ours must find its own checkpoint and create a missing ``out_dir`` (both broken in 0.3.0)."""
    _setup_tf(spec)
    from keras_segmentation.predict import predict_multiple

    inputs = _common.image_list(spec["images"], spec.get("limit"))
    out_dir = os.path.join(spec["out_dir"], "not", "yet", "there")
    predict_multiple(checkpoints_path=spec["checkpoints_path"], inps=inputs, out_dir=out_dir, progress=False)
    written = _common.count_files(out_dir)
    return {"n_images": len(inputs), "files_written": written, "ok": written == len(inputs)}


def w_train(spec):
    tf, threads = _setup_tf(spec)
    import keras

    from keras_segmentation.train import train

    model = _build(spec)
    timer = _common.make_batch_timer(keras.callbacks.Callback)()
    steps = spec["warmup_steps"] + spec["steps"]
    extra = {}
    if spec.get("jit_compile") is not None:
        extra["jit_compile"] = spec["jit_compile"]
    if spec.get("workers") is not None:
        extra["workers"] = spec["workers"]
    if spec.get("precision") is not None:
        extra["precision"] = spec["precision"]
    with _common.Stopwatch() as total:
        train(
            model, spec["images"], spec["annotations"],
            verify_dataset=False, epochs=1, batch_size=spec["batch_size"], steps_per_epoch=steps,
            optimizer_name=spec["optimizer"], callbacks=[timer], verbose=0, seed=spec.get("seed"), **extra,
        )
    result = _common.steady_throughput(timer, spec["warmup_steps"], spec["batch_size"])
    # train's precision defaults to "auto"
    result.update(total_seconds=total.seconds, threads=threads,
                  precision_used=_precision_used(model, extra.get("precision", "auto")))
    return result


def w_predict(spec):
    # An exported file (bench/export.py) runs without TensorFlow, as a deployment would.
    exported = spec.get("model_path")
    if "model_path" in spec and not exported:
        raise RuntimeError("no exported file to run: its export failed (see the run's exports)")
    threads = spec["intra_op_threads"] if exported else _setup_tf(spec)[1]
    from keras_segmentation.inference import predict_multiple

    inputs = _common.image_list(spec["images"], spec.get("limit"))
    with _common.Stopwatch() as load:
        if exported:
            from keras_segmentation.export.formats import load_engine

            model = load_engine(exported, threads=threads)
        else:
            from keras_segmentation.checkpoints.load import load_model_from_checkpoint

            model = load_model_from_checkpoint(spec["checkpoints_path"])
            _experiment(model, spec)
    options = {"precision": spec.get("precision"), "batch_size": spec["predict_batch_size"], "progress": False}
    if spec.get("warmup_call"):  # trace the prediction function (and make any precision copy) before the timing
        predict_multiple(model=model, inps=inputs[: spec["predict_batch_size"]], out_dir=spec["out_dir"] + "_warmup",
                         **options)
    # out_dir does not exist yet: predict_multiple must create it.
    with _common.Stopwatch() as run:
        labels = predict_multiple(model=model, inps=inputs, out_dir=spec["out_dir"], **options)
    written = _common.count_files(spec["out_dir"])
    if written != len(inputs):
        raise RuntimeError(f"predict_multiple wrote {written} files for {len(inputs)} images into a fresh out_dir")
    scores = {}
    if spec.get("annotations"):
        scores = _scores(inputs, labels, spec["annotations"], model.n_classes, spec["ignore_index"])
    return {
        **scores,
        "n_images": len(inputs),
        "load_seconds": load.seconds,
        "predict_seconds": run.seconds,
        "seconds": load.seconds + run.seconds,
        "images_per_s": len(inputs) / run.seconds,
        "cpu_seconds_per_image": run.cpu_seconds / len(inputs),
        "files_written": written,
        "threads": threads,
        "precision_used": None if exported else _precision_used(model, spec.get("precision")),
    }


def _scores(inputs, labels, annotations, n_classes, ignore_index):
    """mIoU of the label maps of ``inputs`` against the masks of the same names (untimed, after the run)."""
    from keras_segmentation.data.masks import read_mask
    from keras_segmentation.metrics import ConfusionMatrix

    masks = {os.path.splitext(name)[0]: os.path.join(annotations, name) for name in os.listdir(annotations)}
    matrix = ConfusionMatrix(n_classes, ignore_index=ignore_index)
    for path, label in zip(inputs, labels):
        matrix.update(read_mask(masks[os.path.splitext(os.path.basename(path))[0]]), label)
    return {"mean_IU": float(matrix.scores()["mean_IU"])}


def w_evaluate(spec):
    tf, threads = _setup_tf(spec)
    from keras_segmentation.predict import evaluate, model_from_checkpoint_path

    inputs = _common.image_list(spec["images"], spec.get("limit"))
    masks = [os.path.join(spec["annotations"], os.path.splitext(os.path.basename(p))[0] + ".png") for p in inputs]
    with _common.Stopwatch() as load:
        model = model_from_checkpoint_path(spec["checkpoints_path"])
    _experiment(model, spec)
    with _common.Stopwatch() as run:
        scores = evaluate(model=model, inp_images=inputs, annotations=masks, batch_size=spec["predict_batch_size"],
                          progress=False, precision=spec.get("precision"))
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
        from keras_segmentation.data.verify import verify_dataset
    with _common.Stopwatch() as run:
        report = verify_dataset(spec["images"], spec["annotations"], spec["n_classes"])
    n = len(os.listdir(spec["images"]))
    return {"ok": bool(report), "n_pairs": n, "seconds": run.seconds, "import_seconds": import_time.seconds,
            "pairs_per_s": n / run.seconds, "cpu_seconds": run.cpu_seconds}


def w_agreement(spec):
    """Share of pixels where both libraries predicted the same class (ours: id PNGs; original: colour PNGs)."""
    import random

    import cv2
    import numpy as np

    # The original's colours: random.seed(0) then randint triples, written in B, G, R order.
    rng = random.Random(0)
    colours = [(rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255)) for _ in range(spec["n_classes"])]
    lut = {c: i for i, c in enumerate(colours)}
    same = total = files = 0
    for name in sorted(os.listdir(spec["original_dir"])):
        ours_path = os.path.join(spec["ours_dir"], os.path.splitext(name)[0] + ".png")
        theirs = cv2.imread(os.path.join(spec["original_dir"], name), cv2.IMREAD_COLOR)
        mine = cv2.imread(ours_path, cv2.IMREAD_UNCHANGED) if os.path.isfile(ours_path) else None
        if theirs is None or mine is None or theirs.shape[:2] != mine.shape[:2]:
            continue
        keys, inverse = np.unique(theirs.reshape(-1, 3), axis=0, return_inverse=True)
        ids = np.array([lut.get(tuple(int(v) for v in k), -1) for k in keys])[inverse.ravel()]
        same += int((ids == mine.ravel()).sum())
        total += ids.size
        files += 1
    return {"files": files, "pixel_agreement": same / total if total else None}


WORKLOADS = {
    "matmul": w_matmul,
    "model_info": w_model_info,
    "make_checkpoint": w_make_checkpoint,
    "export": w_export,
    "check_bugs": w_check_bugs,
    "train": w_train,
    "predict": w_predict,
    "evaluate": w_evaluate,
    "verify": w_verify,
    "agreement": w_agreement,
}


def main():
    spec, out = _common.read_spec()
    start = time.perf_counter()
    result = WORKLOADS[spec["workload"]](spec)
    result["worker_seconds"] = time.perf_counter() - start
    import keras_segmentation

    result["library_file"] = keras_segmentation.__file__
    result["library_version"] = getattr(keras_segmentation, "__version__", None)
    _common.write_result(out, result)


if __name__ == "__main__":
    main()
