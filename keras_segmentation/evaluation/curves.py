"""Training curves as inline SVG (no plotting library): one chart per metric, training and validation lines.

The input is the per-epoch history training keeps in ``<checkpoints_path>_history.json``
(:func:`keras_segmentation.checkpoints.history.read_history`): ``loss`` and ``val_loss`` share
a chart, as do ``mean_iou`` and ``val_mean_iou``; ``learning_rate`` gets its own.

Example:
    >>> svg = history_charts([{"epoch": 1, "loss": 0.9, "val_loss": 1.0}, {"epoch": 2, "loss": 0.5, "val_loss": 0.7}])
    >>> svg.count("<svg"), svg.count("<polyline")
    (1, 2)
"""

import html
import math

#: line colours of the training and the validation series
COLOURS = {"train": "#1f77b4", "validation": "#ff7f0e"}
_WIDTH, _HEIGHT, _LEFT, _RIGHT, _TOP, _BOTTOM = 420, 220, 58, 12, 26, 34


def history_charts(history):
    """One ``<svg>`` chart per metric of ``history`` (a list of per-epoch dicts), as one HTML string.

    Returns ``""`` when there is nothing to draw. Missing and non-finite values break the line.
    """
    bases = []
    for entry in history:
        for key in entry:
            base = key[4:] if key.startswith("val_") else key
            if key != "epoch" and base not in bases:
                bases.append(base)
    bases.sort(key=lambda b: (b != "loss", b == "learning_rate", b))
    charts = []
    for base in bases:
        series = {
            name: [(entry["epoch"], entry.get(key)) for entry in history]
            for name, key in (("train", base), ("validation", f"val_{base}"))
            if any(key in entry for entry in history)
        }
        charts.append(svg_chart(base, series))
    return "".join(charts)


def svg_chart(title, series):
    """A line chart: ``series`` maps a name in :data:`COLOURS` to ``[(x, y), ...]`` (``y`` may be ``None``).

    Example:
        >>> svg_chart("loss", {"train": [(1, 0.5), (2, None), (3, 0.2)]}).count("<circle")
        2
    """
    points = [(x, y) for line in series.values() for x, y in line if _finite(y)]
    if not points:
        return ""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y0, y1 = min(ys), max(ys)
    if y1 - y0 < 1e-12:
        y0, y1 = y0 - 0.5 * (abs(y0) or 1), y1 + 0.5 * (abs(y1) or 1)

    def at(x, y):
        px = _LEFT + (x - x0) / (x1 - x0) * (_WIDTH - _LEFT - _RIGHT)
        py = _TOP + (y1 - y) / (y1 - y0) * (_HEIGHT - _TOP - _BOTTOM)
        return px, py

    bottom, right = _HEIGHT - _BOTTOM, _WIDTH - _RIGHT
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" role="img" '
        f'aria-label="{html.escape(title)}"><rect width="100%" height="100%" fill="#fff"/>',
        f'<text x="{_LEFT}" y="16" font-size="13" font-weight="bold">{html.escape(title)}</text>',
        f'<path d="M{_LEFT},{_TOP} V{bottom} H{right}" stroke="#888" fill="none"/>',
        f'<text x="{_LEFT - 4}" y="{_TOP + 4}" font-size="11" text-anchor="end">{y1:.4g}</text>',
        f'<text x="{_LEFT - 4}" y="{bottom}" font-size="11" text-anchor="end">{y0:.4g}</text>',
        f'<text x="{_LEFT}" y="{bottom + 14}" font-size="11">epoch {x0:g}</text>',
        f'<text x="{right}" y="{bottom + 14}" font-size="11" text-anchor="end">{max(xs):g}</text>',
    ]
    for i, (name, line) in enumerate(series.items()):
        colour = COLOURS.get(name, "#2ca02c")
        for run in _runs(line):
            coords = " ".join("{:.1f},{:.1f}".format(*at(x, y)) for x, y in run)
            parts.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts += ['<circle cx="{:.1f}" cy="{:.1f}" r="2.5" fill="{}"/>'.format(*at(x, y), colour)
                  for x, y in line if _finite(y)]
        parts.append(f'<text x="{right - 90 * (len(series) - i)}" y="16" font-size="11" fill="{colour}">{name}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _runs(line):
    """The stretches of consecutive finite points of ``line`` with at least two points."""
    runs, current = [], []
    for x, y in line:
        if _finite(y):
            current.append((x, y))
        else:
            runs.append(current)
            current = []
    runs.append(current)
    return [run for run in runs if len(run) > 1]


def _finite(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
