"""What loss and epochs mean: one squared gap, their mean, and laps over the data."""

from __future__ import annotations

import string

import numpy as np
from manim import *

from neuroanim.blocks import LossChart, Readout
from neuroanim.draw import (
    BODY,
    MIN_SIZE,
    SMALL,
    TINY,
    TITLE,
    NeuroScene,
    baseline,
    fit_text,
    fmt,
    loss_text,
    on_baseline,
    pair,
    place_line,
    plain,
    shrink_to,
    text_line,
    tx,
)

STAGES = ("one", "square", "each", "mean", "epoch", "many")  # one caption each


def worded_line(template: str, color: str | None, size: float = SMALL,
                **values: str | tuple) -> VGroup:
    """A `text_line` from a strings-table template: the words in `color`, each
    placeholder filled in; a value given as a tuple (text, colour[, key]) becomes
    its own piece (named by key), a plain string joins the words around it. The
    template decides the order, so a translation may move the numbers."""
    parts, words = [], ""
    for literal, field, _, _ in string.Formatter().parse(template):
        words += literal
        if field is None:
            continue
        value = values[field]
        if isinstance(value, tuple):
            if words:
                parts.append((words, color))
            parts.append(value)
            words = ""
        else:
            words += value
    if words:
        parts.append((words, color))
    return text_line(*parts, size=size)


def fit_line(line: VGroup, width: float, size: float) -> VGroup:
    """A `text_line` shrunk to `width` (never below MIN_SIZE), its baseline
    offset kept for `place_line`."""
    before = line.width
    shrink_to(line, width, size=size)
    line.rise *= line.width / before
    return line


def stadium(s: float, center, a: float, r: float) -> np.ndarray:
    """The point a share `s` of the way round a running track, by arc length.

    Straights of length `a`, ends of radius `r`; s = 0 is the middle of the bottom
    straight (the finish line), and runners go anticlockwise.
    """
    cx, cy = center[0], center[1]
    d = (s % 1.0) * (2 * a + 2 * np.pi * r)
    if d < a / 2:
        return np.array([cx + d, cy - r, 0.0])
    d -= a / 2
    if d < np.pi * r:
        t = -np.pi / 2 + d / r
        return np.array([cx + a / 2 + r * np.cos(t), cy + r * np.sin(t), 0.0])
    d -= np.pi * r
    if d < a:
        return np.array([cx + a / 2 - d, cy + r, 0.0])
    d -= a
    if d < np.pi * r:
        t = np.pi / 2 + d / r
        return np.array([cx - a / 2 + r * np.cos(t), cy + r * np.sin(t), 0.0])
    d -= np.pi * r
    return np.array([cx - a / 2 + d, cy - r, 0.0])


