"""Record what a live Label Studio sends to ``keras_segmentation serve`` as its ML backend, and what it stores.

    python -m venv ../lsenv && ../lsenv/bin/pip install label-studio      # outside the repository
    .venv/bin/python bench/label_studio_record.py --label-studio ../lsenv/bin/label-studio
                                                  [--out tests/serve/label_studio] [--keep DIR]

Not a test: it needs Label Studio (a Django app with its own dependencies, in its own environment) and takes
2-4 minutes on 2 cores, most of them Label Studio's first database migration. What it does, all on 127.0.0.1:

1. builds the serve tests' model (``tests/serve/servefiles.py``: a seeded 32x48 unet_mini, classes background,
   grass, flower) as a preset, and their 40x56 test image (``task.png``);
2. starts Label Studio with a data folder in a temporary folder, its user and legacy API token made from
   ``LABEL_STUDIO_USERNAME`` / ``_PASSWORD`` / ``_USER_TOKEN`` (``--enable-legacy-api-token``), local ML backends
   allowed (``LABEL_STUDIO_ML_BLOCK_LOCAL_IP=false``, ``LABEL_STUDIO_SSRF_PROTECTION_ENABLED=false``: without
   them it refuses 127.0.0.1), and its check of predictions against the labelling config turned on (the
   feature flag ``fflag_feat_utc_210_prediction_validation_15082025``, off by default);
3. makes a personal access token (``POST /api/token/``: what a new organisation's users get) and starts
   ``keras_segmentation serve`` with ``--label-studio-url`` and that token as ``LABEL_STUDIO_API_KEY``, behind a
   logging reverse proxy (this script) that keeps every request Label Studio sends and every answer;
4. through Label Studio's REST API: creates a project with a ``BrushLabels`` config (labels ``Grass`` and
   ``FLOWER``, two of the classes in another case, and ``Sky``, no class), imports ``task.png`` as an uploaded
   file (the task's image is then ``/data/upload/...``, which the server fetches from Label Studio with the
   token), connects the proxy as the project's ML backend (``POST /api/ml``: Label Studio calls ``/health`` and
   ``/setup``), runs the data manager's *Retrieve Predictions* (``POST /api/dm/actions?id=retrieve_tasks_
   predictions``: ``/predict``), reads back the stored predictions (``GET /api/predictions?task=``), and saves
   them as an annotation (``POST /api/tasks/<id>/annotations``: Label Studio posts ``ANNOTATION_CREATED`` to the
   ``/webhook`` it registered);
5. checks: the stored prediction is ours, field for field; Label Studio refused a prediction with a label not in
   the config (so its validation was on) and accepted ours; in Label Studio's environment,
   ``label_studio_sdk.converter.brush.decode_rle`` decodes each region's RLE to exactly the pixels of its class in
   the server's label PNG for the image, ``mask2rle`` of those pixels is our RLE byte for byte, and
   ``LabelInterface.validate_prediction`` accepts the prediction;
6. writes into ``--out``: ``setup_request.json``, ``setup_response.json``, ``predict_request.json``,
   ``predict_response.json``, ``stored_predictions.json``, ``webhook_request.json``, ``exchanges.json`` (every
   request in order: method, path, status, headers), ``sdk_brush.json`` (the SDK's decoding and encoding) and
   ``task.png``, with the tokens, ports, times and per-run ids replaced by fixed values; prints what varies.

Exit status 1 when a check fails (nothing is written then).
"""

import argparse
import copy
import http.server
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "serve"))

LABEL_CONFIG = """<View>
  <Image name="image" value="$image" zoom="true"/>
  <BrushLabels name="tag" toName="image">
    <Label value="Grass" background="#00FF00"/>
    <Label value="FLOWER" background="#FF00FF"/>
    <Label value="Sky" background="#0000FF"/>
  </BrushLabels>
</View>"""
#: The labels of LABEL_CONFIG that are classes of the test model, by class id.
LABEL_CLASSES = {"Grass": 1, "FLOWER": 2}
#: Request headers kept in exchanges.json (the others are per-run tracing ids).
KEPT_HEADERS = ("User-Agent", "Content-Type", "Accept", "Accept-Encoding", "Authorization")
#: What replaces what varies between runs.
FIXED = {"token": "0123456789abcdef0123456789abcdef01234567", "label_studio": "http://localhost:8080",
         "backend": "http://localhost:9090", "time": "2026-01-01T00:00:00.000000Z"}
