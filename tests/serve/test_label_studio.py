"""Label Studio's ML backend protocol (FastAPI's TestClient, requests recorded from Label Studio 1.23.2 by
``bench/label_studio_record.py``, in ``tests/serve/label_studio/``): the recorded /setup, /predict and /webhook
are answered as Label Studio stored them, /setup maps labels to classes, /predict answers brush RLE (or polygon)
regions equal to ``predict``'s labels, images from data: URIs, URLs, Label Studio paths (legacy tokens and
personal access tokens) and a local root; bad requests get a one-line JSON error and the server goes on. And the
brush RLE itself: label_studio_sdk's decoding and encoding of the recorded masks, hand-derived vectors, round
trips."""

import base64
import json
import pathlib

import cv2
import numpy as np
import pytest
from fake_label_studio import LEGACY, PAT, FakeLabelStudio
from servefiles import patches_image

from keras_segmentation import from_preset
from keras_segmentation.errors import ServeError
from keras_segmentation.inference import predict
from keras_segmentation.serve import create_app
from keras_segmentation.serve.regions import decode_rle, encode_rle, mask_to_rle, rle_to_mask

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402 - after the skip

FIXTURES = pathlib.Path(__file__).parent / "label_studio"
#: The labels of the fixtures' config that are the test model's classes (background, grass, flower).
LABEL_CLASSES = {"Grass": 1, "FLOWER": 2}


def fixture(name):
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def model(preset):
    return from_preset(preset)


@pytest.fixture(scope="module")
def task_image():
    """The image of the recorded task (Label Studio served it at the path in predict_request.json)."""
    return FIXTURES / "task.png"


@pytest.fixture(scope="module")
def data_uri(task_image):
    """The task's image as a data: URI."""
    return "data:image/png;base64," + base64.b64encode(task_image.read_bytes()).decode()


@pytest.fixture(scope="module")
def expected(model, task_image):
    """``(labels, probabilities)`` of ``predict`` on the task's image."""
    return predict(model, inp=str(task_image), colored=False, return_probabilities=True)


@pytest.fixture(scope="module")
def root(tmp_path_factory, task_image):
    """A local files root holding the task's image as images/a.png, and a file beside the root."""
    folder = tmp_path_factory.mktemp("ls_root")
    (folder / "files" / "images").mkdir(parents=True)
    (folder / "files" / "images" / "a.png").write_bytes(task_image.read_bytes())
    (folder / "outside.png").write_bytes(task_image.read_bytes())
    return folder


