"""The original library's CLI module name; the CLI lives in :mod:`keras_segmentation.cli`."""

from .cli import build_parser, main

__all__ = ["build_parser", "main"]
