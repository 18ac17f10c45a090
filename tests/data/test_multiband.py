"""Multi-band images: TIFFs with any number of bands (read with tifffile where OpenCV cannot) and ``.npy`` arrays."""

import os

import cv2
import numpy as np
import pytest
import tifffile
from datafiles import save, truncate

from keras_segmentation.data.images import read_image, read_image_for_model
from keras_segmentation.data.masks import decode_mask, read_mask
from keras_segmentation.data.normalization import IMAGENET_MEAN_BGR, normalize_image, resize_image
from keras_segmentation.data.rasters import band_last, read_image_size
from keras_segmentation.data.verify import verify_dataset
from keras_segmentation.errors import (
    ChannelMismatchError,
    ImageReadError,
    MaskFormatError,
    ModelConfigError,
    SegmentationError,
)


def bands(shape, dtype=np.uint16, seed=0):
    rng = np.random.default_rng(seed)
    if np.issubdtype(dtype, np.floating):
        return rng.random(shape).astype(dtype)
    return rng.integers(0, np.iinfo(dtype).max, shape, dtype=dtype, endpoint=True)


def write_tiff(path, array, **kwargs):
    """A band-last TIFF the way GIS tools write one: one page, samples contiguous."""
    os.makedirs(os.path.dirname(os.fspath(path)), exist_ok=True)
    kwargs.setdefault("photometric", "minisblack")
    kwargs.setdefault("planarconfig", "contig")
    tifffile.imwrite(path, array, **kwargs)
    return os.fspath(path)


# ------------------------------------------------------------------ reading
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("read_image_type", [1, 0, -1])
def test_six_band_tiff_reads_back_exactly_in_file_order(tmp_path, dtype, read_image_type):
    array = bands((12, 10, 6), dtype)
    image = read_image(write_tiff(tmp_path / "a.tif", array), read_image_type)
    assert image.dtype == dtype and image.shape == (12, 10, 6)
    np.testing.assert_array_equal(image, array)  # no colour order, no depth change, in every mode


def test_float32_tiff_keeps_its_values(tmp_path):
    array = bands((8, 9, 6), np.float32) * 1000 - 200
    image = read_image(write_tiff(tmp_path / "f.TIFF", array))
    assert image.dtype == np.float32
    np.testing.assert_array_equal(image, array)
    rgb = bands((8, 9, 3), np.float32)
    colour = read_image(write_tiff(tmp_path / "rgb.tif", rgb, photometric="rgb"), read_image_type=-1)
    np.testing.assert_array_equal(colour, rgb[:, :, ::-1])  # 3 bands are RGB in a TIFF: BGR like OpenCV's


@pytest.mark.parametrize("read_image_type", [1, 0, -1])
def test_three_band_tiff_read_by_tifffile_matches_opencv(tmp_path, read_image_type):
    """A layout only tifffile reads (planar) gives what OpenCV gives for the same pixels stored plainly."""
    bgr = bands((8, 10, 3), np.uint16, seed=3)
    plain = os.fspath(tmp_path / "plain.tif")
    assert cv2.imwrite(plain, bgr)
    planar = write_tiff(tmp_path / "planar.tif", bgr[:, :, ::-1].transpose(2, 0, 1), photometric="rgb",
                        planarconfig="separate")
    expected = read_image(plain, read_image_type)
    got = read_image(planar, read_image_type)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    assert int(np.abs(got.astype(np.int64) - expected).max()) <= 1  # OpenCV rounds 16 -> 8 bits its own way
    if read_image_type == -1:
        np.testing.assert_array_equal(got, bgr)


def test_band_first_rule():
    assert band_last((6, 64, 64)) == (1, 2, 0)
    assert band_last((64, 64, 6)) == (0, 1, 2)
    assert band_last((64, 64, 3)) == (0, 1, 2)
    assert band_last((3, 64, 64)) == (1, 2, 0)
    assert band_last((64, 6, 64)) == (0, 1, 2)  # first axis not the shortest: (H, W, C)
    assert band_last((16, 64, 64)) == (1, 2, 0)
    assert band_last((32, 64, 100)) == (0, 1, 2)  # a hyperspectral (H, W, C) patch: 32 is too many leading bands
    assert band_last((32, 64, 100), axes="QYX") == (1, 2, 0)  # but 32 TIFF pages are bands
    assert band_last((64, 32, 6), axes="QYX") == (0, 1, 2)  # (H, W, C) written one row per page
    assert band_last((6, 64, 64), axes="YXS") == (0, 1, 2)  # the TIFF says where its samples are
    assert band_last((64, 64, 6), axes="SYX") == (1, 2, 0)
    assert band_last((1, 1, 32, 32, 4)) == (0, 1, 2)
    assert band_last((2, 3, 4, 5)) is None and band_last((5,)) is None


