"""Shared manim building blocks for every scene: base class, text, charts, readouts.

Everything here is LaTeX-free: text is `Text` in an explicit font, axis numbers go
through `label_constructor`, decimals use `mob_class=Text`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Axes,
    DecimalNumber,
    RoundedRectangle,
    Scene,
    Text,
    VGroup,
)

from . import registry, theme

# Font sizes tuned to stay readable at 854x480 (frame height 8 units).
TITLE = 34
BODY = 24
SMALL = 19
TINY = 16


def tx(text: str, size: float = BODY, color: str | None = None, **kw: Any) -> Text:
    """Text in the theme's font and colour."""
    th = theme.current()
    kw.setdefault("font", th.font)
    return light_copies(Text(text, font_size=size, color=color or th.text, **kw))


def light_copies(text: Text) -> Text:
    """Drop each glyph's parsed SVG path, used only while building the points.

    Every FadeIn/FadeOut/Transform deep-copies its mobject, and copying those path
    objects made a Text copy ~10x slower (31 ms vs 3 ms for a 29-letter line).
    """
    for glyph in text.get_family():
        if getattr(glyph, "path_obj", None) is not None:
            glyph.path_obj = None
    return text


class Label(Text):
    """A Text usable as an axis `label_constructor` (called with one string)."""

    def __init__(self, text: str, **kw: Any):
        th = theme.current()
        kw.setdefault("font", th.font)
        kw.setdefault("color", th.axis)
        kw.setdefault("font_size", TINY)
        super().__init__(str(text), **kw)
        light_copies(self)


def number(value: float, places: int = 3, size: float = BODY, color: str | None = None,
           **kw: Any) -> DecimalNumber:
    """A DecimalNumber drawn with Text glyphs (no LaTeX), for `set_value` updates."""
    th = theme.current()
    return DecimalNumber(
        value, num_decimal_places=places, mob_class=Label, font_size=size,
        color=color or th.text, include_sign=kw.pop("include_sign", False), **kw,
    )


def axes(x_range, y_range, x_length: float, y_length: float, x_label: str = "",
         y_label: str = "", numbers: bool = True, label_size: float = TINY) -> VGroup:
    """Axes with Text tick numbers and Text axis labels; returns Axes with `.labels`."""
    th = theme.current()
    cfg = {
        "color": th.axis,
        "label_constructor": Label,
        "font_size": label_size,
        "include_tip": False,
        "stroke_width": 2,
    }
    ax = Axes(
        x_range=x_range, y_range=y_range, x_length=x_length, y_length=y_length,
        axis_config=cfg,
        x_axis_config={"include_numbers": numbers},
        y_axis_config={"include_numbers": numbers},
        tips=False,
    )
    labels = VGroup()
    if x_label:
        xl = tx(x_label, SMALL, th.muted).next_to(ax.x_axis, DOWN, buff=0.35 if numbers else 0.15)
        labels.add(xl)
    if y_label:
        yl = tx(y_label, SMALL, th.muted).rotate(np.pi / 2)
        yl.next_to(ax.y_axis, LEFT, buff=0.45 if numbers else 0.15)
        labels.add(yl)
    ax.labels = labels
    return ax


def readout(label: str, value: float, places: int = 3, size: float = SMALL,
            color: str | None = None) -> VGroup:
    """`label value` side by side; `.value` is the DecimalNumber to update."""
    th = theme.current()
    name = tx(label, size, th.muted)
    val = number(value, places, size, color)
    val.next_to(name, RIGHT, buff=0.15)
    group = VGroup(name, val)
    group.value = val
    return group


def panel(width: float, height: float) -> RoundedRectangle:
    th = theme.current()
    return RoundedRectangle(
        width=width, height=height, corner_radius=0.15,
        stroke_color=th.axis, stroke_width=1.5, fill_color=th.panel, fill_opacity=1,
    )


def fmt(value: float, places: int = 3) -> str:
    """Fixed-point text with a true minus sign, e.g. -0.421 -> "−0.421"."""
    s = f"{value:.{places}f}"
    if s.startswith("-") and float(s) == 0:
        s = s[1:]
    return s.replace("-", "−")


class NeuroScene(Scene):
    """A scene driven by a registered spec: options in, prepared trajectories ready.

    `NeuroScene(params={...})` resolves options against the spec (defaults when
    rendered by the plain `manim` command) and runs `spec.prepare` once, so
    `self.data` holds the trajectories `construct` replays. `self.theme` is the
    active theme; its background is applied here.
    """

    spec_name: str = ""

    def __init__(self, params: dict | None = None, data: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self.spec = registry.get(self.spec_name)
        self.params = self.spec.resolve(params)
        self.data = data if data is not None else self.spec.prepare(self.params)
        self.theme = theme.current()
        self.camera.background_color = self.theme.background

    # Frame edges in scene units, for layout that adapts to the aspect ratio.
    @property
    def half_w(self) -> float:
        return self.camera.frame_width / 2

    @property
    def half_h(self) -> float:
        return self.camera.frame_height / 2


__all__ = [
    "BODY", "DOWN", "LEFT", "RIGHT", "SMALL", "TINY", "TITLE", "UP", "Label",
    "NeuroScene", "axes", "fmt", "number", "panel", "readout", "tx",
]
