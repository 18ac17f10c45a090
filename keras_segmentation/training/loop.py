"""Training: ``train(model, train_images, train_annotations, ...)`` and ``model.train(...)``.

Every argument of the original library works as before; what changed:

* ``steps_per_epoch`` defaults to one pass over the data (the original: 512);
* validation runs whenever ``val_images``/``val_annotations`` are given;
* labels are integer maps with sparse losses: ``loss=`` takes ``"ce"``, ``"dice"``,
  ``"focal"``, ``"jaccard"``, ``"tversky"``, ``"lovasz"`` and sums like ``"ce+dice"``;
  ``class_weights=`` a list or ``"median_frequency"`` / ``"balanced"`` / ``"enet"``;
  ``ignore_index=`` a label to ignore (``ignore_zero_class=True`` is ``ignore_index=0``);
* ``optimizer_name`` may be an optimizer object; ``learning_rate`` and
  ``lr_schedule`` (``"cosine"``, ``"poly"``, a schedule or ``f(epoch, lr)``) set the rate;
* ``callbacks`` are added to the defaults (``replace_default_callbacks=True``
  restores the original's replacing behaviour);
* checkpoints are atomic; ``auto_resume_checkpoint=True`` continues from the
  last complete epoch with its optimizer state (see :mod:`keras_segmentation.checkpoints`);
  Ctrl-C saves a mid-epoch checkpoint that resuming picks up; a NaN loss stops
  training with a :class:`~keras_segmentation.errors.TrainingError` and keeps the
  last good checkpoint;
* ``budget="45m"`` trains within a wall-clock budget (``"90s"``, ``"2h"``, or seconds) with a
  cosine learning rate over the time (:mod:`keras_segmentation.training.budget`); ``epochs``
  is then only an upper bound (unbounded when not given), and a resumed run keeps the budget spent;
* ``keep_checkpoints=3`` keeps the newest three epoch checkpoints (each holds the optimizer
  state: a ResNet-50 run would otherwise fill a disk); ``None`` keeps every one;
* ``seed=`` makes the order, augmentation and (with a seeded model) the run reproducible;
* ``tensorboard_dir=`` writes TensorBoard scalars and prediction images per epoch
  (:mod:`keras_segmentation.training.tensorboard`; the ``[tensorboard]`` extra); every
  run with ``checkpoints_path`` also keeps its per-epoch logs in ``<checkpoints_path>_history.json``;
* ``jit_compile="auto"`` compiles the training and validation steps with XLA on
  a CPU where TensorFlow's oneDNN kernels are off (CPUs without AVX-512 VNNI/BF16 or
  AMX, or ``TF_ENABLE_ONEDNN_OPTS=0``; Keras' own ``"auto"`` leaves XLA off without a
  GPU): there XLA made ``vgg_unet`` training 1.5x faster, while with oneDNN on it made
  training 1.3-2.1x slower (``docs/benchmarks.md``). Inference afterwards runs without
  XLA (it would recompile for every new image size). ``jit_compile=True`` forces it on.

Example:
    >>> from keras_segmentation.models.unet import vgg_unet
    >>> model = vgg_unet(n_classes=12, input_height=320, input_width=320)
    >>> model.train(train_images="data/images_prepped_train/",
    ...             train_annotations="data/annotations_prepped_train/",
    ...             val_images="data/images_prepped_test/", val_annotations="data/annotations_prepped_test/",
    ...             checkpoints_path="ckpt/vgg_unet_1", epochs=5, loss="ce+dice", ignore_index=11)
"""

from ..checkpoints.load import load_weights_file
from ..errors import ModelConfigError
from ..models.registry import resolve_model
from ..precision import in_precision, model_precision
from . import distribute as distribute_engine
from . import runner
from .compile import choose_jit_compile, compile_model, fit_without_xla_if_it_cannot_compile
from .datasets import class_weight_vector, io_sizes, make_augmenter, segmentation_dataset, training_pairs


