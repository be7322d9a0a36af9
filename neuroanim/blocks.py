"""Drawing pieces for course authors writing their own scenes: charts, a ball, a heatmap.

Every built-in scene is drawn with these blocks, and a scene of your own can use
them the same way: build a block from a recorded run (a `neuroanim.core` result or
a loaded trajectory), position it like any manim mobject, and move it on with its
one update method, usually from an updater that reads a `ValueTracker` over the
step or epoch index. The numbers come from the data you pass, and the maths (the
boundary line, the neuron's output) from `neuroanim.core`; the colours and the font
come from `neuroanim.theme.current()`, so a block matches the scene's theme. All
text is LaTeX-free.

The blocks:

- `TextLine`: one line of text in the theme's font and colour.
- `Readout`: "name value", with a number cheap enough to change every frame.
- `GlyphNumber`: that fast number on its own.
- `LossChart`: a recorded loss against step or epoch, one or several lines.
- `BallOnCurve`: a one-weight loss landscape, a ball resting on it, its slope.
- `OutputHeatmap`: a neuron's output over the input square, with its boundary.
- `StageLoop`: the five stages of training in a ring, one lit at a time.

Each block's docstring ends with an example scene (rendered by the test suite).
Speed: manim paints the mobjects added before the first moving one only once per
`play`, so add static parts (a chart's `.axes`, a curve's `.axes`) before the
parts an updater changes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from manim import (
    BOLD,
    DOWN,
    LEFT,
    RESAMPLING_ALGORITHMS,
    RIGHT,
    UP,
    Animation,
    Arrow,
    Camera,
    Circle,
    Dot,
    Group,
    ImageMobject,
    Line,
    RoundedRectangle,
    Text,
    Triangle,
    VGroup,
    VMobject,
    Wait,
    config,
)

from . import core, theme
from .draw import (
    BODY,
    SMALL,
    TINY,
    GlyphNumber,
    axes,
    baseline,
    fade,
    light_copies,
    nice_step,
    nice_top,
    number,
    on_baseline,
    tx,
)
from .glyphs import FastText

__all__ = [
    "BODY",
    "SMALL",
    "TINY",
    "BallOnCurve",
    "GlyphNumber",
    "GridCamera",
    "LossChart",
    "OutputHeatmap",
    "Readout",
    "StageLoop",
    "TextLine",
    "clip_below",
    "heat_frames",
    "heat_lut",
    "number",
]


# ------------------------------------------------------------------------- text
class TextLine(FastText):
    """One line of LaTeX-free text in the theme's font, in the theme's text colour
    unless `color` is given; extra keywords go to manim's `Text` (`weight=BOLD`).

    `.baseline()` is the y its letters stand on, to line up text of different
    sizes with `draw.on_baseline`.

    Example::

        from manim import UP, Scene
        from neuroanim.blocks import TextLine

        class TextLineExample(Scene):
            def construct(self):
                self.add(TextLine("Gradient descent").to_edge(UP))
                self.add(TextLine("lower is better", color="#3FC59B"))
    """

    def __init__(self, text: str, size: float = BODY, color: str | None = None,
                 **kwargs: Any):
        th = theme.current()
        kwargs.setdefault("font", th.font)
        color = color or th.text
        try:  # Pango lays text out on a canvas the size of the output: it counts
            key = (text, float(size), str(color), tuple(sorted(kwargs.items())),
                   config.pixel_width, config.pixel_height, config.frame_width)
            hash(key)
        except TypeError:  # an option that cannot be a key (a dict of colours...)
            key = None
        made = _LINES.get(key) if key is not None else None
        if made is not None:  # built before in this process: become a copy of it
            self.__dict__.update(made.copy().__dict__)
            return
        super().__init__(text, font_size=size, color=color, **kwargs)
        light_copies(self)
        if key is not None:  # Pango and reading its SVG cost ~13 ms, a copy ~3 ms
            if len(_LINES) >= _LINES_KEPT:
                _LINES.pop(next(iter(_LINES)))
            _LINES[key] = self.copy()

    def baseline(self) -> float:
        return baseline(self)


_LINES: dict[tuple, TextLine] = {}
_LINES_KEPT = 1000


class Readout(VGroup):
    """`name value` on one baseline: a muted name and a number to update.

    `.value` is the number (a `GlyphNumber`): `.set_value(v)` rewrites its glyph
    outlines in place, cheap enough for an updater on every frame, and prints `v`
    as `wording.fmt(v, places, sign)` does, with a true minus sign. The number
    grows rightwards from a fixed left end, so a longer value never pushes the
    name. `readout[0]` is the name, to recolour it.

    Example::

        from manim import Scene
        from neuroanim.blocks import Readout

        class ReadoutExample(Scene):
            def construct(self):
                loss = Readout("loss", 0.25, places=4, size=40)
                self.add(loss.set_value(0.0123))
    """

    def __init__(self, name: str, value: float = 0.0, places: int = 3,
                 size: float = SMALL, *, color: str | None = None,
                 sign: bool = False):
        text = tx(name, size, theme.current().muted)
        val = number(value, places, size, color, sign)
        val.place([text.get_right()[0] + 0.15, baseline(text), 0])
        super().__init__(text, val)
        self.label, self.value = text, val

    def set_value(self, value: float) -> Readout:
        self.value.set_value(value)
        return self

    def get_value(self) -> float:
        return self.value.get_value()


# ------------------------------------------------------------------ loss chart
def clip_below(xs: np.ndarray, ys: np.ndarray, top: float):
    """Pieces of the polyline (xs, ys) under y = top, and where it leaves over it.

    Returns (pieces, exits): pieces are lists of (x, y), exits the (x, top) points
    where a segment crosses the top going up."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if len(ys) and float(np.max(ys)) <= top:  # the usual case: nothing to cut
        return [list(zip(xs.tolist(), ys.tolist(), strict=True))], []
    pieces: list[list[tuple[float, float]]] = []
    exits: list[tuple[float, float]] = []
    cur: list[tuple[float, float]] = []
    for i in range(len(xs)):
        x, y = float(xs[i]), float(ys[i])
        if i:
            px, py = float(xs[i - 1]), float(ys[i - 1])
            if (py <= top) != (y <= top):
                t = (top - py) / (y - py)
                cross = (px + t * (x - px), top)
                cur.append(cross)
                if y > top:
                    exits.append(cross)
                    pieces.append(cur)
                    cur = []
        if y <= top:
            cur.append((x, y))
    if cur:
        pieces.append(cur)
    return pieces, exits