USERNAME = "recorder@example.com"
STOP_SECONDS = 30


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------ HTTP
def call(method, url, body=None, token=None, content_type="application/json", timeout=300):
    """``(status, parsed JSON or bytes)`` of one request."""
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    headers = {"Content-Type": content_type} if data is not None else {}
    if token:
        headers["Authorization"] = f"Token {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


def multipart(field, filename, data):
    """``(body, content type)`` of a multipart form with one file."""
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
            "Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class RecordingProxy:
    """A reverse proxy on 127.0.0.1 to ``target`` that keeps every exchange: ``exchanges``, a list of dicts."""

    def __init__(self, target):
        self.exchanges, lock = [], threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def relay(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                request = urllib.request.Request(target + self.path, data=body, method=self.command, headers=headers)
                try:
                    with urllib.request.urlopen(request, timeout=300) as answer:
                        status, kind, data = answer.status, answer.headers.get("Content-Type"), answer.read()
                except urllib.error.HTTPError as err:
                    status, kind, data = err.code, err.headers.get("Content-Type"), err.read()
                with lock:
                    proxy.exchanges.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                            "body": body, "status": status, "content_type": kind, "answer": data})
                self.send_response(status)
                self.send_header("Content-Type", kind or "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = relay

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def find(self, method, path):
        return [e for e in self.exchanges if e["method"] == method and e["path"] == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ------------------------------------------------------------------ processes
def start(command, env, log_path, cwd=None, pipe=False):
    """``command`` in the background, its output in ``log_path`` (``pipe``: its standard output kept to read)."""
    log_file = open(log_path, "w")  # closed by stop()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE if pipe else log_file, stderr=log_file,
                               text=True, cwd=cwd)
    process.log_file = log_file
    return process


def stop(process):
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    process.log_file.close()


def wait_for(url, process, seconds, log_path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(1)
    with open(log_path) as handle:
        tail = handle.read()[-3000:]
    raise RuntimeError(f"{url} did not answer (exit code {process.poll()}); {log_path}:\n{tail}")


def served_url(process, seconds, log_path):
    """The URL ``keras_segmentation serve`` prints once it listens."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        line = process.stdout.readline()
        found = re.search(r"at (http://127\.0\.0\.1:\d+)/ \(Ctrl-C to stop\)", line)
        if found:
            return found.group(1)
    with open(log_path) as handle:
        raise RuntimeError(f"the server did not start; {log_path}:\n{handle.read()[-3000:]}")


# ------------------------------------------------------------------ checks in Label Studio's environment
SDK_CHECK = r"""
import json, sys
import numpy as np
from label_studio_sdk.converter.brush import decode_rle, mask2rle
from label_studio_sdk.label_interface import LabelInterface
data = json.load(sys.stdin)
out = {"decoded": {}, "mask2rle_equal": {}}
for region in data["prediction"]["result"]:
    height, width = region["original_height"], region["original_width"]
    label = region["value"]["brushlabels"][0]
    alpha = decode_rle(region["value"]["rle"]).reshape(height, width, 4)[..., 3]
    out["decoded"][label] = ["".join("1" if v else "0" for v in row) for row in alpha > 0]
    mask = np.array([[int(c) for c in row] for row in out["decoded"][label]], np.uint8) * 255
    out["mask2rle_equal"][label] = [int(v) for v in mask2rle(mask)] == region["value"]["rle"]
out["valid"] = LabelInterface(data["config"]).validate_prediction(data["prediction"], return_errors=True)
import importlib.metadata
out["sdk"] = importlib.metadata.version("label-studio-sdk")
print(json.dumps(out))
"""


def sdk_check(python, prediction, config):
    process = subprocess.run([python, "-c", SDK_CHECK], input=json.dumps({"prediction": prediction, "config": config}),
                             capture_output=True, text=True, timeout=300)
    if process.returncode != 0:
        raise RuntimeError(f"the check in Label Studio's environment failed:\n{process.stderr[-3000:]}")
    return json.loads(process.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ the recording
def record(args, work):
    import cv2
    import numpy as np
    from servefiles import NAMES, patches_image, tiny_model

    checks, problems = [], []

    def check(ok, what):
        (checks if ok else problems).append(what)
        log(("ok: " if ok else "FAILED: ") + what)

    preset = os.fspath(tiny_model().save_preset(os.path.join(work, "preset"), class_names=NAMES))
    image_path = os.path.join(work, "task.png")
    cv2.imwrite(image_path, patches_image())
    with open(image_path, "rb") as handle:
        image_bytes = handle.read()

    ls_port, legacy = free_port(), secrets.token_hex(20)
    ls_url = f"http://127.0.0.1:{ls_port}"
    ls_env = dict(os.environ, LABEL_STUDIO_BASE_DATA_DIR=os.path.join(work, "label_studio"),
                  LABEL_STUDIO_USERNAME=USERNAME, LABEL_STUDIO_PASSWORD=secrets.token_hex(12),
                  LABEL_STUDIO_USER_TOKEN=legacy, LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN="true",
                  LABEL_STUDIO_ML_BLOCK_LOCAL_IP="false", LABEL_STUDIO_SSRF_PROTECTION_ENABLED="false",
                  fflag_feat_utc_210_prediction_validation_15082025="true")
    ls_log = os.path.join(work, "label_studio.log")
    processes = {}
    proxy = None
    try:
        log(f"starting Label Studio at {ls_url} (the first start migrates its database: minutes)")
        processes["label_studio"] = start([args.label_studio, "start", "--no-browser", "--internal-host", "127.0.0.1",
                                           "-p", str(ls_port), "--host", ls_url, "--enable-legacy-api-token"],
                                          ls_env, ls_log, cwd=work)
        wait_for(ls_url + "/health", processes["label_studio"], args.timeout, ls_log)
        _, version = call("GET", ls_url + "/api/version", token=legacy)
        ls_version = version["release"]
        log(f"Label Studio {ls_version} is up")
        status, pat = call("POST", ls_url + "/api/token/", token=legacy)
        check(status in (200, 201) and pat.get("token", "").count(".") == 2, "a personal access token was made")

        serve_log = os.path.join(work, "serve.log")
        serve_env = dict(os.environ, LABEL_STUDIO_API_KEY=pat["token"], PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL="2")
        processes["serve"] = start([sys.executable, "-m", "keras_segmentation", "serve", preset, "--port", "0",
                                    "--label-studio-url", ls_url], serve_env, serve_log, cwd=REPO, pipe=True)
        backend = served_url(processes["serve"], args.timeout, serve_log)
        proxy = RecordingProxy(backend)
        log(f"serving at {backend}, recorded through {proxy.url}")

        status, project = call("POST", ls_url + "/api/projects",
                               {"title": "keras-segmentation pre-labels", "label_config": LABEL_CONFIG}, legacy)
        check(status == 201, f"project created (HTTP {status})")
        body, kind = multipart("file", "task.png", image_bytes)
        status, imported = call("POST", f"{ls_url}/api/projects/{project['id']}/import", body, legacy, kind)
        check(status == 201 and imported.get("task_count") == 1, f"task.png imported (HTTP {status})")
        _, tasks = call("GET", f"{ls_url}/api/tasks?project={project['id']}", token=legacy)
        task = tasks["tasks"][0]
        image_value = task["data"]["image"]
        check(image_value.startswith("/data/upload/"), f"the task's image is Label Studio's upload {image_value}")

        status, ml = call("POST", ls_url + "/api/ml", {"url": proxy.url, "project": project["id"],
                                                        "title": "keras-segmentation", "is_interactive": False}, legacy)
        check(status == 201 and ml.get("state") == "CO", f"ML backend connected (HTTP {status}, state "
              f"{ml.get('state') if isinstance(ml, dict) else ml})")
        status, done = call("POST", f"{ls_url}/api/dm/actions?id=retrieve_tasks_predictions&project={project['id']}",
                            {"selectedItems": {"all": True, "excluded": []}}, legacy)
        check(status == 200, f"Retrieve Predictions ran (HTTP {status}: {done})")
        _, stored = call("GET", f"{ls_url}/api/predictions?task={task['id']}", token=legacy)
        predicts = proxy.find("POST", "/predict")
        setups = proxy.find("POST", "/setup")
        check(len(predicts) == 1 and predicts[0]["status"] == 200, f"Label Studio called /predict once: "
              f"{[e['status'] for e in predicts]}")
        ours = json.loads(predicts[0]["answer"])
        check(len(stored) == 1, f"Label Studio stored {len(stored)} prediction(s)")
        prediction = stored[0]
        check(prediction["result"] == ours["results"][0]["result"], "the stored result is ours, field for field")
        check(prediction["score"] == ours["results"][0]["score"] and prediction["model_version"] ==
              ours["results"][0]["model_version"] == json.loads(setups[-1]["answer"])["model_version"],
              "the stored score and model version are ours (the version /setup gave)")

        bad = copy.deepcopy(prediction["result"][:1])
        bad[0]["value"]["brushlabels"] = ["Tree"]
        status, refused = call("POST", ls_url + "/api/predictions", {"task": task["id"], "result": bad,
                                                                     "model_version": "control"}, legacy)
        check(status == 400 and "valid labels" in json.dumps(refused),
              f"Label Studio validates predictions: a label not in the config was refused (HTTP {status})")

        status, upload = call("POST", backend + "/predict", image_bytes, content_type="image/png")
        labels = cv2.imdecode(np.frombuffer(upload, np.uint8), cv2.IMREAD_UNCHANGED)
        sdk = sdk_check(os.path.join(os.path.dirname(args.label_studio), "python"), prediction, LABEL_CONFIG)
        for region in prediction["result"]:
            label = region["value"]["brushlabels"][0]
            decoded = np.array([[c == "1" for c in row] for row in sdk["decoded"][label]])
            check(np.array_equal(decoded, labels == LABEL_CLASSES[label]),
                  f"{label}: label_studio_sdk's decode_rle gives the pixels of class {LABEL_CLASSES[label]} in the "
                  f"label PNG ({int(decoded.sum())} of {decoded.size})")
            check(sdk["mask2rle_equal"][label], f"{label}: label_studio_sdk's mask2rle of those pixels is our RLE")
        check(sdk["valid"] == [], f"LabelInterface.validate_prediction: {sdk['valid'] or 'no errors'}")

        status, annotation = call("POST", f"{ls_url}/api/tasks/{task['id']}/annotations",
                                  {"result": prediction["result"], "was_cancelled": False}, legacy)
        check(status == 201, f"the prediction saved as an annotation (HTTP {status})")
        deadline = time.monotonic() + 30
        while not proxy.find("POST", "/webhook") and time.monotonic() < deadline:
            time.sleep(0.5)
        webhooks = proxy.find("POST", "/webhook")
        check(bool(webhooks) and webhooks[0]["status"] == 200, "Label Studio posted its event to /webhook: "
              f"{[json.loads(e['body']).get('action') for e in webhooks]}")
        fetched = [line for line in open(ls_log) if "/data/upload/" in line and "GET" in line]
        check(bool(fetched) and " 200 " in fetched[0], f"the server fetched the image from Label Studio: "
              f"{fetched[0].split(']')[-1].strip() if fetched else 'no request'}")
        exchanges = list(proxy.exchanges)
    finally:
        if proxy is not None:
            proxy.close()
        for name in ("serve", "label_studio"):
            stop(processes.get(name))
    return {"checks": checks, "problems": problems, "version": ls_version, "sdk": sdk["sdk"], "image": image_bytes,
            "exchanges": exchanges, "stored": stored, "sdk_result": sdk, "labels": labels, "urls": {
                ls_url: FIXED["label_studio"], proxy.url: FIXED["backend"]}, "secrets": {
                legacy: FIXED["token"], pat["token"]: "<personal access token>"}, "image_value": image_value,
            "project": project}


def sanitise(value, recording):
    """``value`` (JSON) with the tokens, URLs, times and per-run ids of the recording replaced by fixed values."""
    text = json.dumps(value)
    for old, new in {**recording["secrets"], **recording["urls"]}.items():
        text = text.replace(old, new)
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", FIXED["time"], text)
    text = re.sub(r'"(\d+)\.(\d{9,11})"', r'"\1.1767225600"', text)  # the project's "<id>.<created timestamp>"
    text = re.sub(r'"token": "[^"]*"', '"token": "<project invite token>"', text)
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "00000000-0000-4000-8000-000000000000",
                  text)
    return json.loads(text)


def write_fixtures(recording, out):
    def body(exchange):
        return json.loads(exchange["body"])

    def answer(exchange):
        return json.loads(exchange["answer"])

    exchanges = recording["exchanges"]
    first = {key: next(e for e in exchanges if (e["method"], e["path"]) == key)
             for key in [("POST", "/setup"), ("POST", "/predict"), ("POST", "/webhook")]}
    files = {
        "setup_request.json": body(first["POST", "/setup"]),
        "setup_response.json": answer(first["POST", "/setup"]),
        "predict_request.json": body(first["POST", "/predict"]),
        "predict_response.json": answer(first["POST", "/predict"]),
        "stored_predictions.json": recording["stored"],
        "webhook_request.json": body(first["POST", "/webhook"]),
        "exchanges.json": [{"method": e["method"], "path": e["path"], "status": e["status"],
                            "headers": {k: v for k, v in e["headers"].items() if k in KEPT_HEADERS},
                            "request_content_type": e["headers"].get("Content-Type"),
                            "answer_content_type": e["content_type"]} for e in exchanges],
        "sdk_brush.json": {"label_studio_sdk": recording["sdk"], "decode_rle": recording["sdk_result"]["decoded"],
                           "mask2rle_equals_ours": recording["sdk_result"]["mask2rle_equal"]},
    }
    os.makedirs(out, exist_ok=True)
    for name, value in files.items():
        with open(os.path.join(out, name), "w") as handle:
            json.dump(sanitise(value, recording), handle, indent=1)
            handle.write("\n")
    with open(os.path.join(out, "task.png"), "wb") as handle:
        handle.write(recording["image"])
    return sorted([*files, "task.png"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--label-studio", required=True, help="the label-studio command of its own environment "
                        "(its python beside it runs the label_studio_sdk checks)")
    parser.add_argument("--out", default=os.path.join(REPO, "tests", "serve", "label_studio"))
    parser.add_argument("--keep", default=None, help="a folder to keep the run in (Label Studio's data, logs)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for each server to start")
    args = parser.parse_args(argv)
    work = args.keep or tempfile.mkdtemp(prefix="label_studio_record_")
    os.makedirs(work, exist_ok=True)
    try:
        recording = record(args, work)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\nLabel Studio {recording['version']}, label-studio-sdk {recording['sdk']}: "
          f"{len(recording['checks'])} checks passed, {len(recording['problems'])} failed")
    for problem in recording["problems"]:
        print(f"FAILED: {problem}")
    if recording["problems"]:
        return 1
    print("requests Label Studio sent:", ", ".join(f"{e['method']} {e['path']} {e['status']}"
                                                   for e in recording["exchanges"]))
    written = write_fixtures(recording, args.out)
    print(f"wrote {', '.join(written)} to {args.out}")
    print(f"the task's image was {recording['image_value']} (kept as recorded: its prefix is per upload)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
