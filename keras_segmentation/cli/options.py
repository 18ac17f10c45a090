"""Options and argument types shared by several subcommands (class names, colour maps, class weights, augmentation)."""

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


def shard_arg(text):
    """argparse type: ``K/N`` (1-based, as people count shards) -> ``(K - 1, N)`` for ``predict_multiple(shard=)``."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not K/N, e.g. 2/8") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"{text!r}: K must be between 1 and N")
    return k - 1, n


def add_precision_option(parser):
    """``--precision`` (default ``auto``: :func:`keras_segmentation.precision.resolve_precision`)."""
    parser.add_argument(
        "--precision", default="auto",
        help="float32, mixed_bfloat16, mixed_float16, or auto (the default: bfloat16 where the hardware computes it "
        "natively and the model gains from it)",
    )


def tile_arg(text):
    """argparse type: ``H,W`` or one number -> ``(H, W)``."""
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not H,W or a number, e.g. 256,384") from None
    if len(sizes) not in (1, 2) or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give one or two positive sizes")
    return (sizes[0], sizes[-1])


def bands_arg(text):
    """argparse type: comma-separated 1-based band numbers -> a tuple of ints."""
    try:
        bands = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of band numbers, e.g. 4,3,2") from None
    if min(bands) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: bands are numbered from 1")
    return bands


def scales_arg(text):
    """argparse type: comma-separated positive factors -> a tuple of floats."""
    try:
        scales = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of factors, e.g. 0.75,1,1.25") from None
    if min(scales) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: factors must be positive")
    return scales


def colour_map_arg(value):
    """``--colormap`` CSV path -> ColourMap."""
    from ..data.masks import ColourMap
    from ..errors import SegmentationError

    if not os.path.isfile(value):
        raise argparse.ArgumentTypeError(f"{value}: colour map file not found")
    try:
        return ColourMap.from_csv(value)
    except SegmentationError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


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


def add_augmentation_option(parser):
    parser.add_argument(
        "--augmentation_name",
        default="aug_all",
        type=augmentation_name_arg,
        help="augmentation pipeline used with --do_augment (default aug_all; an unknown name lists the others)",
    )


def augmentation_name_arg(value):
    """argparse type: one of the library's augmentation names (read when a command runs, not for ``--help``)."""
    from ..data.augmentation import AUGMENTATION_NAMES

    if value not in AUGMENTATION_NAMES:
        raise argparse.ArgumentTypeError(f"{value!r} is unknown; choose one of {', '.join(AUGMENTATION_NAMES)}")
    return value
