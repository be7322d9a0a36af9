"""Numbers as the scenes print them: true minus signs, fixed places, nice ticks.

Text only, no manim: a scene's card (its ending's words, its alt text) and its
drawing format numbers the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def minus(s: str) -> str:
    """A true minus sign "−" for "-", and no sign on a number shown as zero."""
    if s.startswith("-") and not any(c in "123456789" for c in s):
        s = s[1:]
    return s.replace("-", "−")


def fmt(value: float, places: int = 3, sign: bool = False) -> str:
    """Fixed places with a true minus: −0.421; with `sign` also a plus: +6.27."""
    s = minus(f"{value:.{places}f}")
    return "+" + s if sign and not s.startswith("−") else s


def plain(value: float, digits: int = 6) -> str:
    """A number as people write it, never in e-notation: 1, 0.5, 0.0167, 1000."""
    return minus(np.format_float_positional(value, precision=digits,
                                            fractional=False, trim="-"))


def pair(values: Sequence[float], text: Callable[[float], str] = fmt) -> str:
    """`(a, b)`, each formatted by `text`: an input, a weight vector."""
    return f"({text(values[0])}, {text(values[1])})"


def loss_text(value: float) -> str:
    """A loss with three decimals, or four below 0.01 (0.0012, not 0.001)."""
    return fmt(value, 3 if value >= 0.01 else 4)


def readable(value: float, places: int = 3) -> str:
    """A recorded number in at most 9 characters: fixed point, then one decimal
    with a thousands separator, then m×10ⁿ from 10,000 on (a diverging loss can
    reach 1e40), with fewer mantissa digits if the exponent is long."""
    a = abs(value)
    if a < 1e3:
        return fmt(value, places)
    if a < 1e4:
        return minus(f"{value:,.1f}")
    for digits in (2, 1, 0):  # drop mantissa digits before going past 9 glyphs
        mant, exp = f"{value:.{digits}e}".split("e")
        text = minus(mant) + "×10" + str(int(exp)).translate(SUPERSCRIPT)
        if len(text) <= 9:
            break
    return text


def nice_step(span: float, target: int, whole: bool = False) -> float:
    """A 1, 2, 2.5 or 5 times a power of ten giving about `target` ticks over
    `span`; with `whole`, an integer (epochs and steps have no halves)."""
    raw = span / max(target, 1)
    if whole and raw <= 1:
        return 1.0
    mag = 10.0 ** math.floor(math.log10(raw))
    return next(s for m in (1, 2, 2.5, 5, 10)
                if (s := m * mag) >= raw * 0.999 and not (whole and s % 1))


def nice_top(peak: float, target: int = 3) -> tuple[float, float]:
    """(top, step): `peak` rounded up to a whole number of about `target` nice steps."""
    if not peak > 0:
        return 1.0, 1.0
    step = nice_step(peak, target)
    return math.ceil(peak / step - 1e-9) * step, step


def tick_values(lo: float, hi: float, step: float) -> list[float]:
    """Every multiple of `step` in [lo, hi]."""
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    return [k * step for k in range(first, last + 1)]


def tick_text(value: float, step: float) -> str:
    """A tick label with just the decimals its step needs and a true minus sign."""
    places = max(0, -math.floor(math.log10(step) + 1e-9))
    while places < 6 and abs(step * 10**places - round(step * 10**places)) > 1e-9:
        places += 1  # 2.5 -> one decimal, 0.25 -> two
    return fmt(value, places)
