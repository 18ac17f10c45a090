"""``distill(teacher, student, images_path, ...)``: knowledge distillation with ``train()``'s machinery.

The student learns the teacher's per-pixel probabilities on a folder of images, which
need no masks (the original library's ``perform_distilation``). With ``masks_path`` the
ground truth is mixed in with weight ``alpha``. It runs through the same pieces as
:func:`~keras_segmentation.training.train` (:mod:`keras_segmentation.training.runner`):
a checkpoint of the student after every epoch, written atomically under the same names
and schema (``<prefix>_config.json``, ``<prefix>.00001.weights.h5`` with the optimizer
state, ``<prefix>_history.json``, ``<prefix>.keras`` at the end), so
``load_model_from_checkpoint``, ``predict`` and ``train(..., auto_resume_checkpoint=True)``
read them; ``auto_resume_checkpoint=True`` continues an interrupted distillation from its
last epoch (or Ctrl-C point) with the same ``seed`` and order; Ctrl-C and NaN handling are train's.

Example:
    >>> from keras_segmentation import load_model_from_checkpoint
    >>> from keras_segmentation.models.registry import build_model
    >>> teacher = load_model_from_checkpoint("ckpt/vgg_unet_1")
    >>> student = build_model("unet", "mobilenetv3small", teacher.n_classes, 320, 320, encoder_weights=None)
    >>> distill(teacher, student, "unlabelled/", checkpoints_path="ckpt/student", epochs=10, temperature=2.0)
"""

from ..data.pairing import list_images
from ..errors import ModelConfigError
from ..precision import model_precision
from ..training import runner
from ..training.compile import choose_jit_compile, fit_without_xla_if_it_cannot_compile, make_optimizer, training_metrics
from ..training.datasets import io_sizes, training_pairs
from ..training.fused_batch_norm import fuse_batch_norms
from .data import DistillationDataset
from .distiller import Distiller, check_number


def distill(
    teacher,
    student,
    images_path,
    *,
    masks_path=None,
    loss="kl",
    temperature=1.0,
    alpha=0.5,
    label_loss="ce",
    ignore_index=None,
    features=None,
    feature_loss="pa",
    feature_weight=0.1,
    checkpoints_path=None,
    auto_resume_checkpoint=False,
    epochs=5,
    batch_size=2,
    steps_per_epoch=None,
    optimizer_name="adam",
    learning_rate=None,
    lr_schedule=None,
    seed=None,
    callbacks=None,
    replace_default_callbacks=False,
    verify_dataset=True,
    read_image_type=1,
    preprocessing=None,
    cache=False,
    workers=None,
    verbose="auto",
    jit_compile="auto",
):
    """Train ``student`` (in place) to reproduce ``teacher`` on the images in ``images_path``; returns the ``History``.

    Args:
        teacher: a trained segmentation model (frozen during distillation, run in inference mode).
        student: a segmentation model with the same classes; its input and output sizes may differ.
        images_path: a folder of images (masks are not needed).
        masks_path: a folder of masks for those images: the loss then adds ``alpha`` x the label
            loss (``label_loss``, a library loss name; ``ignore_index`` as in ``train``) to
            ``1 - alpha`` x the distillation loss.
        loss: ``"kl"`` (default), ``"l1"``, ``"l2"``, ``"pa"`` or ``f(teacher, student)``
            (:mod:`keras_segmentation.losses.distillation`).
        temperature: softens both probability maps (Hinton et al.); the ``"kl"`` term is scaled by its square.
        features: ``None`` (outputs only), a layer name both models have (``"seg_feats"``), or
            ``(teacher layer, student layer)``: adds ``feature_weight`` x ``feature_loss`` between
            their outputs (``"pa"`` compares spatial structure, so the channel counts may differ).
        checkpoints_path, auto_resume_checkpoint, epochs, batch_size, steps_per_epoch: as for
            :func:`~keras_segmentation.training.train` (``steps_per_epoch=None`` is one pass over the images).
        optimizer_name, learning_rate, lr_schedule, seed, callbacks, replace_default_callbacks: as for ``train``.
        verify_dataset, verbose, jit_compile: as for ``train``.
        read_image_type, preprocessing, cache, workers: the shared options (:mod:`keras_segmentation.options`).

    Raises:
        ModelConfigError: a bad argument (one line naming it).
        CheckpointError: resuming from checkpoints of another model.
        TrainingError: the loss became NaN/inf.

    Example:
        >>> distill(teacher, student, "images/", masks_path="masks/", alpha=0.3, features="seg_feats",
        ...         checkpoints_path="ckpt/student", auto_resume_checkpoint=True, seed=0)   # doctest: +SKIP
    """
    runner.check_counts(epochs=epochs, batch_size=batch_size, steps_per_epoch=steps_per_epoch)
    runner.check_outputs(checkpoints_path)
    check_number("alpha", alpha, low=0.0, high=1.0)
    if optimizer_name is None:
        raise ModelConfigError("optimizer_name=None: distill compiles the student itself; give an optimizer name or object")
    layers = None if features is None else (features, features) if isinstance(features, str) else tuple(features)
    if layers is not None and len(layers) != 2:
        raise ModelConfigError(f"features={features!r}: give a layer name or a (teacher layer, student layer) pair")
    was_trainable = getattr(teacher, "trainable", None)
    distiller = Distiller(
        student, teacher, loss, feature_loss if layers else None, feature_weight, temperature=temperature,
        alpha=alpha if masks_path is not None else 0.0, label_loss=label_loss, ignore_index=ignore_index,
        feature_layers=layers or "seg_feats",
    )
    try:
        if teacher.channels != student.channels:
            raise ModelConfigError(
                f"the teacher takes {teacher.channels} channels but the student {student.channels}; "
                "both read the same images"
            )
        seed = runner.choose_seed(seed, checkpoints_path, student, auto_resume_checkpoint)
        data = _dataset(teacher, student, images_path, masks_path, ignore_index, verify_dataset, read_image_type,
                        batch_size=batch_size, steps=steps_per_epoch, seed=seed, cache=cache, workers=workers,
                        preprocessing=preprocessing)
        steps = len(data)
        jit, cpu_xla = choose_jit_compile(jit_compile, student)
        fuse_batch_norms(student)
        distiller.compile(
            optimizer=make_optimizer(student, optimizer_name, learning_rate, lr_schedule, steps, epochs),
            metrics=training_metrics(student.n_classes, ignore_index) if masks_path is not None else None,
            jit_compile=jit,
        )
        initial_epoch, resume_step = runner.begin(
            distiller, student, checkpoints_path, checkpoints_path, auto_resume_checkpoint, steps, seed=seed,
            read_image_type=read_image_type, ignore_index=ignore_index, precision=model_precision(student))
        interrupt, stop_on_nan, all_callbacks = runner.epoch_callbacks(
            data, checkpoints_path, lr_schedule=lr_schedule, callbacks=callbacks,
            replace_default=replace_default_callbacks)

        def fit(epoch, start_step, last_epoch):
            data.epoch, data.start_step = epoch, start_step
            args = dict(initial_epoch=epoch, epochs=last_epoch, callbacks=all_callbacks, shuffle=False, verbose=verbose)
            return fit_without_xla_if_it_cannot_compile(distiller, data, **args) if cpu_xla else distiller.fit(data, **args)

        try:
            with interrupt.installed():
                history = runner.run_epochs(fit, distiller, interrupt, initial_epoch, resume_step, epochs)
        finally:
            data.start_step = 0
            if cpu_xla:
                student.jit_compile = False  # inference: Keras' own CPU choice, no per-image-size recompiles
        runner.finish(distiller, student, checkpoints_path, checkpoints_path, interrupt, stop_on_nan)
        return history
    finally:
        teacher.trainable = was_trainable


