"""GeoTIFF prediction: windows in, a tiled georeferenced label map out, nodata kept (needs rasterio)."""

import keras
import numpy as np
import pytest

from keras_segmentation.errors import ModelConfigError
from keras_segmentation.inference.geo import predict_geotiff
from keras_segmentation.models.segmentation_model import SegmentationModel
from keras_segmentation.predict import predict

rasterio = pytest.importorskip("rasterio", reason="rasterio is not installed (pip install .[geo])")
from rasterio.transform import from_origin  # noqa: E402


def pointwise_net(channels=3, seed=0):
    keras.utils.set_random_seed(seed)
    x = keras.Input((None, None, channels))
    h = keras.layers.Conv2D(8, 1, activation="relu")(x)
    y = keras.layers.Softmax()(keras.layers.Conv2D(4, 1)(h))
    return SegmentationModel(x, y, model_name="pointwise", normalization="divide")


def write_geotiff(path, bands, nodata=0):
    """``bands``: (count, H, W) uint8; UTM zone 33N, 10 m pixels."""
    profile = dict(driver="GTiff", width=bands.shape[2], height=bands.shape[1], count=bands.shape[0], dtype="uint8",
                   crs="EPSG:32633", transform=from_origin(500000, 4649000, 10, 10), nodata=nodata)
    with rasterio.open(path, "w", **profile) as out:
        out.write(bands)
    return path


@pytest.fixture
def scene(tmp_path):
    rng = np.random.default_rng(0)
    bands = rng.integers(1, 255, (6, 90, 130), dtype=np.uint8)
    bands[:, 10:20, 30:50] = 0  # nodata in every band
    bands[0, 60:70, 5:15] = 0  # nodata in one band only: a valid pixel
    return write_geotiff(tmp_path / "scene.tif", bands), bands


def test_round_trip_keeps_crs_transform_and_nodata_and_matches_slide_mode(tmp_path, scene):
    path, bands = scene
    model = pointwise_net()
    out = predict_geotiff(model, inp=path, out_fname=tmp_path / "labels.tif", bands=(3, 2, 1), tile=32, overlap=0.5)
    with rasterio.open(path) as src, rasterio.open(out) as result:
        assert result.crs == src.crs and result.transform == src.transform
        assert result.nodata == 255 and result.count == 1 and result.dtypes == ("uint8",)
        assert result.profile["tiled"] and result.profile["compress"].lower() == "deflate"
        labels = result.read(1)
    assert (labels[10:20, 30:50] == 255).all()
    rgb = np.moveaxis(bands[[2, 1, 0]], 0, -1)
    expected = predict(model, inp=np.ascontiguousarray(rgb[:, :, ::-1]), mode="slide", tile=32, overlap=0.5)
    valid = np.ones(labels.shape, bool)
    valid[10:20, 30:50] = False
    np.testing.assert_array_equal(labels[valid], expected[valid])
    assert labels[60:70, 5:15].max() < 4  # nodata in one band only is still predicted


def test_all_bands_of_a_multispectral_scene_and_band_errors(tmp_path, scene):
    path, _ = scene
    out = predict_geotiff(pointwise_net(channels=6), inp=path, out_fname=tmp_path / "six.tif", tile=(64, 64))
    with rasterio.open(out) as result:
        assert result.read(1).shape == (90, 130)
    with pytest.raises(ModelConfigError, match="6 band\\(s\\) selected but the model takes 3"):
        predict_geotiff(pointwise_net(), inp=path, out_fname=tmp_path / "x.tif")
    with pytest.raises(ModelConfigError, match=r"bands=\[7, 1, 2\] but the file has bands 1..6"):
        predict_geotiff(pointwise_net(), inp=path, out_fname=tmp_path / "x.tif", bands=(7, 1, 2))
    with pytest.raises(ModelConfigError, match="would overwrite the input"):
        predict_geotiff(pointwise_net(channels=6), inp=path, out_fname=path)


@pytest.mark.parametrize("count", [3, 6])
def test_the_geotiff_reader_gives_the_training_readers_pixels(tmp_path, count):
    """Training reads .tif files with keras_segmentation.data; prediction must see the same band order."""
    from keras_segmentation.data.images import read_image
    from keras_segmentation.inference.geo import RasterRows

    bands = np.random.default_rng(1).integers(0, 255, (count, 20, 24), dtype=np.uint8)
    path = write_geotiff(tmp_path / "s.tif", bands, nodata=None)
    with rasterio.open(path) as dataset:
        rows = RasterRows(dataset, range(1, count + 1)).rows(0, 20)
    np.testing.assert_array_equal(rows, read_image(str(path), -1))


def test_cli_predict_geotiff(tmp_path, scene, run_cli):
    from keras_segmentation.checkpoints.config import write_config
    from keras_segmentation.checkpoints.weights import save_checkpoint

    path, _ = scene
    model = pointwise_net()
    write_config(tmp_path / "ck", model)
    save_checkpoint(model, tmp_path / "ck", 1)
    code, out, err = run_cli("predict_geotiff", "--checkpoints_path", tmp_path / "ck", "--input_path", path,
                             "--output_path", tmp_path / "cli.tif", "--bands", "3,2,1", "--tile", "32",
                             "--overlap", "0.5", "--nodata_label", "9")
    assert code == 0, err
    api = predict_geotiff(model, inp=path, out_fname=tmp_path / "api.tif", bands=(3, 2, 1), tile=32, overlap=0.5,
                          nodata_label=9)
    with rasterio.open(tmp_path / "cli.tif") as cli, rasterio.open(api) as direct:
        np.testing.assert_array_equal(cli.read(1), direct.read(1))
        assert cli.nodata == 9 and (cli.read(1)[10:20, 30:50] == 9).all()


