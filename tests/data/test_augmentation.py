"""Augmentation: image, mask and extra inputs stay aligned; seeded runs repeat; any channels and depth."""

import pickle
from concurrent.futures import ThreadPoolExecutor

import albumentations as A
import cv2
import numpy as np
import pytest

from keras_segmentation.data.augmentation import AUGMENTATION_NAMES, Augmenter, derive_seed, get_augmenter
from keras_segmentation.data_utils.augmentation import augment_seg, augmentation_functions, custom_augment_seg
from keras_segmentation.errors import AugmentationError

H, W = 48, 64


def _voronoi_pair(n_regions=12, seed=1):
    """An irregular partition (no symmetry, so a flip changes it): mask = region id, image = region colour."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 1, (n_regions, 2)) * (H, W)
    yy, xx = np.mgrid[0:H, 0:W]
    mask = (((yy[..., None] - centres[:, 0]) ** 2 + (xx[..., None] - centres[:, 1]) ** 2).argmin(-1) + 1)
    mask = mask.astype(np.uint8)
    colours = rng.integers(0, 256, (n_regions + 1, 3)).astype(np.uint8)
    return colours[mask], mask


def _inconsistency(image, mask):
    """Within-region colour variance / total variance over labelled pixels: ~0 when image and mask agree."""
    labelled = mask != 0
    labels, pixels = mask[labelled], image[labelled].astype(np.float64)
    total = pixels.var(axis=0).sum()
    within = sum(pixels[labels == k].var(axis=0).sum() * np.sum(labels == k) for k in np.unique(labels))
    return within / len(pixels) / max(total, 1e-9)


def _misaligned_seeds(augment, seeds):
    """Seeds whose augmented mask fits the augmented image no better than a flipped or rotated mask does."""
    image, mask = _voronoi_pair()
    bad = []
    for seed in seeds:
        out_image, out_mask, _ = augment(image, mask, seed=seed)
        control = min(_inconsistency(out_image, f(out_mask)) for f in (np.fliplr, np.flipud, lambda m: np.rot90(m, 2)))
        if not _inconsistency(out_image, out_mask) < control:
            bad.append(seed)
    return bad


@pytest.mark.parametrize("name", AUGMENTATION_NAMES)
def test_named_pipelines_keep_image_and_mask_aligned(name):
    augment = get_augmenter(name)
    assert len(_misaligned_seeds(augment, range(40))) <= 1  # one heavily degraded image is tolerated


def test_alignment_check_catches_a_flip_applied_to_the_image_only():
    augment = get_augmenter("aug_geometric")
    rng = np.random.default_rng(0)

    def broken(image, mask, other_images=None, seed=None):
        image, mask, others = augment(image, mask, other_images, seed=seed)
        return (np.fliplr(image) if rng.random() < 0.5 else image), mask, others

    assert len(_misaligned_seeds(broken, range(40))) >= 10


def test_custom_flip_is_exact_on_image_mask_and_other_images():
    image, mask = _voronoi_pair()
    depth = image[:, :, 0].copy()
    out_image, out_mask, (out_depth,) = get_augmenter(custom_augmentation=A.HorizontalFlip(p=1))(
        image, mask, [depth], seed=0
    )
    assert np.array_equal(out_image, np.fliplr(image))
    assert np.array_equal(out_mask, np.fliplr(mask))
    assert np.array_equal(out_depth, np.fliplr(depth)) and out_depth.ndim == 2


@pytest.mark.parametrize("name", AUGMENTATION_NAMES)
def test_extra_images_get_the_same_transform(name):
    image, mask = _voronoi_pair()
    augment = get_augmenter(name)
    for seed in range(10):
        out_image, _, (copy,) = augment(image, mask, [image.copy()], seed=seed)
        assert np.array_equal(out_image, copy)


@pytest.mark.parametrize("name", AUGMENTATION_NAMES)
def test_same_seed_same_result_other_seed_other_result(name):
    image, mask = _voronoi_pair()
    first, second = get_augmenter(name), get_augmenter(name)
    runs = [first(image, mask, seed=s) for s in range(8)]
    for seed, (out_image, out_mask, _) in enumerate(runs):
        again_image, again_mask, _ = second(image, mask, seed=seed)
        assert np.array_equal(out_image, again_image) and np.array_equal(out_mask, again_mask)
    assert len({r[0].tobytes() for r in runs}) > 1


def test_results_do_not_depend_on_the_thread():
    image, mask = _voronoi_pair()
    augment = get_augmenter("aug_all")
    expected = [augment(image, mask, seed=s) for s in range(24)]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda s: augment(image, mask, seed=s), range(24)))
    for (a_img, a_mask, _), (b_img, b_mask, _) in zip(expected, got):
        assert np.array_equal(a_img, b_img) and np.array_equal(a_mask, b_mask)


@pytest.mark.parametrize("name", AUGMENTATION_NAMES)
@pytest.mark.parametrize(
    "shape, dtype", [((H, W), np.uint8), ((H, W, 1), np.uint8), ((H, W, 4), np.uint8), ((H, W, 3), np.uint16)]
)
def test_any_channel_count_and_depth(name, shape, dtype):
    rng = np.random.default_rng(0)
    image = rng.integers(0, np.iinfo(dtype).max, shape, endpoint=True).astype(dtype)
    mask = rng.integers(0, 4, (H, W)).astype(np.uint8)
    augment = get_augmenter(name, mask_fill=255)
    for seed in range(6):
        out_image, out_mask, _ = augment(image, mask, seed=seed)
        assert out_image.shape == shape and out_image.dtype == dtype
        assert out_mask.shape == (H, W) and out_mask.dtype == np.uint8
        assert set(np.unique(out_mask)) <= {0, 1, 2, 3, 255}  # nearest only: no blended ids
    if dtype == np.uint16:
        assert out_image.max() > 255  # not squashed to 8 bits


@pytest.mark.parametrize("name", ["aug_all", "aug_geometric"])
def test_mask_fill_marks_pixels_moved_in_from_outside(name):
    image, mask = _voronoi_pair()  # ids 1..12: a 0 in the output would be a wrong fill
    augment = get_augmenter(name, mask_fill=255)
    values = set()
    for seed in range(20):
        values |= set(np.unique(augment(image, mask, seed=seed)[1]).tolist())
    assert 255 in values and 0 not in values


def test_pickled_copy_gives_the_same_results():
    image, mask = _voronoi_pair()
    augment = get_augmenter("aug_all", mask_fill=255)
    augment(image, mask, seed=0)  # builds this thread's pipeline
    twin = pickle.loads(pickle.dumps(augment))
    for seed in range(3):
        assert all(np.array_equal(a, b) for a, b in zip(augment(image, mask, seed=seed)[:2], twin(image, mask, seed=seed)[:2]))


def test_custom_transforms_get_nearest_mask_interpolation():
    image, mask = _voronoi_pair()
    zoom = A.Affine(scale=1.7, rotate=13, mask_interpolation=cv2.INTER_LINEAR, p=1)
    _, out_mask, _ = get_augmenter(custom_augmentation=zoom)(image, mask, seed=0)
    assert set(np.unique(out_mask)) <= set(np.unique(mask))


def test_custom_augmentation_forms():
    image, mask = _voronoi_pair()
    factory = get_augmenter(custom_augmentation=lambda: A.VerticalFlip(p=1))  # the original's form
    assert np.array_equal(factory(image, mask)[1], np.flipud(mask))

    def plain(image, mask):
        return {"image": image[::-1], "mask": mask[::-1]}

    assert np.array_equal(get_augmenter(custom_augmentation=plain)(image, mask)[1], np.flipud(mask))


def test_custom_instances_are_not_cached_between_augmenters():
    image, mask = _voronoi_pair()
    flip_h = get_augmenter(custom_augmentation=A.HorizontalFlip(p=1))
    flip_v = get_augmenter(custom_augmentation=A.VerticalFlip(p=1))
    assert np.array_equal(flip_h(image, mask)[1], np.fliplr(mask))
    assert np.array_equal(flip_v(image, mask)[1], np.flipud(mask))


def test_errors_are_raised_not_swallowed():
    image, mask = _voronoi_pair()
    with pytest.raises(AugmentationError, match="'aug_none' is unknown; choose one of aug_all"):
        get_augmenter("aug_none")
    with pytest.raises(AugmentationError, match="must be an Albumentations transform or a callable"):
        Augmenter(custom_augmentation=42)
    with pytest.raises(AugmentationError, match="returned int"):
        get_augmenter(custom_augmentation=lambda: 3)(image, mask)
    with pytest.raises(AugmentationError, match="other image 1 is 64x47"):
        get_augmenter()(image, mask, [image[:-1]])

    def failing(image, mask):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        get_augmenter(custom_augmentation=failing)(image, mask)


def test_derive_seed():
    assert derive_seed(0, 1, 2) == derive_seed(0, 1, 2)
    assert len({derive_seed(0, 1, k) for k in range(100)} | {derive_seed(1, 1, 0)}) == 101
    assert 0 <= derive_seed(5, 3) < 2**32


def test_original_functions():
    image, mask = _voronoi_pair()
    out_image, out_mask = augment_seg(image, mask, "aug_geometric")
    assert out_image.shape == image.shape and out_mask.shape == mask.shape
    images, out_mask = augment_seg(image, mask, other_imgs=[image])
    assert isinstance(images, list) and len(images) == 2 and np.array_equal(images[0], images[1])
    flipped, flipped_mask = custom_augment_seg(image, mask, lambda: A.HorizontalFlip(p=1))
    assert np.array_equal(flipped, np.fliplr(image)) and np.array_equal(flipped_mask, np.fliplr(mask))
    assert set(augmentation_functions) == set(AUGMENTATION_NAMES)
    assert isinstance(augmentation_functions["aug_all"](), A.BaseCompose)
