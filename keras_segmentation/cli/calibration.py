"""``calibrate`` subcommand: fit a model's temperature on validation images and keep it with the model.

Example:
    $ keras_segmentation calibrate --checkpoints_path ckpt/unet --images val/images --annotations val/masks
    temperature 1.624: ECE 0.0512 -> 0.0097 (NLL 0.4127 -> 0.3580)
    wrote ckpt/unet_config.json
"""

from ..options import add_options, option_values
from .arguments import runs_without_keras
from .inference import PREDICTOR


def register(subparsers):
    """Add the ``calibrate`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "calibrate",
        help="fit a temperature that makes a model's confidence match its accuracy, and keep it with the model",
        description="Predicts the validation images, fits the temperature T that minimises the negative "
        "log-likelihood of softmax(log(p) / T) on a random sample of their pixels, prints the expected calibration "
        "error and the NLL before and after it, and writes T where the model lives (the checkpoint's _config.json, "
        "the run folder's predict.json, the preset's config.json, the export's metadata JSON), so predict applies "
        "it. evaluate_model --report shows the reliability diagrams on other images.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoints_path", help="the prefix given to train")
    source.add_argument("--model", dest="model_path", default=None, metavar="PATH",
                        help="a fit run folder, a preset folder or an exported model (.onnx, .tflite, SavedModel "
                        "folder, .keras)")
    parser.add_argument("--images", required=True, help="folder of validation images (not the training images)")
    parser.add_argument("--annotations", required=True, help="folder of their masks, paired by name")
    add_options(parser, "ignore_index", "colour_map", "batch_size", *PREDICTOR)
    parser.add_argument("--sample_pixels", type=int, default=200_000,
                        help="fit on a random sample of at most this many valid pixels (default 200000)")
    parser.add_argument("--seed", type=int, default=0, help="the seed of the pixel sample (default 0)")
    parser.add_argument("--no_save", dest="save", action="store_false",
                        help="only measure: leave the model's files as they are")
    parser.set_defaults(run=run, needs_keras=lambda args: not (args.model_path and runs_without_keras(args.model_path)))


def run(args):
    from ..calibration import calibrate

    result = calibrate(
        args.model_path, args.images, args.annotations, checkpoints_path=args.checkpoints_path, save=args.save,
        sample_pixels=args.sample_pixels, seed=args.seed,
        **option_values(args, "ignore_index", "colour_map", "batch_size", *PREDICTOR),
    )
    print(result.line())
    if result.stored_in:
        print(f"wrote {result.stored_in}")
    return 0