class ChartLine(VGroup):
    """One recorded curve of a `LossChart`: `.path` (the line, cut where it leaves
    the plot's top) and `.marks` (a triangle over each place it leaves; a dot for a
    record of a single point). Made by `LossChart`/`LossChart.add_line`."""

    def __init__(self, loss, color: str, stroke_width: float,
                 vertices: int | None, log_x: bool):
        loss = np.asarray(loss, dtype=float)
        if loss.ndim != 1 or len(loss) < 1:
            raise ValueError(f"loss must be a (T,) array, got shape {loss.shape}")
        self.loss, self.color_ = loss, color
        last = len(loss) - 1
        if vertices is None or last + 1 <= vertices:
            self.steps = np.arange(last + 1)
        elif log_x:  # evenly spaced on the log axis, each a recorded step
            grid = 10 ** np.linspace(0, math.log10(1 + last), vertices) - 1
            self.steps = np.unique(np.clip(np.rint(grid).astype(int), 0, last))
        else:
            self.steps = np.unique(np.linspace(0, last, vertices).astype(int))
        self.path = VMobject(stroke_color=color, stroke_width=stroke_width)
        self.marks = VGroup()
        self._exits: list | None = None
        super().__init__(self.path, self.marks)

    def value_at(self, t: float) -> float:
        """The loss at step t, straight between recorded steps."""
        t = float(np.clip(t, 0, len(self.loss) - 1))
        k = int(math.floor(t))
        if k == t or k + 1 >= len(self.loss):
            return float(self.loss[k])
        return float(self.loss[k] + (self.loss[k + 1] - self.loss[k]) * (t - k))

    def show_upto(self, chart: LossChart, t: float) -> ChartLine:
        """Draw the record from step 0 to step t (past its end: all of it) on
        `chart`'s axes (the line keeps no link to its chart: copies stay small)."""
        t = float(np.clip(t, 0, len(self.loss) - 1))
        shown = self.steps[self.steps < t]
        xs = chart.x_coord(np.append(shown, t))
        ys = np.append(self.loss[shown], self.value_at(t))
        pieces, exits = clip_below(xs, ys, chart.top)
        self.path.clear_points()
        for piece in pieces:
            pts = chart.coords_to_points(*np.asarray(piece).T)
            if len(pts) == 1:
                pts = np.vstack([pts, pts])
            if self.path.has_points():
                self.path.start_new_path(pts[0])
                self.path.add_points_as_corners(pts[1:])
            else:
                self.path.set_points_as_corners(pts)
        if exits != self._exits:  # rebuilt only when the cut points change
            self._exits = exits
            self.marks.remove(*self.marks.submobjects)
            for x, y in exits:
                p = chart.coords_to_points(np.array([x]), np.array([y]))[0]
                mark = Triangle(color=self.color_, fill_opacity=1, stroke_width=0)
                self.marks.add(mark.scale(0.09).move_to(p + UP * 0.12))
            if len(self.loss) == 1 and pieces:
                p = chart.coords_to_points(*np.asarray(pieces[0]).T)[0]
                self.marks.add(Dot(p, radius=0.06, color=self.color_))
        return self


