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
* ``seed=`` makes the order, augmentation and (with a seeded model) the run reproducible;
* ``jit_compile="auto"`` compiles the training and validation steps with XLA on
  the TensorFlow backend on CPU too (Keras' own ``"auto"`` leaves XLA off without a
  GPU): on a 2-core CPU that made ``vgg_unet`` training 1.5x faster
  (``docs/benchmarks.md``). Inference afterwards runs without XLA, as before (XLA
  would recompile for every new image size). ``jit_compile=False`` turns it off.

Example:
    >>> from keras_segmentation.models.unet import vgg_unet
    >>> model = vgg_unet(n_classes=12, input_height=320, input_width=320)
    >>> model.train(train_images="data/images_prepped_train/",
    ...             train_annotations="data/annotations_prepped_train/",
    ...             val_images="data/images_prepped_test/", val_annotations="data/annotations_prepped_test/",
    ...             checkpoints_path="ckpt/vgg_unet_1", epochs=5, loss="ce+dice", ignore_index=11)
"""

import math
import os
import signal
import threading
import warnings

import numpy as np

from . import checkpoints as ckpt
from .checkpoints import find_latest_checkpoint  # noqa: F401 - the original API lived here
from .errors import CheckpointError, ModelConfigError, TrainingError


def train(
    model,
    train_images,
    train_annotations,
    input_height=None,
    input_width=None,
    n_classes=None,
    verify_dataset=True,
    checkpoints_path=None,
    epochs=5,
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
):
    """Train ``model`` on a folder of images and a folder of masks; returns the Keras ``History``.

    ``model`` is a model object or a registered name (then ``n_classes`` is
    required). See the module docstring for what each argument does; the
    original library's arguments keep their meaning. ``gen_use_multiprocessing``
    is accepted and ignored (batches are prepared by ``workers`` threads).
    """
    model = _resolve_model(model, n_classes, input_height, input_width)
    ignore_index = _resolve_ignore_index(ignore_index, ignore_zero_class)
    for name, value in (("batch_size", batch_size), ("val_batch_size", val_batch_size),
                        ("steps_per_epoch", steps_per_epoch), ("val_steps_per_epoch", val_steps_per_epoch)):
        if value is not None and int(value) < 1:
            raise ModelConfigError(f"{name}={value}: must be at least 1")
    n_classes = model.n_classes
    if class_names is not None:
        model.class_names = list(class_names)

    validate = bool(val_images or val_annotations) if validate is None else validate
    if validate and not (val_images and val_annotations):
        raise ModelConfigError("validate=True needs both val_images and val_annotations")

    resume_seed = None
    if checkpoints_path is not None and auto_resume_checkpoint and os.path.isfile(ckpt.config_path(checkpoints_path)):
        config = ckpt.read_config(checkpoints_path)
        ckpt.check_resumable(config, model, ckpt.config_path(checkpoints_path), checkpoints_path)
        resume_seed = config.get("seed")
    seed = _resolve_seed(seed if seed is not None else resume_seed)

    train_pairs = _pairs(train_images, train_annotations, other_inputs_paths, verify_dataset, n_classes, ignore_index, colour_map, read_image_type)
    val_pairs = (
        _pairs(val_images, val_annotations, other_inputs_paths, verify_dataset, n_classes, ignore_index, colour_map, read_image_type)
        if validate
        else None
    )

    input_size, output_size = _io_sizes(model, train_pairs, read_image_type)
    train_data = _dataset(
        model, train_pairs, batch_size, input_size, output_size, ignore_index, read_image_type, colour_map,
        preprocessing, workers, cache, seed, steps_per_epoch, shuffle=True,
        augmenter=_augmenter(do_augment, augmentation_name, custom_augmentation, ignore_index),
    )
    val_data = (
        _dataset(
            model, val_pairs, val_batch_size, input_size, output_size, ignore_index, read_image_type, colour_map,
            preprocessing, workers, cache, seed, val_steps_per_epoch, shuffle=False, augmenter=None,
        )
        if validate
        else None
    )

    cpu_xla = False
    if optimizer_name is not None:
        weights = _class_weights(class_weights, train_pairs, n_classes, ignore_index, colour_map)
        cpu_xla = jit_compile == "auto" and _tensorflow_on_cpu()
        _compile(model, optimizer_name, learning_rate, lr_schedule, loss, weights, ignore_index, len(train_data), epochs,
                 True if cpu_xla else jit_compile)
    elif getattr(model, "optimizer", None) is None:
        raise ModelConfigError("optimizer_name=None means the model is already compiled, but it is not: call model.compile first")

    if load_weights is not None:
        ckpt.load_weights_file(model, load_weights)

    initial_epoch, resume_step = 0, 0
    if checkpoints_path is not None:
        if auto_resume_checkpoint:
            initial_epoch, resume_step = _resume(model, checkpoints_path)
        else:
            _warn_if_earlier_run(checkpoints_path)
        ckpt.write_config(checkpoints_path, model, seed=seed, read_image_type=read_image_type, ignore_index=ignore_index)

    interrupt, stop_on_nan = _Interrupt(train_data), _StopOnNaN(checkpoints_path)
    default_callbacks = [stop_on_nan, interrupt]
    if checkpoints_path is not None:
        default_callbacks.insert(0, CheckpointsCallback(checkpoints_path, interrupt))
    if callable(lr_schedule) and not _is_keras_schedule(lr_schedule):
        import keras

        default_callbacks.append(keras.callbacks.LearningRateScheduler(lr_schedule))
    user_callbacks = list(callbacks or [])
    all_callbacks = user_callbacks if replace_default_callbacks and user_callbacks else default_callbacks + user_callbacks

    fit_args = dict(validation_data=val_data, callbacks=all_callbacks, shuffle=False, verbose=verbose)
    fit = _fit_without_xla_if_it_cannot_compile if cpu_xla else _fit
    history = None
    try:
        with interrupt.installed():
            if resume_step and initial_epoch < epochs:
                train_data.epoch, train_data.start_step = initial_epoch, resume_step
                history = fit(model, train_data, initial_epoch=initial_epoch, epochs=initial_epoch + 1, **fit_args)
                train_data.start_step = 0
                initial_epoch += 1
            if initial_epoch < epochs and not interrupt.requested and not model.stop_training:
                train_data.epoch = initial_epoch
                history = fit(model, train_data, initial_epoch=initial_epoch, epochs=epochs, **fit_args)
    finally:
        if cpu_xla:
            model.jit_compile = False  # inference: Keras' own CPU choice, no per-image-size recompiles

    stop_on_nan.raise_if_failed()
    if interrupt.requested:
        if checkpoints_path is not None:
            interrupt.save(model, checkpoints_path)
        raise KeyboardInterrupt(
            "training interrupted"
            + (f"; resume with auto_resume_checkpoint=True and checkpoints_path={checkpoints_path!r}" if checkpoints_path else "")
        )
    if checkpoints_path is not None:
        ckpt.clear_interrupted(checkpoints_path)
        ckpt.atomic_write(ckpt.final_model_path(checkpoints_path), model.save)
    return history


# ---------------------------------------------------------------- arguments
def _resolve_model(model, n_classes, input_height, input_width):
    if not isinstance(model, str):
        return model
    from .models.all_models import model_from_name

    if model not in model_from_name:
        raise ModelConfigError(f"unknown model name {model!r}; known: {', '.join(sorted(model_from_name))}")
    if n_classes is None:
        raise ModelConfigError(f"n_classes is required when the model is given by name ({model!r})")
    if input_height and input_width:
        return model_from_name[model](n_classes, input_height=input_height, input_width=input_width)
    return model_from_name[model](n_classes)


def _resolve_ignore_index(ignore_index, ignore_zero_class):
    if ignore_zero_class:
        if ignore_index not in (None, 0):
            raise ModelConfigError(f"ignore_zero_class=True conflicts with ignore_index={ignore_index}")
        return 0
    return ignore_index


def _resolve_seed(seed):
    if seed is not None:
        return int(seed)
    return int(np.random.SeedSequence().generate_state(1)[0])


def _pairs(images, annotations, other_inputs_paths, verify, n_classes, ignore_index, colour_map, read_image_type):
    from .data.pairing import get_pairs_from_paths

    if verify:
        from .data.verify import verify_dataset

        report = verify_dataset(
            images,
            annotations,
            n_classes,
            ignore_index=ignore_index,
            colour_map=colour_map,
            read_image_type=read_image_type,
            other_inputs_paths=other_inputs_paths,
        )
        report.raise_for_problems()
        if report.warnings:
            shown = "; ".join(str(w) for w in report.warnings[:3])
            more = f" and {len(report.warnings) - 3} more" if len(report.warnings) > 3 else ""
            warnings.warn(f"dataset {os.fspath(images)}: {len(report.warnings)} warning(s): {shown}{more}", stacklevel=3)
    return get_pairs_from_paths(images, annotations, other_inputs_paths=other_inputs_paths)


def _io_sizes(model, pairs, read_image_type):
    """(input, output) ``(height, width)``; models with free sizes take the first image's size.

    Reading the first image also stops a channel mismatch before anything is compiled or written.
    """
    from .data.images import read_image_for_model

    image = read_image_for_model(pairs[0][0], model.channels, read_image_type)
    height, width = model.input_height or image.shape[0], model.input_width or image.shape[1]
    shape = model.compute_output_shape(tuple([None, height, width, model.channels]))
    shape = shape[0] if isinstance(shape, list) else shape
    return (height, width), (shape[1], shape[2])


def _augmenter(do_augment, augmentation_name, custom_augmentation, ignore_index):
    if not do_augment and custom_augmentation is None:
        return None
    from .data.augmentation import get_augmenter

    return get_augmenter(augmentation_name, custom_augmentation, mask_fill=0 if ignore_index is None else ignore_index)


def _dataset(model, pairs, batch_size, input_size, output_size, ignore_index, read_image_type, colour_map,
             preprocessing, workers, cache, seed, steps, shuffle, augmenter):
    from .data.loader import SegmentationDataset

    channels = [int(t.shape[-1]) for t in model.inputs]
    return SegmentationDataset(
        pairs,
        batch_size,
        model.n_classes,
        input_size,
        output_size,
        model.normalization,
        channels=channels if len(channels) > 1 else channels[0],
        augmenter=augmenter,
        shuffle=shuffle,
        seed=seed,
        steps=steps,
        cache=cache,
        ignore_index=ignore_index,
        preprocessing=preprocessing,
        read_image_type=read_image_type,
        colour_map=colour_map,
        workers=workers,
    )


def _class_weights(class_weights, pairs, n_classes, ignore_index, colour_map):
    if class_weights is None:
        return None
    if isinstance(class_weights, str):
        from .class_weights import compute_class_weights

        return compute_class_weights(
            [p[1] for p in pairs], n_classes, method=class_weights, ignore_index=ignore_index, colour_map=colour_map
        )
    if isinstance(class_weights, dict):
        weights = np.ones(n_classes, np.float32)
        for class_id, weight in class_weights.items():
            weights[int(class_id)] = weight
        return weights
    weights = np.asarray(class_weights, np.float32)
    if weights.shape != (n_classes,):
        raise ModelConfigError(f"class_weights has {weights.size} values but the model has {n_classes} classes")
    return weights


def _compile(model, optimizer, learning_rate, lr_schedule, loss, class_weights, ignore_index, steps, epochs, jit_compile):
    import keras

    from .losses import get_loss
    from .metrics import iou_metric

    rate = learning_rate if learning_rate is not None else 1e-3
    if isinstance(lr_schedule, str):
        rate = _named_schedule(lr_schedule, rate, steps * epochs)
    elif _is_keras_schedule(lr_schedule):
        rate = lr_schedule
    if isinstance(optimizer, str):
        try:
            optimizer = keras.optimizers.get({"class_name": optimizer, "config": {"learning_rate": rate}})
        except ValueError:
            raise ModelConfigError(f"unknown optimizer {optimizer!r} (try 'adam', 'sgd', 'adamw', 'rmsprop')") from None
    elif learning_rate is not None or isinstance(lr_schedule, str):
        optimizer.learning_rate = rate
    model.compile(
        optimizer=optimizer,
        loss=get_loss(loss, model.n_classes, class_weights=class_weights, ignore_index=ignore_index),
        metrics=[
            keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
            iou_metric(model.n_classes, ignore_index=ignore_index),
        ],
        jit_compile=jit_compile,
    )


def _fit(model, data, **kwargs):
    return model.fit(data, **kwargs)


def _fit_without_xla_if_it_cannot_compile(model, data, **kwargs):
    """``model.fit`` with XLA; if XLA cannot compile the step (an op without an XLA kernel), again without it.

    The failure comes when the first step is compiled, before any weight changes, so the
    retry starts from the same state (anything else is raised as it is).
    """
    steps_before = int(model.optimizer.iterations)
    try:
        return model.fit(data, **kwargs)
    except Exception as err:  # TensorFlow raises InvalidArgumentError / UnimplementedError here
        if not model.jit_compile or "XLA_CPU_JIT" not in str(err) or int(model.optimizer.iterations) != steps_before:
            raise
        unsupported = str(err).split("XLA_CPU_JIT:", 1)[-1].split("(", 1)[0].strip() or "an operation"
        warnings.warn(f"XLA cannot compile this model's training step ({unsupported}); training without XLA", stacklevel=3)
    model.jit_compile = False
    model.train_function = model.test_function = model.predict_function = None
    return model.fit(data, **kwargs)


def _tensorflow_on_cpu():
    """True on the TensorFlow backend without a GPU, where Keras' ``jit_compile="auto"`` would leave XLA off."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return not tf.config.list_physical_devices("GPU")


