"""Inference and evaluation: ``predict``, ``predict_multiple``, ``predict_video``, ``evaluate``.

The original library's functions and arguments, with these changes:

* label maps come back at the **original image resolution**: the class
  probabilities are resized (bilinear) to the image's size, then arg-maxed;
* ``predict_multiple`` reads images in parallel threads, predicts in batches,
  accepts every image extension in any case, writes lossless PNGs (class-id
  label maps by default; colour images with ``colored=True``, ``overlay_img`` or
  ``show_legends``), never overwrites its inputs, and skips (and lists)
  unreadable files instead of stopping;
* ``evaluate`` accumulates one confusion matrix at the original resolution and
  returns the original keys (``frequency_weighted_IU``, ``mean_IU``,
  ``class_wise_IU``) plus pixel accuracy, mean class accuracy and Dice
  (see :mod:`keras_segmentation.metrics`);
* ``preprocessing=`` (the callable given to ``train``) is applied here too;
* ``flip_tta=True`` (test-time augmentation) averages the probabilities of each
  image and of its left-right mirror: two forward passes, usually a little
  better for a model trained with flips (+0.45 mIoU on CamVid, ``docs/camvid.md``).

Example:
    >>> from keras_segmentation.predict import predict, predict_multiple, evaluate
    >>> labels = predict(checkpoints_path="ckpt/vgg_unet_1", inp="img.png", out_fname="out.png")
    >>> predict_multiple(checkpoints_path="ckpt/vgg_unet_1", inp_dir="imgs/", out_dir="preds/")
    >>> evaluate(checkpoints_path="ckpt/vgg_unet_1", inp_images_dir="imgs/", annotations_dir="masks/")["mean_IU"]
"""

import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from . import checkpoints as ckpt
from .data.images import check_mask_values, normalize_image, read_image_for_model, read_mask
from .data.visualize import (
    class_colors,
    concat_lenends,
    get_colored_segmentation_image,
    get_legends,
    overlay_seg_image,
    visualize_segmentation,
)
from .errors import ModelConfigError, SegmentationError, SizeMismatchError

__all__ = [
    "model_from_checkpoint_path",
    "predict",
    "predict_multiple",
    "predict_video",
    "evaluate",
    "class_colors",
    "concat_lenends",
    "get_colored_segmentation_image",
    "get_legends",
    "overlay_seg_image",
    "visualize_segmentation",
]


def model_from_checkpoint_path(checkpoints_path, weights=None):
    """Rebuild a trained model from ``train(checkpoints_path=...)`` files (newest weights).

    Works for the registered models, ``build_model`` models and hand-built
    ``get_segmentation_model`` models. No pretrained weights are downloaded.
    """
    return ckpt.load_model_from_checkpoint(checkpoints_path, weights=weights)


def _model_or_checkpoint(model, checkpoints_path):
    if model is not None:
        return model
    if checkpoints_path is None:
        raise ModelConfigError("give a model or a checkpoints_path")
    return model_from_checkpoint_path(checkpoints_path)


