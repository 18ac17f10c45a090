"""Geospatial rasters: predict a GeoTIFF window by window and write a georeferenced label map.

Needs the ``[geo]`` extra (``pip install keras-segmentation[geo]``: rasterio).
:func:`predict_geotiff` reads only the rows of one row of tiles at a time (any band
count, a band selection, 8/16-bit or float), predicts them with the sliding window
of :mod:`keras_segmentation.inference.tiling`, and writes each finished band of
labels into a tiled, DEFLATE-compressed GeoTIFF with the input's CRS and transform.
Pixels the input marks as nodata (its nodata value or mask, in every selected band)
get ``nodata_label``, which is also the output's nodata value.

With ``uncertainty=`` (:mod:`keras_segmentation.uncertainty`) the per-pixel map goes to a separate GeoTIFF,
``<out_fname without extension>_uncertainty.tif`` (:func:`uncertainty_path`): one float32 band in [0, 1], the
label map's grid (CRS, transform, size, tiles), NaN (its nodata value) where the label map has ``nodata_label``.
A separate file keeps the label raster what GIS tools expect of a classification (one small integer band) and
lets each be styled, or deleted, on its own; both are written in the same pass, each atomically.

Band order follows the library's rule for TIFF files (:mod:`keras_segmentation.data.rasters`):
3 or 4 selected bands are taken as RGB(A) and reach the model in OpenCV's BGR(A)
order, as when the same file is read for training; other counts keep file order.

Example:
    >>> predict_geotiff(checkpoints_path="ckpt/run", inp="scene.tif", out_fname="labels.tif", bands=(4, 3, 2))
    >>> predict_geotiff(model, inp="scene.tif", out_fname="labels.tif", uncertainty="entropy")  # + labels_uncertainty.tif
"""

import contextlib
import os
import warnings

import numpy as np

from ..atomic import atomic_write
from ..data.rasters import rgb_to_bgr
from ..errors import ModelConfigError, SegmentationError
from ..uncertainty import check_method
from .predictor import in_prediction_precision, model_or_checkpoint
from .tiling import TestTimeAugmentation, default_window, slide

#: GeoTIFF tile size of the written label maps (a multiple of 16, as GDAL needs)
BLOCK = 256


def _rasterio():
    try:
        import rasterio
    except ImportError:
        raise SegmentationError("GeoTIFF prediction needs rasterio: pip install keras-segmentation[geo]") from None
    return rasterio


class RasterRows:
    """Rows of selected bands of an open rasterio dataset, as ``(rows, W, bands)`` arrays in the library's band order."""

    def __init__(self, dataset, bands):
        self.dataset = dataset
        self.bands = list(bands)
        self.shape = (dataset.height, dataset.width, len(self.bands))

    def rows(self, top, bottom):
        from rasterio.windows import Window

        pixels = self.dataset.read(self.bands, window=Window(0, top, self.dataset.width, bottom - top))
        pixels = np.moveaxis(pixels, 0, -1)
        if pixels.shape[2] in (3, 4):
            pixels = rgb_to_bgr(pixels)
        return np.ascontiguousarray(pixels)

    def nodata(self, top, bottom):
        """Boolean ``(rows, W)``: pixels that are nodata in every selected band."""
        from rasterio.windows import Window

        window = Window(0, top, self.dataset.width, bottom - top)
        masks = self.dataset.read_masks(self.bands, window=window)
        return ~np.any(masks > 0, axis=0)


def uncertainty_path(out_fname):
    """The uncertainty GeoTIFF written beside the label map ``out_fname``.

    Example:
        >>> uncertainty_path("out/labels.tif")
        'out/labels_uncertainty.tif'
    """
    return os.path.splitext(os.fspath(out_fname))[0] + "_uncertainty.tif"


