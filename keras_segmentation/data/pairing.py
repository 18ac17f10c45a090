"""Pairing image files with their masks by base name.

``images/0001.jpg`` pairs with ``masks/0001.png``: the base names (file name
without extension) must be equal; extensions are matched case-insensitively
(``.PNG`` and ``.Jpg`` count). Order is deterministic (sorted by base name, then
file name). Unlike the original library, every problem is collected and reported
at once instead of stopping at the first.

Example:
    >>> result = find_pairs("data/images_prepped_train", "data/annotations_prepped_train")
    >>> result.ok, len(result.pairs)
    (True, 367)
    >>> get_pairs_from_paths("imgs", "masks")       # the original API: list of (image, mask)
    [('imgs/a.jpg', 'masks/a.png'), ...]
"""

import os
from dataclasses import dataclass, field

from ..errors import PairingError, problem_error
from .images import IMAGE_EXTENSIONS, LOSSY_EXTENSIONS, MASK_EXTENSIONS


@dataclass
class PairingResult:
    """Outcome of :func:`find_pairs`.

    Attributes:
        pairs: ``(image, mask)`` tuples, or ``(image, mask, [other inputs])`` when
            ``other_inputs_paths`` was given.
        images_without_mask: images with no PNG/BMP mask of the same base name.
        jpeg_masks: masks that exist only as JPEG for an image (refused: lossy).
        masks_without_image: masks that no image claims (usually a misnamed file).
        ambiguous_masks: groups of masks sharing one base name (``a.png`` + ``a.bmp``).
        ambiguous_images: groups of images sharing one base name (``a.png`` + ``a.jpg``): not paired.
        missing_other_inputs: ``(image, folder)`` where the extra input is missing.
        broken_links: image and mask files that are symbolic links to nothing.
    """

    pairs: list = field(default_factory=list)
    images_without_mask: list = field(default_factory=list)
    jpeg_masks: list = field(default_factory=list)
    masks_without_image: list = field(default_factory=list)
    ambiguous_masks: list = field(default_factory=list)
    ambiguous_images: list = field(default_factory=list)
    missing_other_inputs: list = field(default_factory=list)
    broken_links: list = field(default_factory=list)

    @property
    def ok(self):
        """True when every image has exactly one usable mask (orphan masks are only warnings)."""
        return not (self.images_without_mask or self.jpeg_masks or self.ambiguous_masks or self.ambiguous_images
                    or self.missing_other_inputs or self.broken_links)

    def issues(self):
        """``(path, kind, message)`` per problem that stops training.

        Kinds: ``missing_mask``, ``jpeg_mask``, ``ambiguous_mask``, ``ambiguous_image``, ``missing_other_input``,
        ``unreadable`` (a broken link).
        """
        issues = [
            (img, "missing_mask", "No corresponding segmentation found for image (no PNG/BMP mask with its base name)")
            for img in self.images_without_mask
        ]
        issues += [
            (mask, "jpeg_mask", "JPEG masks are not supported (lossy compression changes class ids); save it as PNG")
            for mask in self.jpeg_masks
        ]
        issues += [
            (group[0], "ambiguous_mask", f"several masks share one base name: {', '.join(group)}")
            for group in self.ambiguous_masks
        ]
        issues += [
            (group[0], "ambiguous_image", f"several images share one base name: {', '.join(group)}; keep one")
            for group in self.ambiguous_images
        ]
        issues += [
            (img, "missing_other_input", f"no image with its base name in extra input folder {folder}")
            for img, folder in self.missing_other_inputs
        ]
        issues += [
            (link, "unreadable", f"broken symbolic link to {os.readlink(link)} (no such file); fix or remove the link")
            for link in self.broken_links
        ]
        return issues

    def errors(self):
        """One line per problem that stops training, each naming the file."""
        return [f"{path}: {message}" for path, _, message in self.issues()]

    def warnings(self):
        """One line per suspicious but harmless finding."""
        return [f"{mask}: mask has no image with the same base name" for mask in self.masks_without_image]


def list_files(folder, extensions, role="images_path"):
    """Sorted paths of the files in ``folder`` (not recursive) whose extension is in ``extensions``.

    Raises:
        PairingError: ``folder`` does not exist or is not a folder.
    """
    folder = os.fspath(folder)
    if not os.path.exists(folder):
        raise PairingError(f"{role} {folder}: folder not found")
    if not os.path.isdir(folder):
        raise PairingError(f"{role} {folder}: not a folder")
    names = [name for name in os.listdir(folder) if _named_like(name, extensions)]
    names.sort(key=lambda name: (os.path.splitext(name)[0], name))
    return [os.path.join(folder, name) for name in names if os.path.isfile(os.path.join(folder, name))]


