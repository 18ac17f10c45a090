"""``suggest`` subcommand: the pool images most worth labelling next, with the model's labels as pre-labels.

Example:
    $ keras_segmentation suggest --model runs/fit --pool frames/ --n 50 --out to_label/ --format labelme
    chose 50 of 480 image(s) by uncertainty+diversity (entropy); wrote 50 labelme pre-label(s) to to_label/
    correct them, then: keras_segmentation convert --from labelme to_label/ --labels to_label/labels.txt --out_dir DATASET
"""

from ..options import add_options, option_values, positive_int
from .arguments import RegisteredNames, runs_without_keras
from .inference import PREDICTOR

_SUGGEST = "keras_segmentation.suggest"


def register(subparsers):
    """Add the ``suggest`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "suggest",
        help="choose the images to label next and write the model's labels for a labelling tool (pre-labels)",
        description="Predicts every pool image once, ranks them by uncertainty kept diverse by the encoder's "
        "features, and writes the --n chosen into --out (a new or empty folder): copies of the images, pre-labels "
        "in the tool's format and suggestions.csv (rank,image,score); convert brings the corrected files back. "
        "Without --out the ranking is printed. Exit status: 0 done, 1 done but unreadable images were skipped, "
        "2 bad input. See docs/suggest.md.",
    )
    parser.add_argument("--model", required=True, metavar="M", help="a fit run folder, a preset (or hf://org/name), "
                        "a checkpoint prefix or an exported model (.onnx, .tflite, SavedModel folder, .keras)")
    parser.add_argument("--pool", required=True, metavar="DIR", help="the folder of unlabelled images")
    parser.add_argument("--n", type=positive_int, default=50, help="how many images to choose (default 50)")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="the folder to write (new or empty); default: print the ranking, write nothing")
    parser.add_argument("--format", default="labelme", choices=RegisteredNames("FORMATS", _SUGGEST), metavar="FORMAT",
                        help="the pre-labels' format: %(choices)s (default labelme)")
    parser.add_argument("--uncertainty", default="entropy", metavar="METHOD",
                        choices=RegisteredNames("METHODS", "keras_segmentation.uncertainty"),
                        help="the per-pixel uncertainty: %(choices)s (default entropy; tta: the flips' disagreement)")
    parser.add_argument("--strategy", default="uncertainty+diversity", metavar="STRATEGY",
                        choices=RegisteredNames("STRATEGIES", _SUGGEST),
                        help="how to choose: %(choices)s (default uncertainty+diversity)")
    parser.add_argument("--exclude", metavar="DIR", default=None,
                        help="images already labelled: a folder of images or masks, or a dataset with images/; pool "
                        "images of the same names are left out, and the labelled images keep the choice diverse")
    parser.add_argument("--seed", type=int, default=0, help="--strategy random: the seed (default 0)")
    parser.add_argument("--tolerance", type=float, default=None,
                        help="how far (pixels) polygons may stray from the labels, for fewer points (default 1)")
    parser.add_argument("--min_area", type=int, default=None, help="regions of fewer pixels get no polygon (default 4)")
    add_options(parser, "class_names", "batch_size", *PREDICTOR)
    parser.set_defaults(run=run, needs_keras=lambda args: not runs_without_keras(args.model))


def run(args):
    from ..presets.load import from_preset
    from ..suggest import suggest

    polygons = {name: getattr(args, name) for name in ("tolerance", "min_area") if getattr(args, name) is not None}
    result = suggest(
        from_preset(args.model), args.pool, args.n, args.out, format=args.format, uncertainty=args.uncertainty,
        strategy=args.strategy, exclude=args.exclude, seed=args.seed,
        **polygons, **option_values(args, "class_names", "batch_size", *PREDICTOR),
    )
    if args.out is None:
        for rank, path in enumerate(result.chosen, 1):
            score = result.scores.get(path)
            print(f"{rank}\t{path}\t{'' if score is None else f'{score:.6f}'}")
    print(result.summary())
    return 1 if result.unreadable else 0
