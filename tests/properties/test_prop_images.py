"""Image and mask files of any mode, depth, format and size, cut, damaged or misnamed -> the readers.

Each reader returns a sensible array (or header, report) or raises a SegmentationError
whose message is one line naming the file.
"""

import io
import os
import tempfile

import numpy as np
import pytest
import tifffile
from generated import attempt, image_files, with_png_size, write_file
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from keras_segmentation.data.images import read_image
from keras_segmentation.data.masks import read_mask
from keras_segmentation.data.pairing import find_pairs, get_pairs_from_paths
from keras_segmentation.data.png import inspect_png
from keras_segmentation.data.rasters import describe_file, read_image_size
from keras_segmentation.data.verify import verify_dataset
from keras_segmentation.errors import ImageReadError, MaskFormatError

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:PIL")  # Pillow's notes on the damaged files made here

#: Channels each ``read_image_type`` gives (images of more than 4 bands keep them all).
CHANNELS = {1: 3, 0: 1, -1: None}
#: Base names of generated dataset files: clashes, case, dots, spaces, non-ASCII.
BASE_NAMES = st.sampled_from(("a", "A", "b", "a.b", "a b", "é", ".hidden"))


@given(image_files())
def test_read_image(file):
    with tempfile.TemporaryDirectory() as folder:
        path = write_file(folder, "image" + file[1], file[0])
        size = attempt(lambda: read_image_size(path), path)
        assert size is None or (len(size) == 2 and all(isinstance(n, int) and n >= 0 for n in size))
        assert isinstance(describe_file(path), str)
        for flag, channels in CHANNELS.items():
            image = attempt(lambda: read_image(path, flag), path)
            if image is None:
                continue
            assert image.ndim == 3 and image.size > 0 and image.dtype in (np.uint8, np.uint16, np.float32)
            assert image.shape[2] == (channels or image.shape[2]) or image.shape[2] > 4
            assert size is None or tuple(size) == image.shape[:2]


@given(image_files(), st.sampled_from([None, {(0, 0, 0): 0, (255, 255, 255): 1}]), st.booleans())
def test_read_mask(file, colour_map, strict):
    with tempfile.TemporaryDirectory() as folder:
        path = write_file(folder, "mask" + file[1], file[0])
        mask = attempt(lambda: read_mask(path, colour_map, strict=strict), path)
        assert mask is None or (mask.ndim == 2 and mask.dtype in (np.uint8, np.uint16, np.int64))


@given(image_files())
def test_inspect_png(file):
    with tempfile.TemporaryDirectory() as folder:
        path = write_file(folder, "image.png", file[0])
        info = attempt(lambda: inspect_png(path), path)
        assert info is None or (info.width > 0 and info.height > 0 and info.channels in (1, 2, 3, 4))


@given(
    st.dictionaries(BASE_NAMES, image_files(), min_size=1, max_size=3),
    st.dictionaries(BASE_NAMES, image_files(), max_size=3),
    st.none() | st.integers(-1, 300),
    st.sampled_from(list(CHANNELS)),
    st.booleans(),
)
def test_pairing_and_verify(images, masks, n_classes, read_image_type, decode_images):
    with tempfile.TemporaryDirectory() as folder:
        images_dir, masks_dir = os.path.join(folder, "images"), os.path.join(folder, "masks")
        os.makedirs(masks_dir)
        for directory, files in ((images_dir, images), (masks_dir, masks)):
            for name, (data, extension) in files.items():
                write_file(directory, name + extension, data)
        result = attempt(lambda: find_pairs(images_dir, masks_dir), images_dir)
        if result is not None:
            assert all(os.path.dirname(image) == images_dir and os.path.dirname(mask) == masks_dir
                       for image, mask in result.pairs)
            assert all("\n" not in line for line in result.errors() + result.warnings())
            pairs = attempt(lambda: get_pairs_from_paths(images_dir, masks_dir), images_dir, masks_dir)
            assert pairs is None or (result.ok and pairs == result.pairs)
        report = attempt(
            lambda: verify_dataset(images_dir, masks_dir, n_classes, read_image_type=read_image_type,
                                   decode_images=decode_images, workers=1),
            images_dir, "n_classes",
        )
        if report is None:
            return
        assert report.n_pairs == len(result.pairs) and isinstance(report.format(), str)
        for problem in report.problems + report.warnings:
            assert "\n" not in str(problem) and problem.path.startswith(folder), problem
        if report.problems:
            attempt(report.raise_for_problems, images_dir)
        else:
            report.raise_for_problems()


# ------------------------------------------------------------ bugs the properties found
def test_two_band_mask_read_with_a_colour_map_gives_its_gray_band(tmp_path):
    np.save(tmp_path / "m.npy", np.dstack([np.eye(3, dtype=np.uint8), np.full((3, 3), 255, np.uint8)]))
    mask = read_mask(tmp_path / "m.npy", {(0, 0, 0): 0})  # was an IndexError
    np.testing.assert_array_equal(mask, np.eye(3))


def test_timedelta_npy_mask_is_a_format_error(tmp_path):
    np.save(tmp_path / "m.npy", np.ones((2, 2), "timedelta64[s]"))
    with pytest.raises(MaskFormatError, match=r"m\.npy: mask samples of type timedelta64"):  # was a TypeError
        read_mask(tmp_path / "m.npy")


def test_npy_with_a_garbled_header_is_a_read_error(tmp_path):
    header = b"{'descr': '|u1', 'fortran_order': False, 'shape': (0,(, }".ljust(117) + b"\n"
    path = write_file(tmp_path, "a.npy", b"\x93NUMPY\x01\x00v\x00" + header)
    for read in (read_image, read_image_size):
        with pytest.raises(ImageReadError, match=r"a\.npy: not a readable \.npy file"):  # was a tokenize.TokenError
            read(path)


def test_header_beyond_pillows_pixel_limit_is_a_read_error(tmp_path):
    buffer = io.BytesIO()
    Image.new("P", (2, 2)).save(buffer, "PNG")
    path = write_file(tmp_path, "big.png", with_png_size(buffer.getvalue(), 65535, 65535))
    for read in (read_image_size, read_mask):
        with pytest.raises(ImageReadError, match=r"big\.png: not a readable image \(Image size"):  # was DecompressionBombError
            read(path)
    assert describe_file(path) == "unreadable"


def test_tiff_wider_than_opencv_reads_is_read_with_tifffile(tmp_path):
    tifffile.imwrite(tmp_path / "wide.tif", np.full((1, 1_100_000), 7, np.uint8))
    image = read_image(tmp_path / "wide.tif")  # was a cv2.error (CV_IO_MAX_IMAGE_WIDTH)
    assert image.shape == (1, 1_100_000, 3) and image.dtype == np.uint8 and image.max() == 7


def test_tiff_named_png_is_read_as_a_tiff(tmp_path):
    tifffile.imwrite(tmp_path / "a.png", np.full((2, 3), 7, np.int32))
    image = read_image(tmp_path / "a.png")  # was int32, straight from OpenCV
    assert image.dtype == np.float32 and image.shape == (2, 3, 3) and image.max() == 7
