"""Feasibility of a faster inference engine: TF (XLA off/on) vs ONNX Runtime float32 vs ONNX Runtime int8.

Not part of ``bench/run.py``. Converts a checkpoint's model with ``tf2onnx`` (from a
``tf.function`` of the Keras 3 model), quantises it statically to int8 (QDQ,
per-channel weights, calibrated on training images) with
``onnxruntime.quantization``, then times the forward pass of each engine on the
CamVid test images and scores each against the masks (and against float32)::

    # onnxruntime, onnx and tf2onnx installed next to the benchmark environment, not into it:
    bench/.envs/ours/bin/pip install --no-deps --target bench/.envs/onnx-site onnxruntime onnx tf2onnx
    PYTHONPATH=bench/.envs/onnx-site bench/.envs/ours/bin/python bench/onnx_int8.py \\
        --checkpoint path/to/unet_mini_prefix [--n 101] [--calibration 32]

Without ``--checkpoint`` a randomly initialised unet_mini is used: speed is then
meaningful, the accuracy figures are not (random weights have no margin).
Prints one JSON object per engine.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("KERAS_SEGMENTATION_ENCODER_WEIGHTS", "none")

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)


def emit(**record):
    print(json.dumps({k: (round(v, 5) if isinstance(v, float) else v) for k, v in record.items()}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="checkpoint prefix (default: random unet_mini)")
    parser.add_argument("--camvid", default=os.environ.get("KERAS_SEGMENTATION_CAMVID")
                        or os.path.join(ROOT, "..", "shared", "datasets", "camvid"))
    parser.add_argument("--n", type=int, default=20, help="test images timed and scored")
    parser.add_argument("--calibration", type=int, default=16, help="training images used to calibrate int8")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--ignore_index", type=int, default=11, help="CamVid void label, left out of the scores")
    parser.add_argument("--tmp", default=os.path.join(BENCH, "results", "onnx"))
    args = parser.parse_args()
    os.makedirs(args.tmp, exist_ok=True)

    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    import keras
    import onnxruntime as ort
    import tf2onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from keras_segmentation.data.images import read_image_for_model
    from keras_segmentation.data.masks import read_mask
    from keras_segmentation.data.normalization import normalize_image
    from keras_segmentation.data.pairing import get_pairs_from_paths
    from keras_segmentation.metrics import ConfusionMatrix
    from keras_segmentation.predict import model_from_checkpoint_path

    if args.checkpoint:
        model = model_from_checkpoint_path(args.checkpoint)
    else:
        from keras_segmentation.models.unet import unet_mini

        keras.utils.set_random_seed(0)
        model = unet_mini(12)
    size = (model.input_height, model.input_width)
    camvid = os.path.abspath(args.camvid)
    test = get_pairs_from_paths(os.path.join(camvid, "images_prepped_test"), os.path.join(camvid, "annotations_prepped_test"))
    test = sorted(test)[: args.n]
    train = sorted(get_pairs_from_paths(os.path.join(camvid, "images_prepped_train"),
                                        os.path.join(camvid, "annotations_prepped_train")))
    x_test = np.stack([normalize_image(read_image_for_model(p[0], 3), model.normalization, size) for p in test])
    masks = [read_mask(p[1]) for p in test]

    # --- export
    start = time.perf_counter()
    fn = tf.function(lambda x: model(x, training=False))
    spec = [tf.TensorSpec([None, *size, 3], tf.float32, name="image")]
    fp32_path = os.path.join(args.tmp, "model_fp32.onnx")
    tf2onnx.convert.from_function(fn, input_signature=spec, opset=17, output_path=fp32_path)
    emit(what="export", tool=f"tf2onnx {tf2onnx.__version__}", tensorflow=tf.__version__, keras=keras.__version__,
         seconds=time.perf_counter() - start, onnx_mb=os.path.getsize(fp32_path) / 2**20)

    # --- int8 static quantisation (QDQ, per-channel), calibrated on training images
    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter(train[: args.calibration])

        def get_next(self):
            item = next(self.items, None)
            if item is None:
                return None
            return {"image": normalize_image(read_image_for_model(item[0], 3), model.normalization, size)[None]}

    start = time.perf_counter()
    pre_path = os.path.join(args.tmp, "model_fp32_pre.onnx")
    int8_path = os.path.join(args.tmp, "model_int8.onnx")
    quant_pre_process(fp32_path, pre_path, skip_symbolic_shape=True)
    quantize_static(pre_path, int8_path, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    emit(what="quantise", seconds=time.perf_counter() - start, calibration_images=args.calibration,
         onnx_mb=os.path.getsize(int8_path) / 2**20, onnxruntime=ort.__version__)

    # --- engines
    def tf_engine(jit):
        model.jit_compile = jit
        model.predict_function = None
        return lambda x: np.asarray(model.predict_on_batch(x))

    def ort_engine(path):
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        return lambda x: session.run(None, {"image": x})[0]

    reference = None
    for name, engine in (("tf_float32", tf_engine(False)), ("tf_float32_xla", tf_engine(True)),
                         ("ort_float32", ort_engine(fp32_path)), ("ort_int8", ort_engine(int8_path))):
        batches = [x_test[i : i + args.batch] for i in range(0, len(x_test), args.batch)]
        engine(batches[0])  # warm-up / compile
        start, cpu_start = time.perf_counter(), time.process_time()
        probs = np.concatenate([engine(b) for b in batches])
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        labels = probs.argmax(-1).astype(np.uint8)
        matrix = ConfusionMatrix(model.n_classes, ignore_index=args.ignore_index)
        for truth, label in zip(masks, labels):
            matrix.update(truth, label)
        scores = matrix.scores()
        record = {"what": "engine", "engine": name, "images": len(x_test), "s_per_image": seconds / len(x_test),
                  "cpu_s_per_image": cpu / len(x_test), "mean_IU": float(scores["mean_IU"]),
                  "pixel_accuracy": float(scores.get("pixel_accuracy", float("nan")))}
        if reference is None:
            reference = labels
        else:
            record["label_agreement_vs_tf_float32"] = float((labels == reference).mean())
        emit(**record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
