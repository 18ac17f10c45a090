"""TensorFlow's native start-up log lines, hidden for users of the Python API too (the CLI: :mod:`.native_logs`).

``import keras_segmentation`` calls :func:`install`. Unless the user set ``TF_CPP_MIN_LOG_LEVEL``
or ``KERAS_SEGMENTATION_DEBUG=1``, it sets ``TF_CPP_MIN_LOG_LEVEL=3``, which hides what TensorFlow
logs once running (``E0000 ... failed call to cuInit``), and runs ``import tensorflow`` through
:func:`~keras_segmentation.native_logs.filtered_stderr`, for the lines its shared libraries write
while they load, which no variable reaches (``oneDNN custom operations are on``, ``Could not find
cuda drivers``). FATAL lines and everything else still show. A TensorFlow imported before this
package is left as it is.

Example:
    $ KERAS_SEGMENTATION_DEBUG=1 python train.py   # TensorFlow's start-up lines shown
"""

import importlib.abc
import importlib.machinery
import os
import sys


def install(environ=None):
    """Set ``TF_CPP_MIN_LOG_LEVEL=3`` and filter the lines of ``import tensorflow``, unless told otherwise."""
    environ = os.environ if environ is None else environ
    if "TF_CPP_MIN_LOG_LEVEL" in environ or environ.get("KERAS_SEGMENTATION_DEBUG") == "1" or "tensorflow" in sys.modules:
        return
    environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    sys.meta_path.insert(0, _QuietTensorFlowImport())


def uninstall():
    """Undo :func:`install` before TensorFlow is imported (the CLI's ``--debug``, read after the package's import)."""
    hooks = [finder for finder in sys.meta_path if isinstance(finder, _QuietTensorFlowImport)]
    for finder in hooks:
        sys.meta_path.remove(finder)
    if hooks:
        os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` with a loader that runs it under ``filtered_stderr``; inert once it is imported."""

    def find_spec(self, name, path=None, target=None):
        spec = importlib.machinery.PathFinder.find_spec(name, path) if name == "tensorflow" else None
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        from .native_logs import filtered_stderr, log_level

        module.__loader__ = module.__spec__.loader = self.loader  # the real one, for whoever asks later
        with filtered_stderr(log_level()):
            self.loader.exec_module(module)
