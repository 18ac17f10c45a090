"""``calibrate``: fit a model's temperature on validation images and keep it with the model.

The model predicts the images once (its own probabilities: a temperature it already has is set aside); a
seeded uniform sample of at most ``sample_pixels`` valid pixels (:class:`~.temperature.PixelSample`) gives the
temperature (:func:`~.temperature.fit_temperature`) and the expected calibration error and NLL before and after
it (:mod:`.reliability`). With ``save=True`` the temperature goes where the model came from, so loading it again
gives it as ``model.temperature``, which prediction applies:

* a checkpoint prefix (``checkpoints_path=``): ``"temperature"`` in ``<prefix>_config.json``;
* a ``fit`` run folder (or its ``model.keras``): ``"temperature"`` in its ``predict.json``;
* a preset folder: ``"temperature"`` in its ``config.json``;
* an exported file: ``"temperature"`` in its metadata JSON (:mod:`keras_segmentation.export.metadata`);
* a model object: ``model.temperature`` (``save_preset`` and ``export_model`` then carry it).

Every file is rewritten atomically, the rest of it kept (:mod:`keras_segmentation.checkpoints.temperature`).

Example:
    >>> from keras_segmentation.calibration import calibrate
    >>> result = calibrate(checkpoints_path="ckpt/unet", inp_images_dir="val/images", annotations_dir="val/masks")
    >>> print(result.line())
    temperature 1.624: ECE 0.0512 -> 0.0097 (NLL 0.4127 -> 0.3580)
"""

import dataclasses
import os

from ..checkpoints import preset_folder, run_folder
from ..checkpoints.names import config_path
from ..checkpoints.temperature import write_temperature
from ..data.masks import check_mask_values, read_mask
from ..data.pairing import get_pairs_from_paths
from ..errors import DataLoaderError, ModelConfigError, SizeMismatchError
from ..inference.predictor import Predictor, model_or_checkpoint, progress_bar, trained_ignore_index
from ..uncertainty import with_temperature
from .reliability import ReliabilityCounts, valid_pixels
from .temperature import PixelSample, fit_temperature, without_temperature


@dataclasses.dataclass
class CalibrationResult:
    """What :func:`calibrate` found: the temperature, ECE and NLL before and after it, and where it was kept.

    ``before`` and ``after`` are the :class:`~.reliability.ReliabilityCounts` of the sampled pixels (their
    ``bins()`` give the reliability diagram); ``n_pixels`` pixels were sampled of the ``n_valid_pixels`` valid
    ones; ``stored_in`` is the file written (``None``: none, the model object only or ``save=False``).
    """

    temperature: float
    before: ReliabilityCounts
    after: ReliabilityCounts
    n_valid_pixels: int
    stored_in: str | None = None

    @property
    def ece_before(self):
        return self.before.ece

    @property
    def ece_after(self):
        return self.after.ece

    @property
    def nll_before(self):
        return self.before.nll

    @property
    def nll_after(self):
        return self.after.nll

    @property
    def n_pixels(self):
        return self.before.n_pixels

    def line(self):
        """``"temperature T: ECE a -> b (NLL x -> y)"``: what the command prints."""
        return (f"temperature {self.temperature:.3f}: ECE {self.ece_before:.4f} -> {self.ece_after:.4f} "
                f"(NLL {self.nll_before:.4f} -> {self.nll_after:.4f})")

    def to_json(self):
        """The result as JSON-ready data, the bins included."""
        return {"temperature": self.temperature, "ece_before": self.ece_before, "ece_after": self.ece_after,
                "nll_before": self.nll_before, "nll_after": self.nll_after, "n_pixels": self.n_pixels,
                "n_valid_pixels": self.n_valid_pixels, "stored_in": self.stored_in,
                "bins_before": self.before.bins(), "bins_after": self.after.bins()}