def train(
    model,
    train_images,
    train_annotations,
    input_height=None,
    input_width=None,
    n_classes=None,
    verify_dataset=True,
    checkpoints_path=None,
    epochs=None,
    batch_size=2,
    validate=None,
    val_images=None,
    val_annotations=None,
    val_batch_size=2,
    auto_resume_checkpoint=False,
    load_weights=None,
    steps_per_epoch=None,
    val_steps_per_epoch=None,
    gen_use_multiprocessing=False,
    ignore_zero_class=False,
    optimizer_name="adam",
    do_augment=False,
    augmentation_name="aug_all",
    callbacks=None,
    custom_augmentation=None,
    other_inputs_paths=None,
    preprocessing=None,
    read_image_type=1,
    *,
    learning_rate=None,
    lr_schedule=None,
    loss="categorical_crossentropy",
    class_weights=None,
    ignore_index=None,
    seed=None,
    cache=False,
    workers=None,
    replace_default_callbacks=False,
    class_names=None,
    colour_map=None,
    verbose="auto",
    jit_compile="auto",
    distribute=None,
    precision="auto",
    tensorboard_dir=None,
    budget=None,
    keep_checkpoints=3,
):
    """Train ``model`` on a folder of images and a folder of masks; returns the Keras ``History``.

    ``model`` is a model object or a registered name (then ``n_classes`` is
    required). See the module docstring for what each argument does, and
    :mod:`keras_segmentation.options` for those shared with ``predict`` and ``evaluate``
    (``batch_size``, ``read_image_type``, ``preprocessing``, ``workers``, ...); the
    original library's arguments keep their meaning. ``gen_use_multiprocessing``
    is accepted and ignored (batches are prepared by ``workers`` threads).
    ``distribute`` trains data-parallel (:mod:`keras_segmentation.training.distribute`):
    ``batch_size`` is then per replica, and ``model`` receives the trained weights.
    ``precision`` (:mod:`keras_segmentation.precision`) trains a copy of the model in
    ``"mixed_bfloat16"``, ``"mixed_float16"``, ``"float32"`` or ``"auto"`` (the default:
    bfloat16 where the hardware computes it natively, else float32; ``None``: the model's
    own); ``model`` receives the (float32) weights, and the checkpoint config records the
    precision. On a CPU,
    XLA (``jit_compile="auto"``) is left off in a mixed precision: its CPU convolutions
    do not use the bfloat16 kernels.
    """
    runner.check_outputs(checkpoints_path, tensorboard_dir)  # before any work: nothing is written for a bad path
    replication = distribute_engine.resolve(distribute)  # first: multi-worker TensorFlow must start before the model
    timer = runner.time_budget(budget, learning_rate, lr_schedule, checkpoints_path, auto_resume_checkpoint, epochs,
                               replication)
    epochs = (5 if timer is None else runner.UNBOUNDED_EPOCHS) if epochs is None else epochs
    runner.check_counts(epochs=epochs, keep_checkpoints=keep_checkpoints)
    if isinstance(model, str):
        model = resolve_model(model, n_classes, input_height, input_width)
    if replication is not None and other_inputs_paths:
        raise ModelConfigError("distribute= trains single-input models; other_inputs_paths is not supported with it")
    ignore_index = _resolve_ignore_index(ignore_index, ignore_zero_class)
    runner.check_counts(batch_size=batch_size, val_batch_size=val_batch_size, steps_per_epoch=steps_per_epoch,
                        val_steps_per_epoch=val_steps_per_epoch)
    n_classes = model.n_classes
    if class_names is not None:
        model.class_names = list(class_names)

    if bool(val_images) != bool(val_annotations):
        given, missing = ("val_images", "val_annotations") if val_images else ("val_annotations", "val_images")
        raise ModelConfigError(f"{given} is given without {missing}: validation needs the images and their masks")
    validate = bool(val_images) if validate is None else validate
    if validate and not val_images:
        raise ModelConfigError("validate=True needs both val_images and val_annotations")

    every_worker_alike = replication is not None and replication.workers > 1  # every worker must draw the same order
    seed = runner.choose_seed(seed, checkpoints_path, model, auto_resume_checkpoint, default=0 if every_worker_alike else None)

    checks = dict(verify=verify_dataset, n_classes=n_classes, ignore_index=ignore_index, colour_map=colour_map,
                  read_image_type=read_image_type, channels=model.channels if other_inputs_paths is None else None)
    train_pairs = training_pairs(train_images, train_annotations, other_inputs_paths, **checks)
    val_pairs = training_pairs(val_images, val_annotations, other_inputs_paths, **checks) if validate else None
    board = []  # TensorBoard, on the chief: built first, so that a missing package stops before any work
    if tensorboard_dir is not None and (replication is None or replication.is_chief):
        from .tensorboard import tensorboard_callbacks

        shown = [] if other_inputs_paths else [pair[0] for pair in (val_pairs if validate else train_pairs)]
        board = tensorboard_callbacks(tensorboard_dir, shown, read_image_type, preprocessing)

    input_size, output_size = io_sizes(model, train_pairs, read_image_type)
    train_data = segmentation_dataset(
        model, train_pairs, batch_size, input_size, output_size, ignore_index, read_image_type, colour_map,
        preprocessing, workers, cache, seed, steps_per_epoch, shuffle=True,
        augmenter=make_augmenter(do_augment, augmentation_name, custom_augmentation, ignore_index),
    )
    val_data = (
        segmentation_dataset(
            model, val_pairs, val_batch_size, input_size, output_size, ignore_index, read_image_type, colour_map,
            preprocessing, workers, cache, seed, val_steps_per_epoch, shuffle=False, augmenter=None,
        )
        if validate
        else None
    )

    working = in_precision(model, precision)
    if replication is not None:
        working = distribute_engine.replicate(working, replication)
    chief = replication is None or replication.is_chief
    # Where this process writes: the real prefix on the chief; elsewhere a scratch copy, because
    # saving reads synchronised variables, which every worker must do in step.
    write_path = checkpoints_path if chief or checkpoints_path is None else distribute_engine.scratch_prefix(checkpoints_path)
    steps = len(train_data)
    if replication is not None:
        steps = steps_per_epoch or distribute_engine.steps_per_epoch(len(train_pairs), batch_size, replication)

    # Under distribution, validation pads with blank samples whose masks hold an ignored label.
    blank_label = None
    if replication is not None and validate:
        blank_label = n_classes if ignore_index is None else ignore_index

    try:
        cpu_xla = False
        with distribute_engine.scope(replication):
            if optimizer_name is not None:
                weights = class_weight_vector(class_weights, train_pairs, n_classes, ignore_index, colour_map)
                jit, cpu_xla = choose_jit_compile(jit_compile, working)
                ignored = ignore_index if blank_label is None else blank_label
                compile_model(working, optimizer_name, learning_rate, lr_schedule, loss, weights, ignored, steps,
                              epochs, jit)
            elif replication is not None:
                raise ModelConfigError(
                    "distribute= rebuilds the model inside the strategy's scope, which drops your compile(): "
                    "pass optimizer_name (and learning_rate, loss) to train instead"
                )
            elif getattr(working, "optimizer", None) is None:
                raise ModelConfigError(
                    "optimizer_name=None means the model is already compiled, but it is not: call model.compile first"
                )

            if load_weights is not None:
                load_weights_file(working, load_weights)

            initial_epoch, resume_step = runner.begin(
                working, working, checkpoints_path, write_path, auto_resume_checkpoint, steps, chief, seed=seed,
                read_image_type=read_image_type, ignore_index=ignore_index, precision=model_precision(working))

        if timer is not None and timer.finished():
            epochs = initial_epoch  # resumed with the budget spent: nothing is left to train
        interrupt, stop_on_nan, all_callbacks = runner.epoch_callbacks(
            train_data, checkpoints_path, write_path, chief, lr_schedule, callbacks, replace_default_callbacks,
            keep_checkpoints)
        all_callbacks += board  # asked for by name: kept when the user's callbacks replace the defaults
        if timer is not None:
            all_callbacks.append(timer)

        fit_args = dict(callbacks=all_callbacks, shuffle=False, verbose=verbose)
        if replication is not None and validate:
            val_steps = val_steps_per_epoch or distribute_engine.steps_per_epoch(len(val_pairs), val_batch_size, replication)
            fit_args.update(validation_steps=val_steps, validation_data=distribute_engine.distributed_batches(
                val_data, val_batch_size, replication, val_steps, blank_label=blank_label,
                stream=val_steps_per_epoch is not None))
        else:
            fit_args.update(validation_data=val_data)

        def fit(epoch, start_step, last_epoch):
            train_data.epoch, train_data.start_step = epoch, start_step
            data, epoch_steps = train_data, None
            if replication is not None:
                epoch_steps = steps - start_step
                data = distribute_engine.distributed_batches(train_data, batch_size, replication, steps,
                                                             first_step=epoch * steps + start_step,
                                                             stream=steps_per_epoch is not None)
            run = fit_without_xla_if_it_cannot_compile if cpu_xla else _fit
            return run(working, data, initial_epoch=epoch, epochs=last_epoch, steps_per_epoch=epoch_steps, **fit_args)

        try:
            with interrupt.installed(), distribute_engine.scope(replication):
                history = runner.run_epochs(fit, working, interrupt, initial_epoch, resume_step, epochs)
        finally:
            train_data.start_step = 0
            if cpu_xla:
                working.jit_compile = False  # inference: Keras' own CPU choice, no per-image-size recompiles
            if working is not model:
                model.set_weights(working.get_weights())

        runner.finish(working, working, checkpoints_path, write_path, interrupt, stop_on_nan)
        return history
    finally:
        if write_path != checkpoints_path:
            distribute_engine.remove_scratch(write_path)


def _resolve_ignore_index(ignore_index, ignore_zero_class):
    if ignore_zero_class:
        if ignore_index not in (None, 0):
            raise ModelConfigError(f"ignore_zero_class=True conflicts with ignore_index={ignore_index}")
        return 0
    return ignore_index


def _fit(model, data, **kwargs):
    return model.fit(data, **kwargs)
