"""Shared manim helpers under every scene: base class, text, numbers, axes.

The pieces a scene is drawn with (loss chart, readouts, ball, heatmap, stage
loop) are `neuroanim.blocks`, built on these. Everything here is LaTeX-free:
text is `Text` in the theme's font, and numbers are outlines of `Text` glyphs
laid out by hand (`GlyphNumber`, `label`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from manim import (
    DOWN,
    LEFT,
    ORIGIN,
    PI,
    RIGHT,
    UP,
    Axes,
    Line,
    Mobject,
    RoundedRectangle,
    Scene,
    Text,
    VGroup,
    VMobject,
    config,
    tempconfig,
)

from . import registry, theme
from .glyphs import FastText

# Number formatting lives in wording (manim-free); scenes import it from here too.
from .wording import (  # noqa: F401
    fmt,
    loss_text,
    minus,
    nice_step,
    nice_top,
    pair,
    plain,
    readable,
    tick_text,
    tick_values,
)

# Font sizes tuned to stay readable at 854x480 (frame height 8 units).
TITLE = 34
BODY = 24
SMALL = 19
TINY = 16
# Longer words (an author's text, German) shrink to fit their place, but never
# below this size: ~7 px x-height at 854x480, the smallest our frames keep
# readable. Past it they wrap at spaces (`fit_text`).
MIN_SIZE = 13
DESCENDERS = "gjpqy(),;_♪"  # characters whose glyph dips below the baseline


# ------------------------------------------------------------------------- text
def tx(text: str, size: float = BODY, color: str | None = None, **kw: Any) -> Text:
    """Text in the theme's font and colour.

    Read from Pango's SVG by `glyphs.FastText` (~13 ms a line, manim's parser
    ~50 ms), built once per process for each (text, size, colour, options) and
    copied after (a copy ~3 ms): a lesson build draws the same words for a
    still and for a video.
    """
    th = theme.current()
    kw.setdefault("font", th.font)
    color = color or th.text
    try:
        # Pango lays text out on a canvas the size of the output: the size counts
        key = (text, float(size), str(color), tuple(sorted(kw.items())),
               config.pixel_width, config.pixel_height, config.frame_width)
        hash(key)
    except TypeError:  # an option that cannot be a key (a dict of colours...)
        return light_copies(FastText(text, font_size=size, color=color, **kw))
    made = _TEXTS.get(key)
    if made is None:
        made = light_copies(FastText(text, font_size=size, color=color, **kw))
        if len(_TEXTS) >= _TEXTS_KEPT:
            _TEXTS.pop(next(iter(_TEXTS)))
        _TEXTS[key] = made
    return made.copy()


_TEXTS: dict[tuple, Text] = {}
_TEXTS_KEPT = 1000


def light_copies(text: Text) -> Text:
    """Drop each glyph's parsed SVG path, used only while building the points.

    Every FadeIn/FadeOut/Transform deep-copies its mobject, and copying those path
    objects made a Text copy ~10x slower (31 ms vs 3 ms for a 29-letter line).
    """
    for glyph in text.get_family():
        if getattr(glyph, "path_obj", None) is not None:
            glyph.path_obj = None
    return text


_OUTLINES: dict[tuple[str, str, float], np.ndarray] = {}


def unclipped(text: str, size: float, font: str) -> Text:
    """A Text laid out on a 4K canvas, whatever the render's size.

    Pango lays Text out on a canvas of the render's pixel size and drops the
    glyphs beyond it (a 160x90 render lost two), and manim's SVG cache in
    text_dir is keyed without that size: outlines kept per process must not
    depend on which render made them first. Its own text_dir keeps the big
    canvas's files apart from the render's.
    """
    texts = Path(config.get_dir("text_dir")) / "unclipped"
    with tempconfig({"pixel_width": 3840, "pixel_height": 2160, "text_dir": str(texts)}):
        return FastText(text, font=font, font_size=size)


def label(text: str, size: float = SMALL, color: str | None = None) -> VMobject:
    """`tx(text)` baked into one plain VMobject holding every glyph's outline.

    A Text is one mobject per glyph: FadeIn and every Transform copy each, and the
    camera draws each separately. One VMobject of plain points copies ~80x faster
    and draws in one call, pixel for pixel the same. For static labels (tick
    numbers, names); `.text` is the string. Outlines are kept per process by
    (text, font, size): Pango and the SVG parse cost ~0.7 ms a glyph.
    """
    th = theme.current()
    key = (text, th.font, float(size))
    if key not in _OUTLINES:
        t = unclipped(text, size, th.font)
        _OUTLINES[key] = np.concatenate(
            [g.points for g in t.family_members_with_points()]) - t.get_center()
    m = VMobject(fill_color=color or th.text, fill_opacity=1, stroke_width=0)
    m.set_points(_OUTLINES[key].copy())
    m.text = text
    return m


def baseline(text: Text) -> float:
    """The y of a Text's baseline: the median bottom of its glyphs that have no
    descender (of all glyphs when ligatures hide which glyph is which letter)."""
    chars = text.original_text if text.disable_ligatures else text.text
    if len(chars) != len(text):
        chars = "a" * len(text)
    bottoms = [g.get_bottom()[1] for ch, g in zip(chars, text, strict=True)
               if not ch.isspace() and ch not in DESCENDERS]
    return float(np.median(bottoms)) if bottoms else float(text.get_bottom()[1])


def on_baseline(mob: Mobject, y: float, base: float | None = None) -> Mobject:
    """Shift `mob` so its baseline (`base`, else that of the Text `mob`) sits at y.

    Centring lines of different letters drifts them up or down by a descender;
    resting every line on a computed baseline keeps rows level and evenly spaced.
    """
    mob.shift((y - (baseline(mob) if base is None else base)) * UP)
    return mob


def subtitle(text: str, title: Text) -> Text:
    """A muted line right of `title`, on its baseline."""
    sub = tx(text, SMALL, theme.current().muted, disable_ligatures=True)
    return on_baseline(sub.next_to(title, RIGHT, buff=0.3), baseline(title))


def text_line(*parts: tuple, size: float = SMALL) -> VGroup:
    """One line of text made of separate Text pieces that share one baseline.

    Each part is (text, colour or None[, key]). Pieces are placed where the same
    characters sit in the whole line set as one Text, so numbers can be their own
    mobjects (read back by tests) without drifting off the baseline the way
    centred pieces with descenders do. `.named[key]` is the piece given a key;
    `.rise` the baseline's height over the line's centre, for `place_line`.
    """
    whole_line = tx("".join(p[0] for p in parts), size, disable_ligatures=True)
    line = VGroup()
    line.named = {}
    line.rise = baseline(whole_line) - whole_line.get_y()  # baseline below centre
    offset = 0
    for part in parts:
        text, color = part[0], part[1]
        if text.strip():
            piece = tx(text, size, color, disable_ligatures=True)
            first = len(text) - len(text.lstrip())
            piece.shift(whole_line[offset + first].get_center()
                        - piece[first].get_center())
            line.add(piece)
            if len(part) > 2:
                line.named[part[2]] = piece
        offset += len(text)
    return line


def place_line(line: VGroup, x: float, y: float) -> VGroup:
    """Put a `text_line` with its left edge at x and its baseline at y."""
    line.move_to([x, y - line.rise, 0], aligned_edge=LEFT)
    return line


def wrap_text(text: str, size: float, color: str, width: float) -> Mobject:
    """`text` broken at spaces into as few left-aligned lines as fit `width`
    (shrunk only if a single word is wider than that)."""
    one = tx(text, size, color)
    if one.width <= width:
        return one
    per_char = one.width / len(text)
    lines: list[str] = []
    for word in text.split(" "):
        if lines and (len(lines[-1]) + 1 + len(word)) * per_char <= width * 0.97:
            lines[-1] += " " + word
        else:
            lines.append(word)
    group = VGroup(*(tx(line, size, color) for line in lines))
    group.arrange(DOWN, aligned_edge=LEFT, buff=0.1)
    if group.width > width:
        group.scale_to_fit_width(width)
    return group


def shrink_to(mob: Mobject, width: float | None = None, height: float | None = None,
              size: float = BODY, min_size: float = MIN_SIZE) -> bool:
    """Scale `mob` (text set at `size`) down to fit `width` and `height`, never
    below `min_size`; True if it fits."""
    factor = 1.0
    if width is not None and mob.width > width:
        factor = min(factor, width / mob.width)
    if height is not None and mob.height > height:
        factor = min(factor, height / mob.height)
    floor = min(1.0, min_size / size)
    if factor < 1:
        mob.scale(max(factor, floor))
    return factor >= floor - 1e-9


def fit_text(text: str, size: float, width: float, color: str | None = None,
             min_size: float = MIN_SIZE, max_lines: int = 3, baked: bool = False,
             **kw: Any) -> Mobject:
    """`text` as one line at `size` if it fits `width`; else shrunk towards
    `min_size`; else broken at spaces into as few left-aligned lines as fit
    (at most `max_lines`, each at the largest size that fits). `.text` is the
    whole string; `baked` uses `label` (one VMobject per line).
    """
    make = (lambda t, z: label(t, z, color)) if baked else \
        (lambda t, z: tx(t, z, color, **kw))
    one = make(text, size)
    if one.width <= width or shrink_to(one, width, size=size, min_size=min_size):
        one.text = text
        return one
    words = text.split(" ")
    best = None
    for n in range(2, max_lines + 1):
        lines = _balanced(words, n)
        group = VGroup(*(make(line, size) for line in lines))
        group.arrange(DOWN, aligned_edge=LEFT, buff=0.08 * size / SMALL)
        best = group
        if group.width <= width or shrink_to(group, width, size=size,
                                             min_size=min_size):
            break  # else still too wide at the floor size: the layout tests say so
    best.text = text
    return best


def _balanced(words: list[str], n: int) -> list[str]:
    """`words` in n lines of about equal length (greedy on characters)."""
    total = sum(len(w) for w in words) + len(words) - 1
    target = total / n
    lines: list[str] = []
    for word in words:
        if lines and lines[-1] and len(lines) < n \
                and len(lines[-1]) + 1 + len(word) > target * 1.05:
            lines.append(word)
        elif lines:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def fade(mob: Mobject, opacity: float) -> None:
    """`set_opacity`, only when the value changes: manim rebuilds the colour arrays
    of the whole family on every call, which was most of an updater's time."""
    if getattr(mob, "_faded_to", None) != opacity:
        mob.set_opacity(opacity)
        mob._faded_to = opacity