def test_nodata_label_is_checked_before_any_work_and_a_class_id_warns(tmp_path, scene, run_cli):
    path, _ = scene
    code, out, err = run_cli("predict_geotiff", "--checkpoints_path", tmp_path / "missing", "--input_path", path,
                             "--output_path", tmp_path / "x.tif", "--nodata_label", "-1")
    assert code == 2 and err.strip() == "error: nodata_label=-1: must be 0..65535 (a label of the uint8 or uint16 map)"
    with pytest.raises(ModelConfigError, match="nodata_label=65536"):
        predict_geotiff(inp=path, out_fname=tmp_path / "x.tif", nodata_label=65536)
    with pytest.warns(UserWarning, match="nodata_label=2 is also a class id of the model"):
        out = predict_geotiff(pointwise_net(), inp=path, out_fname=tmp_path / "x.tif", bands=(3, 2, 1), nodata_label=2)
    with rasterio.open(out) as result:
        assert result.nodata == 2


def test_a_scene_without_georeferencing_is_said_once_in_plain_words(tmp_path):
    import warnings

    import cv2

    path = tmp_path / "plain.tif"  # a TIFF with no CRS and no geotransform
    cv2.imwrite(str(path), np.random.default_rng(0).integers(1, 255, (20, 24, 3), dtype=np.uint8))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        predict_geotiff(pointwise_net(), inp=path, out_fname=tmp_path / "labels.tif")
    said = [(w.category, str(w.message)) for w in caught if "georeferenc" in str(w.message).lower()
            or issubclass(w.category, rasterio.errors.NotGeoreferencedWarning)]
    assert said == [(UserWarning, f"{path}: not georeferenced (no CRS or geotransform); {tmp_path / 'labels.tif'} "
                                  "has none either")]


def test_uncertainty_goes_to_a_georeferenced_float32_raster_beside_the_labels(tmp_path, scene):
    path, bands = scene
    model = pointwise_net()
    plain = predict_geotiff(model, inp=path, out_fname=tmp_path / "plain.tif", bands=(3, 2, 1), tile=32, overlap=0.5)
    out = predict_geotiff(model, inp=path, out_fname=tmp_path / "labels.tif", bands=(3, 2, 1), tile=32, overlap=0.5,
                          uncertainty="entropy")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.tif", "labels_uncertainty.tif", "plain.tif",
                                                          "scene.tif"]
    with rasterio.open(path) as src, rasterio.open(tmp_path / "labels_uncertainty.tif") as maps, \
            rasterio.open(out) as labels, rasterio.open(plain) as before:
        assert maps.crs == src.crs and maps.transform == src.transform and maps.shape == src.shape
        assert maps.count == 1 and maps.dtypes == ("float32",) and np.isnan(maps.nodata)
        assert maps.profile["tiled"] and maps.profile["compress"].lower() == "deflate"
        np.testing.assert_array_equal(labels.read(1), before.read(1))  # the labels are what they were
        values = maps.read(1)
    assert np.isnan(values[10:20, 30:50]).all()
    valid = np.ones(values.shape, bool)
    valid[10:20, 30:50] = False
    assert not np.isnan(values[valid]).any() and 0 <= values[valid].min() and values[valid].max() <= 1
    rgb = np.moveaxis(bands[[2, 1, 0]], 0, -1)
    _, expected = predict(model, inp=np.ascontiguousarray(rgb[:, :, ::-1]), mode="slide", tile=32, overlap=0.5,
                          uncertainty="entropy", return_uncertainty=True)
    np.testing.assert_allclose(values[valid], expected[valid], atol=1e-6)


def test_cli_predict_geotiff_uncertainty_and_a_bad_method(tmp_path, scene, run_cli):
    from keras_segmentation.checkpoints.config import write_config
    from keras_segmentation.checkpoints.weights import save_checkpoint

    path, _ = scene
    model = pointwise_net()
    write_config(tmp_path / "ck", model)
    save_checkpoint(model, tmp_path / "ck", 1)
    code, out, err = run_cli("predict_geotiff", "--checkpoints_path", tmp_path / "ck", "--input_path", path,
                             "--output_path", tmp_path / "cli.tif", "--bands", "3,2,1", "--uncertainty", "margin")
    assert code == 0, err
    assert out.strip().endswith(f"wrote {tmp_path / 'cli.tif'} and {tmp_path / 'cli_uncertainty.tif'}")
    with rasterio.open(tmp_path / "cli_uncertainty.tif") as maps:
        assert 0 < np.nanmax(maps.read(1)) <= 1
    with pytest.raises(ModelConfigError, match=r"^uncertainty='std': choose one of entropy, margin, tta$"):
        predict_geotiff(checkpoints_path=tmp_path / "missing", inp=path, out_fname=tmp_path / "x.tif", uncertainty="std")