class LossAndEpochs(NeuroScene):
    """Loss for one example, the mean squared error of four, then epochs as laps.

    Replays `data.step` (the dissected step of `--example`), `data.examples`
    (all four at epoch 0) and `data.run` (its loss per epoch). For tests:
    `shown[stage][name]` holds each number as the Text on screen, `captions` the
    subcaptions in order, `epoch` and `loss` the lap readouts (final values after
    construct), `first_lap` the loss shown before and after the first epoch.
    """

    spec_name = "loss-and-epochs"

    def construct(self):
        run, step, examples = self.data.run, self.data.step, self.data.examples
        self.shown: dict[str, dict[str, Text]] = {}
        self.captions: list[str] = []

        # Title
        self.title = fit_text(self.words("title"), TITLE, self.half_w).to_corner(
            UL, buff=0.4)
        self.subtitle = self._subtitle(self.words("subtitle.one"))
        self.add(self.title, self.subtitle)

        # Loss for one example: prediction and target on a 0-1 scale
        square = self._one_example(step)

        # Mean squared error: the four examples' squares, averaged
        self._mean(examples, step, square)

        # Epochs: laps of a track, then many laps
        self._epochs(run)

    # ------------------------------------------------------------------ helpers
    def _caption(self, text: str, start: float) -> None:
        """Caption the time from `start` to now with `text`."""
        self.add_subcaption(text, duration=self.time - start, offset=start - self.time)
        self.captions.append(text)

    def _subtitle(self, text: str) -> Mobject:
        """A muted line right of the title, on its baseline; shrunk, then wrapped,
        to the room left of the frame's edge."""
        th = self.theme
        left = self.title.get_right()[0] + 0.3
        sub = fit_text(text, SMALL, self.half_w - 0.3 - left, th.muted,
                       disable_ligatures=True)
        first = sub if isinstance(sub, Text) else sub[0]
        sub.next_to(self.title, RIGHT, buff=0.3)
        return on_baseline(sub, baseline(self.title), baseline(first))

    def _retitle(self, text: str) -> Animation:
        """Cross-fade the subtitle to `text`."""
        old, self.subtitle = self.subtitle, self._subtitle(text)
        return AnimationGroup(FadeOut(old), FadeIn(self.subtitle))

    # --------------------------------------------------------------- one example
    def _one_example(self, step) -> Square:
        """A prediction and its target on a 0-1 scale, the gap, the gap squared."""
        th = self.theme
        p, y = step.prediction, step.target
        gap = abs(step.error)
        ex = pair(step.x, plain)
        # One scale unit is as long as fits: the square on the gap must fit above.
        unit = min(6.4, 4.3 / max(gap, 1e-9))
        x0, yl = -self.half_w + 0.75, -1.7

        def at(v: float) -> np.ndarray:
            return np.array([x0 + v * unit, yl, 0.0])

        line = Line(at(0), at(1), color=th.axis, stroke_width=3)
        ticks = VGroup(*[Line(at(v) + 0.1 * DOWN, at(v) + 0.1 * UP, color=th.axis,
                              stroke_width=2) for v in (0, 0.25, 0.5, 0.75, 1)])
        nums = VGroup(*[tx(plain(v), TINY, th.muted).next_to(at(v), DOWN, buff=0.18)
                        for v in (0, 0.5, 1)])
        scale = VGroup(line, ticks, nums)

        pred_mark = Triangle(color=th.curve, fill_opacity=1, stroke_width=0)
        pred_mark.scale(0.13).rotate(PI).next_to(at(p), UP, buff=0.02)
        goal_mark = Triangle(color=th.good, fill_opacity=1, stroke_width=0)
        goal_mark.scale(0.13).rotate(PI).next_to(at(y), UP, buff=0.02)
        gap_line = Line(at(p), at(y), color=th.bad, stroke_width=8)
        side = max(gap * unit, 1e-3)  # a perfect guess still gets a (dot) square
        square = Square(side, color=th.bad, fill_color=th.bad, fill_opacity=0.25,
                        stroke_width=3)
        square.move_to(at(min(p, y)), aligned_edge=DL)
        inside = tx(self.words("square"), SMALL, th.bad).move_to(square)
        if inside.width > 0.8 * side:  # too small a square to write in: write above
            inside.next_to(square, UP, buff=0.12)

        # The numbers, right of the scale
        xr = x0 + 6.4 + 0.8
        values = {"input": (ex, th.text), "prediction": (fmt(p), th.curve),
                  "target": (plain(y), th.good), "gap": (fmt(gap), th.bad),
                  "loss": (fmt(step.loss), th.bad)}
        rows = {k: worded_line(self.words.template(f"one.{k}"), th.muted, BODY,
                               **{k: (*v, k)}) for k, v in values.items()}
        for i, row in enumerate(rows.values()):
            place_line(fit_line(row, self.half_w - 0.15 - xr, BODY), xr, 1.7 - 0.7 * i)
        self.shown["one"] = {k: r.named[k] for k, r in rows.items()}
        pred_label = tx(self.words("mark.prediction"), SMALL, th.curve)
        goal_label = tx(self.words("mark.target"), SMALL, th.good)
        for mark, v in ((pred_label, p), (goal_label, y)):
            shrink_to(mark, 2 * self.half_w / 3, size=SMALL)
            mark.next_to(at(v), DOWN, buff=0.55)
            mark.shift(RIGHT * max(0.0, -self.half_w + 0.1 - mark.get_left()[0]))
        apart = (abs(pred_label.get_x() - goal_label.get_x())
                 - (pred_label.width + goal_label.width) / 2)
        if abs(p - y) * unit < 1.4 or apart < 0.2:  # too close side by side: one
            pred_label.shift(0.4 * DOWN)  # row lower

        start = self.time
        self.play(Create(scale), run_time=0.8)
        self.play(FadeIn(rows["input"]), FadeIn(pred_mark, shift=0.2 * DOWN),
                  FadeIn(pred_label), FadeIn(rows["prediction"]), run_time=0.8)
        self.play(FadeIn(goal_mark, shift=0.2 * DOWN), FadeIn(goal_label),
                  FadeIn(rows["target"]), run_time=0.8)
        self.wait(2.0)
        self._caption(self.words("caption.one", input=ex, prediction=fmt(p),
                                 target=plain(y)), start)
        start = self.time
        self.play(Create(gap_line), FadeIn(rows["gap"]), run_time=0.9)
        self.play(GrowFromEdge(square, DOWN), FadeIn(inside), run_time=1.0)
        self.bring_to_front(pred_mark, goal_mark)
        self.play(FadeIn(rows["loss"]), run_time=0.6)
        self.wait(2.4)
        self._caption(self.words("caption.square"), start)
        self.one_example = VGroup(scale, pred_mark, goal_mark, gap_line, pred_label,
                                  goal_label, inside, *rows.values())
        return square

    # ---------------------------------------------------------------- the mean
    def _mean(self, examples, step, square: Square) -> None:
        """The four squared gaps side by side, averaged into the loss (MSE)."""
        th = self.theme
        run = self.data.run
        gaps = [abs(s.error) for s in examples]
        unit = min(5.0, 3.0 / max(max(gaps), 1e-9))  # the largest square fits a slot
        slots = np.linspace(-self.half_w + 1.9, self.half_w - 1.9, 4)
        base_y = -0.35
        squares, labels = VGroup(), VGroup()
        shown = {}
        words = self.words
        table = [[worded_line(words.template("mean.target"), th.muted,
                              input=pair(s.x, plain),
                              target=(plain(s.target), th.good)),
                  worded_line(words.template("mean.prediction"), th.muted,
                              prediction=(fmt(s.prediction), th.curve,
                                          f"prediction{i}")),
                  worded_line(words.template("mean.square"), th.muted,
                              square=(fmt(s.loss), th.bad, f"sq{i}"))]
                 for i, s in enumerate(examples)]
        # Every row at one size: as large as lets the widest fit between slots
        room = slots[1] - slots[0] - 0.2
        widest = max(row.width for rows in table for row in rows)
        if widest > room:
            factor = max(room / widest, MIN_SIZE / SMALL)
            for row in (row for rows in table for row in rows):
                row.scale(factor)
                row.rise *= factor
        for i, x in enumerate(slots):
            sq = Square(max(gaps[i] * unit, 1e-3), color=th.bad, fill_color=th.bad,
                        fill_opacity=0.25, stroke_width=3)
            sq.move_to([x, base_y, 0], aligned_edge=DOWN)
            squares.add(sq)
            rows = table[i]
            for j, row in enumerate(rows):
                row_x = x - row.width / 2
                place_line(row, row_x, base_y - 0.5 - 0.45 * j)
                shown.update(row.named)
            labels.add(VGroup(*rows))
        terms = " + ".join(fmt(s.loss) for s in examples)
        eq = worded_line(words.template("mean.loss"), None, squares=(terms, th.bad),
                         loss=(fmt(run.loss[0]), th.accent, "loss"))
        fit_line(eq, 2 * self.half_w - 0.4, SMALL)
        place_line(eq, -eq.width / 2, -2.55)
        shown["loss"] = eq.named["loss"]
        note = tx(words("mean.note"), SMALL, th.muted, disable_ligatures=True)
        shrink_to(note, 2 * self.half_w - 0.4, size=SMALL)
        on_baseline(note.set_x(0), -3.25)
        self.shown["mean"] = shown

        start = self.time
        mine = step.example
        self.play(FadeOut(self.one_example), self._retitle(words("subtitle.mean")),
                  run_time=0.6)
        self.play(ReplacementTransform(square, squares[mine]), run_time=0.9)
        self.play(FadeIn(labels[mine]), run_time=0.5)
        others = [i for i in range(4) if i != mine]
        self.play(LaggedStart(*[AnimationGroup(GrowFromEdge(squares[i], DOWN),
                                               FadeIn(labels[i]))
                                for i in others], lag_ratio=0.4), run_time=1.6)
        self.wait(1.2)
        self._caption(words("caption.each"), start)
        start = self.time
        self.play(FadeIn(eq), run_time=0.9)
        self.play(Indicate(eq.named["loss"], color=th.accent), run_time=0.8)
        self.play(FadeIn(note), run_time=0.6)
        self.wait(2.6)
        self._caption(words("caption.mean"), start)
        self.mean_group = VGroup(squares, labels, eq, note)

    # ---------------------------------------------------------------- epochs
    def _epochs(self, run) -> None:
        """One lap of a track per epoch; then many laps while the loss falls."""
        th = self.theme
        center, a, r = np.array([self.half_w - 3.45, -0.15, 0.0]), 2.2, 1.35

        def spot(s: float) -> np.ndarray:
            return stadium(s, center, a, r)

        track = VMobject(color=th.axis, stroke_width=14, stroke_opacity=0.35)
        track.set_points_as_corners([spot(s) for s in np.linspace(0, 1, 241)])
        finish = Line(spot(0) + 0.28 * DOWN, spot(0) + 0.28 * UP, color=th.text,
                      stroke_width=4)
        finish_label = tx(self.words("finish"), TINY, th.muted)
        shrink_to(finish_label, a + r, size=TINY)
        finish_label.next_to(finish, DOWN, buff=0.12)
        # The four examples stand round the track in the order this epoch takes them.
        order = [int(i) for i in run.order[0]]
        stations, marks, checks = VGroup(), VGroup(), VGroup()
        for k, i in enumerate(order):
            s = (2 * k + 1) / 8
            pos = spot(s)
            out = pos - center
            out = out / np.linalg.norm(out)
            dot = Dot(pos, radius=0.11, color=th.target_one if run.targets[i] else
                      th.target_zero)
            label = tx(f"{pair(run.inputs[i], plain)} → {plain(run.targets[i])}", TINY,
                       th.text)
            label.move_to(pos + out * 0.25 + np.array([out[0] * 0.5, 0, 0]))
            label.shift(0.2 * np.sign(out[1]) * UP)
            # "seen this lap": a neutral ring, not a tick (the guess may be wrong)
            check = Circle(radius=0.19, stroke_color=th.text, stroke_width=3).move_to(pos)
            stations.add(VGroup(dot, label))
            marks.add(dot)
            checks.add(check)

        self.lap_epoch = Readout(self.words("lap.epoch"), 0, 0, BODY).move_to(
            center + 0.3 * UP)
        self.lap_loss = Readout(self.words("lap.loss"), float(run.loss[0]), 4).move_to(
            center + 0.35 * DOWN)

        # The loss curve, left: the axes static, the line drawn as the epochs pass
        self.chart = chart = LossChart(run.loss, 5.6, 3.4, dot=False,
                                       x_label=self.words("axis.epoch"),
                                       y_label=self.words("axis.loss"))
        chart.move_origin_to([-self.half_w + 0.95, -1.85, 0])
        ax, curve = chart.axes, chart.lines

        epoch = ValueTracker(0.0)  # continuous: 0.5 = halfway round the first lap

        def at() -> int:
            """Epochs completed: what the counter and the curve show."""
            return min(run.epochs, int(np.floor(epoch.get_value() + 1e-9)))

        chart.show_upto(0)
        curve.add_updater(lambda _m: chart.show_upto(at()))
        runner = Dot(spot(0), radius=0.16, color=th.accent)
        runner.add_updater(lambda m: m.move_to(spot(epoch.get_value())))
        self.lap_epoch.value.add_updater(lambda m: m.set_value(at()))
        self.lap_loss.value.add_updater(lambda m: m.set_value(float(run.loss[at()])))

        # One epoch, slowly: one lap, past each example once
        start = self.time
        self.play(FadeOut(self.mean_group),
                  self._retitle(self.words("subtitle.epochs")),
                  run_time=0.8)
        self.play(Create(track), FadeIn(finish), FadeIn(finish_label),
                  FadeIn(stations, lag_ratio=0.2), FadeIn(self.lap_epoch),
                  FadeIn(self.lap_loss), Create(ax), run_time=1.2)
        self.add(curve, runner, epoch)
        for k in range(4):
            self.play(epoch.animate.set_value((2 * k + 1) / 8),
                      run_time=0.55 if k else 0.4, rate_func=linear)
            self.play(FadeIn(checks[k], scale=1.5), run_time=0.25)
        self.play(epoch.animate.set_value(1.0), run_time=0.45, rate_func=linear)
        self.play(Flash(finish, color=th.accent),
                  Indicate(self.lap_epoch, color=th.accent), run_time=0.8)
        self.first_lap = (float(run.loss[0]), self.lap_loss.value.get_value())
        self.wait(0.8)
        self._caption(self.words("caption.epoch.batch" if run.mode == "batch"
                                 else "caption.epoch.per_example"), start)

        # Many epochs: a few laps to watch, then too fast to follow
        start = self.time
        watch = min(run.epochs, 4)
        self.play(FadeOut(checks), run_time=0.3)
        if watch > 1:
            self.play(epoch.animate.set_value(float(watch)), run_time=2.2,
                      rate_func=lambda t: t**1.4)
        if run.epochs > watch:
            self.play(FadeOut(runner), track.animate.set_stroke(th.accent, opacity=0.5),
                      run_time=0.3)
            self.play(epoch.animate.set_value(float(run.epochs)), run_time=4.0,
                      rate_func=lambda t: t**2.2)
            self.play(track.animate.set_stroke(th.axis, opacity=0.35), FadeIn(runner),
                      run_time=0.4)
        self.wait(1.2)
        fell = run.loss[-1] < run.loss[0]
        self._caption(
            self.words("caption.many.falls" if fell else "caption.many.goes",
                       first=loss_text(run.loss[0]), last=loss_text(run.loss[-1]),
                       epochs=run.epochs), start)
        for m in (curve, runner, self.lap_epoch.value, self.lap_loss.value):
            m.clear_updaters()
        self.epoch = self.lap_epoch.value
        self.loss = self.lap_loss.value