def test_band_first_tiffs_and_arrays_are_transposed(tmp_path):
    hwc = bands((16, 20, 6), np.uint16)
    chw = np.ascontiguousarray(hwc.transpose(2, 0, 1))
    pages = os.fspath(tmp_path / "pages.tif")
    tifffile.imwrite(pages, chw)  # one band per page
    planar = write_tiff(tmp_path / "planar.tif", chw, planarconfig="separate")
    default = os.fspath(tmp_path / "default.tif")
    tifffile.imwrite(default, hwc)  # tifffile's default for (H, W, 6): 16 pages of (20, 6)
    np.save(tmp_path / "chw.npy", chw)
    for path in (pages, planar, default, tmp_path / "chw.npy"):
        np.testing.assert_array_equal(read_image(path), hwc, err_msg=os.fspath(path))
        assert read_image_size(path) == (16, 20)


def test_npy_images_are_taken_as_stored(tmp_path):
    gray = bands((7, 9), np.uint8)
    np.save(tmp_path / "gray.npy", gray)
    assert read_image(tmp_path / "gray.npy", read_image_type=-1).shape == (7, 9, 1)
    assert read_image(tmp_path / "gray.npy").shape == (7, 9, 3)  # colour read of one band: repeated, like OpenCV
    bgr = bands((7, 9, 3), np.uint8)
    np.save(tmp_path / "bgr.npy", bgr)
    np.testing.assert_array_equal(read_image(tmp_path / "bgr.npy"), bgr)  # OpenCV order, as arrays passed in
    stack = bands((10, 12, 8), np.float64)
    np.save(tmp_path / "f64.npy", stack)
    image = read_image(tmp_path / "f64.npy")
    assert image.dtype == np.float32 and image.shape == (10, 12, 8)
    np.testing.assert_allclose(image, stack, rtol=1e-6)


def test_npy_and_tiff_masks(tmp_path):
    ids = np.arange(20, dtype=np.int32).reshape(4, 5)
    np.save(tmp_path / "m.npy", ids)
    mask = read_mask(tmp_path / "m.npy")
    assert mask.dtype == np.uint8 and mask.tolist() == ids.tolist()
    np.save(tmp_path / "big.npy", ids.astype(np.int64) * 1000)
    assert read_mask(tmp_path / "big.npy").max() == 19000
    write_tiff(tmp_path / "f.tif", ids.astype(np.float32))
    assert read_mask(tmp_path / "f.tif").tolist() == ids.tolist()
    write_tiff(tmp_path / "u16.tif", (ids * 300).astype(np.uint16))
    out = read_mask(tmp_path / "u16.tif")
    assert out.dtype == np.uint16 and out.tolist() == (ids * 300).tolist()
    np.save(tmp_path / "neg.npy", ids - 1)
    with pytest.raises(MaskFormatError, match=r"neg\.npy: mask holds negative values"):
        read_mask(tmp_path / "neg.npy")
    write_tiff(tmp_path / "half.tif", ids.astype(np.float32) / 2)
    with pytest.raises(MaskFormatError, match=r"half\.tif: mask holds fractional values"):
        read_mask(tmp_path / "half.tif")
    write_tiff(tmp_path / "six.tif", bands((4, 5, 6), np.uint8))
    with pytest.raises(MaskFormatError, match=r"six\.tif: mask has 6 bands"):
        decode_mask(tmp_path / "six.tif")


