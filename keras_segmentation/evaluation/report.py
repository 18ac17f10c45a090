"""The HTML evaluation report: ``evaluate(..., report_dir=DIR)`` writes ``DIR/index.html``.

One self-contained page (every image is an inline base64 PNG, so the file can be
mailed or archived alone; nothing else is written to ``DIR``), written atomically:

* the run's settings: model, input size, classes, precision and the rest of the
  checkpoint config, and the arguments ``evaluate`` was given;
* the summary scores and the per-class table (IoU, accuracy, Dice, frequency);
* the confusion matrix normalised per row (share of each true class predicted as
  each class), as a table shaded from white (0 %) to blue (100 %);
* the ``report_images`` worst images by per-image mean IoU: ``image | truth |
  prediction | errors`` (errors: black correct, red wrong, grey not scored), with
  the class colour legend; :class:`WorstImages` keeps only those while evaluating;
* the training curves of ``<checkpoints_path>_history.json`` (:mod:`.curves`);
* calibration: the expected calibration error, the NLL and the reliability diagram of the probabilities as the
  model gives them and, for a model with a calibration temperature (``keras_segmentation calibrate``), after it
  (:mod:`keras_segmentation.calibration`).

Example:
    >>> scores = evaluate(checkpoints_path="ckpt/run", inp_images_dir="imgs/", annotations_dir="masks/",
    ...                   report_dir="report/")                              # doctest: +SKIP
    >>> # open report/index.html in a browser
"""

import base64
import heapq
import html
import math
import os
from datetime import datetime, timezone

import cv2
import numpy as np

from .. import atomic
from ..calibration import reliability_svg
from ..data.visualize import class_colors, get_colored_segmentation_image, get_legends, to_display_image
from ..errors import OutputWriteError
from ..version import __version__
from .curves import history_charts

#: widest column of the worst-image panels, in pixels (larger images are shrunk)
PANEL_WIDTH = 320
#: narrower images are shown enlarged (up to 4x, pixels kept sharp) to about this width
MIN_WIDTH = 160
_WRONG, _IGNORED = (0, 0, 255), (160, 160, 160)  # BGR

_STYLE = """body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}td.name{text-align:left}
.swatch{display:inline-block;width:14px;height:14px;border:1px solid #888}.cm td{min-width:36px}
.cm td.diag{outline:2px solid #222}figure{margin:12px 0}figcaption{font-size:90%}img{image-rendering:pixelated}
.heads span{display:inline-block;text-align:center;font-size:90%}svg{margin:4px 12px 4px 0}"""


class WorstImages:
    """The ``n`` images with the lowest score seen so far, shrunk for display (ties: the earlier image stays).

    Example:
        >>> worst = WorstImages(1)
        >>> for i, score in enumerate([0.9, 0.2, 0.5]):
        ...     worst.add(score, f"img{i}", np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4)), np.zeros((4, 4)))
        >>> [(item[0], item[1]) for item in worst.items()]
        [(0.2, 'img1')]
    """

    def __init__(self, n):
        self.n = max(0, int(n))
        self._heap = []  # (-score, -order, item): the root is the best of the kept images
        self._count = 0

    def add(self, score, name, image, truth, labels):
        """Offer one image; images whose score is NaN (nothing scored) are left out."""
        self._count += 1
        if self.n == 0 or math.isnan(score) or (len(self._heap) == self.n and -self._heap[0][0] <= score):
            return
        item = (float(score), name, *_shrink(image, truth, labels))
        heapq.heappush(self._heap, (-float(score), -self._count, item))
        if len(self._heap) > self.n:
            heapq.heappop(self._heap)

    def items(self):
        """``[(score, name, image, truth, labels), ...]``, worst first."""
        return [entry[2] for entry in sorted(self._heap, key=lambda e: (-e[0], -e[1]))]


def write_report(report_dir, scores, worst=(), settings=None, history=(), ignore_index=None, calibration=None):
    """Write ``report_dir/index.html`` atomically (creating the folder); returns its path.

    Args:
        scores: the dict :func:`~keras_segmentation.evaluation.evaluate` returns.
        worst: ``[(score, name, image, truth, labels), ...]`` (:meth:`WorstImages.items`).
        settings: ``{label: value}`` shown first (``None`` values are left out).
        history: per-epoch log dicts (:func:`~keras_segmentation.checkpoints.history.read_history`).
        ignore_index: the label not scored, drawn grey in the error maps.
        calibration: ``(temperature, before, after)``: the model's temperature and the
            :class:`~keras_segmentation.calibration.ReliabilityCounts` of its probabilities without and with it
            (``after`` ``None`` for a model without one); ``None`` leaves the section out.

    Raises:
        OutputWriteError: the folder or the file cannot be written.

    Example:
        >>> write_report("report", evaluate(model, inp_images_dir="imgs/", annotations_dir="masks/"))  # doctest: +SKIP
        'report/index.html'
    """
    n = len(scores["class_wise_IU"])
    names = scores.get("class_names") or [str(c) for c in range(n)]
    worst = list(worst)
    sections = [
        _section("settings", "Settings", _key_values(settings or {})),
        _section("summary", "Summary", _summary(scores)),
        _section("classes", "Per-class scores", _class_table(scores, names)),
        _section("confusion", "Confusion matrix, normalised per row (true class) in %", _confusion(scores, names)),
        _section("worst", f"The {len(worst)} worst images by per-image mean IoU", _worst(worst, names, ignore_index)),
        _section("curves", "Training curves", history_charts(history) or "<p>No training history found.</p>"),
    ]
    if calibration is not None:
        sections.insert(4, _section("calibration", "Calibration: confidence against accuracy", _calibration(*calibration)))
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Evaluation report</title>'
        f"<style>{_STYLE}</style></head><body><h1>Evaluation report</h1>"
        f"<p>keras-segmentation {__version__}, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC</p>"
        + "".join(sections) + "</body></html>\n"
    )
    path = os.path.join(os.fspath(report_dir), "index.html")
    try:
        os.makedirs(os.fspath(report_dir), exist_ok=True)
    except OSError as err:
        raise OutputWriteError(f"{os.fspath(report_dir)}: cannot create the report folder ({err.strerror or err})") from None
    atomic.atomic_write_text(path, page)
    return path


