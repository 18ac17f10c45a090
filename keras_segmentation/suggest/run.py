"""``suggest``: which images of a pool to label next, written with the model's labels for the labelling tool.

One pass over the pool predicts each image once (the :class:`~keras_segmentation.inference.predictor.Predictor`
with ``uncertainty=``: its score is the mean of the uncertainty map) and embeds it
(:mod:`.embeddings`: its image through the encoder of a Keras model, else its probabilities);
:mod:`.selection` chooses; the chosen images are predicted again for their pre-labels
(:mod:`.formats`), which go into ``out`` with copies of the images and ``suggestions.csv``
(``rank,image,score``, in pick order). The folder appears complete or not at all, and never over
files: an ``out`` holding any is refused, since corrected pre-labels may be among them.

``strategy="random"`` reads no image to choose: it draws from the pool's listing (with ``out``, it
predicts the drawn images for their pre-labels; ``scores`` then holds theirs). With ``out=None``
nothing is written: simulated labelling loops call it so.

Example:
    >>> result = suggest("runs/fit", "frames/", n=50, out="to_label/", format="labelme", exclude="dataset/")
    >>> print(result.summary())
    chose 50 of 480 image(s) by uncertainty+diversity (entropy); wrote 50 labelme pre-label(s) to to_label/
    correct them, then: keras_segmentation convert --from labelme to_label/ --labels to_label/labels.txt --out_dir DATASET
"""

import csv
import inspect
import os
import warnings
from dataclasses import dataclass, field

from ..atomic import atomic_write_folder, file_in_the_way
from ..data.class_names import check_class_names, load_class_names
from ..data.convert.labelme import IGNORE_LABEL
from ..errors import SuggestError
from ..inference.predictor import Prediction, Predictor, model_or_checkpoint, progress_bar
from ..uncertainty import METHODS
from .embeddings import Embedder
from .formats import get_writer
from .polygons import MIN_AREA, TOLERANCE
from .pool import list_pool
from .selection import at_random, by_uncertainty, check_strategy, diverse

#: the Predictor's keywords that ``suggest`` sets itself (the others pass through ``**window``)
_SET_HERE = {"self", "model", "batch_size", "uncertainty"}
#: unreadable files named in the warning
_SHOWN = 5


@dataclass
class SuggestResult:
    """What :func:`suggest` chose and wrote.

    Attributes:
        chosen: the image paths, in pick order.
        scores: ``{path: score}`` of every image predicted (the pool's, or with ``"random"`` the chosen ones).
        strategy, uncertainty: how they were chosen.
        pool_size: the pool's images after ``exclude``.
        out, format: the folder and format written (``None`` with ``out=None``).
        written: the files written, relative to ``out``.
        unreadable: the pool images that could not be read (skipped).
        convert: the command that brings the corrected pre-labels back.
    """

    chosen: list
    scores: dict
    strategy: str
    uncertainty: str
    pool_size: int
    out: str | None = None
    format: str | None = None
    written: list = field(default_factory=list)
    unreadable: list = field(default_factory=list)
    convert: str = ""

    def summary(self):
        """What was chosen and written, and the ``convert`` command, as lines of text."""
        lines = [f"chose {len(self.chosen)} of {self.pool_size} image(s) by {self.strategy}"
                 + ("" if self.strategy == "random" else f" ({self.uncertainty})")]
        if self.out is not None:
            lines[0] += f"; wrote {len(self.chosen)} {self.format} pre-label(s) to {self.out}"
            lines.append(f"correct them, then: {self.convert}")
        return "\n".join(lines)


