"""What loss and epochs mean: one squared gap, their mean, and laps over the data."""

from __future__ import annotations

import numpy as np
from manim import *

from neuroanim.blocks import LossChart, Readout
from neuroanim.draw import (
    BODY,
    SMALL,
    TINY,
    TITLE,
    NeuroScene,
    fmt,
    loss_text,
    on_baseline,
    pair,
    place_line,
    plain,
    subtitle,
    text_line,
    tx,
)

STAGES = ("one", "square", "each", "mean", "epoch", "many")  # one caption each


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
        self.title = tx("Loss and epochs", TITLE).to_corner(UL, buff=0.4)
        self.subtitle = subtitle("how wrong is one guess?", self.title)
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

    def _retitle(self, text: str) -> Animation:
        """Cross-fade the subtitle to `text`."""
        old, self.subtitle = self.subtitle, subtitle(text, self.title)
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
        nums = VGroup(*[tx(t, TINY, th.muted).next_to(at(v), DOWN, buff=0.18)
                        for v, t in ((0, "0"), (0.5, "0.5"), (1, "1"))])
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
        inside = tx("gap²", SMALL, th.bad).move_to(square)
        if inside.width > 0.8 * side:  # too small a square to write in: write above
            inside.next_to(square, UP, buff=0.12)

        # The numbers, right of the scale
        xr = x0 + 6.4 + 0.8
        rows = {
            "input": text_line(("input ", th.muted), (ex, th.text, "input"),
                               size=BODY),
            "prediction": text_line(("prediction ", th.muted),
                                    (fmt(p), th.curve, "prediction"), size=BODY),
            "target": text_line(("target ", th.muted), (plain(y), th.good, "target"),
                                size=BODY),
            "gap": text_line(("gap ", th.muted), (fmt(gap), th.bad, "gap"), size=BODY),
            "loss": text_line(("loss = gap² = ", th.muted),
                              (fmt(step.loss), th.bad, "loss"), size=BODY),
        }
        for i, row in enumerate(rows.values()):
            place_line(row, xr, 1.7 - 0.7 * i)
        self.shown["one"] = {k: r.named[k] for k, r in rows.items()}
        pred_label = tx("prediction", SMALL, th.curve).next_to(at(p), DOWN, buff=0.55)
        goal_label = tx("target", SMALL, th.good).next_to(at(y), DOWN, buff=0.55)
        if abs(p - y) * unit < 1.4:  # too close side by side: one row lower
            pred_label.shift(0.4 * DOWN)

        start = self.time
        self.play(Create(scale), run_time=0.8)
        self.play(FadeIn(rows["input"]), FadeIn(pred_mark, shift=0.2 * DOWN),
                  FadeIn(pred_label), FadeIn(rows["prediction"]), run_time=0.8)
        self.play(FadeIn(goal_mark, shift=0.2 * DOWN), FadeIn(goal_label),
                  FadeIn(rows["target"]), run_time=0.8)
        self.wait(2.0)
        self._caption(f"Loss for one example: for the input {ex}, our neuron guesses "
                      f"{fmt(p)}; the right answer is {plain(y)}.", start)
        start = self.time
        self.play(Create(gap_line), FadeIn(rows["gap"]), run_time=0.9)
        self.play(GrowFromEdge(square, DOWN), FadeIn(inside), run_time=1.0)
        self.bring_to_front(pred_mark, goal_mark)
        self.play(FadeIn(rows["loss"]), run_time=0.6)
        self.wait(2.4)
        self._caption("The gap, squared, is this example's loss: a square whose side "
                      "is the gap. Big misses count much more.", start)
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
        for i, (s, x) in enumerate(zip(examples, slots, strict=True)):
            sq = Square(max(gaps[i] * unit, 1e-3), color=th.bad, fill_color=th.bad,
                        fill_opacity=0.25, stroke_width=3)
            sq.move_to([x, base_y, 0], aligned_edge=DOWN)
            squares.add(sq)
            rows = [
                text_line((f"{pair(s.x, plain)} → target ", th.muted),
                          (plain(s.target), th.good)),
                text_line(("prediction ", th.muted),
                          (fmt(s.prediction), th.curve, f"prediction{i}")),
                text_line(("gap² ", th.muted), (fmt(s.loss), th.bad, f"sq{i}")),
            ]
            for j, row in enumerate(rows):
                row_x = x - row.width / 2
                place_line(row, row_x, base_y - 0.5 - 0.45 * j)
                shown.update(row.named)
            labels.add(VGroup(*rows))
        terms = " + ".join(fmt(s.loss) for s in examples)
        eq = text_line(("loss = (", None), (terms, th.bad), (") / 4 = ", None),
                       (fmt(run.loss[0]), th.accent, "loss"))
        place_line(eq, -eq.width / 2, -2.55)
        shown["loss"] = eq.named["loss"]
        note = tx("lower is better; 0 means every prediction is right", SMALL,
                  th.muted, disable_ligatures=True)
        on_baseline(note.set_x(0), -3.25)
        self.shown["mean"] = shown

        start = self.time
        mine = step.example
        self.play(FadeOut(self.one_example), self._retitle("mean squared error"),
                  run_time=0.6)
        self.play(ReplacementTransform(square, squares[mine]), run_time=0.9)
        self.play(FadeIn(labels[mine]), run_time=0.5)
        others = [i for i in range(4) if i != mine]
        self.play(LaggedStart(*[AnimationGroup(GrowFromEdge(squares[i], DOWN),
                                               FadeIn(labels[i]))
                                for i in others], lag_ratio=0.4), run_time=1.6)
        self.wait(1.2)
        self._caption("Each of the four training examples has its own squared gap.",
                      start)
        start = self.time
        self.play(FadeIn(eq), run_time=0.9)
        self.play(Indicate(eq.named["loss"], color=th.accent), run_time=0.8)
        self.play(FadeIn(note), run_time=0.6)
        self.wait(2.6)
        self._caption("Their average is the loss, the mean squared error. Lower is "
                      "better; 0 means every prediction is right.", start)
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
        finish_label = tx("start / finish", TINY, th.muted).next_to(finish, DOWN,
                                                                   buff=0.12)
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

        self.lap_epoch = Readout("epoch", 0, 0, BODY).move_to(center + 0.3 * UP)
        self.lap_loss = Readout("loss", float(run.loss[0]), 4).move_to(
            center + 0.35 * DOWN)

        # The loss curve, left: the axes static, the line drawn as the epochs pass
        self.chart = chart = LossChart(run.loss, 5.6, 3.4, dot=False)
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
        self.play(FadeOut(self.mean_group), self._retitle("epochs: laps over the data"),
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
        when = ("after all four, once per lap" if run.mode == "batch"
                else "after each one, four times per lap")
        self._caption("One epoch: the neuron sees all four examples once, like one "
                      f"lap of a track. Here the weights change {when}.", start)

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
            f"Many epochs, too fast to watch: the loss {'falls' if fell else 'goes'} "
            f"from {loss_text(run.loss[0])} to {loss_text(run.loss[-1])} after "
            f"{run.epochs} epochs.", start)
        for m in (curve, runner, self.lap_epoch.value, self.lap_loss.value):
            m.clear_updaters()
        self.epoch = self.lap_epoch.value
        self.loss = self.lap_loss.value
