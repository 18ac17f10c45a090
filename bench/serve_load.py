"""Load test of ``keras_segmentation serve`` over loopback: images/s and latency under N concurrent clients.

    python bench/serve_load.py [--model M] [--clients 1,4,16] [--seconds 60] [--image-size 360x480]
                               [--out bench/results/serve_load.json]
    python bench/serve_load.py --render bench/results/serve_load.json    # the docs/benchmarks.md section again

What it does, for each engine (the Keras model and its ONNX export; ``--engines``):

1. the baseline: ``predict_multiple`` (its defaults, label PNGs written) over ``--baseline-images`` copies of the
   test image in a folder, in a fresh process, after a warm-up call: images/s and that process's peak RSS;
2. starts the real server, ``python -m keras_segmentation serve MODEL --port 0`` (its URL read from the line it
   prints), waits for ``/health`` and checks one answer: a label map at the image's size, equal to the baseline's
   file for the same image;
3. for each client count N: N threads, each with its own keep-alive connection (``http.client``), POST the same
   PNG to ``/predict`` back to back, first for ``--warmup`` seconds (not counted), then for ``--seconds``; a client
   starts no request after the deadline, and at most ``--max-requests`` are started per (engine, N). Every request's
   latency (send to last byte of the answer) is kept; any answer but 200 and any connection error is an error;
4. stops the server with Ctrl-C (SIGINT; killed after 30 s), also when anything above fails or is interrupted.

Per (engine, N) it reports the requests answered, images/s (answers / wall time from the start to the last
answer), p50 / p99 latency, errors (must be 0: the exit code is 1 otherwise), the server's peak RSS so far
(``VmHWM`` of ``/proc/PID/status``), and CPU seconds per image of the server and of the clients (this process):
on loopback the clients share the machine's cores with the server, which bounds what the server gets.
Writes the JSON (``lscpu`` model name and flags, date, versions, settings, every figure) and prints a Markdown
table; :func:`render_section` renders the section for ``docs/benchmarks.md`` (``--render``).

Default model (without ``--model``): FPN on MobileNetV2, 384x480 input, 12 classes, random weights (seed 0, no
ImageNet download: speed does not depend on the weights), saved as a preset in a temporary folder and exported to
ONNX (float32) with the library's exporter (parity-checked against Keras). FPN-MobileNetV2 is the architecture
``fit`` picks when ImageNet MobileNetV2 weights are found (``keras_segmentation/autofit/plan.py``), so it is what a
served ``fit`` preset usually runs; 384x480 is CamVid's 360x480 frame rounded up to multiples of 32 (``fit``'s
rule), so the server resizes the 360x480 test image to the model's input as it would a camera frame. ``--input``
changes that size (``--input 64x96``: a quick check of the harness).
The test image is a synthetic street-like scene (sky, buildings, road, smooth texture, sensor noise), PNG-encoded
once; the same bytes go in every request and in every baseline file.

At the defaults it takes about 8-9 minutes on 2 cores: 2 engines x 3 client counts x (5 s warm-up + 60 s) = 6.5
minutes of load, plus building and exporting the model, two baselines and two server start-ups (1-2 minutes).
"""

import argparse
import datetime
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)

import _common  # noqa: E402
import run as bench_run  # noqa: E402

DEFAULT_ARCHITECTURE = ("fpn", "mobilenetv2")
DEFAULT_INPUT = "384x480"
N_CLASSES = 12
SEED = 0
ENGINES = ("keras", "onnx")
PACKAGES = ["keras-segmentation", "keras", "tensorflow", "onnxruntime", "onnx", "tf2onnx", "fastapi", "uvicorn",
            "numpy", "opencv-python-headless"]
STOP_SECONDS = 30


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def size_arg(text):
    """``"360x480"`` -> ``(360, 480)`` (height x width)."""
    found = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not found or min(int(found.group(1)), int(found.group(2))) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give HEIGHTxWIDTH, e.g. 360x480")
    return int(found.group(1)), int(found.group(2))


def counts_arg(text):
    """``"1,4,16"`` -> ``[1, 4, 16]``."""
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give client counts >= 1, e.g. 1,4,16")
    return counts


