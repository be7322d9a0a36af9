"""The training loop told as tuning a guitar: five stages, one real step, then many."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from manim import *

from neuroanim.blocks import Readout, StageLoop
from neuroanim.draw import (
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
    subtitle,
    text_line,
    tx,
)
from neuroanim.wording import language

# The stages in the order of the cycle; each has a name, what it does and its
# guitar counterpart in the card's WORDS: "stage.<key>", ".what", ".guitar".
STAGE_KEYS = ("forward", "error", "backward", "adjust", "repeat")
ROUNDS = 3  # peg turns shown on the guitar; the needle reads loss[0..ROUNDS]
NEEDLE_MAX = 60 * DEGREES  # the dial spans +-60 degrees around "in tune"
NEEDLE_FIRST = 0.9  # loss[0] sits at this share of the full deflection
FIRST_TURN = 80 * DEGREES  # the peg's first turn; later turns keep its scale


def roomy(text: str, size: float, width: float, color: str) -> Mobject:
    """`fit_text` for a place with a spare line below: wrapped in two lines at
    `size` before it is shrunk."""
    wrapped = fit_text(text, size, width, color, min_size=size, max_lines=2)
    return wrapped if wrapped.width <= width else fit_text(text, size, width, color)


def centred(text: Mobject, x: float) -> Mobject:
    """`text` (one line, or the lines `fit_text` wrapped it into) centred on x."""
    for line in (text.submobjects if not isinstance(text, Text) else [text]):
        line.set_x(x)
    return text


class TrainingLoop(NeuroScene):
    """Pluck, listen, find the way, turn, repeat: the training cycle on a guitar.

    Replays `data.run` (a NeuronRun: the needle reads its loss per epoch, the
    peg turns by the size of each recorded update) and `data.step` (its
    dissected step, shown number by number). For tests: `shown[stage][name]` is
    each number of the real step as the Text on screen, `reveals` the order the
    stages revealed them, `captions` the subcaptions in order, `epoch` and `loss`
    the readouts (final values after construct).
    """

    spec_name = "training-loop"

    def construct(self):
        run, step = self.data.run, self.data.step
        self.shown: dict[str, dict[str, Text]] = {}
        self.reveals: list[str] = []
        self.captions: list[str] = []
        self._measure(run)
        words = self.words

        # Title
        self.title = tx(words("title"), TITLE).to_corner(UL, buff=0.4)
        shrink_to(self.title, width=0.55 * self.camera.frame_width, size=TITLE)
        self.title.to_corner(UL, buff=0.4)
        self.subtitle = self._subtitle(words("subtitle"))
        self.add(self.title, self.subtitle)

        # The five stages in a loop, the guitar and its tuner
        self.boxes = self._stage_loop()
        self.guitar, self.tuner = self._guitar(), self._tuner(run)
        with self._captioned(words("caption.intro")):
            self.play(FadeIn(self.boxes, lag_ratio=0.1), run_time=1.2)
            self.play(FadeIn(self.guitar), FadeIn(self.tuner), run_time=0.8)
        self.moving = self._make_moving()
        self.add(*self.moving)

        # Round one, stage by stage
        closer = run.loss[1] < run.loss[0]
        self._first_round((
            words("caption.forward"),
            words("caption.error"),
            words("caption.backward"),
            words("caption.adjust"),
            words("caption.repeat.closer" if closer else "caption.repeat.away"),
        ))

        # Two more rounds, faster
        if self.rounds > 1:
            losses = language().list_sep.join(
                loss_text(v) for v in run.loss[: self.rounds + 1])
            each = "batch" if run.mode == "batch" else "per_example"
            with self._captioned(words(f"caption.rounds.{each}", losses=losses)):
                for k in range(1, self.rounds):
                    self._quick_round(k)

        # One real step, in numbers
        self._real_step(step)

        # Many steps
        self._many_steps(run)

    # ------------------------------------------------------------------ helpers
    def _measure(self, run) -> None:
        """Derive the drawing scales from the run: needle per loss, peg per update."""
        self.rounds = min(ROUNDS, run.epochs)
        turns = run.update_sizes  # (T-1,)
        self.turned = np.concatenate([[0.0], np.cumsum(turns)])  # (T,) peg position
        self.turn_scale = FIRST_TURN / turns[0] if turns[0] > 0 else 0.0
        self.loss_ref = max(float(run.loss[0]), 1e-12)

    @contextmanager
    def _captioned(self, text: str) -> Iterator[None]:
        """Caption everything played inside the block, from its start to its end."""
        start = self.time
        yield
        self.add_subcaption(text, duration=self.time - start, offset=start - self.time)
        self.captions.append(text)

    def _subtitle(self, text: str) -> Mobject:
        """The muted line right of the title, shrunk (then wrapped under its first
        line) if it would run past the frame's right edge."""
        sub = subtitle(text, self.title)
        room = self.half_w - 0.2 - sub.get_left()[0]
        if sub.width <= room:
            return sub
        fitted = fit_text(text, SMALL, room, self.theme.muted, max_lines=2,
                          disable_ligatures=True)
        first = fitted if isinstance(fitted, Text) else fitted[0]
        fitted.shift([sub.get_left()[0] - fitted.get_left()[0], 0, 0])
        return on_baseline(fitted, baseline(self.title), baseline(first))

    def _retitle(self, text: str) -> Animation:
        """Cross-fade the subtitle to `text`."""
        old, self.subtitle = self.subtitle, self._subtitle(text)
        return AnimationGroup(FadeOut(old), FadeIn(self.subtitle))

    # ------------------------------------------------------------------- drawing
    def _stage_loop(self) -> StageLoop:
        """Five boxes in a 2-1-2 ring: forward, error | backward | adjust, repeat."""
        right = self.half_w - 1.65  # the right column's centre
        w = self.words
        loop = StageLoop([(w(f"stage.{key}"), w(f"stage.{key}.what"),
                           "♪ " + w(f"stage.{key}.guitar")) for key in STAGE_KEYS])
        return loop.shift([right - loop.boxes[1].frame.get_x(), 0, 0])

    def _light(self, index: int | None) -> list[Animation]:
        """Animations that light box `index` (None: none) and dim the lit one."""
        return self.boxes.light(index)

    def _guitar(self) -> VGroup:
        """Headstock, neck with frets, nut and bridge; string and peg come later."""
        th = self.theme
        x0 = -self.half_w + 0.3
        y = -2.0
        self.nut_x, self.bridge_x, self.string_y = x0 + 1.5, -0.4, y
        self.peg_center = np.array([x0 + 0.5, y, 0.0])
        head = RoundedRectangle(width=1.55, height=1.1, corner_radius=0.3,
                                stroke_color=th.axis, stroke_width=2,
                                fill_color=th.panel, fill_opacity=1)
        head.move_to([x0 + 0.72, y, 0])
        neck = Rectangle(width=self.bridge_x - self.nut_x + 0.15, height=0.6,
                         stroke_color=th.axis, stroke_width=2, fill_color=th.panel,
                         fill_opacity=1)
        neck.move_to([(self.nut_x + self.bridge_x) / 2, y, 0])
        scale = 9.0  # a scale length past the bridge: frets bunch up toward it
        frets = VGroup()
        for k in range(1, 13):
            fx = self.nut_x + scale * (1 - 2 ** (-k / 12))
            if fx > self.bridge_x - 0.3:
                break
            frets.add(Line([fx, y - 0.3, 0], [fx, y + 0.3, 0], color=th.axis,
                           stroke_width=2))
        dots = VGroup(*[
            Dot([(frets[k - 2].get_x() + frets[k - 1].get_x()) / 2, y - 0.17, 0],
                radius=0.05, color=th.muted)
            for k in (3, 5, 7) if k <= len(frets)
        ])
        nut = Line([self.nut_x, y - 0.3, 0], [self.nut_x, y + 0.3, 0],
                   color=th.text, stroke_width=6)
        bridge = Line([self.bridge_x, y - 0.3, 0], [self.bridge_x, y + 0.3, 0],
                      color=th.text, stroke_width=6)
        post = Line(self.peg_center, [self.nut_x, y, 0], color=th.text,
                    stroke_width=2.5)
        return VGroup(head, neck, frets, dots, nut, bridge, post)

    def _tuner(self, run) -> VGroup:
        """A dial with a target mark at the top; the needle reads the run's loss."""
        th = self.theme
        cx = (self.nut_x + self.bridge_x) / 2
        self.pivot = np.array([cx, -0.05, 0.0])
        # Lines centred under the dial and the neck keep clear of the frame's
        # left edge and of the stage boxes on the right.
        self.under_width = 2 * min(cx - (-self.half_w + 0.15),
                                   self.boxes.get_left()[0] - 0.3 - cx)
        r = 1.65
        box = RoundedRectangle(width=4.7, height=2.95, corner_radius=0.2,
                               stroke_color=th.axis, stroke_width=1.5,
                               fill_color=th.panel, fill_opacity=1)
        box.move_to(self.pivot + np.array([0, 0.85, 0]))
        arc = Arc(radius=r, start_angle=PI / 2 - NEEDLE_MAX, angle=2 * NEEDLE_MAX,
                  arc_center=self.pivot, color=th.axis, stroke_width=3)
        ticks = VGroup()
        for deg in range(-60, 61, 10):
            a = PI / 2 + deg * DEGREES
            d = np.array([np.cos(a), np.sin(a), 0])
            inner = 0.88 if deg % 30 == 0 else 0.93
            ticks.add(Line(self.pivot + inner * r * d, self.pivot + r * d,
                           color=th.axis, stroke_width=2))
        target = Line(self.pivot + 0.8 * r * UP, self.pivot + 1.08 * r * UP,
                      color=th.good, stroke_width=6)
        w = self.words
        in_tune = centred(fit_text(w("tuner.in_tune"), TINY, box.width - 0.3, th.good,
                                   max_lines=2), cx).next_to(target, UP, buff=0.06)
        end = PI / 2 + NEEDLE_MAX
        at = self.pivot + (r + 0.45) * np.array([np.cos(end), np.sin(end), 0])
        # "far off" stays inside the box: as wide as twice its room to the edge;
        # wrapped, it grows upwards from where one line sits, clear of the arc.
        far = fit_text(w("tuner.far_off"), TINY, 2 * (at[0] - box.get_left()[0] - 0.08),
                       th.muted, max_lines=2)
        if isinstance(far, Text):
            far.move_to(at)
        else:
            one = tx(far.text, TINY).move_to(at)  # where one line would sit
            centred(far, at[0]).move_to([at[0], 0, 0])
            far.align_to(one, DOWN).shift(0.04 * UP)
            # as far left as the box lets it: the arc's end rises to its right
            far.shift(max(box.get_left()[0] + 0.08 - far.get_left()[0],
                          min(0.0, at[0] + 0.3 - far.get_right()[0])) * RIGHT)
        # Readouts under the dial; values grow to the right from fixed left edges.
        self.epoch_readout = Readout(w("readout.epoch"), 0, 0)
        self.loss_readout = Readout(w("readout.loss"), float(run.loss[0]), 4)
        y = self.pivot[1] - 0.45
        self.epoch_readout.move_to([cx - 2.0, y, 0], aligned_edge=LEFT)
        self.loss_readout.move_to([cx + 0.2, y, 0], aligned_edge=LEFT)
        self._fit_readouts(box, run.epochs, y)
        note = centred(roomy(w("tuner.note"), TINY, self.under_width, th.muted), cx)
        note.next_to(box, DOWN, buff=0.12)
        return VGroup(box, arc, ticks, target, in_tune, far, note)

    def _fit_readouts(self, box: Mobject, epochs: int, y: float) -> None:
        """Longer names: both readouts, at their widest values, centred in the
        dial's box with a gap, shrunk (never below MIN_SIZE) if they still
        do not fit. Names that fit keep their fixed places."""
        e, loss = self.epoch_readout, self.loss_readout
        e.value.set_value(epochs)  # the counter's widest value
        widths = (e.width, loss.width)  # a loss always shows 4 places: x.xxxx
        e_right = e.get_right()[0]
        e.value.set_value(0)
        inside = (box.get_left()[0] + 0.15, box.get_right()[0] - 0.15)
        gap = 0.4
        if e_right + 0.15 <= loss.get_left()[0] and loss.get_right()[0] <= inside[1]:
            return
        need = widths[0] + gap + widths[1]
        f = max(min(1.0, (inside[1] - inside[0]) / need), MIN_SIZE / SMALL)
        for m in (e, loss):
            m.scale(f)
        start = box.get_x() - f * need / 2
        e.move_to([start, y, 0], aligned_edge=LEFT)
        loss.move_to([start + f * (widths[0] + gap), y, 0], aligned_edge=LEFT)

    def _make_moving(self) -> list[Mobject]:
        """Readouts, peg, string and needle: added last, as they move and change."""
        th = self.theme
        # The peg: a knob with a grip line, at the angle of the tracker `peg`.
        knob = VGroup(
            Circle(radius=0.34, color=th.ball, fill_color=th.ball, fill_opacity=1,
                   stroke_width=0),
            Line(ORIGIN, 0.3 * UP, color=th.background, stroke_width=5),
            Dot(radius=0.06, color=th.background),
        ).move_to(self.peg_center)
        # Turned by rotating the resting outline's points (what `rotate` does
        # to a copy, without copying every frame).
        rest = [m.points.copy() for m in knob.family_members_with_points()]
        self.peg = ValueTracker(0.0)  # distance the weights travelled so far

        def turn(m: VGroup) -> None:
            c = self.peg_center
            turned = rotation_matrix(-self.peg.get_value() * self.turn_scale, OUT).T
            for sub, pts in zip(m.family_members_with_points(), rest, strict=True):
                sub.points = (pts - c) @ turned + c

        knob.add_updater(turn)

        # The string between nut and bridge: a standing wave that dies away.
        self.pluck = ValueTracker(1.0)  # 0 = just plucked, 1 = quiet again
        xs = np.linspace(self.nut_x, self.bridge_x, 64)
        shape = np.sin(np.pi * (xs - xs[0]) / (xs[-1] - xs[0]))
        # A smooth curve's handles are linear in its anchors: the curve through
        # `string_y + amp * shape` is the one at rest plus amp times the change
        # one unit of amplitude makes (the same points as `set_points_smoothly`).
        at_rest, plucked = (
            VMobject().set_points_smoothly(np.column_stack(
                [xs, self.string_y + a * shape, np.zeros_like(xs)])).points
            for a in (0.0, 1.0))
        per_amp = plucked - at_rest

        def amplitude() -> float:
            s = self.pluck.get_value()
            return 0.28 * (1 - s) ** 2 * np.cos(2 * np.pi * 6 * s)

        def vibrate(m: VMobject) -> None:
            m.points = at_rest + amplitude() * per_amp

        string = VMobject(color=th.text, stroke_width=2.5)
        vibrate(string)
        string.add_updater(vibrate)
        # for tests: the moving parts and what they follow
        self.string, self.knob, self.string_anchors = string, knob, (xs, shape)
        self.string_amplitude = amplitude

        # The needle reads the tracker `needle`, a loss; it rests at "far off".
        self.needle = ValueTracker(self.loss_ref / NEEDLE_FIRST)
        length = 1.5

        def point(m: Line) -> None:
            a = PI / 2 + NEEDLE_MAX * min(
                1.0, NEEDLE_FIRST * self.needle.get_value() / self.loss_ref)
            m.put_start_and_end_on(
                self.pivot, self.pivot + length * np.array([np.cos(a), np.sin(a), 0]))

        needle = Line(self.pivot, self.pivot + length * UP, color=th.bad,
                      stroke_width=5)
        point(needle)
        needle.add_updater(point)
        hub = Dot(self.pivot, radius=0.09, color=th.text)
        self.action_at = np.array([(self.nut_x + self.bridge_x) / 2, -2.85, 0])
        self.action = VMobject()
        return [self.epoch_readout, self.action, string, needle, hub, knob]

    def _say(self, key: str, color: str | None = None) -> Animation:
        """Swap the word under the neck that names what the guitarist does
        (WORDS "say.<key>")."""
        new = fit_text(self.words(f"say.{key}"), SMALL, self.under_width,
                       color or self.theme.ball, max_lines=2)
        new = centred(new, self.action_at[0]).move_to(self.action_at)
        old, self.action = self.action, new
        self.moving = [new if m is old else m for m in self.moving]
        # A cross-fade: a letter-by-letter Transform between two words reads as
        # garbled text in the quick rounds.
        return AnimationGroup(FadeOut(old), FadeIn(new))

    # ------------------------------------------------------------------ the rounds
    def _first_round(self, captions: tuple[str, ...]) -> None:
        """Round one, slowly: each stage lit beside what the guitarist does."""
        run = self.data.run
        th = self.theme
        with self._captioned(captions[0]):
            self.play(*self._light(0), self._say("pluck"), run_time=0.5)
            self.pluck.set_value(0.0)
            self.play(self.pluck.animate.set_value(1.0), run_time=1.5,
                      rate_func=linear)
        with self._captioned(captions[1]):
            self.play(*self._light(1), self._say("listen"), run_time=0.5)
            self.play(self.needle.animate.set_value(float(run.loss[0])),
                      FadeIn(self.loss_readout), run_time=1.3)
            self.moving.append(self.loss_readout)
            self.wait(0.3)
        # Which way: an arrow around the peg, the way the real update turns it.
        arrow = Arc(radius=0.55, start_angle=150 * DEGREES, angle=-120 * DEGREES,
                    arc_center=self.peg_center, color=th.accent, stroke_width=4)
        arrow.add_tip(tip_length=0.18, tip_width=0.18)
        with self._captioned(captions[2]):
            self.play(*self._light(2), self._say("which_way_to_turn"), run_time=0.5)
            self.play(Create(arrow), run_time=1.0)
            self.wait(0.6)
        with self._captioned(captions[3]):
            self.play(*self._light(3), self._say("turn_a_little"),
                      run_time=0.5)
            self.play(self.peg.animate.set_value(self.turned[1]), run_time=1.3)
            self.play(FadeOut(arrow), run_time=0.3)
        with self._captioned(captions[4]):
            self.play(*self._light(4), self._say("pluck_again"), run_time=0.5)
            self._listen(1, 1.6)

    def _listen(self, epoch: int, run_time: float) -> None:
        """Pluck; the needle swings to the loss at `epoch`; the readouts follow."""
        run = self.data.run
        self.pluck.set_value(0.0)
        self.play(self.pluck.animate(rate_func=linear).set_value(1.0),
                  self.needle.animate.set_value(float(run.loss[epoch])),
                  run_time=run_time)
        self.epoch_readout.value.set_value(epoch)
        self.loss_readout.value.set_value(float(run.loss[epoch]))
        self.play(Indicate(self.loss_readout, color=self.theme.accent), run_time=0.4)

    def _quick_round(self, k: int) -> None:
        """A later round: the stages flash by, the peg turns by the real update k."""
        self.play(*self._light(2), self._say("which_way"), run_time=0.3)
        self.play(*self._light(3), self._say("turn"),
                  self.peg.animate.set_value(self.turned[k + 1]), run_time=0.6)
        self.play(*self._light(4), self._say("pluck_again"), run_time=0.3)
        self.play(*self._light(0), run_time=0.2)
        self._listen(k + 1, 0.8)
        self.play(*self._light(1), run_time=0.2)

    # ------------------------------------------------------------- one real step
    def _real_step(self, step) -> None:
        """The same loop with one example's real numbers, each at its stage."""
        th = self.theme
        x, w = step.x, step.w
        ex = pair(x, plain)
        per_example = self.data.run.mode == "per-example"

        def label(key: str, then: str = "") -> tuple:
            """The row's words: "<label> = " before its number, `then` ahead."""
            return (then + self.words(f"step.{key}") + " = ", None)

        stages = {
            "forward": [
                text_line(label("inputs"), (ex, th.curve, "x"),
                          label("target", "    "),
                          (plain(step.target), th.good, "target")),
                text_line(label("weights"), (pair(w), th.curve, "w"),
                          label("bias", "    "), (fmt(step.b), th.curve, "b")),
                text_line(label("sum"), (fmt(step.z), th.accent, "z")),
                text_line(label("prediction"),
                          (fmt(step.prediction), th.accent, "prediction")),
            ],
            "error": [
                text_line(label("error"), (fmt(step.error), th.bad, "error")),
                text_line(label("loss"), (fmt(step.loss), th.bad, "loss")),
            ],
            "backward": [
                text_line(label("grad_w"), (pair(step.grad_w), th.ball, "grad_w")),
                text_line(label("grad_b"), (fmt(step.grad_b), th.ball, "grad_b")),
            ],
            "adjust": [
                text_line(label("lr"), (plain(step.lr), th.text, "lr")),
                text_line(label("w_new"), (pair(step.w_new), th.good, "w_new")),
                text_line(label("b_new"), (fmt(step.b_new), th.good, "b_new")),
            ],
            # In batch mode the run does not step on one example: say what it does.
            "repeat": [
                text_line((self.words("step.repeat.per_example"), th.muted)),
            ] if per_example else [
                text_line((self.words("step.repeat.batch.1"), th.muted)),
                text_line((self.words("step.repeat.batch.2"), th.muted)),
            ],
        }
        # Rows on fixed baselines, a stage number before each stage's first row;
        # a row too long for the room left of the stage boxes shrinks to fit.
        table = VGroup()
        x0, y = -self.half_w + 0.85, 2.55
        room = self.boxes.get_left()[0] - 0.2 - x0
        for num, group in enumerate(stages.values(), start=1):
            tag = tx(str(num), SMALL, th.muted, weight=BOLD, disable_ligatures=True)
            on_baseline(tag.move_to([x0 - 0.4, 0, 0]), y)
            group.insert(0, tag)
            for line in group[1:]:
                if line.width > room:
                    f = max(room / line.width, MIN_SIZE / SMALL)
                    line.scale(f)
                    line.rise *= f
                table.add(place_line(line, x0, y))
                y -= 0.45
            table.add(tag)
            y -= 0.12
        for key, group in stages.items():
            self.shown[key] = {k: v for line in group[1:] for k, v in
                               line.named.items()}

        words = self.words
        captions = {
            "forward": words("caption.step.forward", input=ex),
            "error": words("caption.step.error"),
            "backward": words("caption.step.backward"),
            "adjust": words("caption.step.adjust"),
            "repeat": words("caption.step.repeat.per_example" if per_example
                            else "caption.step.repeat.batch"),
        }
        self.play(FadeOut(self.guitar), FadeOut(self.tuner), *self._light(None),
                  *[FadeOut(m) for m in self.moving],
                  self._retitle(words("subtitle.step")), run_time=0.8)
        for i, key in enumerate(STAGE_KEYS):
            group = stages[key]
            with self._captioned(captions[key]):
                self.play(*self._light(i), run_time=0.4)
                self.reveals.append(key)
                rows = len(group) - 1  # after the stage number
                self.play(LaggedStart(*[FadeIn(line, shift=0.1 * RIGHT)
                                        for line in group], lag_ratio=0.5),
                          run_time=0.3 + 0.3 * rows)
                self.wait(0.4 + 0.3 * rows)
        self.table = table

    # ---------------------------------------------------------------- many steps
    def _many_steps(self, run) -> None:
        """The loop spins, the epochs climb, the needle settles on the final loss.

        First a few epochs at a watchable speed, the boxes lighting once per pass
        through the loop; then, far too fast to follow, all five stay lit while
        the epoch counter races to the end.
        """
        th = self.theme
        last = run.epochs
        passes = 1 if run.mode == "batch" else 4  # trips round the loop per epoch
        watch = min(last, self.rounds + (3 if passes == 1 else 1))
        self.needle.set_value(float(run.loss[self.rounds]))
        self.peg.set_value(self.turned[self.rounds])
        self.play(FadeOut(self.table), *self._light(None),
                  self._retitle(self.words("subtitle.many")), run_time=0.6)
        self.play(FadeIn(self.guitar), FadeIn(self.tuner),
                  *[FadeIn(m) for m in self.moving], run_time=0.6)

        epoch = ValueTracker(float(self.rounds))  # continuous: 4.5 = halfway through

        def at() -> int:
            """Epochs completed: what the counter shows."""
            return min(last, int(np.floor(epoch.get_value() + 1e-9)))

        def between(values: np.ndarray) -> float:
            """`values` at the tracker, straight between recorded epochs (motion)."""
            e = epoch.get_value()
            k = min(last - 1, int(np.floor(e)))
            return float(values[k] + (values[k + 1] - values[k]) * (e - k))

        self.needle.add_updater(lambda m: m.set_value(between(run.loss)))
        self.peg.add_updater(lambda m: m.set_value(between(self.turned)))
        self.epoch_readout.value.add_updater(lambda m: m.set_value(at()))
        self.loss_readout.value.add_updater(
            lambda m: m.set_value(float(run.loss[at()])))
        frames = [b.frame for b in self.boxes.boxes]
        blur = ValueTracker(0.0)  # 1: too fast to follow, every box lit

        def light(m: VMobject, i: int) -> None:
            stage = int(np.floor((epoch.get_value() % 1.0) * passes * 5)) % 5
            on = (blur.get_value() > 0.5 or stage == i) and epoch.get_value() < last
            m.set_stroke(th.accent if on else th.axis, 5 if on else 2)

        for i, f in enumerate(frames):
            f.add_updater(lambda m, i=i: light(m, i))
        self.add(self.needle, self.peg, epoch, blur)

        learned = run.status == "learned"
        with self._captioned(self.words(
            "caption.many.learned" if learned else "caption.many.failed",
            epochs=last, first=loss_text(run.loss[0]), last=loss_text(run.loss[-1]),
            gate=run.gate,
        )):
            self.play(self._say("keep_tuning"), run_time=0.4)
            if watch > self.rounds:
                self.play(epoch.animate.set_value(float(watch)), run_time=2.4,
                          rate_func=lambda t: t**1.4)
            if last > watch:
                blur.set_value(1.0)
                self.play(epoch.animate.set_value(float(last)), run_time=4.0,
                          rate_func=lambda t: t**2.2)
            self.play(self._say("in_tune" if learned else "still_off",
                                th.good if learned else th.bad), run_time=0.4)
            self.wait(1.0)
        for m in [*frames, self.needle, self.peg, self.epoch_readout.value,
                  self.loss_readout.value]:
            m.clear_updaters()
        self.epoch = self.epoch_readout.value
        self.loss = self.loss_readout.value
