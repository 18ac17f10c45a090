"""Which Keras backend will load, and whether its package is installed, found without importing Keras.

Keras picks its backend when it is first imported: ``KERAS_BACKEND`` when set,
else the ``"backend"`` entry of ``keras.json`` in ``$KERAS_HOME`` (default
``~/.keras``), else TensorFlow. When that backend's package is missing, ``import
keras`` fails deep inside Keras with a ``ModuleNotFoundError`` traceback;
:func:`check_backend` says the same in one line, before anything heavy is imported.

Example:
    >>> from keras_segmentation.backend import check_backend
    >>> check_backend()  # doctest: +SKIP
    'tensorflow'
"""

import importlib.util
import json
import os
import sys

from .errors import BackendError

__all__ = ["BACKENDS", "check_backend", "configured_backend"]

#: Keras backend name -> (the package it needs, how to install that package).
BACKENDS = {
    "tensorflow": ("tensorflow", "pip install tensorflow"),
    "jax": ("jax", "pip install keras-segmentation[jax]"),
    "torch": ("torch", "pip install keras-segmentation[torch]"),
    "numpy": ("numpy", "pip install numpy"),
    "openvino": ("openvino", "pip install openvino"),
}


def configured_backend(environ=None):
    """The backend Keras uses (or will use once imported) and where that was set.

    Returns:
        ``(name, source)``: ``source`` is ``"KERAS_BACKEND"``, the path of the
        ``keras.json`` that names it, ``"keras"`` when Keras is already imported,
        or ``None`` for Keras' default (TensorFlow).

    Example:
        >>> configured_backend({"KERAS_BACKEND": "jax"})
        ('jax', 'KERAS_BACKEND')
    """
    environ = os.environ if environ is None else environ
    config = sys.modules.get("keras.src.backend.config")
    if config is not None and environ is os.environ:  # Keras decided already
        return config.backend(), "keras"
    if environ.get("KERAS_BACKEND"):
        return environ["KERAS_BACKEND"], "KERAS_BACKEND"
    path = _keras_json(environ)
    try:
        with open(path, encoding="utf-8") as handle:
            name = json.load(handle).get("backend")
    except (OSError, ValueError, AttributeError):  # absent or unreadable: Keras ignores it too
        name = None
    if name:
        return name, path
    return "tensorflow", None


def check_backend(environ=None):
    """Return the Keras backend's name; raise :class:`BackendError` when Keras could not load it.

    Call it before the first ``import keras`` to replace Keras' import traceback
    by a one-line message that says what to install or change. It imports nothing.

    Raises:
        BackendError: the backend name is not one Keras knows, or its package
            (``jax``, ``torch``, ...) is not installed.

    Example:
        >>> check_backend({"KERAS_BACKEND": "theano"})
        Traceback (most recent call last):
        ...
        keras_segmentation.errors.BackendError: KERAS_BACKEND=theano is not a Keras backend; use one of tensorflow, jax, torch, numpy, openvino
    """  # noqa: E501 (doctest output: the exception message must stay on one line)
    name, source = configured_backend(environ)
    known = name in BACKENDS
    package = BACKENDS[name][0] if known else None
    if known and _installed(package):
        if not _installed("keras"):
            raise BackendError("keras is not installed; pip install keras-segmentation")
        return name
    valid = f"use one of {', '.join(BACKENDS)}"
    install = BACKENDS[name][1] if known else ""
    if source == "KERAS_BACKEND":
        if not known:
            raise BackendError(f"KERAS_BACKEND={name} is not a Keras backend; {valid}")
        unset = "" if name == "tensorflow" else " (or unset KERAS_BACKEND for TensorFlow)"
        raise BackendError(f"KERAS_BACKEND={name} but {package} is not installed; {install}{unset}")
    if source is None:
        raise BackendError(
            f"TensorFlow (the default Keras backend) is not installed; {install} "
            "(or set KERAS_BACKEND=jax or torch with that package installed)"
        )
    if source == "keras":
        raise BackendError(f"Keras uses the backend {name!r} but {package or name} is not installed; {install or valid}")
    if not known:
        raise BackendError(f'{source} sets "backend": "{name}", which is not a Keras backend; {valid}')
    raise BackendError(f'{source} sets "backend": "{name}" but {package} is not installed; {install} (or edit {source})')


def _installed(package):
    if package in sys.modules:
        return True
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False


def _keras_json(environ):
    """Where Keras reads ``keras.json`` (the same rule as ``keras.src.backend.config``)."""
    if "KERAS_HOME" in environ:
        folder = environ["KERAS_HOME"]
    else:
        home = os.path.expanduser("~")
        folder = os.path.join(home if os.access(home, os.W_OK) else "/tmp", ".keras")
    return os.path.expanduser(os.path.join(folder, "keras.json"))