class LossChart(VGroup):
    """A recorded loss against step or epoch: axes sized to the data, its curve.

    `loss` is a (T,) array, entry t the loss at step (or epoch) t, e.g.
    `run.loss` of a `core.NeuronRun` or `core.Descent`. The x axis runs from 0 to
    T - 1 (`x_max` to size it for longer lines), the loss axis from 0 to a round
    number over the largest finite loss (`y_max` to choose the peak); a line that
    goes higher is cut at the top, with a triangle where it leaves. `log_x` puts
    epochs on a log10(1 + epoch) axis with ticks at 0, 1, 10, 100..., so the fast
    early fall and the slow tail both show (its name gains "(log scale)").

    The chart starts fully drawn. `.show_upto(t)` draws every line from step 0
    to step t (fractional t runs straight between recorded steps) and moves the
    dot to the first line's point there; `.point(t)` is that scene point.
    `.add_line(loss, color)` adds another record (one per learning rate).
    Parts: `.axes` (static: add it first in long animations), `.lines`, `.dot`,
    `.curve` (the first line's path).

    Example::

        from manim import Scene, ValueTracker, linear
        from neuroanim import core
        from neuroanim.blocks import LossChart

        class LossChartExample(Scene):
            def construct(self):
                run = core.train_neuron("AND", epochs=300)
                chart = LossChart(run.loss, 8, 4.5, log_x=True)
                chart.add_line(core.train_neuron("AND", lr=0.5, epochs=300).loss,
                               "#E69F00")
                epoch = ValueTracker(0)
                chart.add_updater(lambda c: c.show_upto(epoch.get_value()))
                self.add(chart)
                self.play(epoch.animate.set_value(300), rate_func=linear)
    """

    def __init__(self, loss, width: float = 5.0, height: float = 3.0, *,
                 x_label: str = "epoch", y_label: str = "loss", log_x: bool = False,
                 color: str | None = None, stroke_width: float = 4.0,
                 x_max: float | None = None, y_max: float | None = None,
                 x_ticks: int = 3, y_ticks: int = 3, tick_size: float = TINY,
                 label_size: float = SMALL, y_label_above: bool = True,
                 vertices: int | None = 400, dot: bool = True):
        th = theme.current()
        loss = np.asarray(loss, dtype=float)
        if loss.ndim != 1 or len(loss) < 1:
            raise ValueError(f"loss must be a (T,) array, got shape {loss.shape}")
        self.log_x, self.vertices = log_x, vertices
        n = max(float(len(loss) - 1 if x_max is None else x_max), 1.0)
        finite = loss[np.isfinite(loss)]
        peak = float(np.max(finite)) if y_max is None and len(finite) else (y_max or 0)
        self.top, ys = nice_top(peak, y_ticks)
        if log_x:
            self.x_end = span = math.log10(1 + n)
            ticks, k = [0], 0
            while 10 ** k <= n:
                ticks.append(10 ** k)
                k += 1
            if (span - math.log10(1 + ticks[-1])) / span * width > 0.6:  # room to name
                ticks.append(int(n) if n == int(n) else n)  # the last epoch too
            x_range = (0, span, span)
            x_marks = [(math.log10(1 + e), str(e)) for e in ticks]
            if "log" not in x_label:
                x_label = f"{x_label} (log scale)"
        else:
            self.x_end = n
            x_range, x_marks = (0, n, nice_step(n, x_ticks, whole=True)), None
        self.axes = axes(x_range, (0, self.top, ys), width, height, x_label, y_label,
                         size=tick_size, label_size=label_size,
                         y_label_above=y_label_above, x_ticks=x_marks)
        self.lines = VGroup()
        self.dot = Dot(radius=0.07, color=th.accent)
        super().__init__(self.axes, self.lines, *([self.dot] if dot else []))
        self._t = float(len(loss) - 1)
        self.add_line(loss, color or th.curve, stroke_width)

    # -- coordinates -------------------------------------------------------------
    def x_coord(self, t):
        """Step t on the x axis's own scale (log10(1 + t) on a log axis)."""
        t = np.asarray(t, dtype=float)
        return np.log10(1 + t) if self.log_x else t

    def coords_to_points(self, xs, ys) -> np.ndarray:
        """(n, 3) scene points of axis coordinates; an affine map, like `c2p`."""
        ax = self.axes
        o = ax.c2p(0, 0)
        ux, uy = ax.c2p(1, 0) - o, ax.c2p(0, 1) - o
        return o + np.outer(xs, ux) + np.outer(ys, uy)

    def point(self, t: float, line: int = 0) -> np.ndarray:
        """Scene point of step t on line `line` (the loss straight between steps)."""
        ln = self.lines[line]
        return self.coords_to_points(self.x_coord([t]), [ln.value_at(t)])[0]

    def origin(self) -> np.ndarray:
        """The plot's bottom-left corner: step 0, loss 0."""
        return self.axes.c2p(0, 0)

    def move_origin_to(self, point) -> LossChart:
        """Shift the chart so the corner (step 0, loss 0) is at `point`."""
        return self.shift(np.asarray(point, dtype=float) - self.origin())

    @property
    def curve(self) -> VMobject:
        return self.lines[0].path

    # -- data --------------------------------------------------------------------
    def add_line(self, loss, color: str, stroke_width: float | None = None) -> ChartLine:
        """Another recorded curve, drawn as far as the others; returns it."""
        if stroke_width is None:
            stroke_width = self.lines[0].path.get_stroke_width() if self.lines else 4.0
        line = ChartLine(loss, color, stroke_width, self.vertices, self.log_x)
        self.lines.add(line)
        line.show_upto(self, self._t)
        return line

    def show_upto(self, t: float) -> LossChart:
        """Every line drawn from step 0 to step t, the dot at the first line's t."""
        self._t = float(t)
        for line in self.lines:
            line.show_upto(self, t)
        p = self.point(min(float(t), len(self.lines[0].loss) - 1))
        self.dot.move_to(p)
        fade(self.dot, 1.0 if self.lines[0].value_at(t) <= self.top else 0.0)
        return self


