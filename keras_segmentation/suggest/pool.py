"""The pool: the unlabelled images ``suggest`` chooses from, and the labelled ones it leaves out.

``pool`` is a folder of images (not searched recursively) or a list of image paths. ``exclude`` names
the images already labelled, by stem (file name without folder or extension): a list of names or
paths, or a folder of images or of masks (a dataset folder with ``images/``, as ``convert`` writes,
counts by its images). Pool images with those stems are left out.

The labelled images seed ``suggest``'s diversity: the pool's images that ``exclude`` names, the
paths in an ``exclude`` list that are files, and the images of a dataset folder's ``images/``. The
files of a plain folder are not read (they may be masks): seed with labelled images outside the pool
by giving their paths, or their dataset folder.

Example:
    >>> pool = list_pool("frames/", exclude="dataset/")
    >>> len(pool.images), len(pool.labelled), pool.excluded
    (480, 120, 100)
"""

import os
from dataclasses import dataclass, field

from ..data.images import IMAGE_EXTENSIONS
from ..data.pairing import base_name, list_files, list_images
from ..errors import SuggestError


@dataclass
class Pool:
    """``images``: the pool's unlabelled images; ``labelled``: images already labelled (the diversity's seeds);
    ``excluded``: how many pool images ``exclude`` left out."""

    images: list
    labelled: list = field(default_factory=list)
    excluded: int = 0


def list_pool(pool, exclude=None):
    """The :class:`Pool` of ``pool`` (a folder or a list of image paths) without the images ``exclude`` names.

    Raises:
        PairingError: ``pool`` is a missing folder, or one without images.
        SuggestError: an empty list, two pool images with one stem, an ``exclude`` folder that does not exist,
            or every pool image already labelled.
    """
    images = _images(pool)
    stems = {}
    for path in images:
        if base_name(path) in stems:
            raise SuggestError(f"pool: {stems[base_name(path)]} and {path} share the name {base_name(path)!r}; "
                               "pre-labels are named after it: keep one")
        stems[base_name(path)] = path
    labelled_names, labelled_images = _labelled(exclude)
    kept = [path for path in images if base_name(path) not in labelled_names]
    if not kept:
        raise SuggestError(f"pool {_name(pool)}: all {len(images)} image(s) are already labelled (named by exclude)")
    seeds = {base_name(path): path for path in labelled_images}
    seeds.update((stem, stems[stem]) for stem in labelled_names if stem in stems and stem not in seeds)
    return Pool(kept, list(seeds.values()), len(images) - len(kept))


def _images(pool):
    if isinstance(pool, (str, os.PathLike)):
        return list_images(pool, "pool")
    images = [os.fspath(path) for path in pool or ()]
    if not images:
        raise SuggestError("pool: no images given (give a folder or a list of image paths)")
    return images


def _labelled(exclude):
    """``(stems, image paths)`` of what ``exclude`` names."""
    if exclude is None:
        return set(), []
    if not isinstance(exclude, (str, os.PathLike)):
        names = [os.fspath(name) for name in exclude]
        return {base_name(name) for name in names}, [name for name in names if os.path.isfile(name)]
    folder = os.fspath(exclude)
    if not os.path.isdir(folder):
        raise SuggestError(f"exclude {folder}: not a folder (give a folder of labelled images or masks, or names)")
    images = os.path.join(folder, "images")
    if os.path.isdir(images):
        images = list_files(images, IMAGE_EXTENSIONS, "exclude")
        return {base_name(path) for path in images}, images
    return {base_name(path) for path in list_files(folder, IMAGE_EXTENSIONS, "exclude")}, []


def _name(pool):
    return os.fspath(pool) if isinstance(pool, (str, os.PathLike)) else f"({len(pool)} paths)"
