"""Image/mask pairs laid out as folders again: a chosen subset of a dataset, linked rather than copied.

``train()`` and ``fit`` read folders; :func:`link_pairs` makes ``images/`` and ``masks/``
(or ``annotations/``) folders of symbolic links to the chosen pairs, so a split or a
held-out sequence needs no copy of the data.

Example:
    >>> link_pairs([("camvid/images/a.png", "camvid/masks/a.png")], "work/train")   # doctest: +SKIP
    ('work/train/images', 'work/train/masks')
"""

import os
import shutil


def link_pairs(pairs, folder, masks="masks"):
    """``(images folder, masks folder)``: ``images/`` and ``masks`` under ``folder`` of links to ``pairs``.

    The folder is made again every time (what it held is removed). Each link keeps its file's
    name; where symbolic links cannot be made, the file is copied.

    Args:
        pairs: ``(image, mask)`` paths (extra items are ignored).
        folder: where the two folders go.
        masks: the name of the masks folder (``"annotations"``, as ``convert`` writes).

    Example:
        >>> link_pairs(pairs[:10], "work/val", masks="annotations")   # doctest: +SKIP
        ('work/val/images', 'work/val/annotations')
    """
    shutil.rmtree(folder, ignore_errors=True)
    made = []
    for role, index in (("images", 0), (masks, 1)):
        target = os.path.join(folder, role)
        os.makedirs(target)
        for pair in pairs:
            link = os.path.join(target, os.path.basename(pair[index]))
            try:
                os.symlink(os.path.abspath(pair[index]), link)
            except OSError:  # no symbolic links here: a copy
                shutil.copyfile(pair[index], link)
        made.append(target)
    return tuple(made)