# ------------------------------------------------------------------- errors
def one_line_error(path, error=ImageReadError, read=read_image):
    with pytest.raises(error) as info:
        read(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(os.fspath(path) + ": ")
    return message


def test_truncated_and_garbage_tiffs_say_what_is_wrong(tmp_path):
    path = write_tiff(tmp_path / "cut.tif", bands((32, 32, 6)))
    message = one_line_error(truncate(path, 0.5))
    assert "not a readable TIFF" in message and "truncated" in message and "corrupt" not in message
    garbage = tmp_path / "garbage.tif"
    garbage.write_bytes(b"II*\x00" + bytes(range(256)) * 2)
    assert "not a readable TIFF" in one_line_error(garbage)
    text = tmp_path / "notes.tif"
    text.write_text("not an image")
    assert "not a readable image" in one_line_error(text)
    one_line_error(tmp_path / "cut.tif", read=read_mask)


def test_valid_files_are_never_called_corrupt(tmp_path):
    """Files that are fine but unusable say why, not that they are damaged."""
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with open(tmp_path / "archive.npy", "wb") as handle:
        np.savez(handle, a=np.zeros((2, 2)))
    np.save(tmp_path / "cube.npy", np.zeros((2, 3, 4, 5), np.uint8))
    write_tiff(tmp_path / "cube.tif", np.zeros((2, 3, 4, 5), np.uint8), planarconfig=None)
    expected = {"objects.npy": "Python objects", "archive.npy": ".npz archive", "cube.npy": "shape (2, 3, 4, 5)",
                "cube.tif": "not an image"}
    for name, words in expected.items():
        message = one_line_error(tmp_path / name)
        assert words in message and "corrupt" not in message and "truncated" not in message, message
    # A 6-band TIFF, which OpenCV cannot read, is read (it used to be reported as corrupt).
    assert read_image(write_tiff(tmp_path / "ok.tif", bands((4, 4, 6)))).shape == (4, 4, 6)
    # A PNG with a .tif name is still read by its content.
    png = save(tmp_path / "png.png", bands((4, 5, 3), np.uint8))
    os.rename(png, tmp_path / "png.tif")
    assert read_image(tmp_path / "png.tif").shape == (4, 5, 3)


def test_channel_count_mismatch_names_the_file_and_both_counts(tmp_path):
    path = write_tiff(tmp_path / "six.tif", bands((8, 8, 6)))
    message = one_line_error(path, ChannelMismatchError, lambda p: read_image_for_model(p, 3))
    assert "image has 6 channel(s) but the model expects 3" in message and "channels=6" in message
    assert read_image_for_model(path, 6).shape == (8, 8, 6)
    two = write_tiff(tmp_path / "two.tif", bands((8, 8, 2)))
    np.testing.assert_array_equal(read_image_for_model(two, 2), tifffile.imread(two))  # 2-band models read unchanged


# ------------------------------------------------------------ normalisation
def test_normalize_multiband_uses_the_type_scale_and_one_mean_for_every_band():
    image = bands((4, 5, 6), np.uint16)
    scaled = image.astype(np.float32) * (255.0 / 65535.0)
    np.testing.assert_allclose(normalize_image(image, "divide"), image / 65535.0, rtol=1e-5)
    np.testing.assert_allclose(normalize_image(image, "sub_mean"), scaled - np.mean(IMAGENET_MEAN_BGR), atol=1e-3)
    np.testing.assert_allclose(normalize_image(image, "tf"), scaled / 127.5 - 1, atol=1e-5)
    floats = bands((4, 5, 6), np.float32) * 300
    np.testing.assert_array_equal(normalize_image(floats, "none"), floats)  # floats are never rescaled
    for mode in ("caffe", "torch"):
        out = normalize_image(image, mode)
        assert out.shape == (4, 5, 6) and np.isfinite(out).all()
        # every band is treated alike (no band is taken for a colour): equal inputs give equal outputs
        same = normalize_image(np.full((2, 2, 6), 1000, np.uint16), mode)
        assert np.ptp(same) == 0


def test_normalize_resizes_any_number_of_bands():
    image = bands((20, 30, 200), np.float32)
    out = normalize_image(image, "none", size=(10, 15))
    assert out.shape == (10, 15, 200)
    np.testing.assert_allclose(out[:, :, 150], resize_image(image[:, :, 150:151], (10, 15))[:, :, 0], rtol=1e-6)


def test_unknown_normalization_is_a_one_line_config_error():
    with pytest.raises(ModelConfigError, match=r"^normalization='rot13': unknown normalization; choose one of ") as info:
        normalize_image(np.zeros((2, 2, 3), np.uint8), "rot13")
    assert isinstance(info.value, ValueError) and isinstance(info.value, SegmentationError)


# ------------------------------------------------------------------ verify
def multiband_dataset(root, n=4, size=32, n_bands=6, n_classes=3):
    images, masks = root / "images", root / "masks"
    masks.mkdir(parents=True)
    for i in range(n):
        mask = np.zeros((size, size), np.uint8)
        mask[:, size // 2 :] = 1
        mask[: size // 4] = n_classes - 1
        image = bands((size, size, n_bands), np.uint16, seed=i)
        image[..., 0] = mask.astype(np.uint16) * 20000  # a band that shows the classes
        write_tiff(images / f"{i}.tif", image)
        save(masks / f"{i}.png", mask)
    return images, masks


def test_verify_passes_a_six_band_tiff_dataset(tmp_path):
    images, masks = multiband_dataset(tmp_path)
    for kwargs in ({}, {"channels": 6}, {"read_image_type": -1}):
        report = verify_dataset(images, masks, 3, workers=1, **kwargs)
        assert report.ok, report.format()
        assert dict(report.image_channels) == {6: 4} and dict(report.image_dtypes) == {"uint16": 4}
        assert dict(report.image_modes) == {"TIFF 6-band uint16": 4} and dict(report.image_sizes) == {(32, 32): 4}
        assert report.class_pixel_counts == {0: 4 * 24 * 16, 1: 4 * 24 * 16, 2: 4 * 8 * 32}
    quick = verify_dataset(images, masks, 3, decode_images=False, workers=1)
    assert quick.ok and dict(quick.image_sizes) == {(32, 32): 4}


def test_verify_reports_multiband_mismatches(tmp_path):
    images, masks = multiband_dataset(tmp_path)
    report = verify_dataset(images, masks, 3, channels=3, workers=1)
    assert [(p.kind, os.path.basename(p.path)) for p in report.problems] == [("channels", f"{i}.tif") for i in range(4)]
    assert report.problems[0].message.startswith("image has 6 channel(s) but the model expects 3")

    write_tiff(images / "1.tif", bands((32, 32, 5)))  # one image with a band missing
    write_tiff(images / "2.tif", bands((32, 40, 6)))  # one image of another size than its mask
    report = verify_dataset(images, masks, 3, workers=1)
    kinds = sorted((p.kind, os.path.basename(p.path)) for p in report.problems)
    assert kinds == [("channels", "images"), ("size_mismatch", "2.png")]
    assert "different channel counts (5 channels: 1 image(s), 6 channels: 3 image(s))" in report.format()
    assert "mask is 32x32 but its image 2.tif is 40x32" in report.format()


# ----------------------------------------------------------------------- CLI
def test_six_band_dataset_from_the_command_line(tmp_path, run_cli):
    """verify_dataset, train (channels=6) and predict on multispectral TIFFs, as a user would."""
    model = ["--model_name", "unet", "--encoder", "vanilla"]
    images, masks = multiband_dataset(tmp_path / "data")
    code, out, err = run_cli("verify_dataset", "--images_path", images, "--segs_path", masks, "--n_classes", 3)
    assert code == 0, out + err
    assert "6 channel(s)" in out and "TIFF 6-band uint16" in out and "OK: dataset verified (4 pairs" in out

    ckpt = tmp_path / "ckpt" / "six"
    code, out, err = run_cli("train", *model, "--channels", 6, "--n_classes", 3, "--input_height", 32,
                             "--input_width", 32, "--train_images", images, "--train_annotations", masks,
                             "--checkpoints_path", ckpt, "--epochs", 1, "--batch_size", 2, "--seed", 0)
    assert code == 0, out + err
    assert os.path.isfile(f"{ckpt}.00001.weights.h5")

    out_dir = tmp_path / "preds"
    code, out, err = run_cli("predict", "--checkpoints_path", ckpt, "--input_path", images, "--output_path", out_dir)
    assert code == 0, out + err
    assert sorted(os.listdir(out_dir)) == [f"{i}.png" for i in range(4)]
    for i in range(4):
        labels = cv2.imread(os.fspath(out_dir / f"{i}.png"), cv2.IMREAD_UNCHANGED)
        assert labels.shape == (32, 32) and labels.dtype == np.uint8 and int(labels.max()) < 3

    # A 3-channel model refuses the 6-band images in one line naming the file and both counts.
    ckpt3 = tmp_path / "ckpt" / "three"
    code, out, err = run_cli("train", *model, "--n_classes", 3, "--input_height", 32, "--input_width", 32,
                             "--train_images", images, "--train_annotations", masks, "--checkpoints_path", ckpt3,
                             "--epochs", 1, "--not_verify_dataset")
    assert code != 0
    error = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "0.tif: image has 6 channel(s) but the model expects 3" in error[0], err
