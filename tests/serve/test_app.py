"""The served app in process (FastAPI's TestClient): answers equal ``predict``'s, the formats, ``/metadata``,
limits, bad uploads (and the next good request), and concurrent requests sharing model calls."""

import io
import json
import threading

import cv2
import numpy as np
import pytest
import tifffile
from servefiles import NAMES, patches_image

from keras_segmentation import from_preset
from keras_segmentation.data.visualize import class_colors
from keras_segmentation.inference import predict
from keras_segmentation.serve import create_app

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402 - after the skip


def decode(content):
    image = cv2.imdecode(np.frombuffer(content, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None, content[:200]
    return image


@pytest.fixture(scope="module")
def model(preset):
    return from_preset(preset)


@pytest.fixture(scope="module")
def expected(model, image_file):
    """``(labels, probabilities)`` of ``predict`` on the image file."""
    return predict(model, inp=str(image_file), colored=False, return_probabilities=True)


@pytest.fixture(scope="module")
def client(preset):
    with TestClient(create_app(preset, max_bytes=200_000, max_pixels=100_000)) as client:
        yield client


def good_request_works(client, image_file, expected):
    answer = client.post("/predict", content=image_file.read_bytes())
    assert answer.status_code == 200, answer.text
    np.testing.assert_array_equal(decode(answer.content), expected[0])


# ------------------------------------------------------------------ the answers
def test_the_label_map_equals_predict_as_body_and_as_multipart(client, image_file, expected):
    labels = expected[0]
    assert labels.shape == (40, 56) and len(np.unique(labels)) == 3  # the image's size; a test that can tell
    raw = client.post("/predict", content=image_file.read_bytes(), headers={"content-type": "image/png"})
    assert raw.status_code == 200 and raw.headers["content-type"] == "image/png"
    body_labels = decode(raw.content)
    assert body_labels.dtype == np.uint8 and body_labels.ndim == 2
    np.testing.assert_array_equal(body_labels, labels)
    form = client.post("/predict", files={"file": ("image.png", image_file.read_bytes(), "image/png")})
    assert form.status_code == 200
    np.testing.assert_array_equal(decode(form.content), labels)


def test_a_jpeg_and_a_tiff_give_predicts_labels(client, model, tmp_path):
    image = patches_image(seed=3)
    for suffix in (".jpg", ".tif"):
        path = tmp_path / f"image{suffix}"
        cv2.imwrite(str(path), image)
        answer = client.post("/predict", content=path.read_bytes())
        assert answer.status_code == 200, answer.text
        np.testing.assert_array_equal(decode(answer.content), predict(model, inp=str(path), colored=False))


def test_json_gives_the_class_shares_names_and_size(client, image_file, expected):
    answer = client.post("/predict?format=json", files={"file": ("image.png", image_file.read_bytes())})
    assert answer.status_code == 200
    summary = answer.json()
    assert (summary["model"], summary["width"], summary["height"]) == ("unet_mini", 56, 40)
    assert [entry["name"] for entry in summary["classes"]] == NAMES
    shares = [entry["share"] for entry in summary["classes"]]
    assert sum(shares) == pytest.approx(1.0)
    counts = np.bincount(expected[0].ravel(), minlength=3)
    assert shares == pytest.approx(list(counts / counts.sum()))
    assert [entry["color"] for entry in summary["classes"]] == [list(c) for c in class_colors[:3]]


def test_probabilities_come_as_float16_npz(client, image_file, expected):
    answer = client.post("/predict?format=probabilities", content=image_file.read_bytes())
    assert answer.status_code == 200
    with np.load(io.BytesIO(answer.content)) as archive:
        probabilities = archive["probabilities"]
    assert probabilities.dtype == np.float16 and probabilities.shape == (40, 56, 3)
    np.testing.assert_allclose(probabilities.astype(np.float32), expected[1], atol=1e-3)


def test_the_overlay_is_predicts_overlay(client, model, image_file, tmp_path):
    answer = client.post("/predict?format=overlay", content=image_file.read_bytes())
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    predict(model, inp=str(image_file), out_fname=str(tmp_path / "overlay.png"), overlay_img=True)
    np.testing.assert_array_equal(decode(answer.content), cv2.imread(str(tmp_path / "overlay.png")))


def test_metadata_health_and_docs(client):
    meta = client.get("/metadata").json()
    assert (meta["model"], meta["input_height"], meta["input_width"], meta["channels"], meta["n_classes"]) == (
        "unet_mini", 32, 48, 3, 3)
    assert meta["classes"][1] == {"id": 1, "name": "grass", "color": [128, 0, 0]}
    assert meta["engine"].startswith("keras (")
    assert meta["limits"] == {"max_bytes": 200_000, "max_pixels": 100_000, "max_batch": 8, "batch_wait_ms": 5.0}
    assert client.get("/health").json() == {"status": "ok"}
    assert "/predict" in client.get("/openapi.json").json()["paths"]
    assert "swagger" in client.get("/docs").text.lower()


def test_the_page_and_its_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text and "/static/style.css" in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # nothing from a CDN
    for name in ("app.js", "style.css"):
        answer = client.get(f"/static/{name}")
        assert answer.status_code == 200 and len(answer.content) > 500


# ------------------------------------------------------------------ refusals
def png_bytes(height, width):
    return cv2.imencode(".png", np.zeros((height, width, 3), np.uint8))[1].tobytes()


def tiff_bytes(bands):
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, np.zeros((20, 30, bands), np.uint8))
    return buffer.getvalue()


def truncated_png():
    data = cv2.imencode(".png", patches_image())[1].tobytes()
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("request_options", "status", "words"),
    [
        ({"content": b""}, 400, "empty"),
        ({"content": b"hello, not an image"}, 415, "not an image"),
        ({"content": truncated_png()}, 400, "not a readable image"),
        ({"content": b"\x89PNG\r\n\x1a\n" + b"\0" * 20}, 400, "header is unreadable"),
        ({"content": tiff_bytes(5)}, 422, "5 channel(s) but the model expects 3"),
        ({"files": {"image": ("a.png", png_bytes(8, 8))}}, 400, "without a file field 'file'"),
        ({"content": png_bytes(400, 400)}, 413, "160,000 pixels, more than this server's limit of 100,000"),
        ({"content": b"\x89PNG" + b"\0" * 300_000}, 413, "more than this server's limit of 200,000"),
        ({"files": {"file": ("big.png", b"\x89PNG" + b"\0" * 300_000)}}, 413, "bytes or more"),
    ],
    ids=["empty", "not-an-image", "truncated", "broken-header", "wrong-channels", "no-file-field", "pixels", "bytes",
         "bytes-multipart"],
)
def test_a_bad_upload_is_refused_in_one_json_line_and_the_next_one_works(client, image_file, expected, request_options,
                                                                         status, words):
    answer = client.post("/predict", **request_options)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    error = answer.json()["error"]
    assert words in error and "\n" not in error and "/tmp" not in error and "keras_segmentation_upload" not in error
    good_request_works(client, image_file, expected)


