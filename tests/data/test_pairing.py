"""Pairing images with masks by base name: the original's six cases plus the new rules."""

import os

import pytest

from keras_segmentation.data.pairing import find_pairs, get_pairs_from_paths
from keras_segmentation.errors import DataLoaderError, ImageReadError, PairingError


@pytest.fixture
def folders(tmp_path):
    images, segs = tmp_path / "images", tmp_path / "segs"
    images.mkdir()
    segs.mkdir()

    def make(image_names, seg_names):
        for name in image_names:
            (images / name).touch()
        for name in seg_names:
            (segs / name).touch()
        return str(images), str(segs)

    return make


def _expected(images, segs, pairs):
    return [(os.path.join(images, a), os.path.join(segs, b)) for a, b in pairs]


# ---------------------------------------------------- the original's cases
def test_normal(folders):
    images, segs = folders(["A.jpg", "B.jpg", "C.jpeg", "D.png"], ["A.png", "B.png", "C.png", "D.png"])
    assert get_pairs_from_paths(images, segs) == _expected(
        images, segs, [("A.jpg", "A.png"), ("B.jpg", "B.png"), ("C.jpeg", "C.png"), ("D.png", "D.png")]
    )


def test_extra_non_image_files_are_skipped(folders):
    images, segs = folders(["A.jpg", "B.jpg", "C.jpeg", "D.png", "E.txt"], ["A.png", "B.png", "C.png", "D.png", "E.png"])
    assert get_pairs_from_paths(images, segs) == _expected(
        images, segs, [("A.jpg", "A.png"), ("B.jpg", "B.png"), ("C.jpeg", "C.png"), ("D.png", "D.png")]
    )


def test_two_images_sharing_one_base_name_are_refused(folders):
    # The original paired both with D.png: one mask trained twice, silently.
    images, segs = folders(["A.jpg", "B.jpg", "C.jpeg", "D.png", "D.jpg"], ["A.png", "B.png", "C.png", "D.png"])
    with pytest.raises(PairingError) as err:
        get_pairs_from_paths(images, segs)
    both = f"{os.path.join(images, 'D.jpg')}, {os.path.join(images, 'D.png')}"
    assert str(err.value) == f"1 pairing problem(s): {os.path.join(images, 'D.jpg')}: several images share one " \
        f"base name: {both}; keep one"


def test_jpg_segmentation_is_not_used(folders):
    images, segs = folders(["A.jpg", "B.jpg", "C.jpeg", "D.png"], ["A.png", "B.png", "C.png", "D.png", "D.jpg"])
    assert get_pairs_from_paths(images, segs) == _expected(
        images, segs, [("A.jpg", "A.png"), ("B.jpg", "B.png"), ("C.jpeg", "C.png"), ("D.png", "D.png")]
    )


def test_missing_segmentation_raises(folders):
    images, segs = folders(["A.jpg", "B.jpg", "C.jpeg", "D.png"], ["A.png", "B.png", "C.png"])
    with pytest.raises(DataLoaderError, match="No corresponding segmentation found for image") as err:
        get_pairs_from_paths(images, segs)
    assert os.path.join(images, "D.png") in str(err.value)


def test_missing_segmentation_ignored_on_request(folders):
    images, segs = folders(["A.jpg", "B.jpg", "C.jpeg", "D.png"], ["A.png", "B.png", "C.png"])
    assert get_pairs_from_paths(images, segs, ignore_non_matching=True) == _expected(
        images, segs, [("A.jpg", "A.png"), ("B.jpg", "B.png"), ("C.jpeg", "C.png")]
    )


# ---------------------------------------------------------------- new rules
def test_extensions_match_case_insensitively(folders):
    images, segs = folders(["A.JPG", "B.Png", "C.TIF"], ["A.PNG", "B.bmp", "C.Png"])
    assert get_pairs_from_paths(images, segs) == _expected(
        images, segs, [("A.JPG", "A.PNG"), ("B.Png", "B.bmp"), ("C.TIF", "C.Png")]
    )


def test_order_is_sorted_whatever_the_creation_order(folders):
    images, segs = folders(["c.png", "a.png", "b.png", "a0.png"], ["b.png", "a0.png", "c.png", "a.png"])
    names = [os.path.basename(img) for img, _ in get_pairs_from_paths(images, segs)]
    assert names == ["a.png", "a0.png", "b.png", "c.png"]


