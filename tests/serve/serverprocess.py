"""A real server for the tests (``from serverprocess import running_server``): ``python -m keras_segmentation serve``
in a subprocess on a free port, its URL read from the line it prints, stopped with Ctrl-C (SIGINT)."""

import contextlib
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
import urllib.request

import pytest


@contextlib.contextmanager
def running_server(model, log_path, *options, preamble=None, timeout=180):
    """Yield ``(url, process)`` of ``keras_segmentation serve model --port 0 *options``; stop it on exit.

    ``preamble``: Python code run before the command, in its process (an import blocker, say). A Keras model is
    served by Keras (``--engine keras``) unless ``options`` name an engine: its answers then equal ``predict()``'s.
    """
    if "--engine" not in options:
        options = (*options, "--engine", "keras")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "keras_segmentation"]
    if preamble is not None:
        command = [sys.executable, "-c", preamble + "\nimport sys\nfrom keras_segmentation.cli import main\n"
                   "sys.exit(main(sys.argv[1:]))\n"]
    with open(log_path, "w") as log:
        process = subprocess.Popen([*command, "serve", str(model), "--port", "0", *map(str, options)],
                                   stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    try:
        line = _first_line(process, timeout, log_path)
        found = re.search(r"at (http://127\.0\.0\.1:\d+/) \(Ctrl-C to stop\)", line)
        assert found, line
        url = found.group(1)
        _wait_until_healthy(url, timeout)
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def stop(process, timeout=30):
    """Ctrl-C the server; returns ``(exit code, the rest of its stdout)``."""
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=timeout)
    return process.returncode, out


def _first_line(process, timeout, log_path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            return process.stdout.readline()
        if process.poll() is not None:
            break
    with open(log_path) as log:
        pytest.fail(f"the server did not start (exit code {process.poll()}): {log.read()[-3000:]}")


def _wait_until_healthy(url, timeout):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url + "health", timeout=5) as answer:
                assert json.load(answer) == {"status": "ok"}
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def post(url, data, content_type="application/octet-stream"):
    """``(status, content type, body)`` of a POST of ``data`` to ``url`` (urllib, as curl would send it)."""
    request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read()