# ------------------------------------------------------------- ball on a curve
class BallOnCurve(VGroup):
    """A one-weight loss landscape on its axes, a ball resting on it, its slope.

    `landscape` is a `core.Landscape` or its name. The curve is the landscape's
    own `loss`; the ball sits at weight w touching the curve, its centre one
    radius along the curve's normal in screen units (the x and y scales differ),
    and the slope shows as a tangent segment and an arrow downhill whose length
    grows with |slope| up to `grad_scale` (default: the steepest slope in view).
    `.set_state(w)` moves everything to w, with the landscape's loss and slope
    unless recorded ones are given (replay `run.w[k], run.loss[k], run.grad[k]`
    of a `core.Descent`). `window` is (w0, w1, loss0, loss1), e.g. from
    `core.descent.plot_window`. Parts: `.axes`, `.curve`, `.tangent`, `.arrow`
    (shaft, head), `.ball`.

    Example::

        from manim import Scene, ValueTracker
        from neuroanim import core
        from neuroanim.blocks import BallOnCurve

        class BallOnCurveExample(Scene):
            def construct(self):
                run = core.descend("bowl", None, 0.05, 3)
                ball = BallOnCurve("bowl", run.w[0], 9, 5)
                step = ValueTracker(0)

                def follow(b):
                    k = round(step.get_value())
                    b.set_state(run.w[k], run.loss[k], run.grad[k])

                ball.add_updater(follow)
                self.add(ball)
                self.play(step.animate.set_value(run.n_steps), run_time=2)
    """

    def __init__(self, landscape: core.Landscape | str, w: float | None = None,
                 width: float = 6.0, height: float = 4.0, *,
                 window: Sequence[float] | None = None, radius: float = 0.17,
                 tangent: float = 0.75, arrow: float = 1.0,
                 grad_scale: float | None = None, color: str | None = None,
                 curve_color: str | None = None, curve_width: float = 4.0,
                 curve_opacity: float = 1.0, tick_size: float = SMALL,
                 label_size: float = SMALL, ticks: tuple[int, int] = (7, 5),
                 x_label: str = "weight w", y_label: str = "loss"):
        th = theme.current()
        ls = self.landscape = (core.get_landscape(landscape)
                               if isinstance(landscape, str) else landscape)
        self.radius, self.tangent_length, self.arrow_length = radius, tangent, arrow
        if window is None:
            window = core.descent.plot_window(ls, [])
        x0, x1, y0, y1 = (float(v) for v in window)
        self.window = (x0, x1, y0, y1)
        xs, ys = nice_step(x1 - x0, ticks[0]), nice_step(y1 - y0, ticks[1])
        self.axes = axes((x0, x1, xs), (y0, y1, ys), width, height, x_label, y_label,
                         size=tick_size, label_size=label_size)
        ws = np.linspace(x0, x1, 801)
        if grad_scale is None:
            with np.errstate(all="ignore"):
                grad_scale = float(np.nanmax(np.abs(ls.grad(ws)))) or 1.0
        self.grad_scale = grad_scale
        self.curve = VMobject(stroke_color=curve_color or th.curve,
                              stroke_width=curve_width, stroke_opacity=curve_opacity)
        with np.errstate(all="ignore"):
            self.curve.set_points_as_corners(np.asarray(self.axes.c2p(ws, ls.loss(ws))).T)
        self.tangent = Line(LEFT, RIGHT, stroke_color=th.text, stroke_width=3)
        self.arrow = VGroup(VMobject(stroke_color=th.accent, stroke_width=5),
                            VMobject(fill_color=th.accent, fill_opacity=1,
                                     stroke_width=0))
        self.ball = Circle(radius=radius, fill_color=color or th.ball, fill_opacity=1,
                           stroke_color=th.background, stroke_width=2)
        super().__init__(self.axes, self.curve, self.tangent, self.arrow, self.ball)
        if w is not None:
            self.set_state(w)

    # -- geometry (screen units) -------------------------------------------------
    @property
    def sx(self) -> float:
        """Scene units per unit of w."""
        return float(self.axes.c2p(1, 0)[0] - self.axes.c2p(0, 0)[0])

    @property
    def sy(self) -> float:
        """Scene units per unit of loss."""
        return float(self.axes.c2p(0, 1)[1] - self.axes.c2p(0, 0)[1])

    def point(self, w: float, loss: float | None = None) -> np.ndarray:
        """Scene point of (w, loss) (loss: the landscape's at w)."""
        if loss is None:
            loss = float(self.landscape.loss(w))
        return self.axes.c2p(w, loss)

    def tangent_dir(self, slope: float) -> np.ndarray:
        """Unit vector along the curve on screen, pointing to larger w."""
        tx_, ty_ = self.sx, self.sy * slope
        n = math.hypot(tx_, ty_)
        return np.array([tx_ / n, ty_ / n, 0.0])

    def normal(self, slope: float) -> np.ndarray:
        """Unit normal to the curve on screen, pointing up, out of the valley."""
        t = self.tangent_dir(slope)
        return np.array([-t[1], t[0], 0.0])

    def ball_centre(self, p: np.ndarray, slope: float) -> np.ndarray:
        """Where the ball's centre is when it touches the curve at p."""
        return p + self.radius * self.normal(slope)

    # -- drawing -----------------------------------------------------------------
    def draw_slope(self, p: np.ndarray, slope: float) -> bool:
        """Tangent at p and the arrow downhill from the ball there; False when the
        slope is too gentle for an arrow (draw it hidden then)."""
        u = self.tangent_dir(slope)
        self.tangent.set_points_as_corners([p - self.tangent_length * u,
                                            p + self.tangent_length * u])
        length = self.arrow_length * min(1.0, abs(slope) / self.grad_scale)
        if length < 0.05 or slope == 0.0:
            return False
        d = -math.copysign(1.0, slope) * u  # downhill along the tangent
        start = self.ball_centre(p, slope) + d * (self.radius + 0.05)
        end = start + d * length
        tip = min(0.2, 0.45 * length)
        side = np.array([-d[1], d[0], 0.0]) * tip * 0.45
        shaft, head = self.arrow
        shaft.set_points_as_corners([start, end - d * tip * 0.8])
        head.set_points_as_corners([end, end - d * tip + side, end - d * tip - side,
                                    end])
        return True

    def set_state(self, w: float, loss: float | None = None,
                  slope: float | None = None) -> BallOnCurve:
        """The ball at w touching the curve, the slope marks there."""
        loss = float(self.landscape.loss(w)) if loss is None else float(loss)
        slope = float(self.landscape.grad(w)) if slope is None else float(slope)
        p = self.point(w, loss)
        self.ball.move_to(self.ball_centre(p, slope))
        fade(self.arrow, 1.0 if self.draw_slope(p, slope) else 0.0)
        self.w, self.contact = float(w), p
        return self


