"""AND gate: a neuron's output grid converging beside its loss curve, from a real run."""

from __future__ import annotations

import math

import numpy as np
from manim import *
from neuroanim.scenes.and_gate import FLAT, HI, LO, explain

from neuroanim import core
from neuroanim.draw import (
    SMALL,
    TINY,
    NeuroScene,
    axes,
    glyph_atlas,
    label,
    nice_top,
    number,
    plain,
    readout,
)

TRAIN_SECONDS = 10.0  # the training section lasts this long whatever the epoch count
CURVE_VERTICES = 400  # loss-curve vertices over the log axis: finer than a pixel
TEXT_LEFT, TEXT_WIDTH = 1.5, 5.4  # the ending's text block, right of the grid
KEYS_LEFT = -6.85  # left edge of the table's column
HEAT_BUDGET = 96 * 2**20  # bytes of heatmap frames computed up front (F x R x R x 4)
FRAME_W = 14.2  # the layout's width in scene units (16:9 at frame height 8)


# ------------------------------------------------------------ numbers (no manim)
def epoch_at(t, epochs: int):
    """Epoch shown at fraction t of the training section: dense early, sparse late.

    e(t) = k ((1 + E/k)^t - 1) runs from 0 to E; with k = max(1, E/400) the first
    tenth of the time covers the first ~0.7% of a 2000-epoch run, where the loss
    falls fastest, and the last tenth covers its last ~45%.
    """
    k = max(1.0, epochs / 400)
    return k * ((1.0 + epochs / k) ** np.asarray(t, dtype=float) - 1.0)


def sample_epochs(epochs: int, seconds: float, fps: float) -> np.ndarray:
    """The distinct epochs the frames of a `seconds`-long section at `fps` show."""
    t = np.arange(0.0, seconds, 1.0 / fps) / seconds
    shown = np.rint(epoch_at(t, epochs)).astype(int)
    return np.unique(np.clip(np.append(shown, epochs), 0, epochs))


def heat_lut(colors: tuple[str, str, str]) -> np.ndarray:
    """(256, 4) uint8 RGBA: output level i/255 blended linearly 0 -> 0.5 -> 1."""
    rgb = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in colors], float)
    s = np.linspace(0.0, 1.0, 256)
    lut = np.full((256, 4), 255.0)
    for ch in range(3):
        lut[:, ch] = np.interp(s, [0.0, 0.5, 1.0], rgb[:, ch])
    return np.rint(lut).astype(np.uint8)


def heat_frames(w, b, resolution: int, lut: np.ndarray) -> np.ndarray:
    """(E, R, R, 4) uint8 images of the output over the screen square, x2 = HI on top.

    One vectorized `output_grid` call for all the given states, sampled at the
    cell centres so each pixel shows the output at its own middle; rows flipped
    for display; coloured by a lookup-table index, no loop over cells.
    """
    c = (HI - LO) / resolution
    grid = core.output_grid(w, b, resolution, LO + c / 2, HI - c / 2)  # (E, R, R)
    return lut[np.rint(grid[:, ::-1, :] * 255).astype(np.intp)]


