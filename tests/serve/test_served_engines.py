"""A server of an exported file runs on its engine: an ``.onnx`` made by the library's exporter is served by ONNX
Runtime, in a process where importing TensorFlow, Keras, JAX or PyTorch fails (as tests/export/test_standalone.py)."""

import json
import urllib.request

import cv2
import numpy as np
import pytest
from servefiles import tiny_model
from serverprocess import post, running_server, stop

from keras_segmentation.export import export_model
from keras_segmentation.inference import predict

pytest.importorskip("uvicorn")
pytest.importorskip("onnxruntime")

BLOCK_IMPORTS = """
import importlib.abc, sys
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "keras", "tf2onnx", "jax", "torch"):
            raise ImportError(f"{name} is blocked in this test")
sys.meta_path.insert(0, Blocker())
try:
    import tensorflow
except ImportError:
    pass
else:
    raise SystemExit("the import blocker does not block")
"""


def test_an_onnx_file_is_served_by_onnxruntime_without_tensorflow(tmp_path, image_file):
    onnx_file = tmp_path / "mini.onnx"
    export_model(tiny_model(), onnx_file, "onnx", parity=False)
    expected = predict(str(onnx_file), inp=str(image_file), colored=False)
    assert len(np.unique(expected)) > 1
    with running_server(onnx_file, tmp_path / "server.log", preamble=BLOCK_IMPORTS) as (url, process):
        status, _, body = post(url + "predict", image_file.read_bytes())
        assert status == 200, body
        np.testing.assert_array_equal(cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_UNCHANGED), expected)
        status, _, body = post(url + "predict?format=overlay", image_file.read_bytes())
        assert status == 200 and body.startswith(b"\x89PNG\r\n\x1a\n")
        with urllib.request.urlopen(url + "metadata", timeout=30) as answer:
            meta = json.load(answer)
        assert (meta["engine"], meta["n_classes"], meta["input_height"]) == ("onnxruntime", 3, 32)
        code, out = stop(process)
    assert code == 0, (tmp_path / "server.log").read_text()[-3000:]
    assert "blocked" not in (tmp_path / "server.log").read_text()
