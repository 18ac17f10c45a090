"""link_pairs: a subset of pairs as images/ and masks/ folders of links, copies where links cannot be made."""

import os

from keras_segmentation.data.links import link_pairs


def _pairs(folder, names):
    pairs = []
    for name in names:
        for role in ("img", "seg"):
            os.makedirs(folder / role, exist_ok=True)
            (folder / role / f"{name}.png").write_bytes(f"{role} {name}".encode())
        pairs.append((str(folder / "img" / f"{name}.png"), str(folder / "seg" / f"{name}.png")))
    return pairs


def test_links_keep_the_names_and_point_at_the_files(tmp_path):
    pairs = _pairs(tmp_path / "data", ["a", "b"])
    images, masks = link_pairs(pairs, str(tmp_path / "work"))
    assert (images, masks) == (str(tmp_path / "work" / "images"), str(tmp_path / "work" / "masks"))
    assert sorted(os.listdir(masks)) == ["a.png", "b.png"]
    assert os.path.islink(os.path.join(images, "a.png"))
    assert os.path.realpath(os.path.join(masks, "b.png")) == os.path.realpath(pairs[1][1])


def test_without_symbolic_links_the_files_are_copied(tmp_path, monkeypatch):
    pairs = _pairs(tmp_path / "data", ["a"])

    def no_links(source, link):
        raise OSError("symbolic links are not supported here")

    monkeypatch.setattr(os, "symlink", no_links)
    images, masks = link_pairs(pairs, str(tmp_path / "work"), masks="annotations")
    assert os.path.basename(masks) == "annotations"
    copied = os.path.join(masks, "a.png")
    assert not os.path.islink(copied) and open(copied, "rb").read() == b"seg a"
