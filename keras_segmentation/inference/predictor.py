"""The batched predictor: images in, class probabilities, label maps and uncertainty maps at each image's own
resolution out.

Uncertainty maps are computed from the model's output and the map alone is resized to the image: measured on
an AMD EPYC core, the entropy map of a 176x240x12 output for a 360x480 image takes 2.6 ms against 17.7 ms from
the upscaled probabilities, and for a 3000x4000 photo from 256x256x21, 16 ms and 46 MiB against 0.96 s and
2.9 GiB (the label map of that photo alone: 3.6 s).

Example:
    >>> predictor = Predictor(model, batch_size=8, uncertainty="entropy")
    >>> for item in predictor.run(["a.png", "b.png"]):
    ...     print(item.index, item.labels.shape, item.uncertainty.shape, round(item.score, 3))
"""

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np

from ..data.images import read_image_for_model
from ..data.normalization import normalize_image, resize_image
from ..data.visualize import class_colors
from ..errors import ModelConfigError, SegmentationError
from ..uncertainty import check_method, image_score, with_temperature
from .tiling import TestTimeAugmentation, default_window, needs_slide_hint, slide_labels
from .upscale import upscale_labels, upscale_probabilities


def model_or_checkpoint(model, checkpoints_path, engine=None):
    """``model``, or the model trained under ``checkpoints_path`` (newest weights), run by ``engine``.

    ``model`` may also be the path of an exported model (``.onnx``, ``.tflite``, SavedModel folder,
    ``.keras``), of a ``fit`` run folder (its ``model.keras``, with the prediction options the run
    chose as ``run_options`` and the class colours its data carried as ``class_colors``:
    :mod:`keras_segmentation.checkpoints.run_folder`) or of a preset folder (likewise:
    :mod:`keras_segmentation.checkpoints.preset_folder`); ``engine``
    (``"onnxruntime"``, ``"litert"``, ``"savedmodel"``, ``"keras"``) runs a Keras
    model through that runtime (:mod:`keras_segmentation.export.formats`); ``"auto"`` leaves it a Keras model, for
    :func:`~keras_segmentation.inference.engine_choice.choose_engine` to decide once the images are known.
    """
    from ..checkpoints import preset_folder, run_folder

    if model is None and (run_folder.is_run_folder(checkpoints_path) or preset_folder.is_preset(checkpoints_path)):
        model = checkpoints_path  # --checkpoints_path runs/fit
    if isinstance(model, (str, os.PathLike)):
        from ..export.formats import load_engine

        if preset_folder.is_preset(model):
            return _with_options(preset_folder.load_preset(model), preset_folder.prediction_options(model), engine,
                                 preset_folder.class_colors(model))
        if run_folder.is_run_folder(model):
            return _with_options(load_engine(run_folder.model_file(model)), run_folder.prediction_options(model), engine,
                                 run_folder.class_colors(model))
        return load_engine(model, engine)
    if model is None:
        if checkpoints_path is None:
            raise ModelConfigError("give a model or a checkpoints_path")
        from ..checkpoints.load import load_model_from_checkpoint  # Keras: not loaded for exported files

        model = load_model_from_checkpoint(checkpoints_path)
    if engine in (None, "keras", "auto"):
        return model
    from ..export.formats import model_for_engine

    return model_for_engine(model, engine)


def trained_ignore_index(loaded, checkpoints_path=None):
    """The mask value ``loaded`` was trained to ignore: a ``fit`` run folder's void, else the ``ignore_index`` of
    the checkpoint ``checkpoints_path`` (give it only when the model came from that checkpoint); ``None`` if neither.

    Example:
        >>> trained_ignore_index(model_or_checkpoint(None, "ckpt/run"), "ckpt/run")   # doctest: +SKIP
        11
    """
    value = (getattr(loaded, "run_options", None) or {}).get("ignore_index")
    if value is None and checkpoints_path is not None:
        from ..checkpoints.names import config_path

        if os.path.isfile(config_path(checkpoints_path)):
            from ..checkpoints.config import read_config  # Keras: not loaded for exported files

            value = read_config(checkpoints_path).get("ignore_index")
    return value


def painting_colors(model, colors=None):
    """The ``(r, g, b)`` per class that predictions of ``model`` are painted with: ``colors`` when given, else the
    class colours of the run or preset folder it was loaded from (:func:`model_or_checkpoint`), else the library's
    palette.

    Example:
        >>> painting_colors(model_or_checkpoint("runs/fit", None))[:2]   # doctest: +SKIP
        [[0, 0, 0], [128, 64, 128]]
    """
    if colors is not None:
        return colors
    return getattr(model, "class_colors", None) or class_colors


def _with_options(loaded, options, engine, colors):
    """``loaded`` (a saved folder's model) run by ``engine``, carrying the folder's prediction options as
    ``run_options`` and its class colours (or ``None``) as ``class_colors``."""
    if engine not in (None, "keras", "auto"):
        from ..export.formats import model_for_engine

        loaded = model_for_engine(loaded, engine)
    loaded.run_options = options
    loaded.class_colors = colors
    return loaded


