"""``fit`` subcommand: a good model from a folder within a time budget (:func:`keras_segmentation.fit`).

    $ keras_segmentation fit --images data/images --masks data/masks --budget 45m --out runs/roads
    $ keras_segmentation fit --data converted/ --epochs 30 --set loss=ce --set architecture=unet_mini
    $ keras_segmentation fit --data corrected/ --budget 20m --start_from runs/roads --out runs/roads2
    $ keras_segmentation fit --data /shared/data --budget 2h --out /shared/runs/roads --distribute multi_worker
"""

from ..options import add_options, option_values


def register(subparsers):
    parser = subparsers.add_parser(
        "fit",
        help="train the best model this machine can make of a folder, within a time budget",
        description="Reads the data (classes, void, channels, groups), plans the training for this machine and the "
        "budget, trains with validation, keeps the best epoch and writes a run folder (model.keras, plan.json, "
        "report/index.html). Run it again on an unfinished run folder to resume it; --start_from continues a finished "
        "run on grown data in a new run folder.",
    )
    source = parser.add_argument_group("data (--images and --masks, or --data)")
    source.add_argument("--images", default=None, help="folder of images")
    source.add_argument("--masks", default=None, help="folder of masks (class ids), paired with the images by name")
    source.add_argument("--data", default=None, help="a folder with images/, annotations/ (or masks/) and classes.txt")
    parser.add_argument("--val_images", default=None, help="your own validation images (else held out by group)")
    parser.add_argument("--val_masks", default=None)
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--budget", default="45m", help="wall-clock time for the whole run: 90s, 45m, 2h (default 45m)")
    length.add_argument("--epochs", type=int, default=None, help="train this many epochs instead (reproducible)")
    parser.add_argument("--out", default=None, help="run folder (default runs/fit, runs/fit2, ...)")
    parser.add_argument("--start_from", default=None, metavar="RUN",
                        help="a finished run folder to continue on this (grown) data: its model, input and classes, "
                        "its validation images held out again; the new run goes to --out, another folder")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                        help="override a decision of the plan, e.g. --set loss=ce --set architecture=unet_mini "
                        "(repeatable)")
    add_options(parser, "class_names", parse={"class_names": {"type": str}})  # fit reads the file: names and colours
    parser.add_argument("--encoder_weights", default=None, help="a local ImageNet MobileNetV2 weights file")
    parser.add_argument("--allow_download", action="store_true", help="let Keras download ImageNet weights")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--distribute", default=None, choices=("mirrored", "multi_worker"),
                        help="data-parallel training: mirrored (every device of this machine) or multi_worker (the "
                        "machines TF_CONFIG names: the chief plans and writes --out, on storage every worker sees); "
                        "the plan's batch size is then per replica (docs/fit.md)")
    parser.set_defaults(run=run, needs_keras=True)


def run(args):
    from ..autofit import fit

    fit(args.images, args.masks, args.budget, data=args.data, out=args.out, epochs=args.epochs,
        val_images=args.val_images, val_masks=args.val_masks, settings=args.settings,
        encoder_weights=args.encoder_weights, allow_download=args.allow_download, seed=args.seed,
        start_from=args.start_from, distribute=args.distribute,
        **option_values(args, "class_names"))
    return 0