def test_a_bad_format_and_a_bad_path_are_json_errors(client, image_file, expected):
    answer = client.post("/predict?format=jpeg", content=image_file.read_bytes())
    assert answer.status_code == 422
    assert answer.json() == {"error": "format: Input should be 'png', 'json', 'probabilities' or 'overlay'"}
    assert client.get("/nowhere").json() == {"error": "Not Found"}
    assert client.get("/predict").status_code == 405
    good_request_works(client, image_file, expected)


# ------------------------------------------------------------------ batching
def test_concurrent_requests_share_model_calls(preset, image_file, expected, monkeypatch):
    app = create_app(preset, batch_wait_ms=300, max_batch=8)
    model = app.state.served.predictor.model
    calls, sizes = [], []
    forward = model.predict_on_batch

    def counting(batch):
        calls.append(len(batch))
        return forward(batch)

    monkeypatch.setattr(model, "predict_on_batch", counting)
    data, start, answers = image_file.read_bytes(), threading.Barrier(8), [None] * 8
    with TestClient(app) as client:

        def post(index):
            start.wait()
            answers[index] = client.post("/predict", content=data)

        threads = [threading.Thread(target=post, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        sizes = list(calls)
        for answer in answers:
            assert answer is not None and answer.status_code == 200
            np.testing.assert_array_equal(decode(answer.content), expected[0])
        assert app.state.batcher.batches == len(sizes) and app.state.batcher.items == 8
    assert sum(sizes) == 8 and len(sizes) < 8, sizes  # fewer model calls than requests, every image in one


def test_a_model_error_answers_every_request_of_its_batch_and_the_server_goes_on(preset, image_file, expected,
                                                                                 monkeypatch):
    app = create_app(preset)
    model = app.state.served.predictor.model
    forward = model.predict_on_batch
    failures = [RuntimeError("out of memory, say")]

    def failing_once(batch):
        if failures:
            raise failures.pop()
        return forward(batch)

    monkeypatch.setattr(model, "predict_on_batch", failing_once)
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.post("/predict", content=image_file.read_bytes())
        assert answer.status_code == 500
        assert json.loads(answer.text) == {"error": "internal error (RuntimeError: out of memory, say)"}
        good_request_works(client, image_file, expected)