def test_every_problem_is_collected(folders):
    images, segs = folders(
        ["ok.png", "lost1.png", "lost2.jpg", "dup.png", "jpegonly.png"],
        ["ok.png", "dup.png", "dup.bmp", "jpegonly.jpg", "orphan.png"],
    )
    result = find_pairs(images, segs)
    assert not result.ok
    assert [os.path.basename(p) for p, _ in result.pairs] == ["ok.png"]
    assert sorted(os.path.basename(p) for p in result.images_without_mask) == ["lost1.png", "lost2.jpg"]
    assert [[os.path.basename(p) for p in g] for g in result.ambiguous_masks] == [["dup.bmp", "dup.png"]]
    assert [os.path.basename(p) for p in result.jpeg_masks] == ["jpegonly.jpg"]
    assert [os.path.basename(p) for p in result.masks_without_image] == ["orphan.png"]
    assert {kind for _, kind, _ in result.issues()} == {"missing_mask", "ambiguous_mask", "jpeg_mask"}
    with pytest.raises(PairingError) as err:
        get_pairs_from_paths(images, segs)
    message = str(err.value)
    assert message.startswith("4 pairing problem(s)")
    for name in ("lost1.png", "lost2.jpg", "dup.bmp", "jpegonly.jpg"):
        assert name in message


def test_orphan_masks_are_only_warnings(folders):
    images, segs = folders(["a.png"], ["a.png", "zz.png"])
    result = find_pairs(images, segs)
    assert result.ok and len(result.pairs) == 1
    assert result.warnings() == [f"{os.path.join(segs, 'zz.png')}: mask has no image with the same base name"]


def test_a_broken_link_is_reported_as_broken_not_as_a_missing_partner(folders, tmp_path):
    images, segs = folders(["a.png", "c.png"], ["a.png", "b.png"])
    image_link, mask_link = os.path.join(images, "b.png"), os.path.join(segs, "c.png")
    os.symlink(tmp_path / "moved" / "b.png", image_link)
    os.symlink(tmp_path / "moved" / "c.png", mask_link)
    result = find_pairs(images, segs)
    assert result.broken_links == [image_link, mask_link]
    assert result.masks_without_image == [] and result.images_without_mask == [] and not result.ok
    with pytest.raises(ImageReadError) as err:
        get_pairs_from_paths(images, segs)
    assert str(err.value) == (
        f"2 pairing problem(s): {image_link}: broken symbolic link to {tmp_path / 'moved' / 'b.png'} (no such file); "
        f"fix or remove the link; {mask_link}: broken symbolic link to {tmp_path / 'moved' / 'c.png'} (no such file); "
        "fix or remove the link"
    )


def test_hidden_files_are_ignored(folders):
    images, segs = folders(["a.png", "._a.png", ".DS_Store"], ["a.png", "._a.png"])
    assert len(get_pairs_from_paths(images, segs)) == 1


def test_other_inputs_paths(folders, tmp_path):
    images, segs = folders(["a.png", "b.png"], ["a.png", "b.png"])
    extra = tmp_path / "depth"
    extra.mkdir()
    (extra / "a.PNG").touch()
    (extra / "b.jpg").touch()
    pairs = get_pairs_from_paths(images, segs, other_inputs_paths=[extra])
    assert [os.path.basename(p[2][0]) for p in pairs] == ["a.PNG", "b.jpg"]
    (extra / "b.jpg").unlink()
    with pytest.raises(PairingError, match="b.png: no image with its base name in extra input folder"):
        get_pairs_from_paths(images, segs, other_inputs_paths=[extra])


def test_missing_or_empty_folders(tmp_path):
    (tmp_path / "imgs").mkdir()
    (tmp_path / "masks").mkdir()
    with pytest.raises(PairingError, match="images_path .*nope: folder not found"):
        find_pairs(tmp_path / "nope", tmp_path / "masks")
    with pytest.raises(PairingError, match="no image files"):
        find_pairs(tmp_path / "imgs", tmp_path / "masks")
    (tmp_path / "imgs" / "a.png").touch()
    with pytest.raises(PairingError, match="segs_path .*gone: folder not found"):
        find_pairs(tmp_path / "imgs", tmp_path / "gone")