def list_images(folder, role="images_path"):
    """Sorted image paths in ``folder``, like :func:`list_files`, but an empty result is an error.

    Raises:
        PairingError: ``folder`` is missing, not a folder, or holds no image file; the
            message names the files it skipped (e.g. ``.webp``), if any.
    """
    images = list_files(folder, IMAGE_EXTENSIONS, role)
    if images:
        return images
    folder = os.fspath(folder)
    others = sorted(
        name for name in os.listdir(folder)
        if not name.startswith(".") and os.path.isfile(os.path.join(folder, name))
    )
    skipped = ""
    if others:
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        skipped = f"; skipped {len(others)} file(s) of other types ({shown}): convert them to PNG"
    raise PairingError(f"{role} {folder}: no image files ({', '.join(IMAGE_EXTENSIONS)}) found{skipped}")


def base_name(path):
    """File name without folder and extension: ``"a/b/0001.png"`` -> ``"0001"``."""
    return os.path.splitext(os.path.basename(path))[0]


def find_pairs(images_path, segs_path, other_inputs_paths=None):
    """Pair the images in ``images_path`` with the masks in ``segs_path``; collect every problem.

    Raises:
        PairingError: a folder is missing, or ``images_path`` holds no image files.
    """
    images = list_images(images_path, "images_path")
    masks_by_base = _group_by_base(list_files(segs_path, MASK_EXTENSIONS + LOSSY_EXTENSIONS, "segs_path"))
    others_by_base = [
        (os.fspath(folder), _group_by_base(list_files(folder, IMAGE_EXTENSIONS, "other_inputs_paths")))
        for folder in other_inputs_paths or ()
    ]

    result = PairingResult(broken_links=_broken_links(images_path, IMAGE_EXTENSIONS) + _broken_links(segs_path, MASK_EXTENSIONS))
    broken = {base_name(link) for link in result.broken_links}  # reported as broken, not as a missing partner
    claimed = set(broken)
    for base, group in _group_by_base(images).items():
        claimed.add(base)
        if len(group) > 1:
            result.ambiguous_images.append(group)
            continue
        image = group[0]
        candidates = masks_by_base.get(base, [])
        usable = [m for m in candidates if not m.lower().endswith(LOSSY_EXTENSIONS)]
        if len(usable) > 1:
            result.ambiguous_masks.append(usable)
            continue
        if not usable:
            if candidates:
                result.jpeg_masks.extend(candidates)
            elif base not in broken:
                result.images_without_mask.append(image)
            continue
        if not others_by_base:
            result.pairs.append((image, usable[0]))
            continue
        others = []
        for folder, by_base in others_by_base:
            if by_base.get(base):
                others.append(by_base[base][0])
            else:
                result.missing_other_inputs.append((image, folder))
        if len(others) == len(others_by_base):
            result.pairs.append((image, usable[0], others))
    result.masks_without_image = [
        mask
        for base, group in masks_by_base.items()
        if base not in claimed
        for mask in group
        if not mask.lower().endswith(LOSSY_EXTENSIONS)
    ]
    return result


def get_pairs_from_paths(images_path, segs_path, ignore_non_matching=False, other_inputs_paths=None):
    """The original library's pairing call: the list of pairs, or one error naming every problem.

    Args:
        ignore_non_matching: skip images without a mask instead of raising.

    Raises:
        PairingError: (a :class:`DataLoaderError`) listing every problem found;
            :class:`MaskFormatError` when the only problem is JPEG masks.
    """
    result = find_pairs(images_path, segs_path, other_inputs_paths)
    if ignore_non_matching:
        result.images_without_mask = []
    issues = result.issues()
    if issues:
        errors = result.errors()
        shown = "; ".join(errors[:5]) + (f"; and {len(errors) - 5} more" if len(errors) > 5 else "")
        hint = orphan_masks_hint(result.masks_without_image) if result.images_without_mask else ""
        error = problem_error((kind for _, kind, _ in issues), PairingError)
        raise error(f"{len(errors)} pairing problem(s): {shown}{hint}")
    return result.pairs


def orphan_masks_hint(masks):
    """``"; 2 mask(s) have no image (m/a_mask.png, ...): ..."``, the likely cause of images without masks."""
    if not masks:
        return ""
    shown = ", ".join(masks[:2]) + (", ..." if len(masks) > 2 else "")
    return f"; {len(masks)} mask(s) have no image ({shown}): an image and its mask need the same base name"


def _named_like(name, extensions):
    """A file name :func:`list_files` takes: not hidden, with one of ``extensions``."""
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in extensions


def _broken_links(folder, extensions):
    """Sorted paths in ``folder`` named like its files (:func:`list_files`) that lead nowhere: broken symbolic links."""
    folder = os.fspath(folder)
    paths = (os.path.join(folder, name) for name in os.listdir(folder) if _named_like(name, extensions))
    return sorted(path for path in paths if os.path.islink(path) and not os.path.exists(path))


def _group_by_base(paths):
    groups = {}
    for path in paths:
        groups.setdefault(base_name(path), []).append(path)
    return groups