# -------------------------------------------------------------------- heatmap
def heat_lut(colors: tuple[str, str, str]) -> np.ndarray:
    """(256, 4) uint8 RGBA: output level i/255 blended linearly 0 -> 0.5 -> 1."""
    rgb = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in colors], float)
    s = np.linspace(0.0, 1.0, 256)
    lut = np.full((256, 4), 255.0)
    for ch in range(3):
        lut[:, ch] = np.interp(s, [0.0, 0.5, 1.0], rgb[:, ch])
    return np.rint(lut).astype(np.uint8)


def heat_frames(w, b, resolution: int, lut: np.ndarray, lo: float = 0.0,
                hi: float = 1.0) -> np.ndarray:
    """(E, R, R, 4) uint8 images of the output over [lo, hi]^2, x2 = hi on top.

    One vectorized `core.output_grid` call for all the given states w (E, 2),
    b (E,), sampled at the cell centres so each pixel shows the output at its own
    middle; rows flipped for display; coloured by a lookup-table index.
    """
    c = (hi - lo) / resolution
    grid = core.output_grid(w, b, resolution, lo + c / 2, hi - c / 2)  # (E, R, R)
    return lut[np.rint(grid[:, ::-1, :] * 255).astype(np.intp)]


class GridCamera(Camera):
    """The Cairo camera with a fast path for heatmaps: pass
    `camera_class=GridCamera` to a scene that shows an `OutputHeatmap`.

    manim draws an ImageMobject by a PIL perspective warp into a frame-sized image
    alpha-composited over the whole frame (~6 ms a frame at 854x480). An opaque,
    unrotated image with nearest resampling is just a block of the frame: each
    pixel whose centre falls inside the image takes the image cell under that
    centre, by numpy indexing (~0.2 ms). Anything else goes the usual way.
    """

    def display_image_mobject(self, image_mobject, pixel_array) -> None:
        img = image_mobject.get_pixel_array()
        c = self.points_to_subpixel_coords(image_mobject, image_mobject.points)
        (x0, y0), (x1, y_top), (x_left, y1) = c[0], c[1], c[2]  # UL, UR, DL
        if not (image_mobject.resampling_algorithm == RESAMPLING_ALGORITHMS["nearest"]
                and abs(y_top - y0) < 1e-6 and abs(x_left - x0) < 1e-6
                and x1 > x0 and y1 > y0 and img[..., 3].min() == 255):
            super().display_image_mobject(image_mobject, pixel_array)
            return
        h, w = img.shape[:2]
        px = np.arange(max(0, math.ceil(x0 - 0.5)), min(self.pixel_width,
                                                         math.ceil(x1 - 0.5)))
        py = np.arange(max(0, math.ceil(y0 - 0.5)), min(self.pixel_height,
                                                         math.ceil(y1 - 0.5)))
        if not len(px) or not len(py):
            return
        cols = np.minimum(((px + 0.5 - x0) / (x1 - x0) * w).astype(np.intp), w - 1)
        rows = np.minimum(((py + 0.5 - y0) / (y1 - y0) * h).astype(np.intp), h - 1)
        pixel_array[py[0]:py[-1] + 1, px[0]:px[-1] + 1] = img[rows[:, None], cols]