# ---------------------------------------------------------------- changing numbers
NUMBER_GLYPHS = "0123456789.,−+×⁰¹²³⁴⁵⁶⁷⁸⁹"
_ATLAS: dict[tuple[str, float], tuple[dict, dict]] = {}


def glyph_atlas(size: float, font: str | None = None) -> tuple[dict, dict]:
    """Each number character's outline (relative to its pen position on the
    baseline) and advance, measured from one Text "00c0c0...", so with the font's
    own spacing; kept per process by font and size."""
    font = font or theme.current().font
    key = (font, float(size))
    if key not in _ATLAS:
        ref = "00" + "".join(c + "0" for c in NUMBER_GLYPHS)
        g = unclipped(ref, size, font).submobjects
        if len(g) != len(ref):
            raise RuntimeError(f"font {font!r} lacks glyphs for {NUMBER_GLYPHS!r}")
        adv0 = g[1].get_left()[0] - g[0].get_left()[0]
        base = g[0].get_bottom()[1]
        outlines, advance = {}, {}
        for k, c in enumerate(NUMBER_GLYPHS):
            pen = g[1 + 2 * k].get_left()[0] + adv0
            outlines[c] = g[2 + 2 * k].points - np.array([pen, base, 0.0])
            advance[c] = g[3 + 2 * k].get_left()[0] - pen
        _ATLAS[key] = (outlines, advance)
    return _ATLAS[key]


