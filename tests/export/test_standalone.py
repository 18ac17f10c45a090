"""The documented ONNX snippet runs with only onnxruntime and numpy: importing TensorFlow or Keras fails there."""

import re
import subprocess
import sys

import numpy as np
from exportfiles import small_model

from keras_segmentation.export import export_model
from keras_segmentation.inference import predict

DOCS = __import__("pathlib").Path(__file__).resolve().parents[2] / "docs" / "export.md"

BLOCK_IMPORTS = """
import importlib.abc, sys
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "keras", "keras_segmentation", "tf2onnx", "jax", "torch"):
            raise ImportError(f"{name} is blocked in this test")
sys.meta_path.insert(0, Blocker())
"""


def documented_snippet():
    text = DOCS.read_text()
    return re.search(r"<!-- standalone-onnx -->\n```python\n(.*?)```", text, re.S).group(1)


def test_documented_onnx_snippet_runs_without_tensorflow(tmp_path):
    model = small_model("unet", "vanilla")
    export_model(model, tmp_path / "unet.onnx", "onnx", parity=False)
    snippet = documented_snippet().replace("np.zeros((height, width, channels), np.uint8)",
                                           "np.full((height, width, channels), 200, np.uint8)")
    check = BLOCK_IMPORTS + snippet + "\nnp.save('labels.npy', labels)\nimport tensorflow\n"
    done = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "tensorflow is blocked in this test" in done.stderr, done.stderr  # the snippet itself ran to the end
    assert done.stdout.split() == ["(64,", "64)", "3"]
    expected = predict(model, inp=np.full((64, 64, 3), 200, np.uint8), colored=False, precision="float32")
    np.testing.assert_array_equal(np.load(tmp_path / "labels.npy"), expected)


def test_the_library_predicts_and_evaluates_an_onnx_file_without_tensorflow(tmp_path):
    import cv2

    model = small_model("unet", "vanilla")
    export_model(model, tmp_path / "unet.onnx", "onnx", parity=False)
    image = np.random.default_rng(0).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "a.png"), image)
    expected = predict(model, inp=image, colored=False, precision="float32")
    cv2.imwrite(str(tmp_path / "mask.png"), expected.astype(np.uint8))
    check = BLOCK_IMPORTS.replace('"keras_segmentation", ', "") + (
        "import numpy as np\n"
        "from keras_segmentation.inference import predict_multiple\n"
        "from keras_segmentation.evaluation import evaluate\n"
        "labels, = predict_multiple(model='unet.onnx', inps=['a.png'], progress=False)\n"
        "np.save('labels.npy', labels)\n"
        "print(evaluate('unet.onnx', inp_images=['a.png'], annotations=['mask.png'], progress=False)['mean_IU'])\n"
    )
    done = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.split()[-1]) == 1.0
    np.testing.assert_array_equal(np.load(tmp_path / "labels.npy"), expected)