def perform_distilation(teacher_model, student_model, data_path, distilation_loss="kl", batch_size=6,
                        checkpoints_path=None, epochs=32, steps_per_epoch=None, feats_distilation_loss=None,
                        feats_distilation_loss_w=0.1):
    """The original library's call (sic): :func:`distill` on the unlabelled images in ``data_path``.

    ``feats_distilation_loss`` (``"pa"``, ``"l1"``, ``"l2"`` or a callable) adds the feature term
    between the layers named ``"seg_feats"`` of both models (U-Net, SegNet and FCN name one).
    What changed: ``steps_per_epoch=None`` is one pass over the images (the original: 512);
    checkpoints are ``train()``'s (``<prefix>.00001.weights.h5``, 1-based, with ``_config.json``),
    not ``<prefix>.0``; the student reads each image at its own size instead of the teacher's, resized.

    Example:
        >>> perform_distilation(teacher, student, "data/images_prepped_train/", checkpoints_path="ckpt/student",
        ...                     epochs=5)                                            # doctest: +SKIP
    """
    return distill(
        teacher_model, student_model, data_path, loss=distilation_loss, batch_size=batch_size,
        checkpoints_path=checkpoints_path, epochs=epochs, steps_per_epoch=steps_per_epoch,
        features="seg_feats" if feats_distilation_loss is not None else None,
        feature_loss=feats_distilation_loss, feature_weight=feats_distilation_loss_w,
    )


def _dataset(teacher, student, images_path, masks_path, ignore_index, verify, read_image_type, **options):
    """The :class:`DistillationDataset` of the images (and masks), sized for both models."""
    if masks_path is None:
        pairs = [(image, None) for image in list_images(images_path)]
    else:
        pairs = training_pairs(images_path, masks_path, None, verify, student.n_classes, ignore_index, None,
                               read_image_type, channels=student.channels)
    input_size, output_size = io_sizes(student, pairs, read_image_type)
    teacher_size = io_sizes(teacher, pairs, read_image_type)[0]
    return DistillationDataset(
        pairs, options.pop("batch_size"), student.n_classes, input_size, output_size, student.normalization,
        teacher_size=teacher_size, teacher_normalization=teacher.normalization, channels=student.channels,
        shuffle=True, ignore_index=ignore_index, read_image_type=read_image_type, **options,
    )
