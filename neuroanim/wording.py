"""Words and numbers as the scenes print them.

Words: every string a scene shows, captions or says in alt text comes from its
card's `Strings` table (English defaults, translations by language, each string
under a key, numbers through `{placeholders}`); a lesson figure's `text = {...}`
overrides any of them for one render (`speaking`).

Numbers: true minus signs, fixed places, nice ticks, with the decimal mark and
thousands separator of the language being spoken (0.304 in English, 0,304 in
German).

Text only, no manim: a scene's card (its ending's words, its alt text) and its
drawing format words and numbers the same way.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np


# ------------------------------------------------------------------- languages
@dataclass(frozen=True)
class Language:
    """How one language writes numbers: "0,304", "1.234,5", "(0,5; 1)"."""

    code: str  # BCP 47, as in <html lang> and <track srclang>
    name: str  # in the language itself, for the page's track labels
    decimal: str = "."
    thousands: str = ","
    list_sep: str = ", "  # between the numbers of a pair: (0.5, 1) / (0,5; 1)


LANGUAGES = {
    "en": Language("en", "English"),
    "de": Language("de", "Deutsch", decimal=",", thousands=".", list_sep="; "),
}
DEFAULT_LANGUAGE = "en"

_spoken: dict = {"language": LANGUAGES[DEFAULT_LANGUAGE], "text": {}, "owner": None}


def language() -> Language:
    """The language scenes speak now (`speaking` sets it; English otherwise)."""
    return _spoken["language"]


@contextmanager
def speaking(lang: str = DEFAULT_LANGUAGE, text: Mapping[str, str] | None = None,
             owner: Strings | None = None) -> Iterator[Language]:
    """Scenes, captions and alt text in `lang`, with `text` overriding strings by key.

    One render speaks one language with one figure's overrides, which apply to
    the `owner` table (the scene's), or to every table when there is none; the
    previous state comes back when the block ends.
    """
    if lang not in LANGUAGES:
        raise KeyError(f"unknown language {lang!r}; choose from {', '.join(LANGUAGES)}")
    before = dict(_spoken)
    _spoken.update(language=LANGUAGES[lang], text=dict(text or {}), owner=owner)
    try:
        yield LANGUAGES[lang]
    finally:
        _spoken.clear()
        _spoken.update(before)


def localise(s: str) -> str:
    """An English-written number ("1,234.5") in the language spoken ("1.234,5")."""
    lang = language()
    if lang.decimal == "." and lang.thousands == ",":
        return s
    return s.translate(str.maketrans({".": lang.decimal, ",": lang.thousands}))


# ----------------------------------------------------------------------- words
def placeholders(template: str) -> set[str]:
    """The `{names}` a template fills in; ValueError for a malformed one."""
    names = set()
    for _, name, spec, conv in string.Formatter().parse(template):
        if name is None:
            continue
        if not name.isidentifier() or spec or conv:
            raise ValueError(f"{{{name}}} is not a placeholder (use {{name}})")
        names.add(name)
    return names


class Strings(Mapping):
    """A scene's words: English defaults by key, translations by language.

        WORDS = Strings({"title": "Gradient descent",
                         "bounced": "bounced in ({steps} steps)"},
                        de={"title": "Gradientenabstieg",
                            "bounced": "springt ({steps} Schritte)"})
        WORDS("bounced", steps=12)

    A call gives the figure's override if the render has one, else the spoken
    language's translation, else the English default, with its placeholders
    filled in. Translations must carry every key and the same placeholders.
    """

    def __init__(self, defaults: Mapping[str, str], **translations: Mapping[str, str]):
        self.defaults = dict(defaults)
        self.translations = {DEFAULT_LANGUAGE: self.defaults,
                             **{k: dict(v) for k, v in translations.items()}}
        self.slots = {k: placeholders(v) for k, v in self.defaults.items()}
        for lang, table in self.translations.items():
            if lang not in LANGUAGES:
                raise ValueError(f"translation {lang!r}: unknown language; "
                                 f"neuroanim knows {', '.join(LANGUAGES)}")
            for problem in self.problems(table, exhaustive=True):
                raise ValueError(f"translation {lang!r}: {problem}")

    # Mapping: the English defaults
    def __getitem__(self, key: str) -> str:
        return self.defaults[key]

    def __iter__(self):
        return iter(self.defaults)

    def __len__(self) -> int:
        return len(self.defaults)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.translations)

    def template(self, key: str) -> str:
        spoken = _spoken["text"].get(key)
        if spoken is not None and _spoken["owner"] in (None, self):
            return spoken
        table = self.translations.get(language().code, self.defaults)
        return table.get(key, self.defaults[key])

    def __call__(self, key: str, **values) -> str:
        if key not in self.defaults:
            raise KeyError(f"no string {key!r}; this table has {', '.join(self)}")
        template = self.template(key)
        return template.format(**values) if self.slots[key] else template

    def problems(self, table: Mapping[str, object], exhaustive: bool = False
                 ) -> list[str]:
        """What is wrong with overrides (or a translation): unknown keys, text
        that is not a string, placeholders missing, unknown or malformed."""
        out = []
        for key, text in table.items():
            if key not in self.defaults:
                out.append(f"unknown key {key!r}; known keys: {', '.join(self) or 'none'}")
                continue
            if not isinstance(text, str):
                out.append(f"{key}: must be text")
                continue
            try:
                got = placeholders(text)
            except ValueError as exc:
                out.append(f"{key}: malformed placeholder ({exc})")
                continue
            want = self.slots[key]
            if got - want:
                known = ", ".join(f"{{{n}}}" for n in sorted(want)) or "none"
                out.append(f"{key}: unknown placeholder "
                           f"{', '.join(f'{{{n}}}' for n in sorted(got - want))}; "
                           f"this string's placeholders: {known}")
            elif want - got:
                out.append(f"{key}: placeholder "
                           f"{', '.join(f'{{{n}}}' for n in sorted(want - got))} is "
                           f"missing (the number comes from the trajectory)")
        if exhaustive:
            out += [f"{key}: not translated" for key in self.defaults if key not in table]
        return out

    def longer(self, factor: float = 1.4) -> dict[str, str]:
        """Every string stretched by `factor` (placeholders kept): for layout tests."""
        out = {}
        for key, text in self.defaults.items():
            extra = max(1, round(len(text) * (factor - 1)))
            pad = ("Wortlänge " * (extra // 10 + 1))[:extra]
            out[key] = text + (" " if text else "") + pad.strip() if extra > 1 else text + "x"
        return out


# --------------------------------------------------------------------- numbers

SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def minus(s: str) -> str:
    """A true minus sign "−" for "-", and no sign on a number shown as zero."""
    if s.startswith("-") and not any(c in "123456789" for c in s):
        s = s[1:]
    return s.replace("-", "−")


def fmt(value: float, places: int = 3, sign: bool = False) -> str:
    """Fixed places with a true minus: −0.421; with `sign` also a plus: +6.27."""
    s = localise(minus(f"{value:.{places}f}"))
    return "+" + s if sign and not s.startswith("−") else s


def plain(value: float, digits: int = 6) -> str:
    """A number as people write it, never in e-notation: 1, 0.5, 0.0167, 1000."""
    return localise(minus(np.format_float_positional(value, precision=digits,
                                                     fractional=False, trim="-")))


def pair(values: Sequence[float], text: Callable[[float], str] = fmt) -> str:
    """`(a, b)`, each formatted by `text`: an input, a weight vector."""
    return f"({text(values[0])}{language().list_sep}{text(values[1])})"


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
        return localise(minus(f"{value:,.1f}"))
    for digits in (2, 1, 0):  # drop mantissa digits before going past 9 glyphs
        mant, exp = f"{value:.{digits}e}".split("e")
        text = localise(minus(mant)) + "×10" + str(int(exp)).translate(SUPERSCRIPT)
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