class OutputHeatmap(Group):
    """A neuron's output over the input square [lo, hi]^2 and its boundary line.

    `.image` is an ImageMobject of `resolution` x `resolution` cells, each the
    output sigmoid(w·x + b) at the cell's centre (`core.output_grid`), coloured
    from the theme's heat palette (0 -> 0.5 -> 1); `.show(w, b)` rewrites its
    pixels in place (cheap each frame; pass `image=` a precomputed frame from
    `heat_frames` to skip even that). `.boundary` is the line where the output
    is 0.5, from `core.boundary_segment` (hidden when it misses the square or the
    output is flat, within `flat` of z = 0: then `.segment` is None).
    `.to_screen(x1, x2)` is the scene point of an input. For speed, render with
    `camera_class=GridCamera`.

    Example::

        from manim import Scene, ValueTracker
        from neuroanim import core
        from neuroanim.blocks import OutputHeatmap

        class OutputHeatmapExample(Scene):
            def construct(self):
                run = core.train_neuron("OR", epochs=200)
                heat = OutputHeatmap(run.w[0], run.b[0], side=5, resolution=32)
                epoch = ValueTracker(0)

                def follow(h):
                    e = round(epoch.get_value())
                    h.show(run.w[e], run.b[e])

                heat.add_updater(follow)
                self.add(heat)
                self.play(epoch.animate.set_value(run.epochs), run_time=2)
    """

    def __init__(self, w=(0.0, 0.0), b: float = 0.0, side: float = 4.0,
                 resolution: int = 64, *, lo: float = 0.0, hi: float = 1.0,
                 flat: float = 0.0, colors: tuple[str, str, str] | None = None,
                 boundary_color: str | None = None, boundary_width: float = 4.0):
        th = theme.current()
        self.lo, self.hi, self.flat, self.resolution = lo, hi, flat, int(resolution)
        self.lut = heat_lut(colors or th.heat)
        self.image = ImageMobject(self.frame(w, b))
        self.image.set_resampling_algorithm(RESAMPLING_ALGORITHMS["nearest"])
        self.image.height = side
        self.image.move_to([0.0, 0.0, 0.0])
        self.boundary = Line(LEFT, RIGHT, stroke_color=boundary_color or th.text,
                             stroke_width=boundary_width)
        self.segment = None
        super().__init__(self.image, self.boundary)
        self.show(w, b)

    @property
    def side(self) -> float:
        return float(self.image.height)

    def frame(self, w, b) -> np.ndarray:
        """The (R, R, 4) image of one state (w (2,), b)."""
        return heat_frames(np.asarray(w, float)[None], np.asarray([b], float),
                           self.resolution, self.lut, self.lo, self.hi)[0]

    def to_screen(self, x1, x2) -> np.ndarray:
        """Scene point of input (x1, x2)."""
        return self.many_to_screen([[x1, x2]])[0]

    def many_to_screen(self, xy) -> np.ndarray:
        """Scene points (N, 3) of inputs (N, 2), the image's place looked up once."""
        s = (np.asarray(xy, float).reshape(-1, 2) - self.lo) / (self.hi - self.lo) - 0.5
        out = np.zeros((len(s), 3))
        out[:, :2] = self.side * s
        return self.image.get_center() + out

    def show(self, w, b, image: np.ndarray | None = None) -> OutputHeatmap:
        """The output and boundary of state (w, b) (`image`: its frame, if made)."""
        np.copyto(self.image.pixel_array, self.frame(w, b) if image is None else image)
        seg = core.boundary_segment(w, b, self.lo, self.hi, flat=self.flat)
        self.segment = seg
        if seg is None:
            self.boundary.set_stroke(opacity=0)
        else:
            p, q = (self.to_screen(*pt) for pt in seg)
            self.boundary.set_points_as_corners([p, q]).set_stroke(opacity=1)
        return self


