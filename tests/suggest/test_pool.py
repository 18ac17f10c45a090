"""The pool: a folder or a list of images, without those already labelled; one-line errors."""

import pytest
from suggestfiles import write_image

from keras_segmentation.errors import PairingError, SuggestError
from keras_segmentation.suggest.pool import list_pool


@pytest.fixture
def frames(tmp_path):
    """A pool folder of four images a..d."""
    for seed, stem in enumerate("abcd"):
        write_image(tmp_path / "frames" / f"{stem}.png", seed, size=(8, 8))
    return tmp_path / "frames"


def test_a_folder_or_a_list_is_the_pool(frames):
    assert [p.split("/")[-1] for p in list_pool(frames).images] == ["a.png", "b.png", "c.png", "d.png"]
    assert list_pool([frames / "b.png", frames / "a.png"]).images == [str(frames / "b.png"), str(frames / "a.png")]


def test_exclude_names_leave_images_out_and_seed_with_the_pools(frames):
    pool = list_pool(frames, exclude=["b", "c.jpg", "z"])
    assert [p.split("/")[-1] for p in pool.images] == ["a.png", "d.png"] and pool.excluded == 2
    assert sorted(p.split("/")[-1] for p in pool.labelled) == ["b.png", "c.png"]


def test_a_masks_folder_excludes_by_name_without_reading_its_files(tmp_path, frames):
    write_image(tmp_path / "masks" / "a.png", size=(8, 8))
    write_image(tmp_path / "masks" / "z.png", size=(8, 8))
    pool = list_pool(frames, exclude=tmp_path / "masks")
    assert pool.excluded == 1 and pool.labelled == [str(frames / "a.png")]


def test_a_dataset_folder_seeds_with_its_images(tmp_path, frames):
    labelled = write_image(tmp_path / "dataset" / "images" / "x.png", size=(8, 8))
    write_image(tmp_path / "dataset" / "images" / "d.png", size=(8, 8))
    pool = list_pool(frames, exclude=tmp_path / "dataset")
    assert pool.excluded == 1 and len(pool.images) == 3
    assert sorted(pool.labelled) == sorted([labelled, str(tmp_path / "dataset" / "images" / "d.png")])


@pytest.mark.parametrize("make, exclude, error, message", [
    (lambda root: root / "missing", None, PairingError, "pool .*missing: folder not found"),
    (lambda root: (root / "empty").mkdir() or root / "empty", None, PairingError, "pool .*empty: no image files"),
    (lambda root: [], None, SuggestError, "pool: no images given"),
    (lambda root: root / "frames", ["a", "b", "c", "d"], SuggestError, "all 4 image.s. are already labelled"),
    (lambda root: root / "frames", "nowhere", SuggestError, "exclude nowhere: not a folder"),
])
def test_bad_pools_are_one_line(tmp_path, frames, make, exclude, error, message):
    with pytest.raises(error, match=message) as caught:
        list_pool(make(tmp_path), exclude)
    assert "\n" not in str(caught.value)


def test_two_pool_images_with_one_name_are_refused(tmp_path, frames):
    other = write_image(tmp_path / "other" / "a.png", size=(8, 8))
    with pytest.raises(SuggestError, match="share the name 'a'"):
        list_pool([frames / "a.png", other])
