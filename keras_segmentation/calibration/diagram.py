"""The reliability diagram as inline SVG (no plotting library), like the report's training curves.

One square chart per :class:`~.reliability.ReliabilityCounts`: a bar per confidence bin up to its accuracy, the gap
to its mean confidence shaded red, the diagonal of perfect calibration dashed, and below it the share of the
pixels in each bin. The title gives the ECE and the NLL.

Example:
    >>> svg = reliability_svg(counts, "before (T = 1)")                          # doctest: +SKIP
    >>> svg.startswith("<svg"), svg.count('class="bar"') <= 15                  # doctest: +SKIP
    (True, True)
"""

import html

_SIZE, _LEFT, _TOP, _GAP, _SHARE, _BOTTOM, _RIGHT = 240, 44, 30, 10, 40, 30, 10
_ACCURACY, _MISS, _SHARES = "#1f77b4", "#d62728", "#7f7f7f"


def reliability_svg(counts, title):
    """An ``<svg>`` reliability diagram of ``counts`` titled ``title`` (the ECE and NLL are added to it)."""
    width, height = _LEFT + _SIZE + _RIGHT, _TOP + _SIZE + _GAP + _SHARE + _BOTTOM
    bottom, share_bottom, n = _TOP + _SIZE, _TOP + _SIZE + _GAP + _SHARE, counts.n_bins
    step = _SIZE / n

    def y(value):
        return bottom - value * _SIZE

    heading = f"{title}: ECE {100 * counts.ece:.2f} %, NLL {counts.nll:.4f}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{html.escape(heading)}"><rect width="100%" height="100%" fill="#fff"/>',
        f'<text x="{_LEFT}" y="16" font-size="12" font-weight="bold">{html.escape(heading)}</text>',
    ]
    shares = counts.counts / max(1, counts.n_pixels)
    top_share = max(float(shares.max()), 1e-12)
    for i, (accuracy, confidence, share) in enumerate(zip(counts.accuracy, counts.confidence, shares)):
        if not counts.counts[i]:
            continue
        x = _LEFT + i * step
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{y(accuracy):.1f}" width="{step:.1f}" '
                     f'height="{bottom - y(accuracy):.1f}" fill="{_ACCURACY}" stroke="#fff" '
                     f'data-accuracy="{float(accuracy)!r}" data-confidence="{float(confidence)!r}" '
                     f'data-pixels="{counts.counts[i]}"/>')
        low, high = sorted((y(accuracy), y(confidence)))
        parts.append(f'<rect x="{x:.1f}" y="{low:.1f}" width="{step:.1f}" height="{high - low:.1f}" '
                     f'fill="{_MISS}" fill-opacity="0.35"/>')
        bar = share / top_share * _SHARE
        parts.append(f'<rect x="{x:.1f}" y="{share_bottom - bar:.1f}" width="{step:.1f}" height="{bar:.1f}" '
                     f'fill="{_SHARES}" stroke="#fff"/>')
    right = _LEFT + _SIZE
    parts += [
        f'<path d="M{_LEFT},{_TOP} V{bottom} H{right}" stroke="#888" fill="none"/>',
        f'<path d="M{_LEFT},{bottom} L{right},{_TOP}" stroke="#222" stroke-dasharray="4 3" fill="none"/>',
        f'<path d="M{_LEFT},{share_bottom} H{right}" stroke="#888" fill="none"/>',
        f'<text x="{_LEFT - 4}" y="{_TOP + 4}" font-size="11" text-anchor="end">1</text>',
        f'<text x="{_LEFT - 4}" y="{bottom}" font-size="11" text-anchor="end">0</text>',
        f'<text x="{_LEFT - 30}" y="{(_TOP + bottom) / 2:.0f}" font-size="11" '
        f'transform="rotate(-90 {_LEFT - 30} {(_TOP + bottom) / 2:.0f})" text-anchor="middle">accuracy</text>',
        f'<text x="{_LEFT - 4}" y="{share_bottom - _SHARE / 2 + 4:.0f}" font-size="11" text-anchor="end">pixels</text>',
        f'<text x="{_LEFT}" y="{share_bottom + 14}" font-size="11">0</text>',
        f'<text x="{(_LEFT + right) / 2:.0f}" y="{share_bottom + 14}" font-size="11" text-anchor="middle">'
        "confidence</text>",
        f'<text x="{right}" y="{share_bottom + 14}" font-size="11" text-anchor="end">1</text>',
        "</svg>",
    ]
    return "".join(parts)
