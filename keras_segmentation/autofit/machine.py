"""The machine a fingerprint records: CPU cores, native bfloat16, GPU names and memory, without importing Keras.

Example:
    >>> describe_machine()["cpu_cores"]
    2
"""

import os
import re
import shutil
import subprocess

from ..precision import BF16_CPU_FLAGS, cpu_flags


def describe_machine():
    """``{"cpu_cores", "bfloat16", "gpus", "memory_gb"}`` of this machine, without importing Keras.

    ``bfloat16``: the CPU computes bfloat16 natively; ``gpus``: names from ``nvidia-smi -L``;
    ``memory_gb``: ``MemTotal`` of ``/proc/meminfo`` in GiB (``None`` where unreadable).

    Example:
        >>> describe_machine()
        {'cpu_cores': 2, 'bfloat16': True, 'gpus': [], 'memory_gb': 7.8}
    """
    return {
        "cpu_cores": os.cpu_count(),
        "bfloat16": bool(cpu_flags() & set(BF16_CPU_FLAGS)),
        "gpus": _gpu_names(),
        "memory_gb": _memory_gb(),
    }


def _gpu_names():
    """GPU names from ``nvidia-smi -L`` (``[]`` without the tool or when it fails: no usable GPU)."""
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [re.sub(r"^GPU \d+: | \(UUID: [^)]*\)$", "", line.strip()) for line in listing.splitlines()
            if line.startswith("GPU ")]


def _memory_gb(path="/proc/meminfo"):
    """``MemTotal`` in GiB, one decimal; ``None`` where the file cannot be read."""
    total = proc_bytes("MemTotal", path)
    return None if total is None else round(total / 1024**3, 1)


def proc_bytes(field, path="/proc/meminfo"):
    """The ``field:  N kB`` line of a ``/proc`` file (``/proc/meminfo``, ``/proc/self/status``) in bytes; ``None``
    where it is absent or the file cannot be read.

    Example:
        >>> proc_bytes("VmHWM", "/proc/self/status")   # doctest: +SKIP
        1073741824
    """
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None
