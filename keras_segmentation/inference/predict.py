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
* ``uncertainty="entropy" | "margin" | "tta"`` also writes a per-pixel uncertainty map (and, for a folder, a
  table of per-image scores, most unsure first) beside the label maps
  (:mod:`keras_segmentation.inference.uncertainty_files`, :mod:`keras_segmentation.uncertainty`);
* ``model`` may be an exported file (``.onnx``, ``.tflite``, a SavedModel folder,
  an exported ``.keras``), and ``engine="onnxruntime" | "litert" | "savedmodel"``
  runs a Keras model through that runtime (:mod:`keras_segmentation.export.formats`);
  with the default ``engine="auto"``, :func:`predict_multiple` runs it on ONNX Runtime when that is faster on
  the images given with the same labels, and says which it chose
  (:mod:`keras_segmentation.inference.engine_choice`); :func:`predict` (one image) runs Keras.

Example:
    >>> from keras_segmentation.inference import predict, predict_multiple
    >>> labels = predict(checkpoints_path="ckpt/vgg_unet_1", inp="img.png", out_fname="out.png")
    >>> predict_multiple(checkpoints_path="ckpt/vgg_unet_1", inp_dir="imgs/", out_dir="preds/")
    >>> labels, uncertainty = predict(checkpoints_path="ckpt/vgg_unet_1", inp="img.png", uncertainty="entropy",
    ...                               return_uncertainty=True)