def calibrate(
    model=None,
    inp_images_dir=None,
    annotations_dir=None,
    *,
    checkpoints_path=None,
    ignore_index=None,
    save=True,
    colour_map=None,
    read_image_type=1,
    preprocessing=None,
    batch_size=2,
    workers=None,
    flip_tta=False,
    progress=True,
    sample_pixels=200_000,
    seed=0,
    **window,
):
    """Fit the temperature of ``model`` on the image/mask pairs of two folders; returns a :class:`CalibrationResult`.

    Args:
        model: a model, or the path of a ``fit`` run folder, a preset folder, an exported file or a ``.keras``
            file (:func:`~keras_segmentation.inference.predictor.model_or_checkpoint`); else ``checkpoints_path``.
        inp_images_dir, annotations_dir: the validation images and their masks (paired by name); not the
            training images, on which a model is over-confident.
        ignore_index: a mask value left out (default: the one the model was trained with, as in ``evaluate``).
        save: keep the temperature with the model (see the module's list); ``False`` only measures it.
        sample_pixels: the temperature, ECE and NLL are computed on a uniform random sample (``seed``) of at most
            this many valid pixels (all of them when fewer), which bounds memory (``sample_pixels x n_classes``
            floats).
        colour_map, read_image_type, preprocessing, batch_size, workers, flip_tta, progress, window: the shared
            options (:mod:`keras_segmentation.options`); fit the temperature with the options you predict with.

    Raises:
        ModelConfigError: a missing folder argument, or ``save=True`` for a model file with no place to keep a
            temperature (a ``.keras`` saved on its own: calibrate its checkpoint, run folder or preset).
        PairingError: a folder is missing, or images and masks do not pair.
        DataLoaderError: no valid pixel in the masks; (MaskValueError, SizeMismatchError) a bad mask.
    """
    if inp_images_dir is None or annotations_dir is None:
        raise ModelConfigError("calibrate needs inp_images_dir and annotations_dir (validation images and masks)")
    sample = PixelSample(sample_pixels, seed)
    pairs = get_pairs_from_paths(inp_images_dir, annotations_dir)
    images, masks = [pair[0] for pair in pairs], [pair[1] for pair in pairs]
    source = model if isinstance(model, (str, os.PathLike)) else checkpoints_path if model is None else None
    loaded = model_or_checkpoint(model, checkpoints_path)
    file = _temperature_file(source) if save and source is not None else None
    if save and source is not None and file is None and not hasattr(loaded, "store_temperature"):
        raise ModelConfigError(f"{os.fspath(source)}: a model file with no place to keep a temperature; calibrate its "
                               "checkpoint prefix, fit run folder or preset, or pass save=False (--no_save)")
    if ignore_index is None:  # the one the model was trained with, as evaluate takes it
        ignore_index = trained_ignore_index(loaded, checkpoints_path if model is None else None)
    n_valid = _count_valid_pixels(masks, loaded.n_classes, ignore_index, colour_map, annotations_dir)

    with without_temperature(loaded):
        predictor = Predictor(loaded, read_image_type, preprocessing, batch_size, workers, flip_tta, **window)
        for result in progress_bar(predictor.run(images, with_probabilities=True), len(images), progress):
            if result.error is not None:
                raise result.error
            truth = read_mask(masks[result.index], colour_map, strict=True)
            if truth.shape != result.labels.shape:
                raise SizeMismatchError(f"{masks[result.index]}: mask is {truth.shape[1]}x{truth.shape[0]} but the "
                                        f"image is {result.labels.shape[1]}x{result.labels.shape[0]}")
            sample.add(result.probabilities, truth, ignore_index)

    temperature = fit_temperature(sample.probabilities, sample.labels)
    before, after = ReliabilityCounts(), ReliabilityCounts()
    before.add(sample.probabilities, sample.labels)
    after.add(with_temperature(sample.probabilities, temperature), sample.labels)
    stored_in = None
    if save:
        if file is not None:
            write_temperature(file, temperature)
            stored_in = file
        elif hasattr(loaded, "store_temperature"):  # an exported file: its metadata JSON
            stored_in = loaded.store_temperature(temperature)
        loaded.temperature = temperature  # a model object given is the one loaded
    return CalibrationResult(temperature, before, after, n_valid, stored_in)


def _temperature_file(source):
    """The JSON file that keeps the temperature of the saved model ``source``
    (:mod:`keras_segmentation.checkpoints.temperature`), or ``None`` (an exported file keeps it in its metadata; a
    ``.keras`` saved on its own: nowhere)."""
    if preset_folder.is_preset(source):
        return os.path.join(os.fspath(source), preset_folder.CONFIG_FILE)
    found = run_folder.temperature_file(source)
    if found is None and os.path.isfile(config_path(source)):
        found = config_path(source)
    return found


def _count_valid_pixels(masks, n_classes, ignore_index, colour_map, annotations_dir):
    """The valid pixels of every mask, read and checked before any prediction; a one-line error when none."""
    total = 0
    for path in masks:
        truth = read_mask(path, colour_map, strict=True)
        check_mask_values(truth, n_classes, ignore_index, path)
        total += int(valid_pixels(truth, n_classes, ignore_index).sum())
    if not total:
        raise DataLoaderError(f"{os.fspath(annotations_dir)}: no pixel to calibrate on (every mask pixel is "
                              f"ignore_index={ignore_index}); give masks with classes in them")
    return total

