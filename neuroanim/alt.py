"""Alt text's words for numbers: what each scene's `alt` writer builds from.

A scene's card writes its own alt text from its data; these helpers make every
card say numbers, losses and trends the same way. No manim.
"""

from __future__ import annotations

import math


def num(x: float, zeros: bool = False, tiny: bool = False) -> str:
    """A number as a reader would say it: 2 significant digits below 1, one
    decimal up to 100, whole (with thousands commas) beyond, powers of ten from
    10^7; `zeros` keeps trailing zeros (0.30) so losses read with their
    precision; `tiny` keeps a non-zero value under 0.0001 (a learning rate of
    1e-320 is not 0), which otherwise reads 0."""
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else str(x)
    if abs(x) < 1e-4 and not tiny:
        return "0"
    if abs(x) < 1e-4 or abs(x) >= 1e7:  # 1e141 needs no 142 digits
        mant, _, exp = f"{x:.2g}".partition("e")
        return f"{mant} × 10^{int(exp)}" if exp else mant
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        s = f"{x:.1f}"
        return s if zeros or not s.endswith(".0") else s[:-2]
    return f"{x:#.2g}" if zeros else f"{x:.2g}"


def loss(x: float) -> str:
    return "below 0.0001" if 0 <= x < 1e-4 else num(x, zeros=True)


def trend(first: float, last: float) -> str:
    if last < 0.9 * first:
        return f"falls from {loss(first)} to {loss(last)}"
    if last > 1.1 * first:
        return f"rises from {loss(first)} to {loss(last)}"
    return f"only moves from {loss(first)} to {loss(last)}"


def point(x) -> str:
    return "(" + ", ".join(num(v) for v in x) + ")"


def outputs(run) -> str:
    pts = ", ".join(point(x) for x in run.inputs)
    outs = ", ".join(f"{p:.2f}" for p in run.predictions[-1])
    tgt = ", ".join(num(t) for t in run.targets)
    return f"outputs {outs} for inputs {pts} (targets {tgt})"


def setting(run) -> str:
    per = ", one update per example" if run.mode == "per-example" else ""
    return f"(learning rate {num(run.lr, tiny=True)}{per})"
