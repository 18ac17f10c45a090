"""``verify_dataset`` and ``visualize_dataset`` subcommands.

Example:
    $ keras_segmentation verify_dataset --images_path imgs/ --segs_path masks/ --n_classes 12
    $ keras_segmentation visualize_dataset --images_path imgs/ --segs_path masks/ \\
          --class_names classes.txt --out_dir preview --do_augment
"""

from ..options import add_options, option_values, positive_int

#: the shared options (:mod:`keras_segmentation.options`) both commands take
SHARED = ("colour_map", "read_image_type", "workers")


def register(subparsers):
    """Add the dataset subcommands to ``subparsers``."""
    verify = subparsers.add_parser(
        "verify_dataset",
        help="check images and masks; print one report of every problem (exit 1 when there are problems)",
        description="Check every image/mask pair and print one report: pairing problems, unreadable files, "
        "size mismatches, mask values >= n_classes, per-class pixel counts, image sizes and modes. "
        "Exit status: 0 clean, 1 problems found, 2 bad arguments.",
    )
    _add_data_arguments(verify)
    verify.add_argument("--other_inputs_paths", nargs="+", help="folders of extra input images (multi-input)")
    add_options(verify, "ignore_index")
    verify.add_argument(
        "--quick", action="store_true",
        help="read only image headers (sizes, modes): faster, but truncated or corrupt images go unnoticed",
    )
    verify.add_argument(
        "--max_problems", type=int, default=30, help="problems listed one by one (0: all; default 30)"
    )
    verify.set_defaults(run=run_verify)

    show = subparsers.add_parser(
        "visualize_dataset",
        help="write image | coloured mask | overlay previews of a dataset to --out_dir",
        description="Write one PNG per pair (image | coloured mask | overlay, with a legend when class "
        "names are given) to --out_dir; --show also opens a window when a display exists.",
    )
    _add_data_arguments(show)
    show.add_argument("--out_dir", default="dataset_visualization", help="folder for the previews")
    add_options(show, "do_augment", "augmentation_name")
    show.add_argument("--max_images", type=positive_int, help="only the first N pairs (sorted by name)")
    show.add_argument("--seed", type=int, default=0, help="augmentation seed (default 0)")
    show.add_argument("--show", action="store_true", help="also show each preview in a window")
    show.set_defaults(run=run_visualize)


def run_verify(args):
    """Print the report; 0 when clean, 1 when problems were found."""
    from ..data.verify import verify_dataset

    report = verify_dataset(
        args.images_path,
        args.segs_path,
        args.n_classes,
        other_inputs_paths=args.other_inputs_paths,
        decode_images=not args.quick,
        **option_values(args, "ignore_index", *SHARED),
    )
    print(report.format(class_names=args.class_names, max_problems=args.max_problems or None))
    return 0 if report else 1


def run_visualize(args):
    """Write the previews and print where they are."""
    from ..data.preview import visualize_dataset

    paths = visualize_dataset(
        args.images_path,
        args.segs_path,
        args.n_classes,
        args.out_dir,
        max_images=args.max_images,
        show=args.show,
        seed=args.seed,
        **option_values(args, "class_names", "do_augment", "augmentation_name", *SHARED),
    )
    print(f"wrote {len(paths)} preview(s) to {args.out_dir}")
    return 0


def _add_data_arguments(parser):
    parser.add_argument("--images_path", required=True, help="folder of images")
    parser.add_argument("--segs_path", required=True, help="folder of masks (PNG/BMP, same base names)")
    parser.add_argument(
        "--n_classes", type=positive_int, help="number of classes (default: report the classes found)"
    )
    add_options(parser, "class_names", *SHARED)
