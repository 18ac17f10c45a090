"""Argument types shared by several subcommands (class names, colour maps, class weights)."""

import argparse
import os


def add_class_names_option(parser):
    parser.add_argument(
        "--class_names",
        type=class_names_arg,
        default=None,
        help="class names: a text file (one per line, or 'id<TAB>name' lines like CamVid's classes.txt) or a comma list",
    )


def add_colormap_option(parser):
    parser.add_argument(
        "--colormap",
        type=colour_map_arg,
        default=None,
        help="CSV of 'r,g,b,class_id' lines for colour-coded RGB masks",
    )


def class_names_arg(value):
    """``--class_names`` value -> list of names (file or comma list)."""
    from ..data.class_names import load_class_names
    from ..errors import SegmentationError

    try:
        return load_class_names(value)
    except SegmentationError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def positive_int(text):
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def colour_map_arg(value):
    """``--colormap`` CSV path -> ColourMap."""
    from ..data.images import ColourMap
    from ..errors import SegmentationError

    if not os.path.isfile(value):
        raise argparse.ArgumentTypeError(f"{value}: colour map file not found")
    try:
        return ColourMap.from_csv(value)
    except SegmentationError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def class_weights_arg(value):
    """``--class_weights``: a method name, or comma-separated floats."""
    from ..training.class_weights import METHODS

    if value is None or value in METHODS:
        return value
    try:
        return [float(v) for v in value.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--class_weights {value!r}: use {', '.join(METHODS)} or comma-separated numbers"
        ) from None