class GridCamera(Camera):
    """The Cairo camera with a fast path for the heatmap.

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


# ------------------------------------------------------------------- the scene
class AndGate(NeuroScene):
    """A neuron learns a logic gate: truth table, output grid and loss curve."""

    spec_name = "and-gate"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("camera_class", GridCamera)
        super().__init__(*args, **kwargs)

    def construct(self):
        self.build()
        # The task: the truth table and its four examples on the input square
        self.play(FadeIn(self.task), FadeIn(self.intro_points), run_time=1.0,
                  subcaption=f"The task: {self.run.gate} of two inputs")
        self.wait(1.0)
        # The grid at epoch 0: the random start. Static parts first, live ones
        # last; the live markers fade in over identical intro ones, which then go.
        self.play(FadeIn(self.grid_static), FadeIn(self.chart), FadeIn(self.live),
                  run_time=0.8,
                  subcaption="Epoch 0: random weights; the output grid and its boundary")
        self.remove(self.intro_points)
        self.wait(0.7)
        # Training: one tracker over the epoch index drives everything live
        self.live.add_updater(lambda _m: self.update_live())
        self.play(self.epoch.animate.set_value(self.run.epochs),
                  rate_func=self.schedule, run_time=TRAIN_SECONDS,
                  subcaption="Training: grid, boundary, outputs and loss, epoch by epoch")
        self.live.clear_updaters()
        # The result: final weights explained, each output ticked or crossed
        self.play(FadeIn(self.ending), run_time=1.0, subcaption=self.ending_head)
        self.wait(2.5)

    # ------------------------------------------------------------------ building
    def build(self) -> None:
        """Every mobject and the precomputed heatmap frames; nothing added yet."""
        run = self.run = self.data.run
        if self.camera.frame_width < FRAME_W:  # narrower than 16:9: fit the width
            self.camera.frame_width = FRAME_W
            self.camera.frame_height = FRAME_W * self.camera.pixel_height / (
                self.camera.pixel_width)
        self.res = int(self.params["grid"])
        self.lut = heat_lut(self.theme.heat)
        self.epoch = ValueTracker(0)
        self.schedule = lambda t: float(epoch_at(t, run.epochs)) / run.epochs
        self.frame_epochs = sample_epochs(run.epochs, TRAIN_SECONDS,
                                          self.camera.frame_rate)  # (F,)
        self.frame_of = {int(e): i for i, e in enumerate(self.frame_epochs)}
        if len(self.frame_epochs) * self.res**2 * 4 <= HEAT_BUDGET:
            ep = self.frame_epochs
            self.frames = heat_frames(run.w[ep], run.b[ep], self.res, self.lut)
        else:  # e.g. --grid 512 at 60 fps: ~600 MB up front; compute each instead
            self.frames = None
        self._shown = -1

        self.task = VGroup(self._build_table(), self._build_square())
        self.grid_static = self._build_grid()
        self.chart = self._build_chart()
        self.live = self._build_live()
        self.ending = self._build_ending()
        self.update_live()

    # Layout (16:9 units): table and keys left, heatmap middle, chart and text right.
    def _build_table(self) -> VGroup:
        th, run = self.theme, self.run
        verb = "learns" if run.status == "learned" else "tries to learn"
        title = label(f"A neuron {verb} {run.gate}", 30).to_corner(UL, buff=0.35)
        title.set_x(-FRAME_W / 2 + 0.35, LEFT)
        cols = [-6.55, -6.0, -5.15, -4.3, -3.75]  # x1, x2, target, output, mark
        top = 2.35
        heads = VGroup(*(label(h, TINY, th.muted).move_to([x, top, 0]) for h, x in
                         zip(("x1", "x2", "target", "output"), cols, strict=False)))
        self.rows_y = [top - 0.5 - 0.5 * i for i in range(4)]
        cells = VGroup()
        for i, y in enumerate(self.rows_y):
            x1, x2 = run.inputs[i]
            t = run.targets[i]
            cells.add(label(plain(x1), SMALL).move_to([cols[0], y, 0]),
                      label(plain(x2), SMALL).move_to([cols[1], y, 0]),
                      self._marker(t, 0.22).move_to([cols[2] - 0.22, y, 0]),
                      label(plain(t), SMALL).move_to([cols[2] + 0.15, y, 0]))
        rule = Line([cols[0] - 0.3, top - 0.25, 0], [cols[-1] + 0.25, top - 0.25, 0],
                    stroke_color=th.axis, stroke_width=1)
        self.cols = cols
        return VGroup(title, heads, rule, cells)

    def _marker(self, target: float, size: float = 0.3) -> VMobject:
        """Target 1: a square; target 0: a circle. Colour and shape both tell; a halo
        (a background stroke, drawn under the fill) in the background colour keeps
        it apart from a heatmap of the same hue."""
        th = self.theme
        if target >= 0.5:
            shape = Square(side_length=size * 0.88, fill_color=th.target_one)
        else:
            shape = Circle(radius=size / 2, fill_color=th.target_zero)
        shape.set_fill(opacity=1).set_stroke(th.text, width=2)
        return shape.set_stroke(th.background, width=7, background=True)

    def to_screen(self, x1, x2) -> np.ndarray:
        """Scene point of input (x1, x2) on the heatmap."""
        s = (np.asarray([x1, x2], float) - LO) / (HI - LO) - 0.5
        return self.heat_centre + self.heat_side * np.array([s[0], s[1], 0.0])

    def _build_square(self) -> VGroup:
        """The input square with its axes and the four examples' markers (and key)."""
        th = self.theme
        self.heat_side = 4.3
        self.heat_centre = np.array([-1.05, -0.35, 0.0])
        self.square = Square(side_length=self.heat_side, stroke_color=th.axis,
                             stroke_width=1.5).move_to(self.heat_centre)
        ticks = VGroup()
        for v in (0, 1):
            ticks.add(label(f"{v}", TINY, th.axis).next_to(self.to_screen(v, LO),
                                                           DOWN, buff=0.1),
                      label(f"{v}", TINY, th.axis).next_to(self.to_screen(LO, v),
                                                           LEFT, buff=0.1))
        xl = label("x1", SMALL, th.muted).next_to(self.square, DOWN, buff=0.32)
        yl = label("x2", SMALL, th.muted).next_to(self.square, LEFT, buff=0.3)
        key = VGroup(self._marker(1, 0.22), label("target 1", TINY, th.muted),
                     self._marker(0, 0.22), label("target 0", TINY, th.muted))
        key.arrange(RIGHT, buff=0.12)
        key[2:].shift(RIGHT * 0.25)
        key.move_to([KEYS_LEFT, -0.45, 0], LEFT)
        self.intro_points = self._points()
        return VGroup(self.square, ticks, xl, yl, key)

    def _points(self) -> VGroup:
        return VGroup(*(self._marker(t).move_to(self.to_screen(*x))
                        for x, t in zip(self.run.inputs, self.run.targets, strict=True)))

    def _build_grid(self) -> Group:
        """What the heatmap brings: the epoch counter, palette and boundary keys."""
        th = self.theme
        # The epoch counter above the grid: "epoch 137 / 2000".
        self.counter_y = self.square.get_top()[1] + 0.3
        head = label("epoch", SMALL, th.muted).set_y(self.counter_y)
        head.align_to(self.square, LEFT)
        width = len(str(self.run.epochs)) * glyph_atlas(SMALL)[1]["0"]
        self.counter_right = head.get_right()[0] + 0.14 + width
        total = label(f"/ {self.run.epochs}", SMALL, th.muted)
        total.next_to([self.counter_right, self.counter_y, 0], RIGHT, buff=0.12)
        # Keys in the left column, under the table and the marker key.
        width = 2.7
        name = label("neuron output", TINY, th.muted).move_to([KEYS_LEFT, -1.05, 0], LEFT)
        strip = ImageMobject(np.repeat(self.lut[None, :, :], 4, axis=0))
        strip.set_resampling_algorithm(RESAMPLING_ALGORITHMS["nearest"])
        strip.stretch_to_fit_width(width).stretch_to_fit_height(0.18)
        strip.move_to([KEYS_LEFT, -1.42, 0], LEFT)
        nums = VGroup(*(
            label(t, TINY, th.axis).next_to(strip.get_corner(DL) + RIGHT * width * f,
                                            DOWN, buff=0.08)
            for t, f in (("0", 0), ("0.5", 0.5), ("1", 1))))
        line = VGroup(Line(ORIGIN, RIGHT * 0.45, stroke_color=th.text, stroke_width=4),
                      label("boundary: output 0.5", TINY, th.muted))
        line.arrange(RIGHT, buff=0.15).move_to([KEYS_LEFT, -2.2, 0], LEFT)
        return Group(head, total, name, strip, nums, line)

    def _build_chart(self) -> VGroup:
        """Loss against epoch on a log10(1 + epoch) axis, ticks at 0, 1, 10, 100..."""
        run = self.run
        span = math.log10(1 + run.epochs)
        width = 4.75
        ticks = [0] + [10 ** k for k in range(7) if 10 ** k <= run.epochs]
        if (span - math.log10(1 + ticks[-1])) / span * width > 0.6:  # room to name
            ticks.append(run.epochs)  # the last epoch too
        top, step = nice_top(float(run.loss.max()))
        ax = self.ax = axes(
            (0, span, span), (0, top, step), width, 2.4, "epoch (log scale)", "loss",
            label_size=TINY, y_label_above=True,
            x_ticks=[(math.log10(1 + e), str(e)) for e in ticks])
        ax.shift([1.975, 0.45, 0] - ax.c2p(0, 0))
        # The curve's vertices: evenly spaced on the log axis, each a recorded epoch.
        grid = np.rint(10 ** np.linspace(0, span, CURVE_VERTICES) - 1).astype(int)
        self.curve_epochs = np.unique(np.clip(grid, 0, run.epochs))
        o = ax.c2p(0, 0)
        self._ux, self._uy, self._o = ax.c2p(1, 0) - o, ax.c2p(0, 1) - o, o
        # Readouts: the loss above the plot's top right (clear of any curve), the
        # parameters with their signs under the chart. Names static, values live.
        spec = {"loss": (run.loss[0], 4, False), "w1": (run.w[0, 0], 2, True),
                "w2": (run.w[0, 1], 2, True), "b": (run.b[0], 2, True)}
        rows = [readout(k, v, places, SMALL, sign=sign)
                for k, (v, places, sign) in spec.items()]
        rows[0].move_to(ax.c2p(span, top) + UP * 0.28, RIGHT)
        VGroup(*rows[1:]).arrange(RIGHT, buff=0.45).move_to([4.2, -0.65, 0])
        self.readouts = {k: row.value for k, row in zip(spec, rows, strict=True)}
        return VGroup(ax, *(row[0] for row in rows))

    def chart_points(self, epochs) -> np.ndarray:
        """Scene points (n, 3) of the loss at the given epochs on the chart."""
        e = np.asarray(epochs)
        return (self._o + np.outer(np.log10(1 + e), self._ux)
                + np.outer(self.run.loss[e], self._uy))

    def _build_live(self) -> Group:
        """Everything the tracker moves, in one group with one updater."""
        th = self.theme
        self.heat = ImageMobject(self.heat_image(0).copy())
        self.heat.set_resampling_algorithm(RESAMPLING_ALGORITHMS["nearest"])
        self.heat.height = self.heat_side
        self.heat.move_to(self.heat_centre)
        self.boundary = Line(LEFT, RIGHT, stroke_color=th.text, stroke_width=4)
        self.points = self._points()
        # When the line misses the square, say why under it (one of three, shown).
        self.notes = {k: label(t, TINY, th.muted).next_to(self.square, DOWN, buff=0.75)
                      for k, t in (("above", "no boundary in view: output above 0.5"),
                                   ("below", "no boundary in view: output below 0.5"),
                                   ("flat", "no boundary: output 0.50 everywhere"))}
        self.curve = VMobject(stroke_color=th.curve, stroke_width=3)
        self.dot = Dot(radius=0.07, color=th.accent)
        self.counter = number(0, 0, SMALL, align=RIGHT)
        self.counter.move_to([self.counter_right, self.counter_y, 0], RIGHT)
        self.outputs = VGroup(*(number(0.5, 2, SMALL).move_to([self.cols[3], y, 0])
                                for y in self.rows_y))
        return Group(self.heat, self.boundary, self.points, *self.notes.values(),
                     self.curve, self.dot,
                     self.counter, *self.readouts.values(), self.outputs)

    def _build_ending(self) -> VGroup:
        th, run = self.theme, self.run
        self.ending_head, self.ending_lines = explain(run)
        self.verdicts = core.verdicts(run.predictions[-1], run.targets)
        self.marks = VGroup(*(
            (self._tick() if good else self._cross()).move_to([self.cols[4], y, 0])
            for good, y in zip(self.verdicts, self.rows_y, strict=True)))
        colour = th.good if self.verdicts.all() else th.bad
        text = VGroup(label(self.ending_head, SMALL, colour),
                      *(label(line, TINY, th.text) for line in self.ending_lines))
        text.arrange(DOWN, aligned_edge=LEFT, buff=0.17)
        if text.width > TEXT_WIDTH:  # long numbers: shrink rather than leave the frame
            text.scale_to_fit_width(TEXT_WIDTH)
        text.move_to([TEXT_LEFT, -1.1, 0], UL)
        self.ending_text = text
        return VGroup(self.marks, text)

    def _tick(self) -> VMobject:
        m = VMobject(stroke_color=self.theme.good, stroke_width=5)
        m.set_points_as_corners([[-0.11, 0.0, 0], [-0.03, -0.09, 0], [0.13, 0.11, 0]])
        m.kind = "tick"
        return m

    def _cross(self) -> VGroup:
        d = 0.09
        m = VGroup(Line([-d, -d, 0], [d, d, 0]), Line([-d, d, 0], [d, -d, 0]))
        m.set_stroke(self.theme.bad, width=5)
        m.kind = "cross"
        return m

    # ------------------------------------------------------------------ updating
    def heat_image(self, e: int) -> np.ndarray:
        """The precomputed image of epoch e (computed now if no frame samples it)."""
        i = self.frame_of.get(e)
        if i is not None and self.frames is not None:
            return self.frames[i]
        return heat_frames(self.run.w[[e]], self.run.b[[e]], self.res, self.lut)[0]

    def update_live(self) -> None:
        """Show the recorded state at the tracker's epoch: grid, line, loss, numbers."""
        run = self.run
        e = int(np.clip(round(self.epoch.get_value()), 0, run.epochs))
        if e == self._shown:
            return
        self._shown = e
        np.copyto(self.heat.pixel_array, self.heat_image(e))
        seg = core.boundary_segment(run.w[e], run.b[e], LO, HI, flat=FLAT)
        note = None
        if seg is None:
            self.boundary.set_stroke(opacity=0)
            z = run.w[e].sum() * (LO + HI) / 2 + run.b[e]  # at the square's centre
            flat = core.boundary_flat(run.w[e], run.b[e], LO, HI, flat=FLAT)
            note = "flat" if flat else ("above" if z > 0 else "below")
        else:
            p, q = (self.to_screen(*pt) for pt in seg)
            self.boundary.set_points_as_corners([p, q]).set_stroke(opacity=1)
        for key, mob in self.notes.items():
            mob.set_fill(opacity=float(key == note))
        self.note = note
        pts = self.chart_points(np.append(self.curve_epochs[self.curve_epochs < e], e))
        self.curve.set_points_as_corners(pts if len(pts) > 1 else np.vstack([pts, pts]))
        self.dot.move_to(pts[-1])
        self.counter.set_value(e)
        self.readouts["loss"].set_value(run.loss[e])
        self.readouts["w1"].set_value(run.w[e, 0])
        self.readouts["w2"].set_value(run.w[e, 1])
        self.readouts["b"].set_value(run.b[e])
        for num, p in zip(self.outputs, run.predictions[e], strict=True):
            num.set_value(p)
