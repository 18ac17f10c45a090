"""``demo`` subcommand: the whole workflow on synthetic data (see :func:`keras_segmentation.demo.run_demo`).

Example:
    $ keras_segmentation demo --out_dir demo_output --seed 0
"""

from ..options import positive_int


def register(subparsers):
    """Add the ``demo`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "demo",
        help="generate synthetic data, train a small model, evaluate it and write predictions",
        description="Generate a synthetic dataset of coloured shapes (5 classes) in <out_dir>/data, verify it, "
        "write previews, train a small model (checkpoints in <out_dir>/checkpoints), evaluate it on the test "
        "split and write colour overlays to <out_dir>/predictions.",
    )
    parser.add_argument("--out_dir", default="demo_output", help="output folder (default demo_output)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--n_train", type=positive_int, default=200, help="training images (default 200)")
    parser.add_argument("--n_test", type=positive_int, default=50, help="test images (default 50)")
    parser.add_argument("--height", type=positive_int, default=128, help="image height (default 128)")
    parser.add_argument("--width", type=positive_int, default=128, help="image width (default 128)")
    parser.add_argument("--epochs", type=positive_int, default=5, help="training epochs (default 5)")
    parser.add_argument("--model_name", default="unet_mini", help="registered model to train (default unet_mini)")
    parser.add_argument("--data_only", action="store_true", help="only generate, verify and preview the data")
    parser.set_defaults(run=run, needs_keras=lambda args: not args.data_only)


def run(args):
    """Run the demo and print where its results are."""
    from ..demo import run_demo

    result = run_demo(
        args.out_dir, seed=args.seed, n_train=args.n_train, n_test=args.n_test, height=args.height,
        width=args.width, epochs=args.epochs, model_name=args.model_name, train=not args.data_only, log=print,
    )
    print(result.train_report.format(class_names=result.dataset.class_names))
    if result.scores:
        from ..evaluation import format_scores

        print(format_scores(result.scores, class_names=result.dataset.class_names))
    print(f"data:        {result.dataset.root}")
    print(f"previews:    {result.visualize_dir}")
    if result.scores:
        print(f"checkpoints: {result.checkpoints_path}_config.json, {result.checkpoints_path}.*.weights.h5")
        print(f"predictions: {result.predictions_dir}")
        print(f"test mIoU:   {result.scores['mean_IU']:.3f}   ({result.seconds:.0f} s in all)")
    return 0
