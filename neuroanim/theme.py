"""Colours and fonts for every scene, in a dark and a light variant.

Scenes pick colours only through `current()`; the palette is Okabe-Ito
(colour-blind safe), darkened where a colour would vanish on a white page. Every
colour that draws text or thin lines reaches WCAG AA's 4.5:1 against both the
background and the panel fill in its theme (tests/test_theme.py computes it).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

FONT = "DejaVu Sans"
THEMES_ENV = "NEUROANIM_THEME"


@dataclass(frozen=True)
class Theme:
    name: str
    background: str
    text: str
    muted: str  # secondary text, captions
    axis: str
    panel: str  # faint panel/box fill
    accent: str  # highlights: the active stage, the current point
    curve: str  # the loss curve
    ball: str
    minimum: str  # the lowest point of a landscape
    good: str  # ticks, success
    bad: str  # crosses, failure, divergence
    target_one: str  # examples whose target is 1
    target_zero: str  # examples whose target is 0
    lr_colors: tuple[str, ...]  # one per learning rate: crawl, good, bounce, diverge
    # Fills only (a heatmap's cells, never text or lines): exempt from the 4.5:1.
    heat: tuple[str, str, str]  # diverging palette for 0, 0.5, 1
    font: str = FONT


DARK = Theme(
    name="dark",
    background="#111318",
    text="#ECEFF4",
    muted="#A0A8B8",
    axis="#8A93A3",
    panel="#1C2029",
    accent="#F0E442",
    curve="#56B4E9",
    ball="#E69F00",
    minimum="#009E73",
    good="#3FC59B",
    bad="#FF7A45",
    target_one="#E69F00",
    target_zero="#56B4E9",
    lr_colors=("#56B4E9", "#3FC59B", "#E69F00", "#FF7A45"),
    heat=("#3B6FB6", "#1E222B", "#E08A2B"),
)

# On white the warm hues must be dark to be read (4.5:1 against the panel needs a
# CIE lightness of about 46 or less): so they differ in hue and lightness, the
# diverge red darkest, to stay apart for colour-blind eyes too.
LIGHT = Theme(
    name="light",
    background="#FFFFFF",
    text="#1B1F27",
    muted="#4B5563",
    axis="#4B5563",
    panel="#F1F3F7",
    accent="#7D6800",  # dark Okabe-Ito yellow (olive gold), apart from the oranges
    curve="#0072B2",
    ball="#B04F00",
    minimum="#007A5A",
    good="#007A5A",
    bad="#A62D27",
    target_one="#B04F00",
    target_zero="#0072B2",
    lr_colors=("#0072B2", "#007A5A", "#A35B00", "#A62D27"),
    heat=("#2F64A8", "#F4F4F4", "#D9731C"),
)

BUILT_IN = {t.name: t for t in (DARK, LIGHT)}
THEMES = dict(BUILT_IN)  # and the lesson's own themes, once registered
_current: Theme | None = None

# Colours that draw text (WCAG 1.4.3: 4.5:1 against what they are drawn on).
TEXT_COLOURS = ("text", "muted", "axis", "accent", "curve", "ball", "minimum", "good",
                "bad", "target_one", "target_zero")
SURFACES = ("background", "panel")
COLOUR_FIELDS = (*SURFACES, *TEXT_COLOURS)
LIST_FIELDS = {"lr_colors": 4, "heat": 3}
THEME_KEYS = ("base", *COLOUR_FIELDS, *LIST_FIELDS, "font")
AA = 4.5
HEX = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
FONTS_HINT = "`fc-list : family` lists the installed fonts"


# ------------------------------------------------------------------ contrast
def luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of #RRGGBB."""
    h = colour.lstrip("#")
    out = []
    for i in (0, 2, 4):
        c = int(h[i:i + 2], 16) / 255
        out.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    return 0.2126 * out[0] + 0.7152 * out[1] + 0.0722 * out[2]


