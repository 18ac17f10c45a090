"""Predicting images: ``predict`` (one image) and ``predict_multiple`` (a list or a folder).

The original library's functions and arguments, with these changes:

* label maps come back at the **original image resolution**: the class
  probabilities are resized (bilinear) to the image's size, then arg-maxed;
* ``predict_multiple`` reads images in parallel threads, predicts in batches,
  accepts every image extension in any case, writes lossless PNGs (class-id
  label maps by default; colour images with ``colored=True``, ``overlay_img`` or
  ``show_legends``), never overwrites its inputs, and skips (and lists)
  unreadable files instead of stopping;
* ``preprocessing=`` (the callable given to ``train``) is applied here too;
* ``flip_tta=True`` (test-time augmentation) averages the probabilities of each
  image and of its left-right mirror: two forward passes, usually a little
  better for a model trained with flips (+0.45 mIoU on CamVid, ``docs/camvid.md``);
* the keyword options of :class:`~keras_segmentation.inference.predictor.Predictor`
  (``mode="slide"``, ``tile``, ``overlap``, ``blend``, ``tta``, ``scales``) predict
  large images tile by tile at their own resolution and add flips and rescalings
  (:mod:`keras_segmentation.inference.tiling`);
* ``model`` may be an exported file (``.onnx``, ``.tflite``, a SavedModel folder,
  an exported ``.keras``), and ``engine="onnxruntime" | "litert" | "savedmodel"``
  runs a Keras model through that runtime (:mod:`keras_segmentation.export.formats`).

Example:
    >>> from keras_segmentation.inference import predict, predict_multiple
    >>> labels = predict(checkpoints_path="ckpt/vgg_unet_1", inp="img.png", out_fname="out.png")
    >>> predict_multiple(checkpoints_path="ckpt/vgg_unet_1", inp_dir="imgs/", out_dir="preds/")
"""

import collections
import os
import warnings
from concurrent.futures import ThreadPoolExecutor

from ..data.pairing import list_images
from ..data.visualize import class_colors
from ..errors import ModelConfigError
from .predictor import Predictor, model_or_checkpoint, progress_bar
from .writers import check_shard, output_paths, refuse_overwrite, write_output


def predict(
    model=None,
    inp=None,
    out_fname=None,
    checkpoints_path=None,
    overlay_img=False,
    class_names=None,
    show_legends=False,
    colors=class_colors,
    prediction_width=None,
    prediction_height=None,
    read_image_type=1,
    *,
    colored=True,
    return_probabilities=False,
    preprocessing=None,
    flip_tta=False,
    engine=None,
    **window,
):
    """Predict one image (a path or a BGR array); returns the (H, W) label map at its resolution.

    With ``out_fname`` the result is written as a colour image (the original's
    behaviour; ``colored=False`` writes the class-id label map instead).
    ``return_probabilities=True`` returns ``(labels, probabilities)``. ``read_image_type``,
    ``preprocessing``, ``flip_tta``, ``engine`` and the keywords of ``**window`` (``mode``, ``tile``,
    ``overlap``, ...) are the shared options (:mod:`keras_segmentation.options`).
    """
    model = model_or_checkpoint(model, checkpoints_path, engine)
    if inp is None:
        raise ModelConfigError("predict needs inp= (an image path or array)")
    predictor = Predictor(model, read_image_type, preprocessing, 1, 1, flip_tta, **window)
    result = next(predictor.run([inp], return_probabilities))
    if result.error is not None:
        raise result.error
    if out_fname is not None:
        refuse_overwrite(out_fname, inp)
        write_output(
            out_fname, result, model, colored, overlay_img, class_names, show_legends, colors, prediction_width, prediction_height
        )
    return (result.labels, result.probabilities) if return_probabilities else result.labels


