"""AND gate: a neuron's output grid converging beside its loss curve, from a real run."""

from __future__ import annotations

import numpy as np
from manim import *
from neuroanim.scenes.and_gate import FLAT, HI, LO, explain

from neuroanim import blocks, core
from neuroanim.blocks import GridCamera, LossChart, OutputHeatmap, Readout, heat_lut
from neuroanim.draw import (
    MIN_SIZE,
    SMALL,
    TINY,
    NeuroScene,
    fit_text,
    fmt,
    glyph_atlas,
    label,
    number,
    plain,
    shrink_to,
)

TRAIN_SECONDS = 10.0  # the training section lasts this long whatever the epoch count
TEXT_LEFT, TEXT_WIDTH = 1.5, 5.4  # the ending's text block, right of the grid
TEXT_TOP, TEXT_BOTTOM = -1.1, -3.85  # ... from under the w1, w2, b readouts down
TITLE_MIN = 24  # a longer title shrinks to this size, then wraps onto two lines
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


def heat_frames(w, b, resolution: int, lut: np.ndarray) -> np.ndarray:
    """(E, R, R, 4) uint8 images of the output over the screen square (the
    block's `heat_frames` on [LO, HI]^2), x2 = HI on top."""
    return blocks.heat_frames(w, b, resolution, lut, LO, HI)


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
                  subcaption=self.words("caption.task", gate=self.run.gate))
        self.wait(1.0)
        # The grid at epoch 0: the random start. Static parts first, live ones
        # last; the live markers fade in over identical intro ones, which then go.
        self.play(FadeIn(self.grid_static), FadeIn(self.chart), FadeIn(self.live),
                  run_time=0.8,
                  subcaption=self.words("caption.start"))
        self.remove(self.intro_points)
        self.wait(0.7)
        # Training: one tracker over the epoch index drives everything live
        self.live.add_updater(lambda _m: self.update_live())
        self.play(self.epoch.animate.set_value(self.run.epochs),
                  rate_func=self.schedule, run_time=TRAIN_SECONDS,
                  subcaption=self.words("caption.training"))
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
        key = "title.learns" if run.status == "learned" else "title.tries"
        # Nothing shares the title's band: it may run across the frame.
        title = fit_text(self.words(key, gate=run.gate), 30, FRAME_W - 0.7,
                         min_size=TITLE_MIN, max_lines=2, baked=True)
        title.to_corner(UL, buff=0.35)
        title.set_x(-FRAME_W / 2 + 0.35, LEFT)
        cols = [-6.55, -6.0, -5.15, -4.3, -3.75]  # x1, x2, target, output, mark
        top = 2.35
        heads = VGroup(*(label(h, TINY, th.muted).move_to([x, top, 0]) for h, x in
                         zip(("x1", "x2"), cols, strict=False)))
        # The target and output heads sit over 0.85 wide columns: the target's
        # gets 0.8, the output's what the target's leaves, up to the counter
        # over the grid. A longer word shrinks, then wraps upwards (room up to
        # the title), its last line where the one line stood.
        for h, x in zip(("table.target", "table.output"), cols[2:4], strict=True):
            room = 0.8 if h == "table.target" else 2 * min(
                x - heads[-1].get_right()[0] - 0.1, 0.95)
            head = fit_text(self.words(h), TINY, room, th.muted,
                            max_lines=2, baked=True).move_to([x, top, 0])
            if len(head.submobjects) > 1:
                head.shift(UP * (top - head[-1].get_y()))
            heads.add(head)
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
        return self.heatmap.to_screen(x1, x2)

    def _build_square(self) -> VGroup:
        """The input square with its axes and the four examples' markers (and key)."""
        th = self.theme
        self.heat_side = 4.3
        self.heat_centre = np.array([-1.05, -0.35, 0.0])
        run = self.run
        self.heatmap = OutputHeatmap(run.w[0], run.b[0], self.heat_side, self.res,
                                     lo=LO, hi=HI, flat=FLAT, colors=th.heat)
        self.heatmap.shift(self.heat_centre - self.heatmap.image.get_center())
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
        # The marker key runs from the left column to the x2 axis name: each
        # name gets half of that room (shrunk, then wrapped onto two lines).
        room = (yl.get_left()[0] - 0.15 - KEYS_LEFT - 2 * 0.22 - 2 * 0.12 - 0.25) / 2
        key = VGroup(*(part for t, name in ((1, "key.target_one"),
                                            (0, "key.target_zero"))
                       for part in (self._marker(t, 0.22),
                                    fit_text(self.words(name), TINY, room, th.muted,
                                             max_lines=2, baked=True))))
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
        head = label(self.words("counter.epoch"), SMALL, th.muted).set_y(self.counter_y)
        head.align_to(self.square, LEFT)
        width = len(str(self.run.epochs)) * glyph_atlas(SMALL)[1]["0"]
        self.counter_right = head.get_right()[0] + 0.14 + width
        total = label(f"/ {self.run.epochs}", SMALL, th.muted)
        total.next_to([self.counter_right, self.counter_y, 0], RIGHT, buff=0.12)
        # Keys in the left column, under the table and the marker key.
        # Their names may run to the square's tick numbers (x2 = 0, 1) on its left.
        room = self.square.get_left()[0] - 0.35 - KEYS_LEFT
        width = 2.7
        name = fit_text(self.words("key.output"), TINY, room, th.muted, max_lines=2,
                        baked=True).move_to([KEYS_LEFT, -1.05, 0], LEFT)
        strip = ImageMobject(np.repeat(self.lut[None, :, :], 4, axis=0))
        strip.set_resampling_algorithm(RESAMPLING_ALGORITHMS["nearest"])
        strip.stretch_to_fit_width(width).stretch_to_fit_height(0.18)
        strip.move_to([KEYS_LEFT, -1.42, 0], LEFT)
        nums = VGroup(*(
            label(t, TINY, th.axis).next_to(strip.get_corner(DL) + RIGHT * width * f,
                                            DOWN, buff=0.08)
            for t, f in (("0", 0), (plain(0.5), 0.5), ("1", 1))))
        boundary = fit_text(self.words("key.boundary", level=plain(0.5)), TINY,
                            room - 0.6, th.muted, max_lines=2, baked=True)
        line = VGroup(Line(ORIGIN, RIGHT * 0.45, stroke_color=th.text, stroke_width=4),
                      boundary)
        line.arrange(RIGHT, buff=0.15).move_to([KEYS_LEFT, -2.2, 0], LEFT)
        return Group(head, total, name, strip, nums, line)

    def _build_chart(self) -> VGroup:
        """Loss against epoch on a log10(1 + epoch) axis, ticks at 0, 1, 10, 100..."""
        run = self.run
        chart = self.loss_chart = LossChart(
            run.loss, 4.75, 2.4, log_x=True, stroke_width=3, label_size=TINY,
            x_label=self.words("chart.epoch"), y_label=self.words("chart.loss"))
        chart.move_origin_to([1.975, 0.45, 0])
        self.ax = chart.axes
        # The axis names: the epoch's as wide as the plot, the loss's (above the
        # axis, centred on it) no wider than the room left of the loss readout.
        x_name, y_name = chart.axes.texts[-2:]
        shrink_to(x_name, 4.75, size=TINY)
        shrink_to(y_name, 2 * (y_name.get_x() - 1.2), size=TINY)
        # Readouts: the loss above the plot's top right (clear of any curve), the
        # parameters with their signs under the chart. Names static, values live.
        spec = {"loss": (run.loss[0], 4, False), "w1": (run.w[0, 0], 2, True),
                "w2": (run.w[0, 1], 2, True), "b": (run.b[0], 2, True)}
        names = {"loss": self.words("readout.loss")}  # w1, w2, b: symbols, not words
        rows = [Readout(names.get(k, k), v, places, SMALL, sign=sign)
                for k, (v, places, sign) in spec.items()]
        rows[0].move_to(chart.axes.c2p(chart.x_end, chart.top) + UP * 0.28, RIGHT)
        VGroup(*rows[1:]).arrange(RIGHT, buff=0.45).move_to([4.2, -0.65, 0])
        self.readouts = {k: row.value for k, row in zip(spec, rows, strict=True)}
        return VGroup(chart.axes, *(row[0] for row in rows))

    def _build_live(self) -> Group:
        """Everything the tracker moves, in one group with one updater."""
        th = self.theme
        self.heat, self.boundary = self.heatmap.image, self.heatmap.boundary
        self.points = self._points()
        # When the line misses the square, say why under it (one of three, shown),
        # centred under the square and clear of the ending's text on the right;
        # a longer one wraps downwards.
        room = 2 * (TEXT_LEFT - 0.15 - self.square.get_x())
        levels = {"above": plain(0.5), "below": plain(0.5), "flat": fmt(0.5, 2)}
        self.notes = {k: fit_text(self.words(f"note.{k}", level=v), TINY, room,
                                  th.muted, max_lines=2, baked=True)
                      .next_to(self.square, DOWN, buff=0.75)
                      for k, v in levels.items()}
        self.curve, self.dot = self.loss_chart.curve, self.loss_chart.dot
        self.counter = number(0, 0, SMALL, align=RIGHT)
        self.counter.move_to([self.counter_right, self.counter_y, 0], RIGHT)
        self.outputs = VGroup(*(number(0.5, 2, SMALL).move_to([self.cols[3], y, 0])
                                for y in self.rows_y))
        return Group(self.heatmap, self.points, *self.notes.values(),
                     self.loss_chart.lines, self.dot,
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
        room = TEXT_TOP - TEXT_BOTTOM
        if text.width > TEXT_WIDTH:  # long numbers: shrink rather than leave the frame
            if text.width * MIN_SIZE / TINY <= TEXT_WIDTH and text.height * (
                    TEXT_WIDTH / text.width) <= room:
                text.scale_to_fit_width(TEXT_WIDTH)
            else:  # longer words: wrap each line, at the largest size that fits
                text = self._wrapped_ending(colour, room)
        text.move_to([TEXT_LEFT, TEXT_TOP, 0], UL)
        self.ending_text = text
        return VGroup(self.marks, text)

    def _wrapped_ending(self, colour: str, room: float) -> VGroup:
        """The ending with each line broken at spaces to TEXT_WIDTH, at the
        largest size from TINY down to MIN_SIZE whose block fits `room` high
        (the headline keeps its SMALL/TINY proportion)."""
        th = self.theme
        for size in np.arange(TINY, MIN_SIZE - 0.01, -0.5):
            head = size * SMALL / TINY
            text = VGroup(
                fit_text(self.ending_head, head, TEXT_WIDTH, colour, min_size=head,
                         baked=True),
                *(fit_text(line, size, TEXT_WIDTH, th.text, min_size=size,
                           baked=True) for line in self.ending_lines))
            text.arrange(DOWN, aligned_edge=LEFT, buff=0.17 * size / TINY)
            if text.height <= room and text.width <= TEXT_WIDTH:
                break
        return text

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
        self.heatmap.show(run.w[e], run.b[e], self.heat_image(e))
        note = None
        if self.heatmap.segment is None:
            z = run.w[e].sum() * (LO + HI) / 2 + run.b[e]  # at the square's centre
            flat = core.boundary_flat(run.w[e], run.b[e], LO, HI, flat=FLAT)
            note = "flat" if flat else ("above" if z > 0 else "below")
        for key, mob in self.notes.items():
            mob.set_fill(opacity=float(key == note))
        self.note = note
        self.loss_chart.show_upto(e)
        self.counter.set_value(e)
        self.readouts["loss"].set_value(run.loss[e])
        self.readouts["w1"].set_value(run.w[e, 0])
        self.readouts["w2"].set_value(run.w[e, 1])
        self.readouts["b"].set_value(run.b[e])
        for num, p in zip(self.outputs, run.predictions[e], strict=True):
            num.set_value(p)