# ----------------------------------------------------------------- the engine
class Predictor:
    """Turns images into class probabilities / labels at their own resolution, in batches.

    Example:
        >>> predictor = Predictor(model, batch_size=8)
        >>> for item in predictor.run(["a.png", "b.png"]):
        ...     print(item.index, item.labels.shape)
    """

    def __init__(self, model, read_image_type=1, preprocessing=None, batch_size=2, workers=None, flip_tta=False):
        self.model = model
        self.flip_tta = bool(flip_tta)
        self.read_image_type = read_image_type
        self.preprocessing = preprocessing
        self.batch_size = max(1, int(batch_size))
        self.workers = workers or min(4, os.cpu_count() or 1)

    def run(self, sources, with_probabilities=False):
        """Yield a :class:`Prediction` per source, in order; unreadable ones carry ``error``."""
        with ThreadPoolExecutor(self.workers) as pool:
            chunks = [sources[i : i + self.batch_size] for i in range(0, len(sources), self.batch_size)]
            futures = [pool.submit(self._prepare, s) for s in chunks[0]] if chunks else []
            for number in range(len(chunks)):
                prepared = [future.result() for future in futures]
                # Read the next chunk while this one is in the model.
                if number + 1 < len(chunks):
                    futures = [pool.submit(self._prepare, s) for s in chunks[number + 1]]
                yield from self._predict_chunk(prepared, number * self.batch_size, pool, with_probabilities)

    def _prepare(self, source):
        try:
            image = read_image_for_model(source, self.model.channels, self.read_image_type)
            raw = self.preprocessing(image) if self.preprocessing is not None else image
            size = (self.model.input_height or raw.shape[0], self.model.input_width or raw.shape[1])
            return image, normalize_image(raw, self.model.normalization, size), None
        except (SegmentationError, OSError) as err:
            return None, None, err

    def _predict_chunk(self, prepared, offset, pool, with_probabilities):
        good = [i for i, item in enumerate(prepared) if item[2] is None]
        probs = {}
        if good:
            batch = [prepared[i][1] for i in good]
            if all(b.shape == batch[0].shape for b in batch):
                out = self._forward(np.stack(batch))
            else:  # free-size model, images of different sizes
                out = [self._forward(b[None])[0] for b in batch]
            probs = dict(zip(good, out))
        results = []
        for i, (image, _, error) in enumerate(prepared):
            if error is not None:
                results.append(pool.submit(Prediction, offset + i, None, None, None, error))
            else:
                results.append(pool.submit(_finish, offset + i, image, probs[i], with_probabilities))
        for future in results:
            yield future.result()


    def _forward(self, batch):
        """Class probabilities of an (N, H, W, channels) batch; with ``flip_tta``, averaged with the mirror's."""
        probs = np.asarray(self.model.predict_on_batch(batch))
        if self.flip_tta:
            mirrored = np.asarray(self.model.predict_on_batch(np.ascontiguousarray(batch[:, :, ::-1])))
            probs = (probs + mirrored[:, :, ::-1]) / 2
        return probs


class Prediction:
    """One image's result: ``labels`` (H, W) at the image's resolution, optional ``probabilities``."""

    __slots__ = ("index", "image", "labels", "probabilities", "error")

    def __init__(self, index, image, labels, probabilities, error=None):
        self.index, self.image, self.labels, self.probabilities, self.error = index, image, labels, probabilities, error


def _finish(index, image, probs, with_probabilities):
    height, width = image.shape[:2]
    n_classes = probs.shape[-1]
    if probs.shape[:2] == (height, width):
        labels = probs.argmax(-1)
    elif with_probabilities:
        probs = upscale_probabilities(probs, (height, width))
        labels = probs.argmax(-1)
    else:
        labels = upscale_labels(probs, (height, width))
    labels = labels.astype(np.uint8 if n_classes <= 256 else np.uint16)
    return Prediction(index, image, labels, probs if with_probabilities else None)


_RESIZE_MAX_CHANNELS = 128  # OpenCV 5 resizes at most this many channels in one call
#: Bytes of resized probabilities held at once by :func:`upscale_labels`.
_LABELS_CHUNK_BYTES = 128 * 2**20


