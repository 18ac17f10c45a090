"""``preset`` subcommand: ``preset save`` writes a model as a preset folder, ``preset push`` uploads one to the Hub.

Example:
    $ keras_segmentation preset save --model runs/fit --out presets/roads
    $ keras_segmentation preset push --preset presets/roads --repo my-org/roads
    $ keras_segmentation predict --model presets/roads --input_path a.png --output_path a_seg.png
"""

from ..options import add_options


def register(subparsers):
    """Add the ``preset`` subcommand (``save``, ``push``) to ``subparsers``."""
    parser = subparsers.add_parser(
        "preset",
        help="save a model as a shareable preset folder (weights, config, preprocessing, model card), push it to the Hub",
        description="A preset is one folder that from_preset(), predict --model and evaluate_model --model load: "
        "see docs/presets.md.",
    )
    parser.set_defaults(run=lambda args: parser.print_help() or 2)  # no action given: this command's help
    actions = parser.add_subparsers(dest="preset_command", metavar="<action>")
    save = actions.add_parser(
        "save", help="write a model as a preset folder",
        description="Writes config.json, model.weights.h5, preprocessor.json, metadata.json and a model card "
        "(README.md); from a fit run folder also its plan, data fingerprint and scores. The folder appears "
        "complete or not at all.",
    )
    save.add_argument("--model", required=True, metavar="M",
                      help="a fit run folder, a checkpoint prefix (the one given to train) or a .keras file")
    save.add_argument("--out", required=True, metavar="DIR", help="the preset folder to write")
    add_options(save, "class_names")
    save.add_argument("--overwrite", action="store_true", help="replace a non-empty folder that is not a preset")
    save.set_defaults(run=run_save, needs_keras=True)
    push = actions.add_parser("push", help="upload a preset folder to the Hugging Face Hub (needs the [hub] extra)")
    push.add_argument("--preset", required=True, metavar="DIR", help="the preset folder")
    push.add_argument("--repo", required=True, metavar="ORG/NAME", help="the Hub model repository (made if missing)")
    push.add_argument("--private", action="store_true", help="make a new repository private")
    push.set_defaults(run=run_push)
    for action in (save, push):
        action.add_argument("--debug", action="store_true", help="show full tracebacks on errors")


def run_save(args):
    from ..presets.save import save_preset

    print(f"wrote {save_preset(args.model, args.out, class_names=args.class_names, overwrite=args.overwrite)}")
    return 0


def run_push(args):
    from ..presets.hub import push_to_hub

    print(f"pushed {args.preset} to {push_to_hub(args.preset, args.repo, private=args.private)}")
    return 0
