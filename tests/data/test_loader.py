"""The training data pipeline: shapes, dtypes, order, resuming, bad masks."""

import cv2
import numpy as np
import pytest

from keras_segmentation.data.loader import SegmentationDataset
from keras_segmentation.data.pairing import get_pairs_from_paths
from keras_segmentation.errors import ChannelMismatchError, MaskValueError, PairingError, SizeMismatchError


def make(pairs, **kwargs):
    args = dict(batch_size=4, n_classes=3, input_size=(32, 48), output_size=(16, 24), normalization="divide", workers=1)
    args.update(kwargs)
    return SegmentationDataset(pairs, **args)


def test_batches_have_model_shapes_and_integer_labels(tiny_dataset):
    pairs = get_pairs_from_paths(*tiny_dataset)
    ds = make(pairs)
    assert len(ds) == 2  # 6 samples, batch 4: one full and one partial batch
    x, y = ds[0]
    assert x.shape == (4, 32, 48, 3) and x.dtype == np.float32
    assert y.shape == (4, 16, 24) and y.dtype == np.int32
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert set(np.unique(y)) <= {0, 1, 2}
    assert ds[1][0].shape[0] == 2


def test_labels_are_nearest_resized_masks(tiny_dataset):
    pairs = get_pairs_from_paths(*tiny_dataset)
    ds = make(pairs, shuffle=False, batch_size=1)
    mask = cv2.imread(str(pairs[0][1]), cv2.IMREAD_UNCHANGED)
    expected = cv2.resize(mask, (24, 16), interpolation=cv2.INTER_NEAREST)
    np.testing.assert_array_equal(ds[0][1][0], expected)


def test_order_is_a_function_of_seed_and_epoch(tiny_dataset):
    pairs = get_pairs_from_paths(*tiny_dataset)
    first = make(pairs, seed=3, batch_size=6)
    again = make(pairs, seed=3, batch_size=6)
    other = make(pairs, seed=4, batch_size=6)
    np.testing.assert_array_equal(first[0][1], again[0][1])
    assert not np.array_equal(first[0][1], other[0][1])
    epoch0 = first[0][1]
    first.on_epoch_end()
    assert not np.array_equal(first[0][1], epoch0), "each epoch is reshuffled"
    resumed = make(pairs, seed=3, batch_size=6)
    resumed.epoch = 1
    np.testing.assert_array_equal(resumed[0][1], first[0][1])


def test_every_sample_once_per_epoch(tiny_dataset):
    pairs = get_pairs_from_paths(*tiny_dataset)
    ds = make(pairs, batch_size=4, shuffle=True, seed=1)
    seen = [ds.order(0)[p] for i in range(len(ds)) for p in ds._positions(i)]
    assert sorted(seen) == list(range(6))


def test_fixed_steps_stream_through_reshuffled_passes(tiny_dataset):
    pairs = get_pairs_from_paths(*tiny_dataset)
    ds = make(pairs, batch_size=4, steps=3, seed=0)
    assert len(ds) == 3
    assert all(ds[i][0].shape[0] == 4 for i in range(3))


def test_start_step_skips_the_batches_already_done(tiny_dataset):
    pairs = get_pairs_from_paths(*tiny_dataset)
    ds = make(pairs, batch_size=2, seed=5)
    full = [ds[i][1] for i in range(len(ds))]
    ds.start_step = 1
    assert len(ds) == 2
    np.testing.assert_array_equal(ds[0][1], full[1])


def test_cache_gives_identical_batches(tiny_dataset):
    pairs = get_pairs_from_paths(*tiny_dataset)
    plain, cached = make(pairs, seed=2), make(pairs, seed=2, cache=True)
    for ds in (cached, cached):
        np.testing.assert_array_equal(ds[0][0], plain[0][0])


def test_mask_values_out_of_range_name_the_file(tmp_path, tiny_dataset):
    images, masks = tiny_dataset
    cv2.imwrite(str(masks / "img_000.png"), np.full((32, 48), 255, np.uint8))
    ds = make(get_pairs_from_paths(images, masks), shuffle=False, batch_size=1)
    with pytest.raises(MaskValueError, match=r"img_000\.png.*255.*divide it by 255"):
        ds[0]


def test_ignore_index_values_are_allowed(tiny_dataset):
    images, masks = tiny_dataset
    cv2.imwrite(str(masks / "img_000.png"), np.full((32, 48), 255, np.uint8))
    ds = make(get_pairs_from_paths(images, masks), shuffle=False, batch_size=1, ignore_index=255)
    assert (ds[0][1] == 255).all()


def test_size_mismatch_names_the_mask(tiny_dataset):
    images, masks = tiny_dataset
    cv2.imwrite(str(masks / "img_001.png"), np.zeros((10, 10), np.uint8))
    ds = make(get_pairs_from_paths(images, masks), shuffle=False, batch_size=1)
    with pytest.raises(SizeMismatchError, match=r"img_001\.png"):
        ds[1]


def test_grayscale_model_reads_grayscale_and_rgba_is_refused_for_rgb(tmp_path, tiny_dataset):
    pairs = get_pairs_from_paths(*tiny_dataset)
    x, _ = make(pairs, channels=1)[0]
    assert x.shape[-1] == 1
    rgba = tmp_path / "rgba.png"
    cv2.imwrite(str(rgba), np.zeros((32, 48, 4), np.uint8))
    ds = make([(str(rgba), pairs[0][1])], channels=3, read_image_type=-1, batch_size=1)
    with pytest.raises(ChannelMismatchError, match="rgba.png"):
        ds[0]


def test_multi_input_gives_a_list_of_arrays(tmp_path, tiny_dataset):
    images, masks = tiny_dataset
    extra = tmp_path / "extra"
    extra.mkdir()
    for path in images.iterdir():
        cv2.imwrite(str(extra / path.name), np.zeros((32, 48), np.uint8))
    pairs = get_pairs_from_paths(images, masks, other_inputs_paths=[extra])
    x, y = make(pairs, channels=[3, 1])[0]
    assert isinstance(x, list) and x[0].shape == (4, 32, 48, 3) and x[1].shape == (4, 32, 48, 1)


def test_no_pairs_is_a_pairing_error():
    with pytest.raises(PairingError, match="SegmentationDataset: pairs is empty; give at least one"):
        make([])
