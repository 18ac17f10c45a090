"""``demo`` subcommand: synthetic data, its verification and previews (see :func:`~keras_segmentation.data.demo.run_demo`).

Example:
    $ keras_segmentation demo --out_dir demo_output --seed 0
"""

from .options import positive_int


def register(subparsers):
    """Add the ``demo`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "demo",
        help="generate a synthetic dataset, verify it and write previews",
        description="Generate a synthetic dataset of coloured shapes (5 classes) in <out_dir>/data, "
        "verify it and write previews to <out_dir>/visualize.",
    )
    parser.add_argument("--out_dir", default="demo_output", help="output folder (default demo_output)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--n_train", type=positive_int, default=200, help="training images (default 200)")
    parser.add_argument("--n_test", type=positive_int, default=50, help="test images (default 50)")
    parser.add_argument("--height", type=positive_int, default=128, help="image height (default 128)")
    parser.add_argument("--width", type=positive_int, default=128, help="image width (default 128)")
    parser.set_defaults(run=run)


def run(args):
    """Run the demo and print where its results are."""
    from ..data.demo import run_demo

    result = run_demo(
        args.out_dir, seed=args.seed, n_train=args.n_train, n_test=args.n_test,
        height=args.height, width=args.width, log=print,
    )
    print(result.train_report.format(class_names=result.dataset.class_names))
    print(f"data:     {result.dataset.root}")
    print(f"previews: {result.visualize_dir} ({len(result.visualizations)} files)")
    return 0