def run_settings(model, config=None, **arguments):
    """The report's settings: the model (and its checkpoint ``config``), then ``arguments`` (``None`` left out).

    Example:
        >>> run_settings(model, read_config("ckpt/run"), batch_size=2)["model"]   # doctest: +SKIP
        'unet_mini'
    """
    from ..precision import model_precision

    config = config or {}
    arguments.pop("precision", None)  # the model's own says what it ran in ("auto" resolved)
    size = {key: getattr(model, key, None) or "any" for key in ("input_height", "input_width", "output_height", "output_width")}
    settings = {
        "model": config.get("model_class") or getattr(model, "model_name", None) or type(model).__name__,
        "input size (height x width)": "{input_height} x {input_width}".format(**size),
        "output size (height x width)": "{output_height} x {output_width}".format(**size),
        "classes": model.n_classes,
        "channels": getattr(model, "channels", None),
        "normalization": getattr(model, "normalization", None),
        "precision in training": config.get("precision"),
        "precision in evaluation": model_precision(model) if hasattr(model, "layers") else None,
        "ignore_index in training": config.get("ignore_index"),
        "seed": config.get("seed"),
        "trained with keras-segmentation": config.get("library_version"),
    }
    settings.update({f"evaluate: {key}": value for key, value in arguments.items() if value is not None})
    return settings


def error_map(truth, labels, ignore_index=None, n_classes=None):
    """BGR uint8: black where ``labels`` equals ``truth``, red where not, grey where nothing is scored.

    Example:
        >>> error_map(np.array([[0, 1, 255]]), np.array([[0, 0, 1]]), ignore_index=255)[0].tolist()
        [[0, 0, 0], [0, 0, 255], [160, 160, 160]]
    """
    truth, labels = np.asarray(truth), np.asarray(labels)
    out = np.zeros(truth.shape + (3,), np.uint8)
    out[truth != labels] = _WRONG
    unscored = truth == ignore_index if ignore_index is not None else np.zeros(truth.shape, bool)
    if n_classes is not None:
        unscored |= (truth < 0) | (truth >= n_classes)
    out[unscored] = _IGNORED
    return out


def png_data_uri(image):
    """``data:image/png;base64,...`` of a BGR uint8 image, for an ``<img src>``.

    Example:
        >>> png_data_uri(np.zeros((2, 2, 3), np.uint8))[:22]
        'data:image/png;base64,'
    """
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise OutputWriteError(f"cannot encode a {image.shape} image as PNG for the report")
    return "data:image/png;base64," + base64.b64encode(encoded.tobytes()).decode("ascii")


# ------------------------------------------------------------------ sections
def _section(anchor, title, body):
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2>{body}</section>'


def _key_values(pairs):
    rows = "".join(
        f'<tr><th class="name">{html.escape(str(k))}</th><td class="name">{html.escape(str(v))}</td></tr>'
        for k, v in pairs.items() if v is not None
    )
    return f"<table>{rows}</table>"


def _summary(scores):
    present = len(scores["present_classes"])
    return _key_values({
        "mean IoU": f"{_pct(scores['mean_IU'])} % over {present} of {len(scores['class_wise_IU'])} classes",
        "frequency-weighted IoU": f"{_pct(scores['frequency_weighted_IU'])} %",
        "pixel accuracy": f"{_pct(scores['pixel_accuracy'])} %",
        "mean class accuracy": f"{_pct(scores['mean_class_accuracy'])} %",
        "mean Dice": f"{_pct(scores['mean_dice'])} %",
        "pixels scored": scores["n_pixels"],
    })


_COLUMNS = (("IoU", "class_wise_IU"), ("accuracy", "class_wise_accuracy"), ("Dice", "class_wise_dice"),
            ("frequency", "class_wise_frequency"))