def in_prediction_precision(model, precision):
    """The model that predicts for ``precision`` (:func:`keras_segmentation.precision.for_prediction`);
    an exported model runs in the precision it was exported in, and ``"auto"`` leaves it so."""
    if hasattr(model, "layers"):
        from ..precision import for_prediction

        return for_prediction(model, precision)
    if precision not in (None, "auto"):
        raise ModelConfigError(f"precision={precision!r} applies to Keras models; {model.path} runs in the "
                               "precision it was exported in")
    return model


class Predictor:
    """Turns images into class probabilities / labels at their own resolution, in batches.

    Images are read in ``workers`` threads while the previous batch is in the model.
    ``mode="resize"`` (the original's) resizes each image to the model's input;
    ``mode="slide"`` predicts it tile by tile at its own scale
    (:mod:`keras_segmentation.inference.tiling`: ``tile``, ``overlap``, ``blend``).
    ``tta`` (names: ``"hflip"``, ``"vflip"``, ``"flip"``, ``"scale"``, with ``scales``)
    and ``flip_tta`` (the left-right mirror) average augmented predictions. With
    ``mode=None`` an image more than twice the model's input in both sides gets a
    one-time warning that ``mode="slide"`` exists, unless the model carries ``run_options`` (a ``fit``
    run folder's choice of mode and flip TTA), which then apply. ``precision`` (:mod:`keras_segmentation.precision`;
    ``"auto"``: bfloat16 where the hardware and the model gain from it) runs a copy of the model in
    another precision, with the same weights; ``None`` runs the model as it is.

    ``uncertainty`` (``"entropy"``, ``"margin"``, ``"tta"``: :mod:`keras_segmentation.uncertainty`) gives each
    :class:`Prediction` an ``uncertainty`` map (float32 (H, W) in [0, 1], 0 = sure) and its ``score`` (the
    mean). The map is computed at the model's output resolution and resized bilinearly to the image (in slide
    mode per tile, then blended: :mod:`keras_segmentation.inference.tiling`). ``"tta"`` (the augmented passes'
    disagreement) uses ``tta``/``flip_tta``'s augmentations, or both flips when none is asked
    (:data:`~keras_segmentation.inference.tiling.UNCERTAINTY_FLIPS`). A model carrying a calibration
    ``temperature`` (a float attribute) has the probabilities it returns, and those of the ``"entropy"`` and
    ``"margin"`` maps, scaled by it (:func:`~keras_segmentation.uncertainty.with_temperature`); the labels are the
    arg-max of the unscaled probabilities, as without it.
    """

    def __init__(self, model, read_image_type=1, preprocessing=None, batch_size=2, workers=None, flip_tta=False, *,
                 mode=None, tile=None, overlap=0.25, blend="gaussian", tta=None, scales=None, precision="auto",
                 uncertainty=None):
        self.uncertainty = check_method(uncertainty)
        if mode not in (None, "resize", "slide"):
            raise ModelConfigError(f"mode={mode!r}: choose 'resize' (the model's input size) or 'slide' (tiles)")
        chosen = getattr(model, "run_options", None) or {}
        if mode is None and chosen.get("mode"):
            mode, overlap = chosen["mode"], chosen.get("overlap", overlap)
        flip_tta = flip_tta or bool(chosen.get("flip_tta"))
        self.temperature = getattr(model, "temperature", None)  # read before a copy in another precision
        self.model = model = in_prediction_precision(model, precision)
        # exported models take the uint8 pixels their graph normalises (export.formats.runner); Keras models normalised floats
        self._model_input = getattr(model, "prepare_image", None) or partial(normalize_image,
                                                                             normalization=model.normalization)
        self.read_image_type = read_image_type
        self.preprocessing = preprocessing
        self.batch_size = max(1, int(batch_size))
        self.workers = workers or min(4, os.cpu_count() or 1)
        self.tta = TestTimeAugmentation.from_names(tta, scales, flip_tta).for_uncertainty(uncertainty)
        self.window = default_window(model, tile, overlap, blend) if mode == "slide" else None
        self._hint = mode is None  # say once that slide mode exists, for a large image

    def run(self, sources, with_probabilities=False):
        """Yield a :class:`Prediction` per source, in order; unreadable ones carry ``error``."""
        with ThreadPoolExecutor(self.workers) as pool:
            chunks = [sources[i : i + self.batch_size] for i in range(0, len(sources), self.batch_size)]
            futures = [pool.submit(self.prepare, s) for s in chunks[0]] if chunks else []
            for number in range(len(chunks)):
                prepared = [future.result() for future in futures]
                # Read the next chunk while this one is in the model.
                if number + 1 < len(chunks):
                    futures = [pool.submit(self.prepare, s) for s in chunks[number + 1]]
                yield from self._predict_chunk(prepared, number * self.batch_size, pool, with_probabilities)

    def prepare(self, source):
        """``(image, model input, None)`` of one source (read, preprocessed, resized and normalised for the model; in
        slide mode the preprocessed image), or ``(None, None, error)`` when it cannot be read: what
        :meth:`predict_prepared` takes."""
        try:
            image = read_image_for_model(source, self.model.channels, self.read_image_type)
            raw = self.preprocessing(image) if self.preprocessing is not None else image
            if self.window is not None:
                return image, raw, None  # tiles are normalised one at a time
            if self._hint and needs_slide_hint(self.model, raw.shape):
                self._hint = False
                warnings.warn(
                    f"{_name(source)} is {raw.shape[1]}x{raw.shape[0]}, more than twice the model's input "
                    f"({self.model.input_width}x{self.model.input_height}): it is resized to it; mode='slide' "
                    "predicts it tile by tile at its own resolution",
                    stacklevel=2,
                )
            size = (self.model.input_height or raw.shape[0], self.model.input_width or raw.shape[1])
            return image, self._model_input(raw, size=size), None
        except (SegmentationError, OSError) as err:
            return None, None, err

    def predict_prepared(self, prepared, with_probabilities=False):
        """The :class:`Prediction` of each item :meth:`prepare` made (a list, in order), the items that agree in
        shape in one model call: how a server batches the images of several requests.

        Example:
            >>> items = [predictor.prepare(image) for image in images]
            >>> [p.labels.shape for p in predictor.predict_prepared(items)]
            [(360, 480), (720, 960)]
        """
        with ThreadPoolExecutor(self.workers) as pool:
            return list(self._predict_chunk(list(prepared), 0, pool, with_probabilities))

    def _predict_chunk(self, prepared, offset, pool, with_probabilities):
        if self.window is not None:
            yield from self._slide_chunk(prepared, offset, with_probabilities)
            return
        good = [i for i, item in enumerate(prepared) if item[2] is None]
        outputs = {}
        if good:
            batch = [prepared[i][1] for i in good]
            if all(b.shape == batch[0].shape for b in batch):
                probs, maps = self._forward(np.stack(batch))
                out = zip(probs, maps if maps is not None else [None] * len(batch))
            else:  # free-size model, images of different sizes
                out = [self._forward(b[None]) for b in batch]
                out = [(probs[0], None if maps is None else maps[0]) for probs, maps in out]
            outputs = dict(zip(good, out))
        results = []
        for i, (image, _, error) in enumerate(prepared):
            if error is not None:
                results.append(pool.submit(Prediction, offset + i, None, None, None, error))
            else:
                results.append(pool.submit(_finish, offset + i, image, *outputs[i], with_probabilities, self.temperature))
        for future in results:
            yield future.result()

    def _slide_chunk(self, prepared, offset, with_probabilities):
        for i, (image, raw, error) in enumerate(prepared):
            if error is not None:
                yield Prediction(offset + i, None, None, None, error)
                continue
            labels, probs, uncertain = slide_labels(self.model, raw, self.window, self.tta, self.model.normalization,
                                                    self.batch_size, with_probabilities, self.uncertainty,
                                                    self.temperature)
            yield Prediction(offset + i, image, labels, probs, uncertainty=uncertain,
                             score=None if uncertain is None else image_score(uncertain))

    def _forward(self, batch):
        """``(probabilities, maps or None)`` of an (N, H, W, channels) batch, averaged over the test-time
        augmentations, at the model's output resolution."""
        return self.tta.forward_uncertainty(self.model, batch, self.uncertainty, self.temperature)