def _named_schedule(name, rate, total_steps):
    import keras

    total_steps = max(1, int(total_steps))
    if name == "cosine":
        return keras.optimizers.schedules.CosineDecay(rate, decay_steps=total_steps, alpha=0.01)
    if name == "poly":
        return keras.optimizers.schedules.PolynomialDecay(rate, decay_steps=total_steps, end_learning_rate=rate * 0.01, power=0.9)
    raise ModelConfigError(f"unknown lr_schedule {name!r}; use 'cosine', 'poly', a keras schedule or f(epoch, lr)")


def _is_keras_schedule(value):
    if value is None or isinstance(value, str):
        return False
    import keras

    return isinstance(value, keras.optimizers.schedules.LearningRateSchedule)


# ------------------------------------------------------------------- resume
def _resume(model, checkpoints_path):
    """Load the newest usable checkpoint; returns ``(epochs done, batches done in the next epoch)``.

    Raises:
        CheckpointError: there are checkpoints but none loads into ``model``
            (starting over would overwrite them).
    """
    ckpt.remove_stale_temp_files(checkpoints_path)
    skipped = []
    epoch = ckpt.restore_latest(model, checkpoints_path, skipped)
    interrupted = ckpt.read_interrupted(checkpoints_path)
    if interrupted is not None and interrupted[0] >= epoch:
        weights_file = ckpt.interrupted_paths(checkpoints_path)[0]
        try:
            ckpt.load_training_weights(model, weights_file)
            return interrupted
        except Exception as err:  # noqa: BLE001
            warnings.warn(f"{weights_file}: skipping unreadable interrupted checkpoint ({err})", stacklevel=3)
            skipped.append(f"{weights_file}: {ckpt.load_error_message(err)}")
    if epoch == 0 and skipped:
        raise CheckpointError(
            f"{os.fspath(checkpoints_path)}: cannot resume, none of the {len(skipped)} checkpoint(s) loads into "
            f"this model (newest: {skipped[0]}); resume with the model that wrote them, "
            "or choose a new checkpoints_path"
        )
    return epoch, 0


