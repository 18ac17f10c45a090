"""The real server: ``python -m keras_segmentation serve`` in a subprocess, asked over HTTP as curl would (and by the
curl lines of docs/serve.md), stopped with Ctrl-C; the command's one-line refusals."""

import io
import json
import pathlib
import re
import shlex
import shutil
import socket
import subprocess
import urllib.request
import uuid

import cv2
import numpy as np
import pytest
from serverprocess import post, running_server, stop

from keras_segmentation import from_preset
from keras_segmentation.errors import ServeError
from keras_segmentation.inference import predict

pytest.importorskip("uvicorn")
HERE = pathlib.Path(__file__).resolve().parent
DOCS = HERE.parents[1] / "docs" / "serve.md"
DOCUMENTED_URL = "http://127.0.0.1:8000/"


@pytest.fixture(scope="module")
def server(preset, tmp_path_factory):
    with running_server(preset, tmp_path_factory.mktemp("server") / "server.log") as running:
        yield running


@pytest.fixture(scope="module")
def labels(preset, image_file):
    return predict(from_preset(preset), inp=str(image_file), colored=False)


def test_the_server_answers_over_http_and_survives_a_bad_request(server, image_file, labels):
    url, process = server
    status, content_type, body = post(url + "predict", image_file.read_bytes(), "image/png")
    assert (status, content_type) == (200, "image/png")
    np.testing.assert_array_equal(cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_UNCHANGED), labels)
    status, content_type, body = post(url + "predict", b"GIF89a, not a format the server reads")
    assert (status, content_type) == (415, "application/json")
    assert list(json.loads(body)) == ["error"]
    status, _, body = post(url + "predict?format=json", image_file.read_bytes())
    assert status == 200 and json.loads(body)["width"] == 56
    assert process.poll() is None


def documented_curl_lines():
    """The lines of docs/serve.md's bash blocks that run curl."""
    blocks = re.findall(r"```bash\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip().startswith("curl ")]


def test_the_curl_lines_of_the_docs_work(server, image_file, labels, tmp_path):
    url, _ = server
    lines = documented_curl_lines()
    assert len(lines) >= 6 and all(DOCUMENTED_URL in line for line in lines)
    shutil.copy(image_file, tmp_path / "image.png")
    shutil.copy(HERE / "label_studio" / "setup_request.json", tmp_path)  # the request Label Studio sends to /setup
    outputs = {}
    for line in lines:
        argv = shlex.split(line.replace(DOCUMENTED_URL, url))
        out = run_curl(argv, tmp_path)
        target = argv[argv.index("-o") + 1] if "-o" in argv else None
        outputs[target or argv[-1].rsplit("/", 1)[-1]] = (tmp_path / target).read_bytes() if target else out
        if target:
            (tmp_path / target).unlink()  # the next line that writes it must write it again
    for name in ("labels.png",):
        np.testing.assert_array_equal(cv2.imdecode(np.frombuffer(outputs[name], np.uint8), cv2.IMREAD_UNCHANGED), labels)
    summary = json.loads(outputs["predict?format=json"])
    assert sum(entry["share"] for entry in summary["classes"]) == pytest.approx(1.0)
    with np.load(io.BytesIO(outputs["probabilities.npz"])) as archive:
        assert archive["probabilities"].shape == (40, 56, 3)
    assert cv2.imdecode(np.frombuffer(outputs["overlay.png"], np.uint8), cv2.IMREAD_UNCHANGED).shape == (40, 56, 3)
    assert json.loads(outputs["metadata"])["n_classes"] == 3
    assert json.loads(outputs["health"]) == {"status": "ok"}


def run_curl(argv, cwd):
    """Run a documented curl line (curl itself where installed, else the same request with urllib); its stdout."""
    assert argv[0] == "curl"
    if shutil.which("curl"):
        done = subprocess.run(["curl", "--fail", *argv[1:]], cwd=cwd, capture_output=True, timeout=60)
        assert done.returncode == 0, (argv, done.stderr)
        return done.stdout
    url, data, headers, target, args = None, None, {}, None, iter(argv[1:])
    for arg in args:
        if arg == "--data-binary":
            data = (cwd / next(args).lstrip("@")).read_bytes()
            headers["Content-Type"] = "application/x-www-form-urlencoded"  # what curl sends
        elif arg == "-F":
            field, file = next(args).split("=@")
            boundary = uuid.uuid4().hex
            data = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file}\"\r\n"
                    "Content-Type: application/octet-stream\r\n\r\n").encode() + (cwd / file).read_bytes() + (
                    f"\r\n--{boundary}--\r\n").encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif arg == "-o":
            target = next(args)
        elif arg.startswith("http"):
            url = arg
        else:
            assert arg in ("-sS", "-s"), f"translate curl's {arg} here"
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=60) as answer:
        body = answer.read()
    if target:
        (cwd / target).write_bytes(body)
    return body


def test_the_default_engine_is_chosen_by_timing_and_said_after_the_url(preset, image_file, tmp_path):
    with running_server(preset, tmp_path / "server.log", "--engine", "auto") as (url, process):
        choice = process.stdout.readline()
        with urllib.request.urlopen(url + "metadata", timeout=30) as answer:
            engine = json.load(answer)["engine"]
        status, _, body = post(url + "predict", image_file.read_bytes(), "image/png")
    assert re.fullmatch(r"engine: (onnxruntime [0-9.]+x keras \(tensorflow\) on 2 images, labels [0-9.]+ % the same|"
                        r"keras \(tensorflow\); .+)\n", choice), choice
    assert engine == ("onnxruntime" if choice.startswith("engine: onnxruntime") else "keras (tensorflow)")
    assert status == 200 and cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_UNCHANGED).shape == (40, 56)


def test_ctrl_c_stops_the_server(server):
    _, process = server
    code, out = stop(process)
    assert code == 0 and out.strip().endswith("stopped"), out


# ------------------------------------------------------------------ refusals of the command and of serve()
def test_the_command_refuses_a_missing_model_in_one_line(run_cli, tmp_path):
    code, out, err = run_cli("serve", tmp_path / "no_such_model", "--port", "0")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and "no_such_model: not found" in err, err


def test_the_command_refuses_bad_limits(run_cli, preset):
    code, _, err = run_cli("serve", preset, "--max-pixels", "0")
    assert code == 2 and err.count("\n") == 1 and "--max-pixels/--max_pixels: 0 must be at least 1" in err, err


def test_a_busy_port_is_one_line_before_the_model_loads(tmp_path):
    from keras_segmentation.serve import serve

    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        with pytest.raises(ServeError, match=rf"^127\.0\.0\.1:{port}: cannot listen there \(.*\); choose another"):
            serve(tmp_path / "not_loaded_yet", port=port)
