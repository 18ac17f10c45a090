"""``train`` subcommand: the original flags plus loss, class weights, augmentation, schedule, seed."""

from ..options import add_options, option_values
from .arguments import class_weights_arg

#: the shared options (:mod:`keras_segmentation.options`) train takes from the command line
SHARED = ("batch_size", "ignore_index", "do_augment", "augmentation_name", "read_image_type", "cache", "workers",
          "precision", "class_names", "colour_map")


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
    parser.add_argument("--epochs", type=int, default=None, help="epochs (default 5; with --budget: no bound)")
    parser.add_argument("--budget", default=None,
                        help="train within a wall-clock budget (90s, 45m, 2h) with a cosine learning rate over the time")
    parser.add_argument("--keep_checkpoints", type=int, default=3,
                        help="epoch checkpoints kept, newest first (default 3; 0 keeps every one)")
    add_options(parser, "batch_size")
    parser.add_argument(
        "--validate",
        action="store_true",
        help="require validation: stop with an error unless --val_images and --val_annotations are both given "
        "(validation runs whenever they are, with or without this flag)",
    )
    parser.add_argument("--val_images", default="", help="validation images (validation runs when given)")
    parser.add_argument("--val_annotations", default="", help="validation masks (needed with --val_images)")
    parser.add_argument("--val_batch_size", type=int, default=2)
    parser.add_argument("--load_weights", default=None)
    parser.add_argument("--auto_resume_checkpoint", action="store_true")
    parser.add_argument("--steps_per_epoch", type=int, default=None, help="default: one pass over the data")
    parser.add_argument("--val_steps_per_epoch", type=int, default=None)
    parser.add_argument("--optimizer_name", default="adam")
    parser.add_argument("--learning_rate", type=float, default=None)
    parser.add_argument(
        "--lr_schedule", default=None, help="learning-rate schedule by name, e.g. cosine (an unknown name lists the others)"
    )
    parser.add_argument(
        "--loss",
        default="categorical_crossentropy",
        help="loss by name, e.g. ce or dice, or a sum like ce+dice (an unknown name lists the others)",
    )
    parser.add_argument(
        "--class_weights",
        type=class_weights_arg,
        default=None,
        help="comma-separated weights, one per class, or a method computing them from the training masks, "
        "e.g. median_frequency (an unknown name lists the others)",
    )
    add_options(parser, "ignore_index")
    parser.add_argument("--ignore_zero_class", action="store_true")
    add_options(parser, "do_augment", "augmentation_name", "read_image_type")
    parser.add_argument("--seed", type=int, default=None)
    add_options(parser, "cache", "workers")
    parser.add_argument(
        "--distribute",
        default=None,
        help="data-parallel training: mirrored (every device of this machine) or multi_worker (the machines "
        "TF_CONFIG names); --batch_size is then per replica (docs/distributed.md)",
    )
    add_options(parser, "precision")
    parser.add_argument("--tensorboard", default=None, metavar="DIR",
                        help="write TensorBoard scalars and prediction images per epoch to DIR "
                        "(needs the [tensorboard] extra; view with: tensorboard --logdir DIR)")
    add_options(parser, "class_names", "colour_map")
    parser.set_defaults(run=run, needs_keras=True)


def run(args):
    from ..errors import ModelConfigError

    if args.validate and not (args.val_images and args.val_annotations):
        raise ModelConfigError("--validate needs both --val_images and --val_annotations")
    if bool(args.val_images) != bool(args.val_annotations):
        given, missing = ("--val_images", "--val_annotations") if args.val_images else ("--val_annotations", "--val_images")
        raise ModelConfigError(f"{given} needs {missing} too (validation images and their masks)")

    from ..training.distribute import start_strategy
    from ..training.runner import check_outputs

    check_outputs(args.checkpoints_path, args.tensorboard)  # before the model is built
    # Multi-worker TensorFlow configures itself once, before anything else runs: before the model.
    strategy = start_strategy(args.distribute) if args.distribute else None
    from ..models import resolve_model
    from ..training import train

    model = resolve_model(
        args.model_name, args.n_classes, args.input_height, args.input_width, channels=args.channels, encoder=args.encoder
    )
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
        budget=args.budget,
        keep_checkpoints=args.keep_checkpoints or None,
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
        learning_rate=args.learning_rate,
        lr_schedule=args.lr_schedule,
        loss=args.loss,
        class_weights=args.class_weights,
        seed=args.seed,
        distribute=strategy,
        tensorboard_dir=args.tensorboard,
        **option_values(args, *SHARED),
    )
    return 0