def _warn_if_earlier_run(checkpoints_path):
    found = ckpt.list_checkpoints(checkpoints_path)
    if found:
        warnings.warn(
            f"{os.fspath(checkpoints_path)}: holds checkpoints of an earlier run (up to epoch {found[-1][0]}); "
            "this run replaces them epoch by epoch and later epochs stay behind: pass auto_resume_checkpoint=True "
            "to continue that run, or use a new checkpoints_path",
            stacklevel=3,
        )


# ---------------------------------------------------------------- callbacks
def _callback_base():
    import keras

    return keras.callbacks.Callback


class CheckpointsCallback(_callback_base()):
    """Saves ``<prefix>.NNNNN.weights.h5`` (+ optimizer state) after each complete epoch.

    The original library's callback name; epochs are 1-based like Keras'
    ``ModelCheckpoint``. Nothing is saved for an epoch that ended with a
    non-finite loss or was cut short by Ctrl-C.
    """

    def __init__(self, checkpoints_path, interrupt=None):
        super().__init__()
        self.checkpoints_path = checkpoints_path
        self.interrupt = interrupt

    def on_epoch_end(self, epoch, logs=None):
        if (self.interrupt is not None and self.interrupt.requested) or not _finite(logs):
            return
        ckpt.save_checkpoint(self.model, self.checkpoints_path, epoch + 1)
        ckpt.clear_interrupted(self.checkpoints_path)


