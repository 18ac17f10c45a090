"""What a dataset check found: :class:`Problem` findings and the :class:`VerifyReport`, formatted as a text table.

:func:`~keras_segmentation.data.verify.verify_dataset` fills the report; a report
is truthy when it holds no problem (warnings allowed), and
:meth:`VerifyReport.raise_for_problems` turns its problems into one error.

Example:
    >>> report = VerifyReport("imgs", "masks", n_classes=2, n_pairs=1)
    >>> report.problems.append(Problem("masks/a.png", "mask_values", "values [255] >= n_classes=2"))
    >>> bool(report), str(report.problems[0])
    (False, 'masks/a.png: values [255] >= n_classes=2')
    >>> print(report.format(class_names=["background", "road"]))
"""

from collections import Counter
from dataclasses import dataclass, field

from ..errors import problem_error
from .pairing import orphan_masks_hint

#: Problems listed by :meth:`VerifyReport.format` unless told otherwise.
MAX_LISTED = 30
#: Rows of the class table in :meth:`VerifyReport.format`.
MAX_CLASS_ROWS = 64


@dataclass
class Problem:
    """One finding: the file concerned, a kind (for grouping) and a one-line message.

    Kinds: ``missing_mask``, ``jpeg_mask``, ``ambiguous_mask``, ``ambiguous_image``, ``missing_other_input``,
    ``unreadable`` (also a broken symbolic link), ``mask_format``, ``colour_mask``, ``size_mismatch``, ``mask_values``,
    ``channels`` (problems); ``mask_without_image``, ``absent_classes`` (warnings).
    """

    path: str
    kind: str
    message: str

    def __str__(self):
        return f"{self.path}: {self.message}"


@dataclass
class VerifyReport:
    """What :func:`~keras_segmentation.data.verify.verify_dataset` found. True when there is no problem (warnings allowed).

    Attributes:
        n_pairs: image/mask pairs found.
        problems: :class:`Problem` list that would break or silently spoil training.
        warnings: :class:`Problem` list worth a look (orphan masks, absent classes).
        class_pixel_counts: ``{class id: pixels}`` over all readable masks.
        image_sizes: ``Counter`` of ``(height, width)``.
        image_modes, mask_modes: ``Counter`` of file modes (PIL names: ``RGB``, ``L``,
            ``RGBA``, ``P``, ``I;16``...; ``TIFF 6-band uint16``, ``npy 1-band uint8`` for others).
        image_channels, image_dtypes: ``Counter`` of channel counts and dtypes as read
            with ``read_image_type`` (what the network gets).
        seconds: time the check took.
    """

    images_path: str
    segs_path: str
    n_classes: int = None
    ignore_index: int = None
    n_pairs: int = 0
    problems: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    class_pixel_counts: dict = field(default_factory=dict)
    image_sizes: Counter = field(default_factory=Counter)
    image_modes: Counter = field(default_factory=Counter)
    mask_modes: Counter = field(default_factory=Counter)
    image_channels: Counter = field(default_factory=Counter)
    image_dtypes: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def ok(self):
        """True when no problem was found."""
        return not self.problems

    def __bool__(self):
        return self.ok

    @property
    def classes_found(self):
        """Sorted class ids present in the masks."""
        return sorted(self.class_pixel_counts)

    def raise_for_problems(self):
        """Raise a :class:`DataLoaderError` summarising the problems, if any.

        The class is the specific one when every problem is of one sort
        (:class:`MaskValueError` for mask values, :class:`ImageReadError` for
        unreadable files, ...; see :data:`keras_segmentation.errors.PROBLEM_ERRORS`).

        Example:
            >>> verify_dataset("imgs", "masks", 2).raise_for_problems()
        """
        if self.problems:
            first = "; ".join(str(p) for p in self.problems[:3])
            more = f" and {len(self.problems) - 3} more" if len(self.problems) > 3 else ""
            hint = ""
            if any(p.kind == "missing_mask" for p in self.problems):
                hint = orphan_masks_hint([w.path for w in self.warnings if w.kind == "mask_without_image"])
            raise problem_error(p.kind for p in self.problems)(
                f"dataset {self.images_path}: {len(self.problems)} problem(s): {first}{more}{hint} "
                "(run `keras_segmentation verify_dataset` for the full report)"
            )

    def format(self, class_names=None, max_problems=MAX_LISTED):
        """The report as a readable text table.

        Args:
            class_names: names shown next to class ids.
            max_problems: problems (and warnings) listed one by one; ``None`` lists all.
        """
        lines = [
            f"Dataset      {self.n_pairs} pairs, checked in {self.seconds:.1f} s",
            f"  images     {self.images_path}",
            f"  masks      {self.segs_path}",
            f"Image sizes  {_counts(self.image_sizes, lambda hw: f'{hw[1]}x{hw[0]}')}",
            f"Image files  {_counts(self.image_modes)}",
        ]
        if self.image_channels:
            channels = _counts(self.image_channels, lambda c: f"{c} channel(s)")
            lines.append(f"  as read    {channels}; {_counts(self.image_dtypes)}")
        lines.append(f"Mask files   {_counts(self.mask_modes)}")
        lines += self._class_table(class_names or [])
        for title, items in (("Problems", self.problems), ("Warnings", self.warnings)):
            if not items:
                continue
            kinds = Counter(p.kind for p in items)
            lines.append(f"{title} ({len(items)}): " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
            shown = items if max_problems is None else items[:max_problems]
            lines += [f"  {p}" for p in shown]
            if len(shown) < len(items):
                lines.append(f"  ... and {len(items) - len(shown)} more")
        if self.ok:
            lines.append(f"OK: dataset verified ({self.n_pairs} pairs, {len(self.warnings)} warning(s))")
        else:
            lines.append(f"FAILED: {len(self.problems)} problem(s) in {self.n_pairs} pairs")
        return "\n".join(lines)

    def _class_table(self, class_names):
        counts = self.class_pixel_counts
        total = sum(counts.values()) or 1
        found = self.classes_found
        if self.n_classes is None:
            head = f"Classes      {len(found)} found" + (
                f" (ids {found[0]}..{found[-1]}; n_classes={found[-1] + 1} covers them)" if found else ""
            )
        else:
            head = f"Classes      {len(found)} found, n_classes={self.n_classes}"
        ids = sorted(set(found) | set(range(self.n_classes or 0)))
        width = max([len(str(n)) for n in class_names] + [4])
        rows = [head, f"  {'id':>5}  {'name':<{width}}  {'pixels':>14}  {'share':>6}"]
        for class_id in ids[:MAX_CLASS_ROWS]:
            pixels = counts.get(class_id, 0)
            name = class_names[class_id] if class_id < len(class_names) else ""
            note = ""
            if class_id == self.ignore_index:
                note = "  ignored"
            elif self.n_classes is not None and class_id >= self.n_classes:
                note = "  OUT OF RANGE"
            elif pixels == 0:
                note = "  absent"
            rows.append(f"  {class_id:>5}  {name:<{width}}  {pixels:>14,}  {100 * pixels / total:>5.1f}%{note}")
        if len(ids) > MAX_CLASS_ROWS:
            rows.append(f"  ... and {len(ids) - MAX_CLASS_ROWS} more classes (see class_pixel_counts)")
        return rows


def _counts(counter, label=str):
    if not counter:
        return "-"
    return ", ".join(f"{label(key)} ({n})" for key, n in counter.most_common())
