"""Theme colours: WCAG contrast for text and lines, lanes that stay apart, kept hues."""

from __future__ import annotations

import dataclasses
import itertools
import math

import pytest

from neuroanim import theme

# What each colour field draws. Text and thin lines must be read: 4.5:1 (WCAG 2.x
# AA for normal text) against the background and the panel fill. Fills are what
# they are drawn on (heat: a heatmap's cells, never text or lines).
TEXT_AND_LINES = (
    "text",
    "muted",
    "axis",
    "accent",
    "curve",
    "ball",
    "minimum",
    "good",
    "bad",
    "target_one",
    "target_zero",
)
FILLS = ("background", "panel", "heat")
NOT_COLOURS = ("name", "font")
AA = 4.5
THEMES = [theme.DARK, theme.LIGHT]


def _srgb(hex_colour: str) -> tuple[float, float, float]:
    """#RRGGBB -> linear-light sRGB in [0, 1], by the WCAG 2.x definition."""
    h = hex_colour.lstrip("#")
    assert len(h) == 6, f"{hex_colour!r} is not #RRGGBB"
    out = []
    for i in (0, 2, 4):
        c = int(h[i : i + 2], 16) / 255
        out.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    return out[0], out[1], out[2]


def luminance(hex_colour: str) -> float:
    r, g, b = _srgb(hex_colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


# Machado, Oliveira & Fernandes (2009), severity 1, applied to linear sRGB.
CVD = {
    "deutan": (
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ),
    "protan": (
        (0.152286, 1.052583, -0.204868),
        (0.114503, 0.786281, 0.099216),
        (-0.003882, -0.048116, 1.051998),
    ),
}


def lab(hex_colour: str, vision: str | None = None) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of a colour, as seen with a colour-vision deficiency."""
    rgb = _srgb(hex_colour)
    if vision is not None:
        m = CVD[vision]
        rgb = tuple(
            min(1.0, max(0.0, sum(m[i][j] * rgb[j] for j in range(3))))
            for i in range(3)
        )
    r, g, b = rgb
    xyz = (
        (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047,
        (0.2126 * r + 0.7152 * g + 0.0722 * b) / 1.0,
        (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883,
    )
    e, k = 216 / 24389, 24389 / 27
    fx, fy, fz = (t ** (1 / 3) if t > e else (k * t + 16) / 116 for t in xyz)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def hue(hex_colour: str) -> tuple[float, float]:
    """(chroma, hue angle in degrees) in CIE LCh."""
    _, a, b = lab(hex_colour)
    return math.hypot(a, b), math.degrees(math.atan2(b, a)) % 360


def delta_e(a: str, b: str, vision: str | None = None) -> float:
    """CIE76 colour difference: ~2 is just noticeable, over 20 plainly different."""
    return math.dist(lab(a, vision), lab(b, vision))


def _lines(th: theme.Theme) -> list[tuple[str, str]]:
    named = [(f, getattr(th, f)) for f in TEXT_AND_LINES]
    return named + [(f"lr_colors[{i}]", c) for i, c in enumerate(th.lr_colors)]


# ------------------------------------------------------------ the measure itself
def test_contrast_matches_known_values():
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast("#FFFFFF", "#FFFFFF") == pytest.approx(1.0)
    assert contrast("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)
    # The old light colours, as the issue measured them on white.
    for colour, ratio in (("#B8860B", 3.25), ("#C47A00", 3.43), ("#C45A00", 4.37)):
        assert contrast(colour, "#FFFFFF") == pytest.approx(ratio, abs=0.01), colour


def test_colour_difference_matches_known_values():
    assert lab("#FFFFFF") == pytest.approx((100.0, 0.0, 0.0), abs=0.05)
    assert lab("#FF0000") == pytest.approx((53.24, 80.09, 67.20), abs=0.1)
    assert delta_e("#0072B2", "#0072B2", "deutan") == 0.0
    # Red and green, far apart for most eyes, nearly meet for a deutan.
    assert delta_e("#D03030", "#30A030") > 80
    assert delta_e("#D03030", "#30A030", "deutan") < delta_e("#D03030", "#30A030") / 2


# --------------------------------------------------------------- the two themes
def test_every_colour_field_is_either_read_or_a_fill():
    """A new colour field must be put in one list or the other, and so be checked."""
    known = set(TEXT_AND_LINES) | set(FILLS) | set(NOT_COLOURS) | {"lr_colors"}
    fields = {f.name for f in dataclasses.fields(theme.Theme)}
    assert fields == known, f"unchecked: {fields - known}, gone: {known - fields}"


@pytest.mark.parametrize("th", THEMES, ids=lambda t: t.name)
def test_text_and_line_colours_reach_aa_on_background_and_panel(th):
    low = []
    for name, colour in _lines(th):
        for ground in ("background", "panel"):
            ratio = contrast(colour, getattr(th, ground))
            if ratio < AA:
                low.append(f"{name} {colour} on {ground}: {ratio:.3f}:1")
    assert not low, f"{th.name}: under {AA}:1: " + "; ".join(low)


@pytest.mark.parametrize("th", THEMES, ids=lambda t: t.name)
def test_badge_words_read_on_their_fills(th):
    # A badge writes in the background colour on a bad (diverged) or muted box.
    for fill in ("bad", "muted"):
        ratio = contrast(th.background, getattr(th, fill))
        assert ratio >= AA, f"{th.name}: background on {fill}: {ratio:.3f}:1"


@pytest.mark.parametrize("th", THEMES, ids=lambda t: t.name)
def test_learning_rate_colours_stay_apart_for_every_eye(th):
    assert len(th.lr_colors) == 4, th.lr_colors
    for (i, a), (j, b) in itertools.combinations(enumerate(th.lr_colors), 2):
        d = delta_e(a, b)
        assert d >= 25, f"{th.name}: lr colours {i} {a} and {j} {b}: dE {d:.1f}"
        for vision in CVD:
            d = delta_e(a, b, vision)
            assert d >= 15, (
                f"{th.name}: lr colours {i} {a} and {j} {b} for a {vision}: dE {d:.1f}"
            )


def test_light_colours_keep_the_dark_themes_hues():
    """Darkened for white, every coloured (not grey) field keeps its hue family."""
    for name, dark in _lines(theme.DARK):
        light = dict(_lines(theme.LIGHT))[name]
        (c_dark, h_dark), (c_light, h_light) = hue(dark), hue(light)
        if min(c_dark, c_light) < 20:
            continue  # greys: no hue to keep
        turn = abs((h_light - h_dark + 180) % 360 - 180)
        assert turn <= 25, f"{name}: hue {h_dark:.0f} in dark, {h_light:.0f} in light"
