"""Command line interface: ``keras_segmentation <command>`` / ``python -m keras_segmentation``.

A thin layer over the library: each command module under this package adds its
subcommands with ``register(subparsers)`` and runs one library call. Building
the parser imports nothing heavy, so ``--help`` is fast; TensorFlow is imported
only when a command needs a model.

A command that needs Keras says so with ``set_defaults(needs_keras=True)`` (or a
function of the parsed arguments). For those, a Keras backend that cannot load
(``KERAS_BACKEND=jax`` without JAX) is a one-line error before anything is
imported, and TensorFlow's native start-up log lines are hidden while the command
runs; OpenCV's native log lines are hidden for every command (:mod:`keras_segmentation.native_logs`).

Errors the library raises on purpose (:class:`~keras_segmentation.errors.SegmentationError`)
and bad arguments print one line on stderr and exit with status 2; ``--debug``
(before or after the command, or ``KERAS_SEGMENTATION_DEBUG=1``) shows the traceback
instead, and leaves native log lines alone. Warnings are one
``warning: ...`` line each.

Example:
    $ python -m keras_segmentation verify_dataset --images_path imgs/ --segs_path masks/ --n_classes 12
"""

import argparse
import contextlib
import importlib
import os
import sys
import warnings

from .. import startup_logs
from ..version import __version__

#: Modules under ``keras_segmentation.cli`` that contribute subcommands, in help order.
COMMAND_MODULES = ("fit", "dataset", "convert", "suggest", "training", "inference", "calibration", "export", "preset",
                   "serve", "model_zoo", "migrate", "demo")

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line, exit code 2."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser():
    """The full argument parser (cheap: no TensorFlow import)."""
    parser = _Parser(
        prog="keras_segmentation",
        description="Semantic image segmentation with Keras 3.",
    )
    parser.add_argument("--version", action="version", version=f"keras-segmentation {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    subparsers = parser.add_subparsers(dest="command", metavar="<command>", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    for command in subparsers.choices.values():
        command.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    return parser


def main(argv=None):
    """Run the CLI; returns the exit status (0 ok, 1 check failed, 2 bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("KERAS_SEGMENTATION_DEBUG") == "1"
    if debug:
        startup_logs.uninstall()  # importing the package hid TensorFlow's start-up lines before --debug was read
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_USAGE
    needs_keras = getattr(args, "needs_keras", False)
    if callable(needs_keras):
        needs_keras = needs_keras(args)
    try:
        with warnings.catch_warnings():
            if not debug:
                warnings.showwarning = _show_warning
            if needs_keras:
                from ..backend import check_backend

                check_backend()
            if debug:
                quiet = contextlib.nullcontext()
            else:
                from ..native_logs import quiet_native_logs

                quiet = quiet_native_logs(tensorflow=needs_keras)
            with quiet:
                status = args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - the one place errors become exit codes
        if debug or not _is_user_error(err):
            raise
        print(f"error: {_one_line(err)}", file=sys.stderr)
        return EXIT_USAGE
    return 0 if status is None else int(status)


def _one_line(message):
    return " ".join(line.strip() for line in str(message).splitlines() if line.strip())


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"warning: {_one_line(message)}", file=sys.stderr)


def _is_user_error(err):
    """Errors that describe bad input (shown as one line) rather than bugs (shown in full)."""
    from ..errors import SegmentationError

    return isinstance(err, (SegmentationError, FileNotFoundError, NotADirectoryError, PermissionError))