def suggest(model=None, pool=None, n=50, out=None, *, format="labelme", checkpoints_path=None,
            uncertainty="entropy", strategy="uncertainty+diversity", exclude=None, batch_size=2, seed=0,
            progress=True, class_names=None, tolerance=TOLERANCE, min_area=MIN_AREA, **window):
    """Choose the ``n`` pool images most worth labelling and write their pre-labels into ``out``.

    Args:
        model: a model, or the path of an exported model, ``fit`` run folder or preset
            (:func:`~keras_segmentation.inference.predictor.model_or_checkpoint`); or give ``checkpoints_path``.
        pool: a folder of images, or a list of image paths (:mod:`.pool`).
        n: how many to choose.
        out: the folder to write (new or empty), or ``None`` to write nothing.
        format: the pre-labels' format: ``"labelme"``, ``"coco"`` or ``"cvat"`` (:mod:`.formats`).
        checkpoints_path: the checkpoint prefix given to ``train``, when ``model`` is not given.
        uncertainty: ``"entropy"``, ``"margin"`` or ``"tta"`` (:mod:`keras_segmentation.uncertainty`).
        strategy: ``"uncertainty+diversity"``, ``"uncertainty"`` or ``"random"`` (:mod:`.selection`).
        exclude: the images already labelled: names, paths or a folder (:mod:`.pool`); they are left out
            and seed the diversity.
        seed: the random strategy's seed.
        class_names: names of the classes in the pre-labels (default: the model's, else the class ids);
            a list, a comma list or a file.
        tolerance, min_area: the polygons' simplification (pixels) and smallest region (:mod:`.polygons`).
        batch_size, progress, **window: see :mod:`keras_segmentation.options` (``**window``: the
            Predictor's other keywords: ``mode``, ``tile``, ``tta``, ``flip_tta``, ``precision``, ...).

    Returns:
        A :class:`SuggestResult`.

    Raises:
        SuggestError: a bad ``n``, ``strategy``, ``format`` or Predictor keyword, an ``out`` holding
            files, a pool with no readable image or with every image labelled, class names that do not
            fit the model.
        PairingError: ``pool`` is a missing folder or one without images.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise SuggestError(f"n={n!r}: give a positive number of images")
    check_strategy(strategy)
    if uncertainty not in METHODS:
        raise SuggestError(f"uncertainty={uncertainty!r}: choose one of {', '.join(METHODS)}")
    writer_class = get_writer(format)
    unknown = sorted(set(window) - (set(inspect.signature(Predictor).parameters) - _SET_HERE))
    if unknown:
        raise SuggestError(f"suggest() got unknown option(s) {', '.join(unknown)}")
    out = _check_out(out)
    listing = list_pool(pool, exclude)
    result = SuggestResult([], {}, strategy, uncertainty, len(listing.images), out, format if out is not None else None)
    predictor = None
    if strategy != "random" or out is not None:  # random chooses without reading an image
        predictor = Predictor(model_or_checkpoint(model, checkpoints_path), batch_size=batch_size,
                              uncertainty=uncertainty, **window)
    names = _class_names(predictor.model, class_names) if out is not None else None
    result.chosen = _choose(predictor, listing, n, strategy, seed, result, progress)
    if out is not None:
        result.convert = writer_class.convert.format(out=out)
        atomic_write_folder(out, lambda folder: _write(
            folder, writer_class(folder, names, tolerance=tolerance, min_area=min_area), predictor, result, progress))
    return result


def _choose(predictor, listing, n, strategy, seed, result, progress):
    """The paths ``strategy`` picks from the pool ``listing``, in pick order (scores into ``result``)."""
    images = listing.images
    if strategy == "random":
        return [images[i] for i in at_random(len(images), n, seed)]
    embedder = Embedder(predictor.model, predictor.preprocessing) if strategy == "uncertainty+diversity" else None
    vectors = _score_pool(predictor, images, embedder, result, progress)
    readable = list(result.scores)
    scores = [result.scores[path] for path in readable]
    if embedder is None:
        return [readable[i] for i in by_uncertainty(scores, n)]
    embedder.warn_once()
    seeds = _seed_vectors(predictor, embedder, listing.labelled, progress)
    return [readable[i] for i in diverse(scores, vectors, n, seeds)]


def _check_out(out):
    """``out`` as a path, after checking it can be a new or empty folder."""
    if out is None:
        return None
    out = os.fspath(out)
    blocking = file_in_the_way(out)
    if blocking is not None:
        raise SuggestError(f"out {out}: {blocking} is a file; give a folder")
    if os.path.isdir(out) and os.listdir(out):
        found = sorted(os.listdir(out))
        raise SuggestError(f"out {out}: holds {len(found)} file(s) ({found[0]}, ...); suggest writes into a new or "
                           "empty folder, never over files (corrected pre-labels may be among them)")
    return out


def _score_pool(predictor, images, embedder, result, progress):
    """Predict the pool once: each readable image's score into ``result.scores`` (the others into
    ``result.unreadable``, with one warning); returns the embeddings of the readable ones (or ``None``)."""
    problems = []
    predictions = predictor.run(images, with_probabilities=embedder is not None and embedder.needs_probabilities)
    readable = _readable(_bar(predictions, len(images), progress, "suggest: scoring the pool"), images, problems)

    def scored():
        for prediction in readable:
            result.scores[images[prediction.index]] = prediction.score
            yield prediction

    if embedder is None:
        vectors = None
        for _ in scored():
            pass
    else:
        vectors = _embed(embedder, scored(), predictor.batch_size)
    result.unreadable = [path for path, _ in problems]
    if not result.scores:
        raise SuggestError(f"pool: none of the {len(images)} image(s) can be read (first: {_problem(*problems[0])})")
    if problems:
        _warn_unreadable("pool: skipped", problems, "")
    return vectors


def _seed_vectors(predictor, embedder, paths, progress):
    """The embeddings of the labelled images ``paths`` (the unreadable ones left out, with a warning)."""
    if not paths:
        return None
    problems = []
    # a Keras model's embeddings need the images only: read, not predicted
    items = predictor.run(paths, with_probabilities=True) if embedder.needs_probabilities else _read(predictor, paths)
    items = _readable(_bar(items, len(paths), progress, "suggest: embedding the labelled images"), paths, problems)
    vectors = _embed(embedder, items, predictor.batch_size)
    if problems:
        _warn_unreadable("exclude: could not read", problems, "; they do not count in the diversity")
    return vectors or None


def _read(predictor, paths):
    """A :class:`Prediction` per path holding only the image as read (or the error)."""
    for index, path in enumerate(paths):
        image, _, error = predictor.prepare(path)
        yield Prediction(index, image, None, None, error)


def _readable(predictions, paths, problems):
    """The ``predictions`` without an error; ``(path, error)`` of the others appended to ``problems``."""
    for prediction in predictions:
        if prediction.error is None:
            yield prediction
        else:
            problems.append((paths[prediction.index], prediction.error))


def _embed(embedder, predictions, batch_size):
    """The embeddings of ``predictions``, computed ``batch_size`` at a time."""
    vectors, batch = [], []
    for prediction in predictions:
        batch.append(prediction)
        if len(batch) == batch_size:
            vectors.extend(embedder.predictions(batch))
            batch = []
    if batch:
        vectors.extend(embedder.predictions(batch))
    return vectors


def _write(folder, writer, predictor, result, progress):
    """Predict the chosen images and write their pre-labels and ``suggestions.csv`` into ``folder``."""
    chosen, problems, written = result.chosen, [], []
    predictions = _bar(predictor.run(chosen), len(chosen), progress, "suggest: writing pre-labels")
    for prediction in _readable(predictions, chosen, problems):
        path = chosen[prediction.index]
        writer.add(path, prediction.labels)
        result.scores.setdefault(path, prediction.score)
        written.append(path)
    writer.finish()
    if not written:
        raise SuggestError(f"pool: none of the {len(chosen)} chosen image(s) can be read "
                           f"(first: {_problem(*problems[0])})")
    if problems:
        _warn_unreadable("pool: skipped", problems, "")
        result.unreadable += [path for path, _ in problems]
    with open(os.path.join(folder, "suggestions.csv"), "w", newline="", encoding="utf-8") as handle:
        table = csv.writer(handle)
        table.writerow(["rank", "image", "score"])
        table.writerows([rank, path, f"{result.scores[path]:.6f}"] for rank, path in enumerate(written, 1))
    result.chosen = written
    result.written = sorted(os.path.relpath(os.path.join(root, name), folder).replace(os.sep, "/")
                            for root, _, names in os.walk(folder) for name in names)


def _class_names(model, class_names):
    """The pre-labels' class names: ``class_names``, the model's, or the class ids; checked to fit the model."""
    n_classes = model.n_classes
    names = load_class_names(class_names) if class_names is not None else getattr(model, "class_names", None)
    names = [str(name) for name in names] if names else [str(class_id) for class_id in range(n_classes)]
    if len(names) != n_classes:
        raise SuggestError(f"class_names: {len(names)} name(s) for a model of {n_classes} classes")
    check_class_names(names)
    if len(set(names)) < len(names) or IGNORE_LABEL in names:
        raise SuggestError(f"class_names {names}: each name once, and not {IGNORE_LABEL} (labelme's void label)")
    return names


def _problem(path, error):
    """``error`` (an unreadable image's), naming ``path`` where it does not already."""
    return str(error) if os.fspath(path) in str(error) else f"{path}: {error}"


def _warn_unreadable(what, problems, after):
    shown = "; ".join(_problem(*problem) for problem in problems[:_SHOWN])
    shown += f" and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
    warnings.warn(f"{what} {len(problems)} unreadable image(s): {shown}{after}", stacklevel=3)


def _bar(iterable, total, progress, what):
    """``iterable`` with a progress bar named ``what`` (:func:`~keras_segmentation.inference.predictor.progress_bar`)."""
    bar = progress_bar(iterable, total, progress)
    if hasattr(bar, "set_description_str"):
        bar.set_description_str(what)
    return bar
