"""``export`` subcommand: a trained model as SavedModel, ONNX, LiteRT or ``.keras``, with a parity check.

Example:
    $ keras_segmentation export --checkpoints_path ckpt/unet --format onnx --precision int8 \\
          --calibration_images data/train_images --output unet_int8.onnx
    $ keras_segmentation export --checkpoints_path ckpt/unet --format onnx --serving triton --output repo/
"""

from ..options import add_options
from .arguments import RegisteredNames

FORMATS = RegisteredNames("FORMATS")
PRECISIONS = RegisteredNames("PRECISIONS")


def register(subparsers):
    """Add the ``export`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "export",
        help="export a trained model (SavedModel, ONNX, LiteRT, .keras; float32, float16, int8) for deployment",
        description="Writes a graph that takes uint8 images (N, H, W, C; RGB for colour models) and holds the model's "
        "normalisation, a JSON beside it that describes it, then compares it with the Keras model and prints max "
        "|dprob|, label agreement and speed (and the mIoU change with --parity_annotations). Exits 1 when a float32 "
        "export differs by more than 1e-4 in probability.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoints_path", help="the prefix given to train")
    source.add_argument("--model", dest="model_path", metavar="FILE.keras", help="a model saved as .keras")
    parser.add_argument("--format", dest="fmt", choices=FORMATS, metavar="FORMAT", required=True,
                        help="the export format: %(choices)s")
    parser.add_argument("--output", required=True, help="the file (or SavedModel folder) to write; with --serving, "
                        "the model repository folder")
    parser.add_argument("--precision", choices=PRECISIONS, metavar="PRECISION", default="float32",
                        help="%(choices)s (default float32; the formats that take each are listed in docs/export.md)")
    parser.add_argument("--labels", action="store_true", help="add a 'labels' output (int32 class ids)")
    parser.add_argument("--calibration_images", metavar="DIR", help="int8: representative images to calibrate on")
    parser.add_argument("--calibration_count", type=int, default=100, help="int8: images used (spread over DIR)")
    parser.add_argument("--parity_images", metavar="DIR", help="images for the parity check (default: random ones)")
    parser.add_argument("--parity_annotations", metavar="DIR", help="their masks: also report the mIoU change")
    parser.add_argument("--parity_count", type=int, default=8, help="images compared (default 8)")
    add_options(parser, "ignore_index")
    parser.add_argument("--no_parity", dest="parity", action="store_false", help="skip the parity check")
    parser.add_argument("--serving", choices=("triton", "tfserving"), default=None,
                        help="lay the export out as a Triton model repository or a TensorFlow Serving base path")
    parser.add_argument("--serving_name", default=None, help="the served model's name (default: the model's)")
    parser.set_defaults(run=run, needs_keras=True)


def run(args):
    import sys

    from ..errors import ParityError
    from ..export import export_model

    try:
        result = export_model(
            args.model_path, args.output, args.fmt, args.precision, checkpoints_path=args.checkpoints_path,
            labels=args.labels, calibration_images=args.calibration_images, calibration_count=args.calibration_count,
            parity=args.parity, parity_images_dir=args.parity_images, parity_annotations_dir=args.parity_annotations,
            parity_count=args.parity_count, ignore_index=args.ignore_index, serving=args.serving,
            serving_name=args.serving_name,
        )
    except ParityError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1  # a check failed (the file is written, for inspection)
    print(f"wrote {result.path} ({result.size_bytes / 2**20:.1f} MiB) and {result.metadata_path}")
    if result.serving_config:
        print(f"wrote {result.serving_config}")
    if result.parity:
        print(result.parity.line())
    return 0