# ------------------------------------------------------------------ the test image
def scene_image(height, width, seed=SEED):
    """A BGR uint8 street-like scene: sky gradient, buildings, a road with a lane mark, smooth texture, noise.

    Example:
        >>> scene_image(360, 480).shape
        (360, 480, 3)
    """
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    image = np.empty((height, width, 3), np.float32)
    image[:] = (235 - 60 * rows) * np.float32([1.0, 0.85, 0.7])  # sky: pale blue-grey, darker downwards (BGR)
    horizon = int(0.55 * height)
    x = 0
    while x < width:  # buildings of random widths and heights along the horizon
        span = int(rng.integers(max(2, width // 16), max(3, width // 5)))
        top = int(rng.integers(int(0.15 * height), horizon))
        image[top:horizon, x:x + span] = rng.uniform(60, 190, 3)
        for wy in range(top + 6, horizon - 6, max(4, height // 30)):  # rows of windows
            image[wy:wy + max(2, height // 90), x + 3:x + span - 3:max(4, width // 60)] *= 0.6
        x += span
    road = rows[:, :, 0] >= horizon / height
    image[np.broadcast_to(road, (height, width))] = (95, 92, 90)
    centre = width // 2
    for y in range(horizon, height, max(6, height // 20)):  # a dashed lane mark
        half = max(1, int(2 + 6 * (y - horizon) / max(1, height - horizon)))
        image[y:y + max(3, height // 40), centre - half:centre + half] = (225, 225, 225)
    grid = (max(2, height // 24), max(2, width // 24))
    shade = rng.uniform(-20, 20, grid).astype(np.float32)[:, :, None] + rng.uniform(-4, 4, (*grid, 3))
    image += cv2.resize(shade.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)  # light, texture
    image = cv2.GaussianBlur(image, (0, 0), 1.2)
    image += rng.normal(0, 4, image.shape).astype(np.float32)  # sensor noise
    return np.clip(image, 0, 255).astype(np.uint8)


def write_images(folder, height, width, count):
    """The PNG bytes of :func:`scene_image`, also written ``count`` times into ``folder``; returns the bytes."""
    import cv2

    ok, encoded = cv2.imencode(".png", scene_image(height, width))
    if not ok:
        raise RuntimeError("OpenCV could not encode the test image as PNG")
    data = encoded.tobytes()
    os.makedirs(folder, exist_ok=True)
    for i in range(count):
        with open(os.path.join(folder, f"scene_{i:04d}.png"), "wb") as handle:
            handle.write(data)
    return data


# ------------------------------------------------------------------ stages in fresh processes
def stage_prepare(spec):
    """Build (or load) the model, save it as a preset, export it to ONNX; prints one JSON line."""
    import keras_segmentation  # noqa: F401 - before TensorFlow

    started = time.perf_counter()
    served, info = {}, {}
    if spec["model"] is None:
        import keras

        from keras_segmentation.models.registry import build_model

        keras.utils.set_random_seed(SEED)
        decoder, encoder = DEFAULT_ARCHITECTURE
        height, width = spec["input"]
        model = build_model(decoder, encoder, N_CLASSES, height, width, encoder_weights=None)
        if "keras" in spec["engines"]:
            served["keras"] = os.fspath(model.save_preset(os.path.join(spec["workdir"], "preset")))
        info["built"] = f"{decoder} on {encoder}, random weights (seed {SEED})"
    else:
        from keras_segmentation import from_preset

        model = from_preset(spec["model"])
        if getattr(model, "engine", None):  # an exported file: served as it is
            served[model.engine] = spec["model"]
            model = None
        elif "keras" in spec["engines"]:
            served["keras"] = spec["model"]
    if model is not None:
        info.update(name=model.model_name or model.name, input=[model.input_height, model.input_width],
                    n_classes=int(model.n_classes), params=int(model.count_params()))
    if model is not None and "onnx" in spec["engines"]:
        from keras_segmentation.export import export_model

        path = os.path.join(spec["workdir"], "model.onnx")
        export_start = time.perf_counter()
        result = export_model(model, path, "onnx", "float32", parity_images_dir=spec["images"], parity_count=4)
        served["onnx"] = path
        info["export"] = {"seconds": time.perf_counter() - export_start, "size_mib": result.size_bytes / 2**20,
                          "parity": result.parity.line() if result.parity else None}
    info["seconds"] = time.perf_counter() - started
    print(json.dumps({"served": served, "model": info}), flush=True)


def stage_baseline(spec):
    """``predict_multiple`` over the copies of the test image, after a warm-up call; prints one JSON line."""
    import inspect
    import resource

    import keras_segmentation  # noqa: F401 - before TensorFlow
    from keras_segmentation import from_preset
    from keras_segmentation.inference import predict_multiple

    load_start = time.perf_counter()
    model = from_preset(spec["model"])
    load_seconds = time.perf_counter() - load_start
    images = sorted(os.path.join(spec["images"], name) for name in os.listdir(spec["images"]))
    predict_multiple(model, inps=images[: spec["warmup_images"]], out_dir=spec["out"] + "_warmup", progress=False)
    start, cpu_start = time.perf_counter(), time.process_time()
    labels = predict_multiple(model, inps=images, out_dir=spec["out"], progress=False)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    if any(label is None for label in labels):
        raise RuntimeError("predict_multiple skipped some of the test images")
    written = sorted(os.listdir(spec["out"]))
    print(json.dumps({
        "images": len(images), "seconds": seconds, "images_per_s": len(images) / seconds,
        "cpu_s_per_image": cpu / len(images), "load_seconds": load_seconds,
        "batch_size": inspect.signature(predict_multiple).parameters["batch_size"].default,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "first_output": os.path.join(spec["out"], written[0]),
        "engine": getattr(model, "engine", None) or "keras",
    }), flush=True)


STAGES = {"prepare": stage_prepare, "baseline": stage_baseline}


def child_env():
    env = dict(os.environ, PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="",
               KERAS_SEGMENTATION_ENCODER_WEIGHTS="none")
    env.pop("PYTHONHOME", None)
    return env


def run_stage(name, spec, log_path, timeout):
    """Run one stage of this script in a fresh process; its JSON line, or RuntimeError with its log's tail."""
    with open(log_path, "w") as log_file:
        process = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--stage", name, json.dumps(spec)],
                                   cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, stderr=log_file, text=True)
        try:
            out, _ = process.communicate(timeout=timeout)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        with open(log_path) as handle:
            tail = bench_run._tail(handle.read(), 20)
        raise RuntimeError(f"the {name} stage failed (exit code {process.returncode}); {log_path}:\n{tail}")
    return json.loads(lines[-1])


# ------------------------------------------------------------------ the server
class Server:
    """``python -m keras_segmentation serve MODEL --port 0`` in a subprocess; ``with Server(...) as s:`` stops it."""

    def __init__(self, model, log_path, options=(), timeout=300):
        self.model, self.log_path, self.options, self.timeout = model, log_path, list(options), timeout
        self.process = self.url = self.host = self.port = None
        self.exit_code = self.startup_seconds = None

    def __enter__(self):
        command = [sys.executable, "-m", "keras_segmentation", "serve", self.model, "--host", "127.0.0.1",
                   "--port", "0", *self.options]
        started = time.perf_counter()
        with open(self.log_path, "w") as log_file:
            self.process = subprocess.Popen(command, cwd=ROOT, env=child_env(), stdout=subprocess.PIPE,
                                            stderr=log_file, text=True)
        try:
            line = self._first_line()
            found = re.search(r"at http://(127\.0\.0\.1):(\d+)/ \(Ctrl-C to stop\)", line)
            if not found:
                raise RuntimeError(f"the server printed {line.strip()!r}, not its URL; {self._tail()}")
            self.host, self.port = found.group(1), int(found.group(2))
            self.url = f"http://{self.host}:{self.port}/"
            self._wait_until_healthy()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.perf_counter() - started
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def get_json(self, path):
        with urllib.request.urlopen(self.url + path, timeout=30) as answer:
            return json.load(answer)

    def memory_mib(self):
        """``{"peak": VmHWM, "now": VmRSS}`` of the server process in MiB (``/proc``; ``None`` where unreadable)."""
        fields = {}
        try:
            with open(f"/proc/{self.process.pid}/status") as handle:
                for line in handle:
                    key, _, value = line.partition(":")
                    if key in ("VmHWM", "VmRSS"):
                        fields[key] = int(value.split()[0]) / 1024.0
        except (OSError, ValueError, IndexError):
            pass
        if "VmHWM" not in fields:
            try:
                import psutil

                info = psutil.Process(self.process.pid).memory_info()
                fields = {"VmRSS": info.rss / 2**20, "VmHWM": getattr(info, "peak_wset", info.rss) / 2**20}
            except Exception:  # psutil absent, or the process gone: no figure
                pass
        return {"peak": fields.get("VmHWM"), "now": fields.get("VmRSS")}

    def cpu_seconds(self):
        """User + system CPU seconds of the server process so far (all threads), ``None`` where unreadable."""
        try:
            with open(f"/proc/{self.process.pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def stop(self):
        """Ctrl-C (SIGINT) the server; kill it if it has not stopped within 30 s. Safe to call twice."""
        process = self.process
        if process is None or self.exit_code is not None:
            return
        try:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
            try:
                process.communicate(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                log(f"the server (pid {process.pid}) did not stop within {STOP_SECONDS} s of Ctrl-C; killing it")
                process.kill()
                process.communicate()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            self.exit_code = process.returncode

    def _first_line(self):
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 0.5)
            if ready:
                return self.process.stdout.readline()
            if self.process.poll() is not None:
                break
        raise RuntimeError(f"the server did not start (exit code {self.process.poll()}); {self._tail()}")

    def _wait_until_healthy(self):
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                if self.get_json("health") == {"status": "ok"}:
                    return
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"the server never answered /health; {self._tail()}")
            time.sleep(0.2)

    def _tail(self):
        try:
            with open(self.log_path) as handle:
                return f"{self.log_path}:\n{bench_run._tail(handle.read(), 20)}"
        except OSError:
            return f"no log at {self.log_path}"


# ------------------------------------------------------------------ the clients
class Connection(http.client.HTTPConnection):
    """An HTTP/1.1 keep-alive connection with ``TCP_NODELAY``, as curl and urllib3 open theirs.

    ``http.client`` sends the headers and the body in two writes; with Nagle's algorithm on, the body's last
    segment would wait for the server's delayed ACK of the headers (up to 40 ms on Linux), a latency no real
    client pays.
    """

    def connect(self):
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def post_once(host, port, body, timeout):
    """``(status, answer bytes)`` of one POST of ``body`` to ``/predict``."""
    connection = Connection(host, port, timeout=timeout)
    try:
        connection.request("POST", "/predict", body=body, headers={"Content-Type": "image/png"})
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def load(host, port, body, clients, seconds, max_requests, timeout):
    """``clients`` threads POST ``body`` back to back for ``seconds``; per-request latencies and errors.

    Each thread keeps one HTTP/1.1 connection open (a new one after an error or a ``Connection: close``). No
    request starts after the deadline or beyond ``max_requests``; one that started may finish up to ``timeout``
    later. Returns a dict: ``latencies`` (s, answered with 200), ``errors`` (count), ``error_samples`` (up to 5
    messages), ``seconds`` (start to the last answer), ``client_cpu_seconds`` (this process).
    """
    lock = threading.Lock()
    state = {"started": 0, "errors": 0, "samples": []}
    latencies = [[] for _ in range(clients)]
    gate = threading.Barrier(clients + 1)
    deadline = [None]

    def error(message):
        with lock:
            state["errors"] += 1
            if len(state["samples"]) < 5:
                state["samples"].append(message)

    def client(mine):
        connection = None
        gate.wait()
        try:
            while True:
                with lock:
                    if state["started"] >= max_requests or time.perf_counter() >= deadline[0]:
                        break
                    state["started"] += 1
                begin = time.perf_counter()
                try:
                    if connection is None:
                        connection = Connection(host, port, timeout=timeout)
                    connection.request("POST", "/predict", body=body, headers={"Content-Type": "image/png"})
                    answer = connection.getresponse()
                    data = answer.read()
                    elapsed = time.perf_counter() - begin
                    if answer.status == 200:
                        mine.append(elapsed)
                    else:
                        error(f"HTTP {answer.status}: {data[:200].decode('utf-8', 'replace')}")
                    if answer.will_close:
                        connection.close()
                        connection = None
                except (OSError, http.client.HTTPException) as err:
                    error(f"{type(err).__name__}: {err}")
                    if connection is not None:
                        connection.close()
                    connection = None
        finally:
            if connection is not None:
                connection.close()

    threads = [threading.Thread(target=client, args=(latencies[i],), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    cpu_start = time.process_time()
    start = time.perf_counter()
    deadline[0] = start + seconds
    gate.wait()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    return {"latencies": [value for mine in latencies for value in mine], "errors": state["errors"],
            "error_samples": state["samples"], "seconds": wall, "started": state["started"],
            "client_cpu_seconds": time.process_time() - cpu_start}


def percentiles(latencies):
    import numpy as np

    if not latencies:
        return {"p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None, "mean_ms": None}
    ms = np.asarray(latencies) * 1000.0
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    return {"p50_ms": float(p50), "p90_ms": float(p90), "p99_ms": float(p99), "max_ms": float(ms.max()),
            "mean_ms": float(ms.mean())}


def check_answer(data, image_shape, n_classes, reference_path):
    """What one answer is: a label PNG at the image's size, equal (or not) to ``predict_multiple``'s file."""
    import cv2
    import numpy as np

    labels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if labels is None:
        return {"ok": False, "why": "the answer is not an image"}, None
    out = {"shape": list(labels.shape), "classes_present": int(len(np.unique(labels))),
           "max_label": int(labels.max())}
    out["ok"] = labels.shape == tuple(image_shape) and (n_classes is None or out["max_label"] < n_classes)
    reference = cv2.imread(reference_path, cv2.IMREAD_UNCHANGED) if reference_path else None
    if reference is not None and reference.shape == labels.shape:
        out["agreement_with_predict_multiple"] = float((reference == labels).mean())
        out["equals_predict_multiple"] = bool(np.array_equal(reference, labels))
    else:
        out["equals_predict_multiple"] = False
    return out, labels


# ------------------------------------------------------------------ one engine
def measure_engine(key, model_path, args, workdir, body, image_shape, n_classes):
    """Baseline, then the server under each client count; returns the engine's record and its first answer."""
    log(f"{key}: predict_multiple baseline over {args.baseline_images} images")
    baseline = run_stage("baseline", {"model": model_path, "images": os.path.join(workdir, "images"),
                                      "out": os.path.join(workdir, f"baseline_{key}"),
                                      "warmup_images": min(4, args.baseline_images)},
                         os.path.join(workdir, f"baseline_{key}.log"), timeout=args.stage_timeout)
    log(f"{key}: predict_multiple {baseline['images_per_s']:.2f} images/s, peak RSS {baseline['peak_rss_mib']:.0f} MiB")
    options = ["--engine", "keras"] if key == "keras" else []  # the Keras row is Keras, not serve's choice
    if args.max_batch is not None:
        options += ["--max-batch", str(args.max_batch)]
    if args.batch_wait_ms is not None:
        options += ["--batch-wait-ms", str(args.batch_wait_ms)]
    record = {"engine": key, "model": model_path, "baseline": baseline, "rows": []}
    with Server(model_path, os.path.join(workdir, f"server_{key}.log"), options, args.stage_timeout) as server:
        metadata = server.get_json("metadata")
        record.update(engine_label=metadata.get("engine"), server_limits=metadata.get("limits"),
                      startup_seconds=server.startup_seconds, served_model=metadata.get("model"),
                      served_input=[metadata.get("input_height"), metadata.get("input_width")])
        log(f"{key}: serving {metadata.get('model')} ({metadata.get('engine')}) at {server.url}, "
            f"up in {server.startup_seconds:.1f} s")
        status, data = post_once(server.host, server.port, body, args.request_timeout)
        if status != 200:
            raise RuntimeError(f"{key}: the first request was answered {status}: {data[:300]!r}")
        answer, labels = check_answer(data, image_shape, n_classes, baseline["first_output"])
        record["answer"] = dict(answer, bytes=len(data))
        for clients in args.clients:
            warm = load(server.host, server.port, body, clients, args.warmup, args.max_requests, args.request_timeout)
            cpu_before = server.cpu_seconds()
            measured = load(server.host, server.port, body, clients, args.seconds, args.max_requests,
                            args.request_timeout)
            cpu_after, memory = server.cpu_seconds(), server.memory_mib()
            requests = len(measured["latencies"])
            row = {
                "engine": key, "engine_label": record["engine_label"], "clients": clients, "requests": requests,
                "errors": measured["errors"], "error_samples": measured["error_samples"],
                "seconds": measured["seconds"], "images_per_s": requests / measured["seconds"],
                **percentiles(measured["latencies"]),
                "server_peak_rss_mib": memory["peak"], "server_rss_mib": memory["now"],
                "server_cpu_s_per_image": (cpu_after - cpu_before) / requests
                if requests and cpu_before is not None and cpu_after is not None else None,
                "client_cpu_s_per_image": measured["client_cpu_seconds"] / requests if requests else None,
                "hit_max_requests": measured["started"] >= args.max_requests,
                "warmup_requests": len(warm["latencies"]), "warmup_errors": warm["errors"],
                "warmup_error_samples": warm["error_samples"],
            }
            row["vs_predict_multiple"] = row["images_per_s"] / baseline["images_per_s"]
            record["rows"].append(row)
            log(f"{key} x{clients}: {requests} requests, {row['images_per_s']:.2f} images/s, "
                f"p50 {_ms(row['p50_ms'])} / p99 {_ms(row['p99_ms'])} ms, {row['errors']} errors "
                f"(+{row['warmup_errors']} in warm-up), server peak RSS {_num(memory['peak'], 0)} MiB")
            if server.process.poll() is not None:
                raise RuntimeError(f"{key}: the server exited (code {server.process.returncode}); {server._tail()}")
    record["server_exit_code"] = server.exit_code
    log(f"{key}: server stopped (exit code {server.exit_code})")
    return record, labels


# ------------------------------------------------------------------ the run
def measure(args):
    workdir = tempfile.mkdtemp(prefix="serve_load_") if args.workdir is None else os.path.abspath(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    started = time.time()
    height, width = args.image_size
    body = write_images(os.path.join(workdir, "images"), height, width, args.baseline_images)
    model_name, flags = _common.lscpu()
    result = {
        "title": "serve under load over loopback",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["python", "bench/serve_load.py", *args.argv]),
        "lscpu": {"model": model_name, "flags": flags},
        "machine": bench_run.machine_description(),
        "load_average_start": bench_run.load_average(),
        "versions": {"python": sys.version.split()[0],
                     **bench_run.package_versions(sys.executable, ROOT, PACKAGES)},
        "settings": {"model": args.model, "input": list(args.input) if args.model is None else None,
                     "engines": args.engines, "clients": args.clients, "seconds": args.seconds,
                     "warmup_seconds": args.warmup, "image_size": [height, width], "image_bytes": len(body),
                     "baseline_images": args.baseline_images, "max_requests": args.max_requests,
                     "request_timeout_s": args.request_timeout, "max_batch": args.max_batch,
                     "batch_wait_ms": args.batch_wait_ms, "seed": SEED},
        "engines": [], "rows": [],
    }
    try:
        log(f"preparing the model in {workdir}")
        model = args.model if args.model is None or "://" in args.model else os.path.abspath(args.model)
        prepared = run_stage("prepare", {"model": model, "workdir": workdir,
                                         "engines": args.engines, "input": list(args.input),
                                         "images": os.path.join(workdir, "images")},
                             os.path.join(workdir, "prepare.log"), timeout=args.stage_timeout)
        result["model"] = prepared["model"]
        log(f"model: {json.dumps(prepared['model'])}")
        answers = {}
        for key, path in prepared["served"].items():
            record, answers[key] = measure_engine(key, path, args, workdir, body, (height, width),
                                                  prepared["model"].get("n_classes"))
            result["engines"].append(record)
            result["rows"] += record["rows"]
        if len(answers) == 2 and all(a is not None for a in answers.values()):
            first, second = answers.values()
            if first.shape == second.shape:
                result["engines_label_agreement"] = float((first == second).mean())
    finally:
        result["load_average_end"] = bench_run.load_average()
        result["total_seconds"] = time.time() - started
        if args.keep:
            result["workdir"] = workdir
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return result


def _ms(value):
    return "–" if value is None else f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def _num(value, digits=2):
    return "–" if value is None else f"{value:.{digits}f}"


def markdown(result):
    """The results as a Markdown table: the baseline row, then one row per client count, for each engine."""
    lines = ["| engine | clients | requests | images/s | × predict_multiple | p50 ms | p99 ms | errors "
             "| server peak RSS MiB | server CPU s/image |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for engine in result["engines"]:
        label = engine.get("engine_label") or engine["engine"]
        base = engine["baseline"]
        lines.append(f"| {label}: `predict_multiple` (batch {base['batch_size']}, {base['images']} images) | – | "
                     f"{base['images']} | {base['images_per_s']:.2f} | 1.00× | – | – | – | "
                     f"{base['peak_rss_mib']:.0f} (its process) | {_num(base.get('cpu_s_per_image'), 3)} |")
        for row in engine["rows"]:
            lines.append(f"| {label}: `serve` | {row['clients']} | {row['requests']} | {row['images_per_s']:.2f} | "
                         f"{row['vs_predict_multiple']:.2f}× | {_ms(row['p50_ms'])} | {_ms(row['p99_ms'])} | "
                         f"{row['errors']} | {_num(row['server_peak_rss_mib'], 0)} | "
                         f"{_num(row['server_cpu_s_per_image'], 3)} |")
    return "\n".join(lines)


def render_section(result):
    """The section for ``docs/benchmarks.md`` (a heading, how it was measured, the table, notes) as Markdown."""
    settings, model = result["settings"], result.get("model", {})
    date = result["date"][:10]
    cpu = result["lscpu"]["model"]
    flags = result["lscpu"]["flags"].split()
    simd = [f for f in flags if f.startswith(("avx", "amx", "fma"))]
    cores = result.get("machine", {}).get("affinity_cpus") or result.get("machine", {}).get("cpus")
    height, width = settings["image_size"]
    if settings["model"] is None:
        what = (f"FPN on MobileNetV2 at {model.get('input', ['?', '?'])[0]}×{model.get('input', ['?', '?'])[1]}, "
                f"{model.get('n_classes')} classes, random weights (seed {settings['seed']}; "
                f"{model.get('params', 0):,} parameters), served as a preset (Keras) and as its float32 ONNX export")
    else:
        what = f"`{settings['model']}`"
    versions = result.get("versions", {})
    lines = [
        f"## Serving under load (`python bench/serve_load.py`, {date}, {cpu})",
        "",
        f"`lscpu` model name \"{cpu}\", {cores} CPUs; flags include {' '.join(simd) or 'no AVX'}. "
        f"`keras_segmentation serve` in its own process on 127.0.0.1, N client threads in the harness's process "
        f"(keep-alive connections, the same {height}×{width} PNG of {settings['image_bytes'] / 1024:.0f} KiB POSTed "
        f"back to back, label PNG answers) for {settings['seconds']:g} s after {settings['warmup_seconds']:g} s of "
        f"warm-up per row; model: {what}. Baseline: `predict_multiple` with its defaults over "
        f"{settings['baseline_images']} copies of the same image in a fresh process, label PNGs written. "
        f"Server peak RSS is its `VmHWM` so far; CPU seconds per image are the server process's (all threads). "
        f"TensorFlow {versions.get('tensorflow')}, ONNX Runtime {versions.get('onnxruntime')}, "
        f"FastAPI {versions.get('fastapi')}, uvicorn {versions.get('uvicorn')}.",
        "",
        markdown(result),
        "",
    ]
    errors = sum(row["errors"] for row in result["rows"])
    warmup_errors = sum(row["warmup_errors"] for row in result["rows"])
    lines.append(f"* Errors: {errors} in the measured windows, {warmup_errors} in the warm-ups (any answer but 200 "
                 "or a connection error counts).")
    for engine in result["engines"]:
        answer = engine.get("answer", {})
        label = engine.get("engine_label") or engine["engine"]
        best = max(engine["rows"], key=lambda row: row["images_per_s"], default=None)
        if best is None:
            continue
        client_cpu = best.get("client_cpu_s_per_image")
        agreement = answer.get("agreement_with_predict_multiple")
        compared = "equals" if answer.get("equals_predict_multiple") else "differs from" if agreement is None else (
            f"differs on {100 * (1 - agreement):.4f} % of the pixels from")
        lines.append(
            f"* {label}: best {best['images_per_s']:.2f} images/s at {best['clients']} clients, "
            f"{best['vs_predict_multiple']:.2f}× `predict_multiple`'s {engine['baseline']['images_per_s']:.2f}; "
            f"the served label map (one request: a batch of 1) {compared} "
            f"`predict_multiple`'s file for the image (batches of 2: `bench/serve_parity.py`); "
            f"server up in {engine['startup_seconds']:.1f} s; "
            f"the clients took {_num(None if client_cpu is None else 1000 * client_cpu, 1)} ms of CPU per image "
            "on the same cores.")
    if "engines_label_agreement" in result:
        lines.append(f"* The two engines' label maps for the test image agree on "
                     f"{100 * result['engines_label_agreement']:.2f} % of the pixels.")
    export = model.get("export") or {}
    if export.get("parity"):
        lines.append(f"* Export parity (the library's check): {export['parity']}.")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", nargs=2, metavar=("NAME", "SPEC"), help=argparse.SUPPRESS)
    parser.add_argument("--render", metavar="JSON", help="print the docs/benchmarks.md section of a result file; "
                        "measure nothing")
    parser.add_argument("--model", help="what to serve: anything `serve` takes (default: a random FPN-MobileNetV2, "
                        "see above); a Keras model is also exported to ONNX unless --engines keras")
    parser.add_argument("--engines", default=",".join(ENGINES),
                        help="keras and/or onnx (default keras,onnx); ignored for an exported --model")
    parser.add_argument("--input", type=size_arg, default=size_arg(DEFAULT_INPUT),
                        help=f"the built model's input, HEIGHTxWIDTH (default {DEFAULT_INPUT}; not with --model)")
    parser.add_argument("--clients", type=counts_arg, default=[1, 4, 16], help="client counts (default 1,4,16)")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured seconds per client count (default 60)")
    parser.add_argument("--warmup", type=float, default=5.0, help="uncounted seconds before each (default 5)")
    parser.add_argument("--image-size", type=size_arg, default=(360, 480), help="the test image (default 360x480)")
    parser.add_argument("--baseline-images", type=int, default=64,
                        help="copies of the image predict_multiple runs over (default 64)")
    parser.add_argument("--max-requests", type=int, default=100_000,
                        help="at most this many requests per engine and client count (default 100000)")
    parser.add_argument("--request-timeout", type=float, default=120.0, help="seconds per request (default 120)")
    parser.add_argument("--stage-timeout", type=float, default=1800.0,
                        help="seconds for building/exporting, each baseline and each server start (default 1800)")
    parser.add_argument("--max-batch", type=int, help="the server's --max-batch (default: its own, 8)")
    parser.add_argument("--batch-wait-ms", type=float, help="the server's --batch-wait-ms (default: its own, 5)")
    parser.add_argument("--out", default=os.path.join(BENCH, "results", "serve_load.json"), help="the JSON result")
    parser.add_argument("--workdir", help="scratch folder (default: a new temporary one, removed at the end)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (model, export, logs)")
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)
    if args.stage:
        STAGES[args.stage[0]](json.loads(args.stage[1]))
        return 0
    if args.render:
        with open(args.render) as handle:
            print(render_section(json.load(handle)), end="")
        return 0
    args.engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    unknown = sorted(set(args.engines) - set(ENGINES))
    if unknown or not args.engines:
        parser.error(f"--engines {','.join(args.engines)}: choose from {','.join(ENGINES)}")
    if args.seconds <= 0 or args.warmup < 0 or args.baseline_images < 1 or args.max_requests < 1:
        parser.error("--seconds must be > 0, --warmup >= 0, --baseline-images and --max-requests >= 1")

    def terminated(signum, frame):  # SIGTERM: unwind through the finally blocks, which stop the server
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        result = bench_run.relative_paths(measure(args))
    finally:
        signal.signal(signal.SIGTERM, previous)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump(result, handle, indent=1)
        handle.write("\n")
    print(f"\n{result['lscpu']['model']}; {result['machine'].get('cpus')} CPUs; "
          f"{result['total_seconds'] / 60:.1f} min; {args.out}\n")
    print(markdown(result))
    errors = sum(row["errors"] for row in result["rows"])
    bad = [e["engine"] for e in result["engines"] if not e.get("answer", {}).get("ok") or e.get("server_exit_code")]
    if errors or bad:
        print(f"\nFAILED: {errors} errors; engines with a wrong answer or a server that did not stop cleanly: {bad}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