def _class_table(scores, names):
    ignored = set(scores.get("ignored_classes", []))
    head = "<tr><th>id</th><th>class</th>" + "".join(f"<th>{label} %</th>" for label, _ in _COLUMNS) + "</tr>"
    rows = []
    for c, name in enumerate(names):
        label = html.escape(str(name)) + (" (ignored)" if c in ignored else "")
        cells = "".join(
            f'<td data-key="{key}" data-value="{float(scores[key][c])!r}">{_pct(scores[key][c])}</td>' for _, key in _COLUMNS
        )
        rows.append(f'<tr data-class="{c}"><td>{c}</td><td class="name">{_swatch(c)} {label}</td>{cells}</tr>')
    return f'<table class="classes">{head}{"".join(rows)}</table>'


def _confusion(scores, names):
    cm = np.asarray(scores["confusion_matrix"], np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = cm / cm.sum(axis=1, keepdims=True)
    head = "<tr><th>true \\ predicted</th>" + "".join(f"<th>{html.escape(str(n))}</th>" for n in names) + "</tr>"
    rows = []
    for i, name in enumerate(names):
        cells = []
        for j, share in enumerate(shares[i]):
            style = "" if np.isnan(share) else _shade(share)
            diag = ' class="diag"' if i == j else ""
            cells.append(f'<td{diag} style="{style}" data-value="{float(share)!r}">{_pct(share, 0)}</td>')
        rows.append(f'<tr><th class="name">{html.escape(str(name))}</th>{"".join(cells)}</tr>')
    return f'<table class="cm">{head}{"".join(rows)}</table>'


def _worst(worst, names, ignore_index):
    if not worst:
        return "<p>No image to show.</p>"
    n_classes = len(names)
    legend = f'<p>Class colours:</p><img alt="class colour legend" src="{png_data_uri(get_legends(names))}">'
    keys = ("<p>Errors: black correct, red wrong, grey not scored (ignored label).</p>")
    figures = []
    for score, name, image, truth, labels in worst:
        panel = np.hstack([
            image,
            get_colored_segmentation_image(truth, n_classes),
            get_colored_segmentation_image(labels, n_classes),
            error_map(truth, labels, ignore_index, n_classes),
        ])
        width = image.shape[1] * max(1, min(4, MIN_WIDTH // image.shape[1]))  # small images: shown enlarged
        heads = "".join(f'<span style="width:{width}px">{h}</span>' for h in ("image", "truth", "prediction", "errors"))
        figures.append(
            f'<figure><div class="heads">{heads}</div><img alt="{html.escape(name)}" width="{4 * width}" '
            f'src="{png_data_uri(panel)}">'
            f"<figcaption>{html.escape(name)}: mean IoU {_pct(score)} %</figcaption></figure>"
        )
    return legend + keys + "".join(figures)


def _calibration(temperature, before, after):
    rows = [("as the model gives them (T = 1)", "before", before)]
    if after is not None:
        rows.append((f"at the model's temperature T = {temperature:.3f}", f"after (T = {temperature:.3f})", after))
    head = "<tr><th>probabilities</th><th>ECE %</th><th>NLL</th><th>pixels</th></tr>"
    body = "".join(
        f'<tr><td class="name">{html.escape(label)}</td><td data-key="ece" data-value="{counts.ece!r}">'
        f'{_pct(counts.ece)}</td><td data-key="nll" data-value="{counts.nll!r}">{counts.nll:.4f}</td>'
        f"<td>{counts.n_pixels}</td></tr>" for label, _, counts in rows
    )
    note = ("<p>Expected calibration error (ECE): the pixel-weighted mean gap between accuracy and top-label "
            f"confidence in {before.n_bins} equal confidence bins; NLL: the mean negative log-likelihood of the true "
            "class. Bars: accuracy per bin; shaded red: the gap to the bin's mean confidence (above a bar: over-confident, "
            "over it: under-confident); dashed: perfect calibration; grey: the share of the pixels in each bin.</p>")
    if after is None:
        note += ("<p>This model has no calibration temperature: <code>keras_segmentation calibrate</code> fits one "
                 "on validation images and keeps it with the model.</p>")
    charts = "".join(reliability_svg(counts, title) for _, title, counts in rows)
    return f"<table>{head}{body}</table>{note}<div>{charts}</div>"


# ------------------------------------------------------------------ helpers
def _shrink(image, truth, labels, width=PANEL_WIDTH):
    """Display copies no wider than ``width``: the image (BGR uint8) and the two label maps (nearest)."""
    image, truth, labels = to_display_image(image), np.asarray(truth), np.asarray(labels)
    if image.shape[1] <= width:
        return image, truth.copy(), labels.copy()
    size = (width, max(1, round(image.shape[0] * width / image.shape[1])))
    shrink = [cv2.resize(a.astype(np.int32), size, interpolation=cv2.INTER_NEAREST) for a in (truth, labels)]
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), *shrink


def _swatch(class_id):
    r, g, b = class_colors[class_id]
    return f'<span class="swatch" style="background:rgb({r},{g},{b})"></span>'


def _shade(share):
    level = round(255 * (1 - share))
    return f"background:rgb({level},{level},255);color:{'#fff' if share > 0.5 else '#000'}"


def _pct(value, digits=2):
    value = float(value)
    return "-" if math.isnan(value) else f"{100 * value:.{digits}f}"

