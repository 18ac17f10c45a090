"""The shared options (:mod:`keras_segmentation.options`): each default and each command flag is the declared one."""

import argparse
import inspect

import pytest

from keras_segmentation.autofit.run import fit
from keras_segmentation.calibration.calibrate import calibrate
from keras_segmentation.cli import build_parser
from keras_segmentation.data.loader import SegmentationDataset, image_segmentation_generator
from keras_segmentation.data.preview import visualize_dataset
from keras_segmentation.data.verify import verify_dataset
from keras_segmentation.distillation.distill import distill
from keras_segmentation.errors import SegmentationError
from keras_segmentation.evaluation.evaluate import evaluate
from keras_segmentation.inference.geo import predict_geotiff
from keras_segmentation.inference.predict import predict, predict_multiple
from keras_segmentation.inference.predictor import Predictor
from keras_segmentation.inference.video import predict_video
from keras_segmentation.options import OPTIONS, add_options, option_values
from keras_segmentation.suggest import suggest
from keras_segmentation.training.loop import train

#: the public functions that take shared options
FUNCTIONS = (train, distill, fit, predict, predict_multiple, predict_video, predict_geotiff, evaluate, calibrate,
             Predictor, SegmentationDataset, image_segmentation_generator, visualize_dataset, verify_dataset, suggest)

#: (command, flag) pairs that share a name with an option but are another option
NOT_SHARED = {
    ("export", "--precision"),  # the exported file's number format: float32, float16, int8
    ("suggest", "--uncertainty"),  # what scores the images, always one (default entropy), not a map to write
    ("serve", "--engine"),  # auto or keras only: an exported file is served by giving the file
}


def shared_defaults(function):
    """``{option: default}`` of the shared options ``function`` takes with a default (``**window``: the Predictor's)."""
    parameters = dict(inspect.signature(function).parameters)
    if "window" in parameters:
        window = inspect.signature(Predictor).parameters
        parameters.update({name: p for name, p in window.items() if p.kind is p.KEYWORD_ONLY})
    return {name: p.default for name, p in parameters.items() if name in OPTIONS and p.default is not p.empty}


def declared(names):
    return {name: OPTIONS[name].default for name in names}


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
def test_a_functions_defaults_are_the_declared_ones(function):
    defaults = shared_defaults(function)
    assert defaults, f"{function.__name__} takes no shared option: drop it from FUNCTIONS"
    assert defaults == declared(defaults)


def test_the_check_finds_a_default_that_drifted():
    def drifted(batch_size=4, workers=None):
        pass

    defaults = shared_defaults(drifted)
    assert defaults != declared(defaults)


def test_every_option_is_shared_by_two_functions():
    takers = {name: [f.__name__ for f in FUNCTIONS if name in shared_defaults(f)] for name in OPTIONS}
    assert {name: users for name, users in takers.items() if len(users) < 2} == {}


def commands():
    parser = build_parser()
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


def test_every_command_takes_a_shared_flag_from_its_declaration():
    checked = 0
    for command, parser in commands().items():
        for action in parser._actions:
            for option in OPTIONS.values():
                if option.flag is None or (option.flag or f"--{option.name}") not in action.option_strings:
                    continue
                if (command, action.option_strings[0]) in NOT_SHARED:
                    continue
                assert (action.dest, action.default, action.help) == (option.name, option.default, option.help), (
                    command, option.name)
                checked += 1
    assert checked > 40  # train, predict, evaluate_model, verify_dataset, ... each add several


def test_options_come_back_as_the_functions_keywords():
    parser = argparse.ArgumentParser()
    add_options(parser, "colour_map", "read_image_type", "tile", "flip_tta")
    args = parser.parse_args(["--read_image_type", "0", "--tile", "256", "--flip_tta"])
    assert option_values(args, "colour_map", "read_image_type", "tile", "flip_tta") == {
        "colour_map": None, "read_image_type": 0, "tile": (256, 256), "flip_tta": True}
    with pytest.raises(SegmentationError, match="preprocessing has no command-line flag"):
        add_options(parser, "preprocessing")
