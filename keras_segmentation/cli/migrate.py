"""``migrate_checkpoint`` subcommand: a checkpoint trained with the original library, in this library's format.

Example:
    $ keras_segmentation migrate_checkpoint --checkpoints_path old/vgg_unet_1 --output_path ckpt/vgg_unet_1
    $ keras_segmentation predict --checkpoints_path ckpt/vgg_unet_1 --input_path a.png --output_path a_seg.png
"""

ORIGINAL_VERSIONS = ("0.3.0", "master")  # keras_segmentation.migrate.ORIGINAL_VERSIONS, without importing Keras


def register(subparsers):
    """Add the ``migrate_checkpoint`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "migrate_checkpoint",
        help="convert a checkpoint trained with the original keras_segmentation (Keras 2) to this library's format",
        description="Reads <checkpoints_path>_config.json and the TensorFlow-format weights <checkpoints_path>.N "
        "that the original's train wrote, rebuilds the same model and writes <output_path>_config.json and "
        "<output_path>.NNNNN.weights.h5, which predict, evaluate and train --auto_resume_checkpoint read. "
        "Fails, writing nothing, when a layer's weights do not fit.",
    )
    parser.add_argument("--checkpoints_path", required=True, help="the prefix the original's train was given")
    parser.add_argument("--output_path", default=None,
                        help="the new checkpoints prefix (default: <checkpoints_path>_migrated)")
    parser.add_argument("--epoch", type=int, default=None, help="the N of <checkpoints_path>.N (default: the newest)")
    parser.add_argument("--original_version", choices=ORIGINAL_VERSIONS, default=None,
                        help="the original that trained it (matters for the U-Nets: 0.3.0 had no ReLU in the "
                        "decoder); default: 0.3.0 for <prefix>.N names, master for zero-padded <prefix>.0000N")
    parser.set_defaults(run=run, needs_keras=True)


def run(args):
    from ..migrate import migrate_checkpoint

    done = migrate_checkpoint(args.checkpoints_path, args.output_path, args.epoch, args.original_version)
    print(f"{done.source} ({done.layers} layers with weights, the original {done.original_version}'s graph) -> "
          f"{done.weights_file} (epoch {done.epoch}); use --checkpoints_path {done.checkpoints_path}")
    return 0