def predict_multiple(
    model=None,
    inps=None,
    inp_dir=None,
    out_dir=None,
    checkpoints_path=None,
    overlay_img=False,
    class_names=None,
    show_legends=False,
    colors=class_colors,
    prediction_width=None,
    prediction_height=None,
    read_image_type=1,
    *,
    colored=None,
    batch_size=2,
    workers=None,
    return_probabilities=False,
    preprocessing=None,
    progress=True,
    flip_tta=False,
    shard=None,
    skip_existing=False,
    keep_labels=True,
    engine=None,
    **window,
):
    """Predict a list of images or every image in ``inp_dir``; returns the label maps in order.

    Outputs go to ``out_dir/<image name>.png`` (created if missing), each written
    atomically. Unreadable inputs are skipped with a warning listing them; their
    entry in the returned list is ``None``. The other keywords are :func:`predict`'s, plus the
    shared ``batch_size``, ``workers`` and ``progress`` (:mod:`keras_segmentation.options`).

    Args:
        shard: ``(index, count)``, 0-based: predict only every ``count``-th input
            starting at ``index`` (inputs in the order given; ``inp_dir`` is listed
            sorted by name), so ``count`` processes with indices ``0 .. count-1``
            together write exactly what one process would. Returns the shard's results.
        skip_existing: with ``out_dir``, leave out inputs whose output file exists
            (a restarted run does not redo finished files; an interrupted write never
            leaves a file under the real name). Their entries are ``None``.
        keep_labels: ``False`` (with ``out_dir``) keeps no label map in memory, for
            folders larger than memory: each entry is then ``True`` (written),
            ``False`` (kept by ``skip_existing``) or ``None`` (unreadable).

    Example:
        >>> predict_multiple(checkpoints_path="ckpt/run", inp_dir="tiles/", out_dir="preds/", shard=(2, 8),
        ...                  skip_existing=True)
    """
    model = model_or_checkpoint(model, checkpoints_path, engine)
    if inps is None:
        if inp_dir is None:
            raise ModelConfigError("predict_multiple needs inps= (a list) or inp_dir= (a folder)")
        inps = list_images(inp_dir, "inp_dir")
    inps = list(inps)
    if colored is None:
        colored = bool(overlay_img or show_legends)
    out_paths = output_paths(inps, out_dir) if out_dir is not None else None
    if shard is not None:
        index, count = check_shard(shard)
        inps = inps[index::count]
        out_paths = out_paths[index::count] if out_paths is not None else None
    todo = list(range(len(inps)))
    if skip_existing:
        if out_paths is None:
            raise ModelConfigError("skip_existing=True needs out_dir= (the folder whose finished files are kept)")
        todo = [i for i in todo if not os.path.exists(out_paths[i])]
    if not keep_labels and out_paths is None:
        raise ModelConfigError("keep_labels=False needs out_dir= (the label maps go only to files)")

    results, skipped = [None if keep_labels else False] * len(inps), []
    for i in todo:
        results[i] = None
    predictor = Predictor(model, read_image_type, preprocessing, batch_size, workers, flip_tta, **window)
    with ThreadPoolExecutor(predictor.workers) as writers:
        writes = collections.deque()
        for result in progress_bar(predictor.run([inps[i] for i in todo], return_probabilities), len(todo), progress):
            if result.error is not None:
                skipped.append(str(result.error))
                continue
            position = todo[result.index]
            if not keep_labels:
                results[position] = True
            elif return_probabilities:
                results[position] = (result.labels, result.probabilities)
            else:
                results[position] = result.labels
            if out_paths is not None:
                writes.append(
                    writers.submit(
                        write_output, out_paths[position], result, model, colored, overlay_img, class_names,
                        show_legends, colors, prediction_width, prediction_height,
                    )
                )
                while len(writes) > 2 * predictor.workers:  # bounded: finished images are not held for writing
                    writes.popleft().result()
        for write in writes:
            write.result()
    if skipped:
        warnings.warn(f"skipped {len(skipped)} unreadable input(s): " + "; ".join(skipped), stacklevel=2)
    return results