# ----------------------------------------------------------------- stage loop
STAGES = (
    ("Forward pass", "make a prediction"),
    ("Measure loss", "how wrong it is"),
    ("Backward pass", "the gradient"),
    ("Adjust", "w − lr × gradient"),
    ("Repeat", "again and again"),
)


class StageLoop(VGroup):
    """The five stages of training in a 2-1-2 ring of boxes with arrows round it.

    `stages` are five (name, what it does) pairs, or triples with an aside in the
    theme's ball colour (an analogy: "♪ pluck"), in the order of the cycle:
    forward, loss, backward, adjust, repeat by default. Boxes are numbered; the
    ring runs top row left to right, down the right, bottom row right to left,
    back up. `.light(i)` returns the animations that light box i (None: none)
    and dim the lit one, only for boxes that change; `animate=False` does it at
    once (in an updater). `.boxes[i]` has `.frame` and `.head`.

    Example::

        from manim import Scene
        from neuroanim.blocks import StageLoop

        class StageLoopExample(Scene):
            def construct(self):
                loop = StageLoop()
                self.add(loop)
                for i in range(5):
                    self.play(*loop.light(i), run_time=0.3)
    """

    def __init__(self, stages: Sequence[Sequence[str]] = STAGES, *,
                 box_width: float = 3.0, box_height: float = 1.3,
                 columns: float = 3.5, rows: float = 1.95):
        from .draw import fit_text  # here: edits to this module stay inside StageLoop

        if len(stages) != 5:
            raise ValueError(f"a stage loop has five stages, got {len(stages)}")
        th = self.th = theme.current()
        half = columns / 2
        spots = [(-half, rows), (half, rows), (half, 0.0), (half, -rows),
                 (-half, -rows)]
        self.boxes = VGroup()
        for num, (stage, (x, y)) in enumerate(zip(stages, spots, strict=True),
                                              start=1):
            name, what, *aside = stage
            frame = RoundedRectangle(width=box_width, height=box_height,
                                     corner_radius=0.14, stroke_color=th.axis,
                                     stroke_width=2, fill_color=th.panel,
                                     fill_opacity=1)
            frame.move_to([x, y, 0])
            # Longer words (a translation, an author's) shrink to the box, then wrap.
            inner = box_width - 0.3
            head = fit_text(f"{num}  {name}", 18, inner, max_lines=2, weight=BOLD,
                            disable_ligatures=True)
            body = fit_text(what, TINY, inner, th.muted, max_lines=2,
                            disable_ligatures=True)
            texts = [(head, 0.3), (body, -0.12)]
            if aside:
                texts.append((fit_text(aside[0], TINY, inner, th.ball, max_lines=2,
                                       disable_ligatures=True), -0.46))
            else:
                texts = [(head, 0.15), (body, -0.3)]
            if all(isinstance(t, Text) for t, _ in texts):  # one line each
                for t, dy in texts:
                    on_baseline(t.set_x(x), y + dy)
            else:  # a line wrapped: every line centred, stacked evenly in the box
                for t, _ in texts:
                    for line in t if not isinstance(t, Text) else [t]:
                        line.set_x(x)
                stack = VGroup(*(t for t, _ in texts)).arrange(DOWN, buff=0.07)
                stack.scale(min(1.0, (box_height - 0.16) / stack.height))
                stack.move_to([x, y, 0])
            box = VGroup(frame, *(t for t, _ in texts))
            box.frame, box.head = frame, head
            self.boxes.add(box)
        self.arrows = VGroup()
        for a, b, d in [(0, 1, RIGHT), (1, 2, DOWN), (2, 3, DOWN), (3, 4, LEFT),
                        (4, 0, UP)]:
            self.arrows.add(Arrow(self.boxes[a].frame.get_edge_center(d),
                                  self.boxes[b].frame.get_edge_center(-d), buff=0.08,
                                  stroke_width=3, color=th.axis, tip_length=0.2,
                                  max_tip_length_to_length_ratio=0.3))
        self.lit: int | None = None
        super().__init__(self.boxes, self.arrows)

    def _style(self, box: VGroup, on: bool, target) -> Any:
        th = self.th
        return (target(box.frame).set_stroke(th.accent if on else th.axis,
                                             5 if on else 2),
                target(box.head).set_color(th.accent if on else th.text))

    def light(self, index: int | None, animate: bool = True) -> list[Animation]:
        """Light box `index` (None: none), dim the lit one: the animations, or
        with `animate=False` at once (returns []). Only changed boxes animate:
        each animation copies its text."""
        out: list[Animation] = []
        for i, box in enumerate(self.boxes):
            on = i == index
            if on == (i == self.lit):
                continue
            if animate:
                out.extend(self._style(box, on, lambda m: m.animate))
            else:
                self._style(box, on, lambda m: m)
        self.lit = index
        if animate and not out:
            return [Wait()]
        return out