@pytest.fixture(scope="module")
def client(preset, root, monkeypatch_module):
    monkeypatch_module.delenv("LABEL_STUDIO_URL", raising=False)
    monkeypatch_module.delenv("LABEL_STUDIO_API_KEY", raising=False)
    app = create_app(preset, max_bytes=50_000, max_pixels=100_000, label_studio_root=root / "files")
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def ask(client, body):
    answer = client.post("/predict", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def with_image(value, task_id=41):
    """The recorded /predict request with its task's image ``value`` (and id)."""
    body = fixture("predict_request")
    body["tasks"][0].update(id=task_id, data={"image": value})
    return body


def assert_brush_regions_are(result, labels):
    """``result`` has one brushlabels region per mapped class present, each decoding to that class's pixels."""
    present = {label: i for label, i in LABEL_CLASSES.items() if (labels == i).any()}
    assert [region["value"]["brushlabels"] for region in result] == [[label] for label in present]
    for region, class_id in zip(result, present.values()):
        assert (region["original_height"], region["original_width"]) == labels.shape
        np.testing.assert_array_equal(rle_to_mask(region["value"]["rle"], *labels.shape), labels == class_id)


def shape_of(value):
    """The JSON structure of ``value``: dict keys (recursively), the first item of lists, types of scalars."""
    if isinstance(value, dict):
        return {key: shape_of(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape_of(value[0])] if value else []
    return "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__


def covers(ours, recorded):
    """Whether every key of the recorded structure is in ours, with the same kind of value."""
    if isinstance(recorded, dict):
        return isinstance(ours, dict) and all(key in ours and covers(ours[key], item) for key, item in recorded.items())
    if isinstance(recorded, list):
        return isinstance(ours, list) and (not recorded or (bool(ours) and covers(ours[0], recorded[0])))
    return ours == recorded


def good_request_works(client, expected):
    image = base64.b64encode((FIXTURES / "task.png").read_bytes()).decode()
    result = ask(client, with_image("data:image/png;base64," + image))["results"][0]["result"]
    assert_brush_regions_are(result, expected[0])


# ------------------------------------------------------------------ the protocol
def test_setup_gives_the_model_version_and_maps_labels_to_classes_by_name(client):
    answer = client.post("/setup", json=fixture("setup_request"))
    assert answer.status_code == 200, answer.text
    setup = answer.json()
    assert covers(shape_of(setup), shape_of(fixture("setup_response")))
    assert setup["model_version"].startswith("unet_mini-") and len(setup["model_version"]) == len("unet_mini-") + 10
    assert (setup["control"], setup["from_name"], setup["to_name"]) == ("BrushLabels", "tag", "image")
    assert setup["labels"] == {"Grass": "grass", "FLOWER": "flower"}  # any case
    assert setup["labels_without_class"] == ["Sky"] and setup["classes_without_label"] == ["background"]
    assert client.post("/setup", json=fixture("setup_request")).json() == setup  # the same version each time


def test_the_recorded_calls_are_answered_as_label_studio_stored_them(preset, label_studio, expected):
    """Every call Label Studio 1.23.2 made (exchanges.json: /health, /setup, /predict, /webhook), with its recorded
    headers and body, the task's image fetched with a personal access token: the recorded status and content
    type each time, /setup's answer as recorded, and /predict's prediction as Label Studio stored it
    (stored_predictions.json), but for the model version, which hashes the preset's path."""
    labels = expected[0]
    bodies = {"/setup": fixture("setup_request"), "/predict": fixture("predict_request"),
              "/webhook": fixture("webhook_request")}
    answers = {}
    with TestClient(create_app(preset, label_studio_url=label_studio.url, label_studio_api_key=PAT)) as client:
        for call in fixture("exchanges"):
            answer = client.request(call["method"], call["path"], json=bodies.get(call["path"]), headers=call["headers"])
            assert (answer.status_code, answer.headers["content-type"]) == (call["status"], call["answer_content_type"])
            answers[call["path"]] = answer.json()
    assert [call["path"] for call in fixture("exchanges")][-2:] == ["/predict", "/webhook"]
    setup, recorded = answers["/setup"], fixture("setup_response")
    assert setup["model_version"].startswith("unet_mini-") and recorded["model_version"].startswith("unet_mini-")
    assert dict(setup, model_version=None) == dict(recorded, model_version=None)

    stored = fixture("stored_predictions")
    assert len(stored) == len(answers["/predict"]["results"]) == 1
    prediction, stored = answers["/predict"]["results"][0], stored[0]
    assert prediction["model_version"] == setup["model_version"]
    assert prediction["score"] == pytest.approx(stored["score"], abs=1e-4)
    assert [r["value"]["brushlabels"] for r in prediction["result"]] == [["Grass"], ["FLOWER"]] == [
        r["value"]["brushlabels"] for r in stored["result"]]
    for ours, theirs in zip(prediction["result"], stored["result"]):
        assert {**ours, "score": 0, "value": None} == {**theirs, "score": 0, "value": None}
        assert ours["score"] == pytest.approx(theirs["score"], abs=1e-4)
        assert {**ours["value"], "rle": None} == {**theirs["value"], "rle": None}
        mask = rle_to_mask(ours["value"]["rle"], *labels.shape)
        np.testing.assert_array_equal(mask, labels == LABEL_CLASSES[ours["value"]["brushlabels"][0]])  # predict's
        assert (mask == rle_to_mask(theirs["value"]["rle"], *labels.shape)).mean() > 0.99  # equal where recorded
    image_path = fixture("predict_request")["tasks"][0]["data"]["image"]
    assert label_studio.seen == [("POST /api/token/refresh/", None), (image_path, f"Bearer {label_studio.issued[0]}")]


def test_predict_answers_brush_regions_equal_to_predicts_labels(client, expected, data_uri):
    labels, probabilities = expected
    assert {1, 2} <= set(np.unique(labels).tolist())  # both labelled classes are in the image: a test that can tell
    answer = ask(client, with_image(data_uri))
    assert covers(shape_of(answer), shape_of(fixture("predict_response")))  # every field Label Studio reads
    assert len(answer["results"]) == 1
    prediction = answer["results"][0]
    assert prediction["model_version"] == answer["model_version"] == client.post(
        "/setup", json=fixture("setup_request")).json()["model_version"]
    assert prediction["score"] == pytest.approx(float(probabilities.max(-1).mean()), abs=1e-5)
    result = prediction["result"]
    assert_brush_regions_are(result, labels)
    for region in result:
        assert (region["type"], region["from_name"], region["to_name"], region["value"]["format"]) == (
            "brushlabels", "tag", "image", "rle")
        class_id = LABEL_CLASSES[region["value"]["brushlabels"][0]]
        assert region["score"] == pytest.approx(float(probabilities[..., class_id][labels == class_id].mean()), abs=1e-5)
    assert len({region["id"] for region in result}) == len(result)


def test_the_recorded_rle_is_label_studio_sdks_byte_for_byte():
    """sdk_brush.json: label_studio_sdk's decode_rle of each stored region's RLE (rows of 0/1), and whether its
    mask2rle of that mask gave the same bytes; our decoder reads the same masks and our encoder writes the same
    bytes."""
    sdk = fixture("sdk_brush")
    assert sdk["mask2rle_equals_ours"] == {"Grass": True, "FLOWER": True}
    for region in fixture("stored_predictions")[0]["result"]:
        label, rle = region["value"]["brushlabels"][0], region["value"]["rle"]
        mask = np.array([[c == "1" for c in row] for row in sdk["decode_rle"][label]])
        assert mask.shape == (region["original_height"], region["original_width"]) == (40, 56) and mask.any()
        np.testing.assert_array_equal(rle_to_mask(rle, *mask.shape), mask)
        assert mask_to_rle(mask) == rle


def test_polygon_labels_outline_each_class(client, expected, data_uri):
    labels = expected[0]
    body = with_image(data_uri)
    body["label_config"] = body["label_config"].replace("BrushLabels", "PolygonLabels")
    result = ask(client, body)["results"][0]["result"]
    assert result and all(region["type"] == "polygonlabels" and region["value"]["closed"] for region in result)
    height, width = labels.shape
    centres = [(x + 0.5, y + 0.5) for y in range(height) for x in range(width)]
    for label, class_id in LABEL_CLASSES.items():
        drawn = np.zeros(height * width, bool)  # pixels whose centre is inside (or on) one of the label's polygons
        for region in result:
            if region["value"]["polygonlabels"] == [label]:
                points = np.array(region["value"]["points"]) / 100 * [width, height]
                assert points.min() >= 0 and (points <= [width, height]).all()
                polygon = points.astype(np.float32).reshape(-1, 1, 2)
                drawn |= [cv2.pointPolygonTest(polygon, centre, True) >= -1e-3 for centre in centres]
        truth = (labels == class_id).ravel()
        assert truth.any() and (drawn & truth).sum() / (drawn | truth).sum() > 0.9, (label, drawn.sum(), truth.sum())


def test_several_tasks_come_back_in_order_through_the_apps_batcher(preset, model, tmp_path):
    app = create_app(preset, batch_wait_ms=300, label_studio_root=tmp_path)
    images = [patches_image(seed=seed) for seed in (1, 2, 3)]
    body = fixture("predict_request")
    body["tasks"] = []
    for i, image in enumerate(images):
        cv2.imwrite(str(tmp_path / f"{i}.png"), image)
        body["tasks"].append({"id": 100 + i, "data": {"image": f"/data/local-files/?d={i}.png"}})
    with TestClient(app) as client:
        results = ask(client, body)["results"]
        assert app.state.batcher.items == 3 and app.state.batcher.batches < 3  # one batcher, shared model calls
    assert len(results) == 3
    for i, prediction in enumerate(results):
        assert_brush_regions_are(prediction["result"], predict(model, inp=str(tmp_path / f"{i}.png"), colored=False))


def test_webhook_is_acknowledged_and_health_and_image_uploads_keep_their_answers(client, expected, task_image):
    answer = client.post("/webhook", json=fixture("webhook_request"))  # what Label Studio posted on saving an annotation
    assert answer.status_code == 200
    assert answer.json()["status"] == "ignored" and answer.json()["action"] == "ANNOTATION_CREATED"
    assert client.post("/webhook", content=b"not json").status_code == 200
    assert client.get("/health").json() == {"status": "ok"}  # Label Studio needs a 200 with JSON: ours is that
    upload = client.post("/predict", content=task_image.read_bytes())  # an image body: the label PNG, as before
    assert upload.status_code == 200 and upload.headers["content-type"] == "image/png"
    np.testing.assert_array_equal(cv2.imdecode(np.frombuffer(upload.content, np.uint8), cv2.IMREAD_UNCHANGED),
                                  expected[0])
    good_request_works(client, expected)


# ------------------------------------------------------------------ where images come from
def test_local_files_under_the_root_and_relative_paths_are_read(client, expected):
    for value in ("/data/local-files/?d=images/a.png", "images/a.png"):
        assert_brush_regions_are(ask(client, with_image(value))["results"][0]["result"], expected[0])


@pytest.fixture
def label_studio(task_image):
    """A :class:`FakeLabelStudio` serving the task's image at /data/upload/7/a.png and at the recorded path."""
    recorded = fixture("predict_request")["tasks"][0]["data"]["image"]
    with FakeLabelStudio(task_image.read_bytes(), uploads=("/data/upload/7/a.png", recorded)) as fake:
        yield fake


def test_label_studio_paths_are_fetched_with_the_token_sent_only_to_label_studio(preset, label_studio, expected):
    port = label_studio.server.server_address[1]
    app = create_app(preset, max_bytes=50_000, label_studio_url=f"http://127.0.0.1:{port}/",
                     label_studio_api_key=LEGACY)
    with TestClient(app) as client:
        for value in ("/data/upload/7/a.png", f"http://127.0.0.1:{port}/data/upload/7/a.png", "/tasks/7/resolve/"):
            assert_brush_regions_are(ask(client, with_image(value))["results"][0]["result"], expected[0])
        elsewhere = client.post("/predict", json=with_image(f"http://localhost:{port}/data/upload/7/a.png"))
        assert elsewhere.status_code == 400 and "HTTP 401" in elsewhere.json()["error"]
        big = client.post("/predict", json=with_image(f"http://127.0.0.1:{port}/big.png"))
        assert big.status_code == 413 and "50,000" in big.json()["error"]
    assert label_studio.seen[:5] == [("/data/upload/7/a.png", "Token secret")] * 2 + [
        ("/tasks/7/resolve/", "Token secret"), ("/public/a.png", None), ("/data/upload/7/a.png", None)
    ]  # where a redirect leads, and another origin (localhost, not 127.0.0.1), never get the token


def test_without_the_key_label_studio_answers_401_and_the_error_says_what_to_set(preset, label_studio, monkeypatch):
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    with TestClient(create_app(preset)) as client:
        answer = client.post("/predict", json=with_image("/data/upload/7/a.png"))
    assert answer.status_code == 400
    assert "HTTP 401" in answer.json()["error"] and "LABEL_STUDIO_API_KEY" in answer.json()["error"]


# ------------------------------------------------------------------ refusals
def no_image_task():
    body = fixture("predict_request")
    del body["tasks"][0]["data"]["image"]
    body["tasks"][0]["data"]["text"] = "an image was meant to be here"
    return body


def config_without_brush():
    body = fixture("predict_request")
    body["label_config"] = ('<View><Image name="image" value="$image"/><Choices name="c" toName="image">'
                            '<Choice value="Grass"/></Choices></View>')
    return body


def config_of_other_labels():
    body = fixture("predict_request")
    body["label_config"] = body["label_config"].replace("Grass", "Tree").replace("FLOWER", "Road")
    return body


def big_data_uri():
    return with_image("data:image/png;base64," + base64.b64encode(b"\x89PNG" + b"\0" * 60_000).decode())


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (no_image_task, 400, "task 1: no image in its data['image']"),
        (lambda: with_image("http://127.0.0.1:9/none.png"), 400, "cannot fetch it"),
        (config_without_brush, 422, "no <BrushLabels> or <PolygonLabels>"),
        (config_of_other_labels, 422, "none of its labels ['Tree', 'Road', 'Sky'] is one of the model's classes"),
        (lambda: with_image("/data/upload/7/a.png"), 400, "start the server with --label-studio-url"),
        (lambda: with_image("/data/local-files/?d=../outside.png"), 403, "outside --label-studio-root"),
        (lambda: with_image("/etc/hostname"), 403, "outside --label-studio-root"),
        (lambda: with_image("images/none.png"), 400, "no such file under --label-studio-root"),
        (big_data_uri, 413, "more than this server's limit of 50,000"),
        (lambda: with_image("data:image/png;base64,aGVsbG8="), 415, "not an image"),
        (lambda: {"label_config": fixture("predict_request")["label_config"]}, 422, "no 'tasks' list"),
        (lambda: dict(fixture("predict_request"), label_config="<View"), 422, "not XML"),
    ],
    ids=["no-image", "unreachable-url", "no-brush-labels", "no-label-is-a-class", "label-studio-path-without-url",
         "local-files-outside-root", "absolute-path-outside-root", "missing-file", "too-many-bytes", "not-an-image",
         "no-tasks", "broken-config"],
)
def test_a_bad_request_is_refused_in_one_json_line_and_the_next_one_works(client, expected, body, status, words):
    answer = client.post("/predict", json=body())
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    error = answer.json()["error"]
    assert words in error and "\n" not in error and "keras_segmentation_upload" not in error
    good_request_works(client, expected)


