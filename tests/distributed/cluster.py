"""Worker processes of the distributed tests on 127.0.0.1 (``from cluster import start, start_cluster, finish``)."""

import json
import os
import socket
import subprocess
import sys


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def start(script, spec, tf_config=None, env=None):
    """``python script SPEC_JSON`` on the CPU, with ``TF_CONFIG`` when given and ``env`` added to the environment."""
    environment = dict(os.environ, KERAS_BACKEND="tensorflow", CUDA_VISIBLE_DEVICES="", **(env or {}))
    environment.pop("TF_CONFIG", None)
    if tf_config is not None:
        environment["TF_CONFIG"] = json.dumps(tf_config)
    return subprocess.Popen([sys.executable, str(script), json.dumps(spec)], env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def start_cluster(script, spec_for, count=2, env_for=lambda i: None):
    """``count`` workers of one cluster: worker ``i`` runs ``spec_for(i)`` with the environment ``env_for(i)`` adds."""
    addresses = [f"127.0.0.1:{port}" for port in free_ports(count)]
    return [start(script, spec_for(i), {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": i}},
                  env_for(i)) for i in range(count)]


def finish(process, timeout=240):
    """``(exit code, output)`` of a worker; one still running after ``timeout`` seconds is killed (an AssertionError)."""
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise AssertionError(f"worker timed out:\n{output[-3000:]}") from None
    return process.returncode, output
