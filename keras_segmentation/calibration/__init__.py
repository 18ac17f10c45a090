"""Calibration: how far a model's confidence is from its accuracy, and the temperature that closes the gap.

* :mod:`.reliability`: :class:`ReliabilityCounts` (15 confidence bins accumulated over images, the expected
  calibration error, the NLL), :func:`valid_pixels`;
* :mod:`.temperature`: :class:`PixelSample` (a bounded random sample of pixels), :func:`fit_temperature`,
  :func:`without_temperature`;
* :mod:`.calibrate`: :func:`calibrate` (fit on validation images, keep the temperature with the model),
  :class:`CalibrationResult`;
* :mod:`.diagram`: :func:`reliability_svg`, the reliability diagram ``evaluate``'s report shows.

Example:
    >>> from keras_segmentation.calibration import calibrate
    >>> print(calibrate("runs/fit", "val/images", "val/masks").line())          # doctest: +SKIP
    temperature 1.624: ECE 0.0512 -> 0.0097 (NLL 0.4127 -> 0.3580)
"""

from .calibrate import CalibrationResult, calibrate
from .diagram import reliability_svg
from .reliability import N_BINS, ReliabilityCounts, valid_pixels
from .temperature import MAX_TEMPERATURE, MIN_TEMPERATURE, PixelSample, fit_temperature, without_temperature

__all__ = ["calibrate", "CalibrationResult", "ReliabilityCounts", "N_BINS", "valid_pixels", "PixelSample",
           "fit_temperature", "without_temperature", "MIN_TEMPERATURE", "MAX_TEMPERATURE", "reliability_svg"]
