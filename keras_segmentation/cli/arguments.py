"""Argument types of the flags that one command has; the shared options are in :mod:`keras_segmentation.options`."""

import argparse
import importlib


class RegisteredNames:
    """argparse ``choices`` read from a registry (default: the export formats') when first needed.

    The registry imports its members (NumPy, OpenCV), which ``--help`` and a command's start-up need not pay; a new
    format's name, precision or engine appears here without an edit. Give the flag a ``metavar`` (argparse lists the
    choices in it otherwise, when the flag is added); ``%(choices)s`` in its help lists them when help is shown.

    Example:
        >>> parser.add_argument("--format", choices=RegisteredNames("FORMATS"), metavar="FORMAT",   # doctest: +SKIP
        ...                     help="the export format: %(choices)s")
        >>> RegisteredNames("FORMATS", "keras_segmentation.suggest")   # the pre-label formats   # doctest: +SKIP
    """

    def __init__(self, attribute, module="keras_segmentation.export.formats"):
        self.attribute, self.module = attribute, module

    def names(self):
        return getattr(importlib.import_module(self.module), self.attribute)

    def __contains__(self, value):
        return value in self.names()

    def __iter__(self):
        return iter(self.names())


def runs_without_keras(model):
    """Whether the model path ``model`` is an exported file whose runner loads neither Keras nor TensorFlow."""
    from ..errors import ExportError
    from ..export.formats import format_for_path

    try:
        return format_for_path(model).keras_free
    except ExportError:
        return False  # a preset, run folder, checkpoint prefix, hf:// id: Keras models


def shard_arg(text):
    """argparse type: ``K/N`` (1-based, as people count shards) -> ``(K - 1, N)`` for ``predict_multiple(shard=)``."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not K/N, e.g. 2/8") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"{text!r}: K must be between 1 and N")
    return k - 1, n


def bands_arg(text):
    """argparse type: comma-separated 1-based band numbers -> a tuple of ints."""
    try:
        bands = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of band numbers, e.g. 4,3,2") from None
    if min(bands) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: bands are numbered from 1")
    return bands


def class_weights_arg(value):
    """``--class_weights``: comma-separated floats, else a method name, which ``train`` checks.

    The methods live next to the training code, which imports Keras: not at parse time.
    """
    if value is None:
        return value
    try:
        return [float(v) for v in value.split(",")]
    except ValueError:
        if "," in value:
            raise argparse.ArgumentTypeError(f"{value!r}: use a method name or comma-separated numbers") from None
        return value