class _StopOnNaN(_callback_base()):
    """Stops at the first non-finite loss; ``raise_if_failed`` then raises a TrainingError."""

    def __init__(self, checkpoints_path):
        super().__init__()
        self.checkpoints_path = checkpoints_path
        self.failed_at = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if not _finite(logs):
            self.failed_at = (self._epoch + 1, batch + 1)
            self.model.stop_training = True

    def raise_if_failed(self):
        if self.failed_at is None:
            return
        kept = ""
        if self.checkpoints_path is not None:
            latest = ckpt.find_latest_checkpoint(self.checkpoints_path)
            kept = f"; last good checkpoint: {latest}" if latest else "; no checkpoint was written"
        raise TrainingError(
            f"loss became NaN/inf at epoch {self.failed_at[0]}, batch {self.failed_at[1]}{kept}; "
            "lower the learning rate, check the masks and class weights"
        )


def _finite(logs):
    value = (logs or {}).get("loss")
    return value is None or math.isfinite(float(value))


class _Interrupt(_callback_base()):
    """First Ctrl-C: stop after the current batch and save a resumable mid-epoch checkpoint."""

    def __init__(self, dataset):
        super().__init__()
        self.dataset = dataset
        self.requested = False
        self.epoch = 0
        self.steps_done = 0

    def installed(self):
        return _SigintHandler(self)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.steps_done = self.dataset.start_step

    def on_train_batch_end(self, batch, logs=None):
        self.steps_done = self.dataset.start_step + batch + 1
        if self.requested:
            self.model.stop_training = True

    def save(self, model, checkpoints_path):
        weights_file = ckpt.save_interrupted(model, checkpoints_path, self.epoch, self.steps_done)
        print(f"training interrupted: saved {weights_file} (epoch {self.epoch + 1}, step {self.steps_done})")


class _SigintHandler:
    """Context manager routing the first SIGINT to ``interrupt``; a second one raises at once."""

    def __init__(self, interrupt):
        self.interrupt = interrupt
        self.previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False

    def _handle(self, signum, frame):
        if self.interrupt.requested:
            raise KeyboardInterrupt
        self.interrupt.requested = True
        print("\ninterrupt: stopping after this batch and saving a checkpoint (press Ctrl-C again to abort)")


def masked_categorical_crossentropy(gt, pr):
    """The original library's masked loss (one-hot ``gt``; class 0 pixels ignored)."""
    from .losses import masked_categorical_crossentropy as loss

    return loss(gt, pr)