class GlyphNumber(VMobject):
    """A number readout cheap enough to change every frame.

    DecimalNumber.set_value copies a parsed Text per character (~3 ms each here)
    and draws "-", not "−". This is one VMobject whose points are the outlines of
    the shown characters, rewritten from the glyph atlas: a numpy concatenate, no
    Text, no copy, one draw call, the family never changing mid-animation. Its
    first curve is an invisible pin on the baseline at the fixed end (left, or
    right with `align=RIGHT`) whose length tracks moves and scaling. `text` is the
    string shown: `fmt(value, places, sign)` after `set_value`, or any string of
    NUMBER_GLYPHS after `set_text`.
    """

    PIN = 1e-3

    def __init__(self, value: float = 0.0, places: int = 3, size: float = BODY,
                 color: str | None = None, sign: bool = False, align=LEFT):
        th = theme.current()
        super().__init__(fill_color=color or th.text, fill_opacity=1, stroke_width=0)
        self.outlines, self.advance = glyph_atlas(size, th.font)
        self.places, self.sign, self.right = places, sign, align[0] > 0
        self.text = ""
        self.set_points(np.array([ORIGIN, ORIGIN, RIGHT, RIGHT]) * self.PIN)
        self.set_value(value)

    def get_value(self) -> float:
        return self.number

    def set_value(self, value: float) -> GlyphNumber:
        self.number = float(value)
        return self.set_text(fmt(value, self.places, self.sign))

    def set_text(self, text: str) -> GlyphNumber:
        if text == self.text:
            return self
        self.text = text
        pin = self.points[:4].copy()
        scale = (pin[3, 0] - pin[0, 0]) / self.PIN
        x, y = pin[0, 0], pin[0, 1]
        if self.right:
            x -= sum(self.advance[c] for c in text) * scale
        glyphs = []
        for c in text:
            glyphs.append(self.outlines[c] * scale + np.array([x, y, 0.0]))
            x += self.advance[c] * scale
        self.points = np.concatenate([pin, *glyphs])
        return self

    def place(self, point) -> GlyphNumber:
        """Put the pin (the baseline's fixed end) at `point`."""
        return self.shift(np.asarray(point, dtype=float) - self.points[0])


