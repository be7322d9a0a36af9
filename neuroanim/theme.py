"""Colours and fonts for every scene, in a dark and a light variant.

Scenes pick colours only through `current()`; the palette is Okabe-Ito
(colour-blind safe), darkened where a colour would vanish on a white page. Every
colour that draws text or thin lines reaches WCAG AA's 4.5:1 against both the
background and the panel fill in its theme (tests/test_theme.py computes it).
"""

from __future__ import annotations

import os
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

THEMES = {t.name: t for t in (DARK, LIGHT)}
_current: Theme | None = None


def get(name: str) -> Theme:
    if name not in THEMES:
        raise KeyError(f"unknown theme {name!r}; choose from {', '.join(THEMES)}")
    return THEMES[name]


def use(name: str) -> Theme:
    """Make `name` the theme scenes draw with (render() calls this)."""
    global _current
    _current = get(name)
    return _current


def current() -> Theme:
    """The active theme: set by `use`, else $NEUROANIM_THEME, else dark."""
    return _current or THEMES.get(os.environ.get(THEMES_ENV, "dark"), DARK)
