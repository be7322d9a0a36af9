"""Alt text's words for numbers: what each scene's `alt` writer builds from.

A scene's card writes its own alt text from its data; these helpers make every
card say numbers, losses and trends the same way. No manim.
"""

from __future__ import annotations

import math

from .wording import Strings, language, localise

WORDS = Strings({
    "below": "below {value}",
    "falls": "falls from {first} to {last}",
    "rises": "rises from {first} to {last}",
    "flat": "only moves from {first} to {last}",
    "outputs": "outputs {outs} for inputs {points} (targets {targets})",
    "setting": "(learning rate {lr})",
    "setting.per_example": "(learning rate {lr}, one update per example)",
}, de={
    "below": "unter {value}",
    "falls": "sinkt von {first} auf {last}",
    "rises": "steigt von {first} auf {last}",
    "flat": "bewegt sich nur von {first} auf {last}",
    "outputs": "Ausgaben {outs} für die Eingaben {points} (Ziele {targets})",
    "setting": "(Lernrate {lr})",
    "setting.per_example": "(Lernrate {lr}, eine Anpassung pro Beispiel)",
})
"""The words every scene's alt text shares; a scene's own table has the rest."""


def num(x: float, zeros: bool = False, tiny: bool = False) -> str:
    """A number as a reader would say it: 2 significant digits below 1, one
    decimal up to 100, whole (with thousands commas) beyond, powers of ten from
    10^7; `zeros` keeps trailing zeros (0.30) so losses read with their
    precision; `tiny` keeps a non-zero value under 0.0001 (a learning rate of
    1e-320 is not 0), which otherwise reads 0."""
    return localise(_num(float(x), zeros, tiny))


def _num(x: float, zeros: bool, tiny: bool) -> str:
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
    return WORDS("below", value=num(1e-4, tiny=True)) if 0 <= x < 1e-4 else \
        num(x, zeros=True)


def trend(first: float, last: float) -> str:
    key = "falls" if last < 0.9 * first else "rises" if last > 1.1 * first else "flat"
    return WORDS(key, first=loss(first), last=loss(last))


def point(x) -> str:
    return "(" + language().list_sep.join(num(v) for v in x) + ")"


def outputs(run) -> str:
    sep = language().list_sep
    pts = sep.join(point(x) for x in run.inputs)
    outs = sep.join(localise(f"{p:.2f}") for p in run.predictions[-1])
    tgt = sep.join(num(t) for t in run.targets)
    return WORDS("outputs", outs=outs, points=pts, targets=tgt)


def setting(run) -> str:
    key = "setting.per_example" if run.mode == "per-example" else "setting"
    return WORDS(key, lr=num(run.lr, tiny=True))