"""

import collections
import os
import warnings
from concurrent.futures import ThreadPoolExecutor

from ..data.pairing import list_images
from ..errors import ModelConfigError
from ..uncertainty import check_method
from .engine_choice import choose_engine
from .predictor import Predictor, model_or_checkpoint, progress_bar
from .uncertainty_files import FOLDER, map_paths, map_stems, read_score, scores_name, write_map, write_scores
from .writers import check_shard, output_paths, refuse_overwrite, write_output


def predict(
    model=None,
    inp=None,
    out_fname=None,
    checkpoints_path=None,
    overlay_img=False,
    class_names=None,
    show_legends=False,
    colors=None,
    prediction_width=None,
    prediction_height=None,
    read_image_type=1,
    *,
    colored=True,
    return_probabilities=False,
    preprocessing=None,
    flip_tta=False,
    engine="auto",
    uncertainty=None,
    return_uncertainty=False,
    **window,
):
    """Predict one image (a path or a BGR array); returns the (H, W) label map at its resolution.

    With ``out_fname`` the result is written as a colour image (the original's
    behaviour; ``colored=False`` writes the class-id label map instead), painted with ``colors`` (an ``(r, g, b)``
    per class; by default the class colours of the run or preset folder given as the model, else the library's
    palette: :func:`~keras_segmentation.inference.predictor.painting_colors`).
    ``return_probabilities=True`` returns ``(labels, probabilities)``. ``read_image_type``,
    ``preprocessing``, ``flip_tta``, ``engine``, ``uncertainty`` and the keywords of ``**window`` (``mode``,
    ``tile``, ``overlap``, ...) are the shared options (:mod:`keras_segmentation.options`).
    With ``uncertainty`` and ``out_fname``, the map is written to ``<out_fname without extension>_uncertainty.png``
    (a heat map) and ``.tif`` (float32 values; :mod:`keras_segmentation.inference.uncertainty_files`);
    ``return_uncertainty=True`` returns ``(labels, map)`` (``(labels, probabilities, map)`` with
    ``return_probabilities``), the map float32 (H, W) in [0, 1].
    """
    _check_uncertainty(uncertainty, return_uncertainty)
    model = model_or_checkpoint(model, checkpoints_path, engine)
    if inp is None:
        raise ModelConfigError("predict needs inp= (an image path or array)")
    predictor = Predictor(model, read_image_type, preprocessing, 1, 1, flip_tta, uncertainty=uncertainty, **window)
    result = next(predictor.run([inp], return_probabilities))
    if result.error is not None:
        raise result.error
    if out_fname is not None:
        refuse_overwrite(out_fname, inp)
        stem = os.path.splitext(os.fspath(out_fname))[0] + "_uncertainty" if uncertainty else None
        for path in map_paths(stem) if stem else ():
            refuse_overwrite(path, inp)
        write_output(
            out_fname, result, model, colored, overlay_img, class_names, show_legends, colors, prediction_width, prediction_height
        )
        if stem:
            write_map(stem, result.uncertainty)
    return _returned(result, return_probabilities, return_uncertainty)


def _check_uncertainty(uncertainty, return_uncertainty):
    """One-line errors for ``uncertainty=`` and ``return_uncertainty=``, before any work."""
    check_method(uncertainty)
    if return_uncertainty and uncertainty is None:
        raise ModelConfigError("return_uncertainty=True needs uncertainty= (entropy, margin or tta)")


def _written(out_path, stem):
    """The files an input's prediction writes: its label map, and with a map ``stem`` the map's files."""
    return [out_path, *(map_paths(stem) if stem else [])]


def _returned(result, return_probabilities, return_uncertainty):
    """The labels, or the tuple of the labels and what was asked of ``result``."""
    if not (return_probabilities or return_uncertainty):
        return result.labels
    return (result.labels, *([result.probabilities] if return_probabilities else []),
            *([result.uncertainty] if return_uncertainty else []))


def predict_multiple(
    model=None,
    inps=None,
    inp_dir=None,
    out_dir=None,
    checkpoints_path=None,
    overlay_img=False,
    class_names=None,
    show_legends=False,
    colors=None,
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
    engine="auto",
    uncertainty=None,
    return_uncertainty=False,
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
        uncertainty: ``"entropy"``, ``"margin"`` or ``"tta"`` (:mod:`keras_segmentation.uncertainty`): with
            ``out_dir``, also write ``out_dir/uncertainty/<name>.png`` (heat map) and ``.tif`` (float32 values) and,
            at the end, ``out_dir/uncertainty/scores.csv`` (``image,score``, most unsure first;
            :mod:`keras_segmentation.inference.uncertainty_files`). ``skip_existing`` then keeps an image only
            when its maps exist too, and its score in the table is read from its ``.tif``; a shard writes
            ``scores_<K>-of-<N>.csv`` (K counted from 1) with its own images, so shards never overwrite each
            other's table. Unreadable images are left out of the table.
        return_uncertainty: entries are ``(labels, map)`` (``(labels, probabilities, map)`` with
            ``return_probabilities``).

    Example:
        >>> predict_multiple(checkpoints_path="ckpt/run", inp_dir="tiles/", out_dir="preds/", shard=(2, 8),
        ...                  skip_existing=True)
    """
    _check_uncertainty(uncertainty, return_uncertainty)
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
        shard = check_shard(shard)
        inps = inps[shard[0]::shard[1]]
        out_paths = out_paths[shard[0]::shard[1]] if out_paths is not None else None
    stems = map_stems(out_paths, inps) if uncertainty and out_paths is not None else None
    todo = list(range(len(inps)))
    if skip_existing:
        if out_paths is None:
            raise ModelConfigError("skip_existing=True needs out_dir= (the folder whose finished files are kept)")
        todo = [i for i in todo if not all(map(os.path.exists, _written(out_paths[i], stems and stems[i])))]
    if not keep_labels and out_paths is None:
        raise ModelConfigError("keep_labels=False needs out_dir= (the label maps go only to files)")

    results, skipped = [None if keep_labels else False] * len(inps), []
    for i in todo:
        results[i] = None
    scores = {i: read_score(stems[i]) for i in set(range(len(inps))) - set(todo)} if stems else {}
    options = dict(read_image_type=read_image_type, preprocessing=preprocessing, batch_size=batch_size,
                   workers=workers, flip_tta=flip_tta, uncertainty=uncertainty, **window)
    if engine == "auto":
        model = choose_engine(model, [inps[i] for i in todo], options, say=print if progress else None)[0]
    predictor = Predictor(model, **options)
    with ThreadPoolExecutor(predictor.workers) as writers:
        writes = collections.deque()
        for result in progress_bar(predictor.run([inps[i] for i in todo], return_probabilities), len(todo), progress):
            if result.error is not None:
                skipped.append(str(result.error))
                continue
            position = todo[result.index]
            results[position] = _returned(result, return_probabilities, return_uncertainty) if keep_labels else True
            if out_paths is not None:
                writes.append(
                    writers.submit(
                        write_output, out_paths[position], result, model, colored, overlay_img, class_names,
                        show_legends, colors, prediction_width, prediction_height,
                    )
                )
            if stems is not None:
                scores[position] = result.score
                writes.append(writers.submit(write_map, stems[position], result.uncertainty))
            while len(writes) > 2 * predictor.workers:  # bounded: finished images are not held for writing
                writes.popleft().result()
        for write in writes:
            write.result()
    if stems is not None:
        names = [os.path.basename(source if isinstance(source, (str, os.PathLike)) else stems[i])
                 for i, source in enumerate(inps)]  # an array is named as its outputs
        write_scores(os.path.join(out_dir, FOLDER, scores_name(shard)), [(names[i], scores[i]) for i in sorted(scores)])
    if skipped:
        warnings.warn(f"skipped {len(skipped)} unreadable input(s): " + "; ".join(skipped), stacklevel=2)
    return results