def contrast(a: str, b: str) -> float:
    """The WCAG contrast ratio of two colours, 1 to 21."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def legibility(t: Theme) -> list[str]:
    """Every text colour that misses 4.5:1 against the background or a panel,
    one line each naming the pair and its ratio."""
    out = []
    for field in TEXT_COLOURS:
        for surface in SURFACES:
            a, b = getattr(t, field), getattr(t, surface)
            r = contrast(a, b)
            if r < AA:
                out.append(f"theme {t.name!r}: {field} {a} on {surface} {b} has contrast "
                           f"{r:.2f}:1, below WCAG's {AA}:1 for text")
    return out


# ------------------------------------------------------------ authors' themes
def _hex6(colour: str) -> str:
    c = colour.lstrip("#")
    return "#" + ("".join(ch * 2 for ch in c) if len(c) == 3 else c).upper()


def font_installed(font: str) -> bool:
    """Is `font` a family Pango can use here?"""
    import manimpango

    families = {f.casefold() for f in manimpango.list_fonts()}
    return font.casefold() in families


def from_table(name: str, table: Mapping, where: str = "") -> tuple[Theme | None, list[str]]:
    """`[themes.NAME]`: a built-in `base` with colours or the font overridden.

    Returns (theme, problems); the theme is None when there are problems.
    """
    where = where or f"themes.{name}"
    problems = []
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name):
        problems.append(f"{where}: a theme name is letters, digits, '-' and '_'")
    if not isinstance(table, Mapping):
        return None, [f"{where}: must be a table ([themes.{name}])"]
    base = table.get("base")
    if base not in BUILT_IN:
        problems.append(f"{where}: base must be {' or '.join(map(repr, BUILT_IN))}, "
                        f"got {base!r}")
        base = "dark"
    changes: dict = {"name": name}
    for key, value in table.items():
        if key == "base":
            continue
        if key not in THEME_KEYS:
            problems.append(f"{where}: {key}: unknown key; a theme takes "
                            f"{', '.join(THEME_KEYS)}")
        elif key == "font":
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{where}: font must be a font family's name")
            elif not font_installed(value):
                problems.append(f"{where}: font {value!r} is not installed; "
                                f"{FONTS_HINT}")
            else:
                changes["font"] = value
        elif key in LIST_FIELDS:
            n = LIST_FIELDS[key]
            if (not isinstance(value, list) or len(value) != n
                    or not all(isinstance(v, str) and HEX.fullmatch(v) for v in value)):
                problems.append(f"{where}: {key} must be a list of {n} colours like "
                                f"\"#1F77B4\"")
            else:
                changes[key] = tuple(_hex6(v) for v in value)
        elif not isinstance(value, str) or not HEX.fullmatch(value):
            problems.append(f"{where}: {key}: {value!r} is not a colour; write "
                            "\"#RRGGBB\", e.g. \"#1F77B4\"")
        else:
            changes[key] = _hex6(value)
    if problems:
        return None, problems
    return dataclasses.replace(BUILT_IN[base], **changes), []


def as_dict(t: Theme) -> dict:
    """Plain values (for a build job and its key)."""
    return {k: list(v) if isinstance(v, tuple) else v
            for k, v in dataclasses.asdict(t).items()}


def from_dict(d: Mapping) -> Theme:
    return Theme(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def register(t: Theme, warn: Callable[[str], None] | None = None) -> Theme:
    """Make an author's theme known by name (built-ins cannot be redefined)."""
    if t.name in BUILT_IN and BUILT_IN[t.name] != t:
        raise ValueError(f"theme {t.name!r} is built in; give yours another name")
    THEMES[t.name] = t
    if warn is not None:
        for line in legibility(t):
            warn(line)
    return t


def get(name: str) -> Theme:
    if name not in THEMES:
        raise KeyError(f"unknown theme {name!r}; choose from {', '.join(THEMES)}")
    return THEMES[name]


def use(name: str | Theme) -> Theme:
    """Make `name` the theme scenes draw with (render() calls this)."""
    global _current
    _current = register(name) if isinstance(name, Theme) else get(name)
    return _current


def current() -> Theme:
    """The active theme: set by `use`, else $NEUROANIM_THEME, else dark."""
    return _current or THEMES.get(os.environ.get(THEMES_ENV, "dark"), DARK)