def test_setup_refuses_a_config_without_brush_labels_and_a_body_that_is_not_json(client, expected):
    answer = client.post("/setup", json=dict(fixture("setup_request"), schema=config_without_brush()["label_config"]))
    assert answer.status_code == 422 and "no <BrushLabels> or <PolygonLabels>" in answer.json()["error"]
    answer = client.post("/setup", content=b"{not json", headers={"content-type": "application/json"})
    assert answer.status_code == 400 and answer.json()["error"].startswith("the request body is not JSON")
    good_request_works(client, expected)


def test_local_paths_are_refused_without_a_root(preset, root):
    with TestClient(create_app(preset, label_studio_url="")) as client:
        answer = client.post("/predict", json=with_image(str(root / "files" / "images" / "a.png")))
    assert answer.status_code == 403 and "local paths are read only under --label-studio-root" in answer.json()["error"]


# ------------------------------------------------------------------ the brush RLE
@pytest.mark.parametrize(
    ("values", "rle"),
    [
        # header: 8 values (32 bits), word size 8 (00111), run-length widths 3, 4, 8, 16 (0010 0011 0111 1111);
        # then two runs of 4: 1 00 011 00000000 and 1 00 011 11111111; 7 zero bits to a whole byte
        ([0, 0, 0, 0, 255, 255, 255, 255], [0, 0, 0, 8, 57, 27, 252, 96, 17, 255, 128]),
        # a single value: a literal chunk 0 00 000 00000101, 5 zero bits
        ([5], [0, 0, 0, 1, 57, 27, 248, 0, 160]),
        # a run of 20: 1 10 00010011 00000000 ends on a byte boundary, and the reference still pads 8 zero bits
        ([0] * 20, [0, 0, 0, 20, 57, 27, 254, 19, 0, 0]),
        # a run of 65,537: 1 11 <65535> 00000000, then the one left over, still with the 16-bit width: 1 11 <0> 0
        ([0] * 65537, [0, 1, 0, 1, 57, 27, 255, 255, 255, 0, 224, 0, 0, 0]),
    ],
    ids=["two-runs", "one-value", "byte-aligned", "longer-than-65536"],
)
def test_the_rle_equals_vectors_derived_from_the_reference_algorithm(values, rle):
    assert encode_rle(np.array(values, np.uint8)) == rle
    np.testing.assert_array_equal(decode_rle(rle), values)