def number(value: float = 0.0, places: int = 3, size: float = BODY,
           color: str | None = None, sign: bool = False, align=LEFT) -> GlyphNumber:
    """A number to update with `set_value` (or `set_text`), e.g. in an updater."""
    return GlyphNumber(value, places, size, color, sign, align)


# ------------------------------------------------------------------------ charts
def axes(x_range: Sequence[float], y_range: Sequence[float], x_length: float,
         y_length: float, x_label: str = "", y_label: str = "", *,
         size: float = TINY, label_size: float = SMALL, y_label_above: bool = False,
         x_ticks: Sequence[tuple[float, str]] | None = None) -> Axes:
    """A plot's coordinate system, drawn as an L on its left and bottom edges.

    Ranges are (lo, hi, step). Manim's axes cross at (0, 0), which would put the
    loss axis through the middle of a valley over negative weights: here the
    Axes is the coordinate system with its own lines hidden, and the frame, an
    outward tick at every multiple of the step, its label (just the decimals the
    step needs, a true minus) and the axis names are its submobjects, so they
    move with it. `x_ticks`: (position, text) pairs instead (e.g. a log axis).
    The y name goes beside the axis, turned, or above it. `.texts`: every label.
    """
    th = theme.current()
    (x0, x1, xs), (y0, y1, ys) = x_range, y_range
    ax = Axes(x_range=[x0, x1, xs], y_range=[y0, y1, ys], x_length=x_length,
              y_length=y_length, tips=False, axis_config={"include_ticks": False})
    ax.axes.set_stroke(opacity=0)
    corner = ax.c2p(x0, y0)
    frame = VGroup(Line(corner, ax.c2p(x1, y0)), Line(corner, ax.c2p(x0, y1)))
    if x_ticks is None:
        x_ticks = [(v, tick_text(v, xs)) for v in tick_values(x0, x1, xs)]
    x_nums, y_nums = VGroup(), VGroup()
    for v, text in x_ticks:
        p = ax.c2p(v, y0)
        frame.add(Line(p, p + DOWN * 0.08))
        x_nums.add(label(text, size, th.axis).next_to(p, DOWN, buff=0.14))
    for v in tick_values(y0, y1, ys):
        p = ax.c2p(x0, v)
        frame.add(Line(p, p + LEFT * 0.08))
        y_nums.add(label(tick_text(v, ys), size, th.axis).next_to(p, LEFT, buff=0.14))
    frame.set_stroke(th.axis, width=2)
    ax.add(frame, x_nums, y_nums)
    ax.texts = [*x_nums, *y_nums]
    if x_label:
        name = tx(x_label, label_size, th.muted)
        name.next_to(x_nums if len(x_nums) else frame[0], DOWN, buff=0.08)
        ax.add(name.set_x(ax.c2p((x0 + x1) / 2, y0)[0]))
        ax.texts.append(name)
    if y_label:
        name = tx(y_label, label_size, th.muted)
        if y_label_above:
            name.next_to(ax.c2p(x0, y1), UP, buff=0.15)
        else:
            name.rotate(PI / 2).next_to(y_nums if len(y_nums) else frame[1], LEFT,
                                        buff=0.12)
            name.set_y(ax.c2p(x0, (y0 + y1) / 2)[1])
        ax.add(name)
        ax.texts.append(name)
    return ax


def panel(width: float, height: float) -> RoundedRectangle:
    th = theme.current()
    return RoundedRectangle(
        width=width, height=height, corner_radius=0.15,
        stroke_color=th.axis, stroke_width=1.5, fill_color=th.panel, fill_opacity=1,
    )


class NeuroScene(Scene):
    """A scene driven by a registered spec: options in, prepared trajectories ready.

    `NeuroScene(params={...})` resolves options against the spec (defaults when
    rendered by the plain `manim` command) and runs `spec.prepare` once, so
    `self.data` holds the trajectories `construct` replays. `self.theme` is the
    active theme; its background is applied here.
    """

    spec_name: str = ""

    def __init__(self, params: dict | None = None, data: Any = None, **kwargs):
        super().__init__(**kwargs)
        if data is None and not registry.dirs():
            registry.use(cwd=True)  # the plain `manim` command: ./scenes too
        self.spec = registry.get(self.spec_name)
        self.params = self.spec.resolve(params)
        self.data = data if data is not None else self.spec.prepare(self.params)
        self.words = self.spec.words
        self.theme = theme.current()
        self.camera.background_color = self.theme.background
        if type(self.renderer).__name__ == "CairoRenderer":
            from . import raster

            raster.install(self)  # still layers painted once per animation

    # Frame edges in scene units, for layout that adapts to the aspect ratio.
    @property
    def half_w(self) -> float:
        return self.camera.frame_width / 2

    @property
    def half_h(self) -> float:
        return self.camera.frame_height / 2
