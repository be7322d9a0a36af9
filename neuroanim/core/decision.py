"""A neuron's decision: right or wrong at 0.5, its boundary line, separable targets."""

from __future__ import annotations

import math

import numpy as np

Point = tuple[float, float]


def verdicts(predictions, targets) -> np.ndarray:
    """True where an output is on its target's side of 0.5, elementwise.

    The one accuracy rule of the lesson (`NeuronRun.accuracy` counts these): an
    output answers yes above 0.5 and no below it, so it is right when
    |p - target| < 0.5 for a target of 0 or 1. An output of exactly 0.5 answers
    neither and is wrong whatever the target (XOR's stalled neuron outputs 0.50).
    """
    return np.abs(np.asarray(predictions, float) - np.asarray(targets, float)) < 0.5


def separable(targets) -> bool:
    """Can one straight line put the four corners' 1s on one side and 0s on the other?

    `targets` are the 0/1 targets of the corners in `INPUTS` order: (0, 0),
    (0, 1), (1, 0), (1, 1). Of the 16 such truth tables all but XOR and XNOR
    are: a line cannot split a square's corners so that each diagonal's two
    corners agree while the two diagonals disagree (any line through the square
    parts at least one diagonal pair, or leaves both pairs on one side).
    """
    t = np.asarray(targets, dtype=float)
    if t.shape != (4,) or not np.all((t == 0) | (t == 1)):
        raise ValueError(f"targets must be four values of 0 or 1, got {targets!r}")
    t00, t01, t10, t11 = t.tolist()
    return not (t00 == t11 and t01 == t10 and t00 != t01)


def _corners(lo: float, hi: float) -> list[Point]:
    """The square's corners in order round its border (anticlockwise from (lo, lo))."""
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"need finite lo < hi, got lo={lo!r}, hi={hi!r}")
    return [(lo, lo), (hi, lo), (hi, hi), (lo, hi)]


def boundary_flat(
    w, b: float, lo: float = 0.0, hi: float = 1.0, *, flat: float = 0.0
) -> bool:
    """Is |z| = |w1 x1 + w2 x2 + b| below `flat` on the whole square [lo, hi]^2?

    Also true when z is 0 everywhere (w = 0, b = 0), whatever `flat`: there is
    then no line at all. z is linear, so its largest |z| is at a corner. A scene
    picks `flat` for what its viewer can tell apart: |z| < 0.02 keeps the
    output within 0.005 of 0.5, so it shows 0.50 everywhere.
    """
    w1, w2, b = float(w[0]), float(w[1]), float(b)
    top = max(abs(w1 * x1 + w2 * x2 + b) for x1, x2 in _corners(lo, hi))
    return top < flat or top == 0.0


def boundary_segment(
    w, b: float, lo: float = 0.0, hi: float = 1.0, *, flat: float = 0.0
) -> tuple[Point, Point] | None:
    """Where the line w1 x1 + w2 x2 + b = 0 (output 0.5) crosses the square [lo, hi]^2.

    Returns its two end points ((x1, x2), (x1, x2)), both on the square's
    border, or None when the line misses the square, touches it in one point,
    or the output is flat there (`boundary_flat` with the same `flat`). A line
    lying along an edge is that edge.
    """
    if boundary_flat(w, b, lo, hi, flat=flat):
        return None
    w1, w2, b = float(w[0]), float(w[1]), float(b)
    corners = _corners(lo, hi)
    z = [w1 * x1 + w2 * x2 + b for x1, x2 in corners]
    pts = []
    for i in range(4):  # edge i -> i+1: z is linear along it, 0 where its sign flips
        za, zb = z[i], z[(i + 1) % 4]
        (ax, ay), (bx, by) = corners[i], corners[(i + 1) % 4]
        if za == 0:
            pts.append((ax, ay))
        elif (za < 0) != (zb < 0) and zb != 0:  # signs, not za * zb: no underflow
            s = za / (za - zb)
            pts.append((ax + s * (bx - ax), ay + s * (by - ay)))
    pts = list(dict.fromkeys(pts))
    if len(pts) < 2:
        return None
    p, q = max(((a, c) for a in pts for c in pts), key=lambda pq: math.dist(*pq))
    return (p, q) if math.dist(p, q) > 1e-9 * (hi - lo) else None
