"""``train`` subcommand: the original flags plus loss, class weights, augmentation, schedule, seed."""

from .options import add_class_names_option, add_colormap_option, class_weights_arg


def register(subparsers):
    parser = subparsers.add_parser(
        "train",
        help="train a model on folders of images and masks",
        description="Train a segmentation model. Checkpoints: <checkpoints_path>_config.json and "
        "<checkpoints_path>.NNNNN.weights.h5 per epoch; --auto_resume_checkpoint continues an interrupted run.",
    )
    parser.add_argument("--model_name", required=True, help="registered model (see `models`) or a decoder with --encoder")
    parser.add_argument("--encoder", help="build --model_name as a decoder on this encoder (e.g. unet + efficientnetv2b0)")
    parser.add_argument("--train_images", required=True)
    parser.add_argument("--train_annotations", required=True)
    parser.add_argument("--n_classes", type=int, required=True)
    parser.add_argument("--input_height", type=int, default=None)
    parser.add_argument("--input_width", type=int, default=None)
    parser.add_argument("--channels", type=int, default=3, help="input channels (1 grayscale, 4 RGBA, ...)")
    parser.add_argument("--not_verify_dataset", action="store_false", dest="verify_dataset")
    parser.add_argument("--checkpoints_path", default=None)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch_size", type=int, default=2)
    parser.add_argument("--validate", action="store_true", help="(validation is on whenever --val_images is given)")
    parser.add_argument("--val_images", default="")
    parser.add_argument("--val_annotations", default="")
    parser.add_argument("--val_batch_size", type=int, default=2)
    parser.add_argument("--load_weights", default=None)
    parser.add_argument("--auto_resume_checkpoint", action="store_true")
    parser.add_argument("--steps_per_epoch", type=int, default=None, help="default: one pass over the data")
    parser.add_argument("--val_steps_per_epoch", type=int, default=None)
    parser.add_argument("--optimizer_name", default="adam")
    parser.add_argument("--learning_rate", type=float, default=None)
    parser.add_argument("--lr_schedule", choices=("cosine", "poly"), default=None)
    parser.add_argument("--loss", default="categorical_crossentropy", help="ce, dice, focal, jaccard, tversky, lovasz or sums like ce+dice")
    parser.add_argument("--class_weights", type=class_weights_arg, default=None, help="median_frequency, balanced, enet, or comma-separated weights")
    parser.add_argument("--ignore_index", type=int, default=None, help="label value ignored by loss and metrics")
    parser.add_argument("--ignore_zero_class", action="store_true")
    parser.add_argument("--do_augment", action="store_true")
    parser.add_argument("--augmentation_name", default="aug_all", choices=("aug_all", "aug_all2", "aug_geometric", "aug_non_geometric"))
    parser.add_argument("--read_image_type", type=int, default=1, choices=(-1, 0, 1))
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--cache", action="store_true", help="keep decoded images in memory")
    parser.add_argument("--workers", type=int, default=None, help="threads preparing batches")
    add_class_names_option(parser)
    add_colormap_option(parser)
    parser.set_defaults(run=run)


def run(args):
    from ..train import train

    model = args.model_name
    if args.encoder:
        from ..models import build_model

        model = build_model(
            args.model_name,
            encoder=args.encoder,
            n_classes=args.n_classes,
            input_height=args.input_height,
            input_width=args.input_width,
            channels=args.channels,
        )
    elif args.channels != 3:  # a registered name with another channel count
        from ..errors import ModelConfigError
        from ..models import model_from_name

        if model not in model_from_name:
            raise ModelConfigError(f"unknown model name {model!r}; known: {', '.join(sorted(model_from_name))}")
        sizes = {k: v for k, v in (("input_height", args.input_height), ("input_width", args.input_width)) if v}
        model = model_from_name[model](args.n_classes, channels=args.channels, **sizes)
    train(
        model,
        args.train_images,
        args.train_annotations,
        input_height=args.input_height,
        input_width=args.input_width,
        n_classes=args.n_classes,
        verify_dataset=args.verify_dataset,
        checkpoints_path=args.checkpoints_path,
        epochs=args.epochs,
        batch_size=args.batch_size,
        validate=True if args.validate else None,
        val_images=args.val_images or None,
        val_annotations=args.val_annotations or None,
        val_batch_size=args.val_batch_size,
        auto_resume_checkpoint=args.auto_resume_checkpoint,
        load_weights=args.load_weights,
        steps_per_epoch=args.steps_per_epoch,
        val_steps_per_epoch=args.val_steps_per_epoch,
        ignore_zero_class=args.ignore_zero_class,
        optimizer_name=args.optimizer_name,
        do_augment=args.do_augment,
        augmentation_name=args.augmentation_name,
        read_image_type=args.read_image_type,
        learning_rate=args.learning_rate,
        lr_schedule=args.lr_schedule,
        loss=args.loss,
        class_weights=args.class_weights,
        ignore_index=args.ignore_index,
        seed=args.seed,
        cache=args.cache,
        workers=args.workers,
        class_names=args.class_names,
        colour_map=args.colormap,
    )
    return 0