class Prediction:
    """One image's result: ``labels`` (H, W) at the image's resolution, optional ``probabilities``, and with
    ``uncertainty=`` the ``uncertainty`` map (float32 (H, W) in [0, 1]) and its ``score`` (the map's mean)."""

    __slots__ = ("index", "image", "labels", "probabilities", "error", "uncertainty", "score")

    def __init__(self, index, image, labels, probabilities, error=None, uncertainty=None, score=None):
        self.index, self.image, self.labels, self.probabilities, self.error = index, image, labels, probabilities, error
        self.uncertainty, self.score = uncertainty, score


def _finish(index, image, probs, uncertain, with_probabilities, temperature):
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
    if uncertain is not None and uncertain.shape != (height, width):
        uncertain = np.clip(resize_image(uncertain, (height, width))[:, :, 0], 0, 1)
    return Prediction(index, image, labels, with_temperature(probs, temperature) if with_probabilities else None,
                      uncertainty=uncertain, score=None if uncertain is None else image_score(uncertain))


def _name(source):
    return "the image" if isinstance(source, np.ndarray) else os.fspath(source)


def progress_bar(iterable, total, enabled):
    """``iterable`` with a progress bar on a terminal (``enabled``), else as it is."""
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    # disable=None: no bar when stderr is not a terminal (logs, pipes, CI).
    return tqdm(iterable, total=total, unit="img", leave=False, disable=None)

