"""The backend suite's worker: every feature on four model families, on the backend in ``KERAS_BACKEND``.

Run by ``test_backends.py`` once per backend, in a fresh process (Keras picks its backend at import):
``python tests/backends/backend_suite.py RESULTS.json [--features A,B] [FAMILY ...]``. Each cell of the result is ``"ok"``,
``"unsupported: <the library's one-line error>"`` or ``"failed: <exception>"``; a feature that fails does not
stop the others.

Example:
    $ KERAS_BACKEND=jax python tests/backends/backend_suite.py /tmp/jax.json unet
"""

import json
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_SEGMENTATION_ENCODER_WEIGHTS", "none")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tinydata import write_tiny_dataset  # noqa: E402

#: family -> (model name, encoder or None): the legacy U-Net, FPN on a keras.applications encoder,
#: DeepLabV3+ and SegFormer-B0.
FAMILIES = {
    "unet": ("unet_mini", None),
    "fpn_mobilenetv2": ("fpn", "mobilenetv2"),
    "deeplabv3plus": ("deeplabv3plus", "mobilenetv2"),
    "segformer_b0": ("segformer_b0", None),
}
#: The features, in the order the table shows them.
FEATURES = ("build", "train", "train_bfloat16", "resume", "keras_fit", "save_load", "predict_resize",
            "predict_slide", "evaluate", "export_onnx")
SIZE = 64  # multiple of 32: every family takes it
N_CLASSES = 3


class Unsupported(Exception):
    """The library refused the feature on this backend with a SegmentationError (its message is kept)."""


def _build(family):
    from keras_segmentation.models.registry import resolve_model

    name, encoder = FAMILIES[family]
    return resolve_model(name, N_CLASSES, SIZE, SIZE, encoder=encoder)


def _train(model, data, **options):
    from keras_segmentation.training import train

    images, masks = data
    options = {"epochs": 1, "steps_per_epoch": 2, "batch_size": 2, "verbose": 0, "seed": 0, **options}
    history = train(model, images, masks, **options)
    losses = history.history["loss"]
    if not np.all(np.isfinite(losses)):
        raise AssertionError(f"loss is not finite: {losses}")
    return history


def _labels_ok(labels, shape):
    if labels.shape != shape or labels.min() < 0 or labels.max() >= N_CLASSES:
        raise AssertionError(f"labels {labels.shape} in [{labels.min()}, {labels.max()}], expected {shape}")


def run_family(family, data, work, features=FEATURES):
    """``{feature: cell}`` for one family; ``work`` is a scratch folder of its own."""
    import keras

    from keras_segmentation.errors import SegmentationError

    images, masks = data
    image = sorted(Path(images).iterdir())[0]
    image_shape = keras.utils.img_to_array(keras.utils.load_img(image)).shape[:2]
    state = {}

    def build():
        state["model"] = _build(family)

    def train():
        _train(state["model"], data)

    def train_bfloat16():
        _train(_build(family), data, precision="mixed_bfloat16")

    def resume():
        prefix = str(work / "ckpt" / family)
        model = _build(family)
        _train(model, data, checkpoints_path=prefix)
        history = _train(_build(family), data, checkpoints_path=prefix, epochs=2, auto_resume_checkpoint=True)
        if history.epoch != [1]:
            raise AssertionError(f"resumed run trained epochs {history.epoch}, expected [1]")

    def keras_fit():
        model = _build(family)
        model.compile("adam", "sparse_categorical_crossentropy")
        x = np.random.default_rng(0).random((2, SIZE, SIZE, 3), dtype=np.float32)
        y = np.random.default_rng(1).integers(0, N_CLASSES, (2, model.output_height, model.output_width))
        loss = model.fit(x, y, epochs=1, verbose=0).history["loss"][0]
        if not np.isfinite(loss):
            raise AssertionError(f"loss {loss}")

    def save_load():
        from keras_segmentation import load_model

        path = work / f"{family}.keras"
        state["model"].save(path)
        loaded = load_model(str(path))
        x = np.random.default_rng(2).random((1, SIZE, SIZE, 3), dtype=np.float32)
        gap = np.abs(np.asarray(loaded.predict(x, verbose=0)) - np.asarray(state["model"].predict(x, verbose=0))).max()
        if gap > 1e-5:
            raise AssertionError(f"loaded model differs by {gap}")

    def predict_resize():
        from keras_segmentation.inference import predict

        _labels_ok(predict(state["model"], str(image)), image_shape)

    def predict_slide():
        from keras_segmentation.inference import predict

        _labels_ok(predict(state["model"], str(image), mode="slide"), image_shape)

    def evaluate():
        from keras_segmentation.evaluation import evaluate

        scores = evaluate(state["model"], inp_images_dir=images, annotations_dir=masks, progress=False)
        if not 0.0 <= scores["mean_IU"] <= 1.0:
            raise AssertionError(f"mean_IU {scores['mean_IU']}")

    def export_onnx():
        from keras_segmentation.export import export_model
        from keras_segmentation.inference import predict

        path = work / f"{family}.onnx"
        export_model(state["model"], str(path), "onnx", parity=False)
        expected = predict(state["model"], str(image), precision="float32")
        agree = (predict(str(path), str(image)) == expected).mean()
        if agree < 0.99:
            raise AssertionError(f"the ONNX model agrees with Keras on {agree:.1%} of pixels")

    steps = {step.__name__: step for step in (build, train, train_bfloat16, resume, keras_fit, save_load,
                                                predict_resize, predict_slide, evaluate, export_onnx)}
    cells = {}
    for feature in features:
        if feature != "build" and "model" not in state:
            cells[feature] = "failed: the model did not build"
            continue
        started = time.perf_counter()
        try:
            steps[feature]()
            cells[feature] = "ok"
        except SegmentationError as error:
            cells[feature] = f"unsupported: {error}"
        except Exception as error:  # noqa: BLE001 (recorded, the suite goes on)
            traceback.print_exc()
            cells[feature] = f"failed: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        print(f"{family:16s} {feature:15s} {time.perf_counter() - started:6.1f}s {cells[feature][:100]}", flush=True)
        keras.backend.clear_session()
    return cells


def main(argv):
    import keras

    out, argv = Path(argv[0]), argv[1:]
    features = FEATURES
    if argv[:1] == ["--features"]:
        features, argv = tuple(argv[1].split(",")), argv[2:]
    families = argv or list(FAMILIES)
    with tempfile.TemporaryDirectory() as scratch:
        data = write_tiny_dataset(Path(scratch) / "data", n_classes=N_CLASSES, height=SIZE + 8, width=SIZE + 16)
        results = {}
        for family in families:
            work = Path(scratch) / family
            work.mkdir()
            results[family] = run_family(family, data, work, features)
    import keras_segmentation

    meta = {"backend": keras.backend.backend(), "keras": keras.__version__,
            "keras_segmentation": keras_segmentation.__version__}
    out.write_text(json.dumps({"meta": meta, "results": results}, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