def upscale_labels(probs, size):
    """The arg-max of ``probs`` resized bilinearly to ``size=(height, width)``, in bounded memory.

    Equal to ``upscale_probabilities(probs, size).argmax(-1)``, but the classes
    are resized a few at a time, so a 12-megapixel photo with 150 classes needs
    about 128 MiB instead of 7 GiB.
    """
    height, width = size
    n_classes = probs.shape[-1]
    step = max(1, min(_RESIZE_MAX_CHANNELS, _LABELS_CHUNK_BYTES // (4 * height * width)))
    if step >= n_classes:
        return upscale_probabilities(probs, size).argmax(-1)
    best = labels = None
    for start in range(0, n_classes, step):
        part = upscale_probabilities(probs[..., start : start + step], size)
        index = part.argmax(-1)
        value = np.take_along_axis(part, index[..., None], -1)[..., 0]
        if best is None:
            best, labels = value, index
        else:
            better = value > best  # ties keep the lower class id, as argmax does
            best = np.where(better, value, best)
            labels = np.where(better, index + start, labels)
    return labels


def upscale_probabilities(probs, size):
    """Resize ``(h, w, C)`` probabilities to ``size=(height, width)`` bilinearly (OpenCV, any C)."""
    probs = probs.astype(np.float32, copy=False)
    parts = []
    for start in range(0, probs.shape[-1], _RESIZE_MAX_CHANNELS):
        part = cv2.resize(probs[..., start : start + _RESIZE_MAX_CHANNELS], (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
        parts.append(part[:, :, None] if part.ndim == 2 else part)
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-1)


# ------------------------------------------------------------------ predict
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
):
    """Predict one image (a path or a BGR array); returns the (H, W) label map at its resolution.

    With ``out_fname`` the result is written as a colour image (the original's
    behaviour; ``colored=False`` writes the class-id label map instead).
    ``return_probabilities=True`` returns ``(labels, probabilities)``.
    """
    model = _model_or_checkpoint(model, checkpoints_path)
    if inp is None:
        raise ModelConfigError("predict needs inp= (an image path or array)")
    result = next(Predictor(model, read_image_type, preprocessing, 1, 1, flip_tta).run([inp], return_probabilities))
    if result.error is not None:
        raise result.error
    if out_fname is not None:
        _refuse_overwrite(out_fname, inp)
        _write_output(
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
):
    """Predict a list of images or every image in ``inp_dir``; returns the label maps in order.

    Outputs go to ``out_dir/<image name>.png`` (created if missing). Unreadable
    inputs are skipped with a warning listing them; their entry in the returned
    list is ``None``.
    """
    model = _model_or_checkpoint(model, checkpoints_path)
    if inps is None:
        if inp_dir is None:
            raise ModelConfigError("predict_multiple needs inps= (a list) or inp_dir= (a folder)")
        from .data.pairing import list_images

        inps = list_images(inp_dir, "inp_dir")
    inps = list(inps)
    if colored is None:
        colored = bool(overlay_img or show_legends)
    out_paths = _output_paths(inps, out_dir) if out_dir is not None else None

    results, skipped = [None] * len(inps), []
    predictor = Predictor(model, read_image_type, preprocessing, batch_size, workers, flip_tta)
    with ThreadPoolExecutor(predictor.workers) as writers:
        writes = []
        for result in _progress(predictor.run(inps, return_probabilities), len(inps), progress):
            if result.error is not None:
                skipped.append(str(result.error))
                continue
            results[result.index] = (result.labels, result.probabilities) if return_probabilities else result.labels
            if out_paths is not None:
                writes.append(
                    writers.submit(
                        _write_output, out_paths[result.index], result, model, colored, overlay_img, class_names,
                        show_legends, colors, prediction_width, prediction_height,
                    )
                )
        for write in writes:
            write.result()
    if skipped:
        warnings.warn(f"skipped {len(skipped)} unreadable input(s): " + "; ".join(skipped), stacklevel=2)
    return results


def _output_paths(inps, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    paths, used = [], set()
    for i, source in enumerate(inps):
        name = f"{os.path.splitext(os.path.basename(os.fspath(source)))[0]}" if not isinstance(source, np.ndarray) else str(i)
        path = os.path.join(out_dir, name + ".png")
        if path in used:
            path = os.path.join(out_dir, f"{name}_{i}.png")
        _refuse_overwrite(path, source, "out_dir")
        used.add(path)
        paths.append(path)
    return paths


def _refuse_overwrite(path, source, argument="out_fname"):
    """Raise when writing ``path`` would replace the input image ``source``."""
    if isinstance(source, np.ndarray):
        return
    if os.path.abspath(os.fspath(path)) == os.path.abspath(os.fspath(source)):
        raise ModelConfigError(
            f"{os.fspath(path)}: writing the prediction would overwrite this input image; choose another {argument}"
        )


def _write_output(path, result, model, colored, overlay_img, class_names, show_legends, colors, width, height):
    if colored:
        image = visualize_segmentation(
            result.labels,
            result.image,
            n_classes=model.n_classes,
            colors=colors,
            class_names=class_names or model.class_names,
            overlay_img=overlay_img,
            show_legends=show_legends,
            prediction_width=width,
            prediction_height=height,
        )
    else:
        image = result.labels
        if width and height:
            image = cv2.resize(image, (width, height), interpolation=cv2.INTER_NEAREST)
    folder = os.path.dirname(os.fspath(path))
    if folder:
        os.makedirs(folder, exist_ok=True)
    extension = os.path.splitext(os.fspath(path))[1] or ".png"
    ok, encoded = cv2.imencode(extension, np.ascontiguousarray(image))
    if not ok:
        raise SegmentationError(f"{path}: cannot encode the prediction as {extension}")
    encoded.tofile(os.fspath(path))


def _progress(iterable, total, enabled):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    # disable=None: no bar when stderr is not a terminal (logs, pipes, CI).
    return tqdm(iterable, total=total, unit="img", leave=False, disable=None)


# -------------------------------------------------------------------- video
def predict_video(
    model=None,
    inp=None,
    output=None,
    checkpoints_path=None,
    display=False,
    overlay_img=True,
    class_names=None,
    show_legends=False,
    colors=class_colors,
    prediction_width=None,
    prediction_height=None,
    *,
    preprocessing=None,
):
    """Segment a video file or camera (``inp`` an int or a digit string like ``"0"``); returns the frame count.

    ``output`` (optional) is the path of the video written (XVID for ``.avi``,
    mp4v otherwise), at the prediction size when given, else the source size.
    """
    model = _model_or_checkpoint(model, checkpoints_path)
    source = 0 if inp is None else int(inp) if isinstance(inp, str) and inp.isdigit() else inp
    capture = cv2.VideoCapture(source)
    if not capture.isOpened():
        raise SegmentationError(f"{source}: cannot open the video (file missing or camera unavailable)")
    writer, frames = None, 0
    predictor = Predictor(model, preprocessing=preprocessing, batch_size=1, workers=1)
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            result = next(predictor.run([frame]))
            shown = visualize_segmentation(
                result.labels, frame, n_classes=model.n_classes, colors=colors, class_names=class_names,
                overlay_img=overlay_img, show_legends=show_legends,
                prediction_width=prediction_width, prediction_height=prediction_height,
            )
            if output and writer is None:
                fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
                codec = "XVID" if str(output).lower().endswith(".avi") else "mp4v"
                writer = cv2.VideoWriter(os.fspath(output), cv2.VideoWriter_fourcc(*codec), fps, shown.shape[1::-1])
            if writer is not None:
                writer.write(shown)
            if display:
                cv2.imshow("keras_segmentation", shown)
                if cv2.waitKey(1) & 0xFF == ord("q"):
                    break
            frames += 1
    finally:
        capture.release()
        if writer is not None:
            writer.release()
        if display:
            cv2.destroyAllWindows()
    return frames


# ----------------------------------------------------------------- evaluate
def evaluate(
    model=None,
    inp_images=None,
    annotations=None,
    inp_images_dir=None,
    annotations_dir=None,
    checkpoints_path=None,
    read_image_type=1,
    *,
    ignore_index=None,
    class_names=None,
    colour_map=None,
    batch_size=2,
    workers=None,
    preprocessing=None,
    progress=True,
    flip_tta=False,
):
    """Score predictions against masks at the original resolution; returns a dict of metrics.

    Give lists (``inp_images``, ``annotations``) or folders (``inp_images_dir``,
    ``annotations_dir``). ``ignore_index`` defaults to the one used in training
    when loading from a checkpoint.
    """
    from .metrics import ConfusionMatrix

    model_given = model is not None
    model = _model_or_checkpoint(model, checkpoints_path)
    if ignore_index is None and not model_given and checkpoints_path is not None:
        ignore_index = ckpt.read_config(checkpoints_path).get("ignore_index")
    if inp_images is None:
        if inp_images_dir is None or annotations_dir is None:
            raise ModelConfigError("evaluate needs inp_images + annotations, or inp_images_dir + annotations_dir")
        from .data.pairing import get_pairs_from_paths

        pairs = get_pairs_from_paths(inp_images_dir, annotations_dir)
        inp_images, annotations = [p[0] for p in pairs], [p[1] for p in pairs]
    if len(inp_images) != len(annotations):
        raise ModelConfigError(f"{len(inp_images)} images but {len(annotations)} annotations")

    matrix = ConfusionMatrix(model.n_classes, ignore_index=ignore_index)
    predictor = Predictor(model, read_image_type, preprocessing, batch_size, workers, flip_tta)
    for result in _progress(predictor.run(list(inp_images)), len(inp_images), progress):
        if result.error is not None:
            raise result.error
        truth = read_mask(annotations[result.index], colour_map, strict=True)
        check_mask_values(truth, model.n_classes, ignore_index, annotations[result.index])
        if truth.shape != result.labels.shape:
            raise SizeMismatchError(
                f"{annotations[result.index]}: mask is {truth.shape[1]}x{truth.shape[0]} but the image is "
                f"{result.labels.shape[1]}x{result.labels.shape[0]}"
            )
        matrix.update(truth, result.labels)
    return matrix.scores(class_names=class_names or model.class_names)