def predict_geotiff(model=None, inp=None, out_fname=None, checkpoints_path=None, *, bands=None, nodata_label=255,
                    tile=None, overlap=0.25, blend="gaussian", tta=None, scales=None, batch_size=2, engine="auto",
                    precision="auto", uncertainty=None):
    """Predict the GeoTIFF ``inp`` by sliding window and write the label map ``out_fname`` (GeoTIFF); returns its path.

    Args:
        bands: 1-based band numbers to feed the model (default: all), e.g. ``(4, 3, 2)``.
        nodata_label: label written for nodata pixels, and the output's nodata value (0..65535; warns when it is
            also a class id of the model).
        tile, overlap, blend, tta, scales, batch_size, engine, precision, uncertainty: as for
            ``predict(mode="slide")``; ``uncertainty`` writes the map to :func:`uncertainty_path` (float32 GeoTIFF).

    Raises:
        SegmentationError: rasterio missing, the file unreadable, band counts that do not fit the model, or a
            ``nodata_label`` the label map cannot hold.
    """
    if isinstance(nodata_label, bool) or not isinstance(nodata_label, (int, np.integer)) \
            or not 0 <= nodata_label <= np.iinfo(np.uint16).max:
        raise ModelConfigError(f"nodata_label={nodata_label}: must be 0..65535 (a label of the uint8 or uint16 map)")
    check_method(uncertainty)
    rasterio = _rasterio()
    model = model_or_checkpoint(model, checkpoints_path, engine)
    temperature = getattr(model, "temperature", None)  # read before a copy in another precision
    model = in_prediction_precision(model, precision)
    if inp is None or out_fname is None:
        raise ModelConfigError("predict_geotiff needs inp= (a GeoTIFF) and out_fname= (the label map to write)")
    for written in [out_fname, *([uncertainty_path(out_fname)] if uncertainty else [])]:
        if os.path.abspath(os.fspath(written)) == os.path.abspath(os.fspath(inp)):
            raise ModelConfigError(f"{written}: writing the prediction would overwrite the input; choose another "
                                   "out_fname")
    if nodata_label < model.n_classes:
        warnings.warn(f"nodata_label={nodata_label} is also a class id of the model (0..{model.n_classes - 1}): "
                      f"nodata pixels and class {nodata_label} look the same in {out_fname}", stacklevel=2)
    labels_dtype = "uint8" if max(model.n_classes, nodata_label + 1) <= 256 else "uint16"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)  # said once below, in plain words
        try:
            dataset = rasterio.open(os.fspath(inp))
        except rasterio.errors.RasterioIOError as err:
            raise SegmentationError(f"{inp}: not a readable raster ({' '.join(str(err).split())})") from None
        with dataset:
            bands = list(bands or range(1, dataset.count + 1))
            if not all(1 <= b <= dataset.count for b in bands):
                raise ModelConfigError(f"{inp}: bands={bands} but the file has bands 1..{dataset.count}")
            if len(bands) != model.channels:
                raise ModelConfigError(f"{inp}: {len(bands)} band(s) selected but the model takes {model.channels}")
            if (dataset.crs is None or dataset.transform.is_identity) and not dataset.gcps[0] and not dataset.rpcs:
                warnings.warn(f"{inp}: not georeferenced (no CRS or geotransform); {out_fname} has none either",
                              stacklevel=2)
            source = RasterRows(dataset, bands)
            window = default_window(model, tile, overlap, blend)
            augment = TestTimeAugmentation.from_names(tta, scales).for_uncertainty(uncertainty)
            profile = dict(
                driver="GTiff", width=dataset.width, height=dataset.height, count=1, dtype=labels_dtype,
                crs=dataset.crs, transform=dataset.transform, nodata=nodata_label,
                tiled=True, blockxsize=BLOCK, blockysize=BLOCK, compress="deflate",
            )
            # floating-point predictor: deflate packs the map's values several times smaller
            map_profile = dict(profile, dtype="float32", nodata=float("nan"), predictor=3)

            def write(temp, maps_temp=None):
                from rasterio.windows import Window

                maps_file = rasterio.open(maps_temp, "w", **map_profile) if maps_temp else contextlib.nullcontext()
                with rasterio.open(temp, "w", **profile) as out, maps_file as maps:
                    for top, probs, *band_map in slide(model, source, window, augment, model.normalization, batch_size,
                                                       uncertainty, temperature):
                        rows = probs.shape[0]
                        nodata = source.nodata(top, top + rows)
                        labels = probs.argmax(-1).astype(labels_dtype)
                        labels[nodata] = nodata_label
                        out.write(labels, 1, window=Window(0, top, dataset.width, rows))
                        if maps is not None:
                            values = np.where(nodata, np.float32("nan"), band_map[0])
                            maps.write(values, 1, window=Window(0, top, dataset.width, rows))

            if uncertainty:  # the map is renamed into place first, the labels right after it
                atomic_write(out_fname, lambda temp: atomic_write(
                    uncertainty_path(out_fname), lambda maps_temp: write(temp, maps_temp), durable=False), durable=False)
            else:
                atomic_write(out_fname, write, durable=False)
    return os.fspath(out_fname)