def test_a_mask_is_encoded_as_an_rgba_image_and_decodes_back():
    rle = mask_to_rle(np.array([[False, True]]))
    assert rle == [0, 0, 0, 8, 57, 27, 252, 96, 17, 255, 128]  # (0,0,0,0), (255,255,255,255): the first vector
    np.testing.assert_array_equal(decode_rle(rle).reshape(1, 2, 4), [[[0] * 4, [255] * 4]])


def test_random_masks_and_values_round_trip():
    rng = np.random.default_rng(0)
    for trial in range(40):
        height, width = rng.integers(1, 60, 2)
        density = rng.uniform(0, 1)
        mask = rng.random((height, width)) < density
        if trial % 2:
            mask = cv2.resize(mask.astype(np.uint8), (width * 7, height * 5), interpolation=cv2.INTER_NEAREST) > 0
        np.testing.assert_array_equal(rle_to_mask(mask_to_rle(mask), *mask.shape), mask)
    for length in (1, 2, 7, 8, 9, 16, 17, 256, 257, 65536, 65537, 131073):
        values = rng.integers(0, 256, 3 * length // 2 + 1).astype(np.uint8)
        values[: length] = 9  # a run of exactly `length` at the start
        values[length] = 10
        np.testing.assert_array_equal(decode_rle(encode_rle(values)), values)


def test_decode_reads_literal_runs_of_several_values():
    """Label Studio's editor writes literal chunks of several values; the encoder never does, the decoder reads
    them: header, then 0 00 010 (3 literal values) 00000001 00000010 00000011, 4 zero bits."""
    bits = f"{3:032b}" + "00111" + "0010" + "0011" + "0111" + "1111" + "000010" + "000000010000001000000011"
    bits += "0" * (-len(bits) % 8)
    rle = [int(bits[i:i + 8], 2) for i in range(0, len(bits), 8)]
    np.testing.assert_array_equal(decode_rle(rle), [1, 2, 3])
    with pytest.raises(ServeError, match="ends after"):
        decode_rle(rle[:-2])

