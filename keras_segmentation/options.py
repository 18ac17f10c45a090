"""The options that several functions and commands share, declared once: name, default, one-line help, flag.

``train``, ``distill``, ``evaluate``, ``predict``, ``predict_multiple``, ``predict_video``, ``fit``, the
batch loader, the :class:`~keras_segmentation.inference.predictor.Predictor` and the dataset tools take
these keywords with the same default and meaning. Each function still spells them in its own signature
(the original keyword API; ``tests/options/test_options.py`` checks that every default there is the one declared
here). The command line adds their flags from :data:`OPTIONS` (:func:`add_options`) and reads them back as
keywords (:func:`option_values`), so a flag's help and default are written once; ``--help`` shows them.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_options(parser, "batch_size", "colour_map")
    >>> option_values(parser.parse_args(["--batch_size", "4"]), "batch_size", "colour_map")
    {'batch_size': 4, 'colour_map': None}
"""

import argparse
import os
from dataclasses import dataclass, field

from .errors import SegmentationError


@dataclass(frozen=True)
class Option:
    """One shared option.

    Args:
        name: the keyword of the functions (and the parsed argument's name).
        default: its default in every function and command that takes it.
        help: one line, for ``--help`` and the docstrings.
        flag: the command-line flag, ``--<name>`` unless given; ``None``: a keyword with no flag (a callable).
        parse: the rest of argparse's ``add_argument`` (``type``, ``choices``, ``action``).
    """

    name: str
    default: object
    help: str
    flag: str | None = ""
    parse: dict = field(default_factory=dict)

    def add_to(self, parser, **parse):
        """Add this option's flag to an argparse ``parser`` (``parse``: argparse settings the command adds)."""
        if self.flag is None:
            raise SegmentationError(f"{self.name} has no command-line flag")
        parser.add_argument(self.flag or f"--{self.name}", dest=self.name, default=self.default, help=self.help,
                            **{**self.parse, **parse})


# ------------------------------------------------------------------ argument types (read when a command runs)
def positive_int(text):
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def class_names_arg(value):
    """argparse type: a class-names file or a comma list -> a list of names."""
    from .data.class_names import load_class_names

    try:
        return load_class_names(value)
    except SegmentationError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def colour_map_arg(value):
    """argparse type: a colour-map CSV path -> :class:`~keras_segmentation.data.masks.ColourMap`."""
    from .data.masks import ColourMap

    if not os.path.isfile(value):
        raise argparse.ArgumentTypeError(f"{value}: colour map file not found")
    try:
        return ColourMap.from_csv(value)
    except SegmentationError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def augmentation_name_arg(value):
    """argparse type: one of the library's augmentation names."""
    from .data.augmentation import AUGMENTATION_NAMES

    if value not in AUGMENTATION_NAMES:
        raise argparse.ArgumentTypeError(f"{value!r} is unknown; choose one of {', '.join(AUGMENTATION_NAMES)}")
    return value


def tile_arg(text):
    """argparse type: ``H,W`` or one number -> ``(H, W)``."""
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not H,W or a number, e.g. 256,384") from None
    if len(sizes) not in (1, 2) or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give one or two positive sizes")
    return (sizes[0], sizes[-1])


def scales_arg(text):
    """argparse type: comma-separated positive factors -> a tuple of floats."""
    try:
        scales = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of factors, e.g. 0.75,1,1.25") from None
    if min(scales) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: factors must be positive")
    return scales


# ----------------------------------------------------------------------------------------- the options
OPTIONS = {option.name: option for option in (
    # reading the data
    Option("read_image_type", 1, "how images are read: 1 colour (default), 0 grayscale, -1 unchanged (alpha, 16-bit)",
           parse=dict(type=int, choices=(1, 0, -1))),
    Option("preprocessing", None, "a callable (or one per input) applied to each image before normalisation; "
           "give predict and evaluate the one given to train", flag=None),
    Option("colour_map", None, "CSV of 'r,g,b,class_id' lines for colour-coded RGB masks", flag="--colormap",
           parse=dict(type=colour_map_arg)),
    Option("class_names", None, "class names: a text file (one per line, or 'id<TAB>name' lines like CamVid's "
           "classes.txt) or a comma list", parse=dict(type=class_names_arg)),
    Option("ignore_index", None, "a mask value that is no class (e.g. 255): allowed in masks, left out of the loss "
           "and the scores", parse=dict(type=int)),
    Option("workers", None, "threads reading and preparing images (default: from the CPU count)",
           parse=dict(type=positive_int)),
    Option("cache", False, "keep decoded images in memory", parse=dict(action="store_true")),
    Option("do_augment", False, "augment the images as in training (see --augmentation_name)",
           parse=dict(action="store_true")),
    Option("augmentation_name", "aug_all", "augmentation pipeline used with --do_augment (default aug_all; an "
           "unknown name lists the others)", parse=dict(type=augmentation_name_arg)),
    # running the model
    Option("batch_size", 2, "images per batch (default 2)", parse=dict(type=int)),
    Option("progress", True, "show a progress bar on a terminal", flag=None),
    Option("engine", "auto", "run the model with this runtime: keras, the runtime of an export format (an unknown "
           "name lists them; with --checkpoints_path a temporary float32 export is made), or auto (the default: the "
           "file's own for --model; for many images, ONNX Runtime where it is faster than Keras with the same labels, "
           "said in one line)"),
    Option("precision", "auto", "float32, mixed_bfloat16, mixed_float16, or auto (the default: bfloat16 where the "
           "hardware computes it natively and the model gains from it)"),
    Option("flip_tta", False, "average each image's prediction with its mirror's (2 forward passes)",
           parse=dict(action="store_true")),
    # sliding windows and test-time augmentation (the Predictor's keywords: **window)
    Option("mode", None, "resize each image to the model's input (default), or slide: tiles at the image's own "
           "resolution, blended where they overlap", parse=dict(choices=("resize", "slide"))),
    Option("tile", None, "slide: tile size H,W or one number (default: the model's input size; 512 for a model "
           "that takes any size)", parse=dict(type=tile_arg)),
    Option("overlap", 0.25, "slide: overlap of neighbouring tiles (0..1)", parse=dict(type=float)),
    Option("blend", "gaussian", "slide: gaussian (default) or uniform weights"),
    Option("tta", None, "test-time augmentation, comma-separated: hflip, vflip, flip (both), scale"),
    Option("scales", None, "with --tta scale: comma-separated factors (default 0.75,1,1.25)",
           parse=dict(type=scales_arg)),
    # per-pixel uncertainty; the choices are keras_segmentation.uncertainty.METHODS (a room above this one;
    # tests/cli/test_cli_uncertainty.py checks that they agree)
    Option("uncertainty", None, "also write a per-pixel uncertainty map (0 = sure) and per-image scores: entropy, "
           "margin, or tta (how much augmented passes disagree; both flips unless --tta or --flip_tta)",
           parse=dict(choices=("entropy", "margin", "tta"))),
    # drawing the labels
    Option("show_legends", False, "draw a legend of the class names beside the colour image",
           parse=dict(action="store_true")),
    Option("prediction_width", None, "width of the colour image written (default: the image's)",
           parse=dict(type=int)),
    Option("prediction_height", None, "height of the colour image written (default: the image's)",
           parse=dict(type=int)),
)}
"""Every shared option, by name."""


def add_options(parser, *names, parse=None):
    """Add the flags of the options ``names`` to an argparse ``parser`` (or argument group).

    ``parse``: ``{name: argparse settings}`` a command adds, e.g. choices that only a higher layer knows.

    Example:
        >>> add_options(parser, "batch_size", "workers", "read_image_type")   # doctest: +SKIP
        >>> add_options(parser, "engine", parse={"engine": {"choices": ENGINES}})   # doctest: +SKIP
    """
    for name in names:
        OPTIONS[name].add_to(parser, **(parse or {}).get(name, {}))


def option_values(args, *names):
    """The parsed values of the options ``names`` as keywords for the library's functions.

    Example:
        >>> predict_multiple(model, inp_dir="imgs/", **option_values(args, "batch_size", "flip_tta"))  # doctest: +SKIP
    """
    return {name: getattr(args, name) for name in names}
