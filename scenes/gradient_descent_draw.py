"""Drop the ball: recorded gradient descent replayed on a loss curve, one or more lrs."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from manim import *
from neuroanim.scenes.gradient_descent import WORDS, verdict

from neuroanim import core
from neuroanim.blocks import BallOnCurve, LossChart
from neuroanim.core.descent import plot_window
from neuroanim.draw import (
    BODY,
    MIN_SIZE,
    SMALL,
    TINY,
    TITLE,
    GlyphNumber,
    NeuroScene,
    fade,
    fit_text,
    glyph_atlas,
    nice_top,
    number,
    on_baseline,
    panel,
    plain,
    readable,
    shrink_to,
    tx,
    wrap_text,
)
from neuroanim.wording import localise

# ------------------------------------------------------------------- timeline
FIRST_STEP = 1.2  # seconds for step 0: time to read the slope before the ball moves
STEP_DECAY = 0.8  # each later step takes 80% of the one before ...
FASTEST_STEP = 0.2  # ... down to this: a 30-step run rolls in about 9.4 s
FAST_TAIL_MAX = 18.0  # a very long run's fast steps share at most this many seconds
HOLD = 0.4  # share of a step spent showing the slope before the ball moves
VERDICT_SECONDS = 0.8  # one more tracker unit after the last step: verdicts fade in
VERDICT_FADE = 0.5  # tracker units over which a verdict fades in after its last step
BEFORE_ROLL = (("landscape", 1.5), ("minimum", 1.0), ("drop", 1.0))
AFTER_ROLL = (("verdicts", 1.6), ("fade", 0.6), ("chart", 1.8), ("end", 2.2))

TRAIL_OPACITY = 0.8
STATUS_SLOT = {"crawling": 0, "converged": 1, "overshooting": 2, "diverged": 3}


def step_seconds(n_steps: int) -> np.ndarray:
    """Seconds for each of `n_steps` steps: slow at first so the slope can be read,
    then faster, since later steps repeat the same idea (30 steps: about 9.4 s)."""
    d = np.maximum(FASTEST_STEP, FIRST_STEP * STEP_DECAY ** np.arange(n_steps))
    tail = d <= FASTEST_STEP
    if tail.sum() * FASTEST_STEP > FAST_TAIL_MAX:
        d[tail] = FAST_TAIL_MAX / tail.sum()
    return d


def roll_clock(n_steps: int) -> np.ndarray:
    """(n_steps + 2,) seconds into the roll at which the tracker reaches 0..n+1.

    The tracker's last unit (n -> n + 1) is the verdicts' fade-in."""
    d = np.append(step_seconds(n_steps), VERDICT_SECONDS)
    return np.concatenate(([0.0], np.cumsum(d)))


def timeline(max_steps: int) -> list[tuple[str, float]]:
    """Every section's seconds, in order: the one plan construct() plays and tests
    check a decoded video's duration against."""
    roll = float(roll_clock(max_steps)[-1])
    return [*BEFORE_ROLL, ("roll", roll), *AFTER_ROLL]


def move_fraction(f: float) -> float:
    """How far the ball has moved at fraction f of a step: still while the slope is
    shown (f < HOLD), then eased in and out along the curve; exactly 0 and 1 at the
    ends."""
    if f <= HOLD:
        return 0.0
    if f >= 1.0:
        return 1.0
    return float(smooth((f - HOLD) / (1.0 - HOLD)))


def phase(s: float, n_steps: int) -> tuple[int, float]:
    """Tracker value s -> (recorded step k the ball is at or leaving, move fraction)."""
    if s >= n_steps:
        return n_steps, 0.0
    s = max(s, 0.0)
    k = int(math.floor(s))
    return k, move_fraction(s - k)


# ------------------------------------------------------------------ runs
def lane_name(run: core.Descent, preset: str | None) -> str:
    """"good · lr 0.1", or "lr 0.1" for a learning rate given by number."""
    lr = plain(run.lr, 3)
    if preset is None:
        return WORDS("lane", lr=lr)
    key = f"preset.{preset}"
    return WORDS("lane.preset", preset=WORDS(key) if key in WORDS else preset, lr=lr)


def wrap_into(text: str, size: float, color: str, width: float, height: float
              ) -> Mobject:
    """`text` wrapped at spaces to `width` (`wrap_text`), at the largest size from
    `size` down to MIN_SIZE whose lines also fit `height`."""
    for z in np.arange(size, MIN_SIZE - 0.5, -1.0):
        block = wrap_text(text, float(z), color, width)
        if block.height <= height:
            break
    return block


def value_width(texts, size: float) -> float:
    """The width of the widest of `texts` as a GlyphNumber draws it."""
    advance = glyph_atlas(size)[1]
    return max((sum(advance[c] for c in t) for t in texts), default=0.0)


def lane_slots(runs: list[core.Descent], presets: list[str | None]) -> list[int]:
    """A distinct colour slot (crawl, good, bounce, diverge) per run.

    A preset keeps its own slot. Other runs take the slot of their recorded status;
    if two would share one, they instead spread over the free slots in order of
    learning rate, cool to hot, so a colour never says two things at once."""
    n_slots = len(STATUS_SLOT)
    slots: list[int | None] = [None] * len(runs)
    for i, p in enumerate(presets):
        if p is not None:
            want = core.PRESETS.index(p)
            taken = [s for s in slots if s is not None]
            slots[i] = want if want not in taken else next(
                k for k in range(n_slots) if k not in taken)
    rest = [i for i, p in enumerate(presets) if p is None]
    taken = {s for s in slots if s is not None}
    by_status = [STATUS_SLOT[runs[i].status] for i in rest]
    if len(set(by_status)) == len(by_status) and not taken & set(by_status):
        for i, s in zip(rest, by_status, strict=True):
            slots[i] = s
    else:
        free = [k for k in range(n_slots) if k not in taken]
        order = sorted(rest, key=lambda i: runs[i].lr)
        picks = np.rint(np.linspace(0, len(free) - 1, len(order))).astype(int)
        for i, j in zip(order, picks, strict=True):
            slots[i] = free[j]
    return [int(s) for s in slots]


def casing_widths(losses: list[np.ndarray], tol: float, base: float = 4.0,
                  step: float = 3.0) -> list[float]:
    """Stroke widths for loss lines drawn in order: a line that a later one covers
    on some segment (both ends within `tol`) is drawn wider by `step` per covering
    line, so coinciding runs show as cased lines (on the symmetric bowl the good
    and bouncy runs have exactly the same losses)."""
    widths = []
    for i, a in enumerate(losses):
        covered = 0
        for b in losses[i + 1:]:
            t = min(len(a), len(b))
            close = np.abs(a[:t] - b[:t]) <= tol
            covered += bool(np.any(close[1:] & close[:-1]))
        widths.append(base + step * covered)
    return widths


# ------------------------------------------------------------------ one lane
class Sizes:
    """Drawing sizes for the one big story plot or a small comparison panel."""

    def __init__(self, big: bool):
        self.radius = 0.17 if big else 0.11
        self.tangent = 0.75 if big else 0.45  # half-length of the slope segment
        self.arrow = 1.0 if big else 0.6  # arrow length at the steepest start
        self.dot = 0.05 if big else 0.04
        self.tick = SMALL if big else TINY
        self.axis_label = SMALL if big else TINY
        self.x_ticks = 7 if big else 4
        self.y_ticks = 5 if big else 3


class Lane:
    """One recorded run on its own axes: the panel's drawing and its updater.

    Positions come only from the record: at the end of step k (tracker = k) the
    contact point is `axes.c2p(w[k], loss[k])` and the ball's centre sits one radius
    along the curve's normal, computed from the recorded slope grad[k] in screen
    units (x and y scales differ). Between steps the ball follows the landscape's
    curve from w[k] to w[k+1]. A ball whose contact point leaves the plot fades out
    at the edge (clamped near it, never drawn far away) and a badge says why.
    """

    def __init__(self, run: core.Descent, name: str, color: str, rect, window,
                 th, big: bool, grad_scale: float):
        self.run, self.name, self.color, self.th = run, name, color, th
        self.landscape = core.get_landscape(run.landscape)
        self.size = sz = Sizes(big)
        self.radius = sz.radius
        self.grad_scale = grad_scale  # |grad| that draws the longest arrow
        left, bottom, width, height = rect
        self.box = (left, left + width, bottom, bottom + height)
        x0, x1, y0, y1 = window
        # The landscape, ball and slope marks; the lane adds the trail, the
        # clamping at the plot's edge and the badge.
        self.block = BallOnCurve(
            self.landscape, None, width, height, window=window, radius=sz.radius,
            tangent=sz.tangent, arrow=sz.arrow, grad_scale=grad_scale, color=color,
            curve_color=th.curve if big else th.muted, curve_width=4 if big else 3,
            curve_opacity=1.0 if big else 0.75, tick_size=sz.tick,
            label_size=sz.axis_label, ticks=(sz.x_ticks, sz.y_ticks),
            x_label=WORDS("axis.weight"), y_label=WORDS("axis.loss"))
        self.block.shift(np.array([left, bottom, 0]) - self.block.axes.c2p(x0, y0))
        self.axes, self.curve = self.block.axes, self.block.curve
        self.sx, self.sy = self.block.sx, self.block.sy  # units per unit
        self.minimum = self._minimum_mark(big, y1)
        self.static = VGroup(self.axes, self.curve, self.minimum)

        # Updated parts, in drawing order.
        pts = [self.point(w, v) for w, v in zip(run.w, run.loss, strict=True)]
        self.trail_inside = [self.visibility(p) >= 1.0 for p in pts]
        self.trail = VGroup(*(Dot(self.clamp(p), radius=sz.dot, color=color)
                              for p in pts))
        self.tangent, self.arrow, self.ball = (self.block.tangent, self.block.arrow,
                                               self.block.ball)
        self.badge = self._badge(big)
        self.readouts: list[tuple[GlyphNumber, Callable[[int], str]]] = []
        self.verdict: Mobject | None = None
        self.dynamic = VGroup(self.trail, self.tangent, self.arrow, self.ball,
                              self.badge)
        self.contact = self.point(run.w[0], run.loss[0])
        self._shown_step: int | None = None

    # -- geometry (screen units) ---------------------------------------------
    def point(self, w: float, loss: float) -> np.ndarray:
        return self.axes.c2p(w, loss)

    def normal(self, slope: float) -> np.ndarray:
        """Unit normal to the curve on screen, pointing up, out of the valley."""
        return self.block.normal(slope)

    def visibility(self, p: np.ndarray) -> float:
        """1 inside the plot, fading to 0 within two radii beyond its edge."""
        x0, x1, y0, y1 = self.box
        dx = max(x0 - p[0], 0.0, p[0] - x1)
        dy = max(y0 - p[1], 0.0, p[1] - y1)
        return float(np.clip(1.0 - math.hypot(dx, dy) / (2 * self.radius), 0.0, 1.0))

    def clamp(self, p: np.ndarray) -> np.ndarray:
        """`p` pulled to within three radii of the plot: an invisible ball is never
        sent to the far-away screen coordinates of a diverged weight."""
        x0, x1, y0, y1 = self.box
        m = 3 * self.radius
        return np.array([np.clip(p[0], x0 - m, x1 + m), np.clip(p[1], y0 - m, y1 + m),
                         0.0])

    def state(self, k: int, m: float) -> tuple[float, float, float]:
        """(w, loss, slope) a fraction m of the way from record k to record k + 1.

        At m = 0 exactly the recorded values; in between the landscape's own curve,
        corrected so it meets the recorded loss and slope at both ends."""
        r = self.run
        if m <= 0.0:
            return float(r.w[k]), float(r.loss[k]), float(r.grad[k])
        if m >= 1.0:
            return float(r.w[k + 1]), float(r.loss[k + 1]), float(r.grad[k + 1])
        ls = self.landscape
        wa, wb = float(r.w[k]), float(r.w[k + 1])
        w = wa + m * (wb - wa)
        with np.errstate(all="ignore"):
            loss = float(ls.loss(w) + (1 - m) * (r.loss[k] - ls.loss(wa))
                         + m * (r.loss[k + 1] - ls.loss(wb)))
            slope = float(ls.grad(w) + (1 - m) * (r.grad[k] - ls.grad(wa))
                          + m * (r.grad[k + 1] - ls.grad(wb)))
        return w, loss, slope

    # -- the updater -----------------------------------------------------------
    def show(self, s: float, presence: float = 1.0) -> None:
        """Draw the lane at tracker value s (recorded step k at s = k)."""
        n = self.run.n_steps
        k, m = phase(s, n)
        w, loss, slope = self.state(k, m)
        p = self.point(w, loss)
        self.contact = p
        vis = self.visibility(p)
        self.ball.move_to(self.clamp(p + self.radius * self.normal(slope)))
        fade(self.ball, vis * presence)

        for j, dot in enumerate(self.trail):
            on = j <= k and self.trail_inside[j]
            fade(dot, TRAIL_OPACITY * presence if on else 0.0)

        self._slope_marks(k, m, presence)

        if k != self._shown_step:
            for glyphs, text in self.readouts:
                glyphs.set_text(text(k))
            self._shown_step = k
        for glyphs, _ in self.readouts:
            fade(glyphs, presence)

        fade(self.badge, presence if vis < 0.5 else 0.0)
        if self.verdict is not None:
            fade(self.verdict,
                 presence * float(np.clip((s - n) / VERDICT_FADE, 0.0, 1.0)))

    def _slope_marks(self, k: int, m: float, presence: float) -> None:
        """Before step k: the tangent at the recorded point and an arrow downhill
        (length by the recorded |grad|), fading while the ball moves."""
        run = self.run
        if k >= run.n_steps:
            fade(self.tangent, 0.0)
            fade(self.arrow, 0.0)
            return
        g = float(run.grad[k])
        p = self.point(run.w[k], run.loss[k])
        op = (1.0 - m) * presence * (1.0 if self.visibility(p) >= 1.0 else 0.0)
        shown = self.block.draw_slope(p, g)
        fade(self.tangent, op)
        fade(self.arrow, op if shown else 0.0)

    # -- static parts ----------------------------------------------------------
    def _minimum_mark(self, big: bool, y_top: float) -> VGroup:
        """A dashed line up from the lowest point of the landscape, labelled."""
        th = self.th
        wm = self.landscape.w_min
        low = self.point(wm, float(self.landscape.loss(wm)))
        top = self.point(wm, y_top)
        mark = VGroup(
            DashedLine(low, top, color=th.minimum, stroke_width=2, dash_length=0.08),
            Dot(low, radius=0.05 if big else 0.04, color=th.minimum),
        )
        size = SMALL if big else TINY
        label = tx(WORDS("minimum"), size, th.minimum)
        x0, x1 = self.box[0] + 0.08, self.box[1] - 0.08  # keep it inside the plot
        shrink_to(label, x1 - x0, size=size)
        label.next_to(top, DOWN, buff=0.1)
        label.shift(RIGHT * (max(x0 - label.get_left()[0], 0.0)
                             + min(x1 - label.get_right()[0], 0.0)))
        bg = BackgroundRectangle(label, color=th.panel if not big else th.background,
                                 fill_opacity=1, buff=0.06)
        mark.add(bg, label)
        return mark

    def _badge(self, big: bool) -> VGroup:
        """'diverged' (status diverged) or 'off the chart' for a ball that left."""
        th = self.th
        bad = self.run.status == "diverged"
        size = SMALL if big else TINY
        text = tx(WORDS("badge.diverged" if bad else "badge.off"), size, th.background)
        shrink_to(text, self.box[1] - self.box[0] - 0.5, size=size)
        box = RoundedRectangle(width=text.width + 0.3, height=text.height + 0.2,
                               corner_radius=0.1, fill_color=th.bad if bad else th.muted,
                               fill_opacity=1, stroke_width=0)
        badge = VGroup(box, text.move_to(box))
        x0, x1, _, y1 = self.box
        badge.move_to([(x0 + x1) / 2, y1 - (1.05 if big else 0.6), 0])
        return badge


# -------------------------------------------------------------------- scene
class GradientDescent(NeuroScene):
    """The lesson's "Drop the Ball": the recorded runs, one panel per learning rate.

    Exposes what tests check: `lanes` (each with `axes`, `ball`, `contact`,
    `radius`, `run`), the `step` tracker, `contact_point(i)` and
    `planned_seconds()`.
    """

    spec_name = "gradient-descent"

    # Section: plan -------------------------------------------------------------
    @property
    def runs(self) -> list[core.Descent]:
        return list(self.data.runs)

    @property
    def max_steps(self) -> int:
        return max(r.n_steps for r in self.runs)

    def planned_seconds(self) -> float:
        """Length of the video construct() plays, from the run lengths alone."""
        return float(sum(sec for _, sec in timeline(self.max_steps)))

    def contact_point(self, i: int = 0) -> np.ndarray:
        """Where lane i's ball touches the curve, as last drawn."""
        return self.lanes[i].contact

    def construct(self):
        self.plan = dict(timeline(self.max_steps))
        self.step = ValueTracker(0.0)  # recorded step k at value k
        self.presence = ValueTracker(1.0)  # fades every lane out at the close
        self.build()
        # The landscape
        self.show_landscape()
        # Drop the ball
        self.drop_ball()
        # Roll: one recorded step at a time, every panel in sync
        self.roll()
        # Verdicts
        self.give_verdicts()
        # Close: loss against step for every learning rate
        self.close()

    def show_landscape(self) -> None:
        self.play(FadeIn(self.title), *map(FadeIn, self.panels),
                  *(Create(ln.axes) for ln in self.lanes),
                  *(Create(ln.curve) for ln in self.lanes),
                  run_time=self.plan["landscape"],
                  subcaption=self.words("caption.landscape"))
        self.play(FadeIn(self.caption), *(FadeIn(ln.minimum) for ln in self.lanes),
                  *map(FadeIn, self.labels), run_time=self.plan["minimum"])

    def drop_ball(self) -> None:
        for lane in self.lanes:
            lane.show(0.0)
        self.play(*(FadeIn(ln.dynamic) for ln in self.lanes),
                  run_time=self.plan["drop"],
                  subcaption=self.words("caption.drop"))
        for lane in self.lanes:
            lane.dynamic.add_updater(self._follow(lane))

    def roll(self) -> None:
        """One play: the tracker runs through the steps on the roll clock."""
        clock = roll_clock(self.max_steps)
        units = np.arange(len(clock), dtype=float)
        total = float(clock[-1])
        self.play(
            UpdateFromAlphaFunc(
                self.step,
                lambda m, a: m.set_value(float(np.interp(a * total, clock, units)))),
            run_time=total, rate_func=linear,
            subcaption=self.words("caption.roll"))

    def give_verdicts(self) -> None:
        seconds = self.plan["verdicts"]
        self.add_subcaption(self._verdict_caption(), duration=seconds)
        self.wait(seconds, frozen_frame=True)

    def close(self) -> None:
        statics = VGroup(self.title, self.caption, *self.panels, *self.labels,
                         *(ln.static for ln in self.lanes))
        self.play(FadeOut(statics), self.presence.animate.set_value(0.0),
                  run_time=self.plan["fade"])
        self.remove(statics, *(ln.dynamic for ln in self.lanes))
        chart = self.chart = self.build_chart()
        self.play(FadeIn(chart["title"]), FadeIn(chart["axes"]),
                  FadeIn(chart["legend"]),
                  *(Create(line) for line in chart["lines"]),
                  run_time=self.plan["chart"],
                  subcaption=self.words("caption.chart"))
        self.wait(self.plan["end"])

    def text_blocks(self) -> list[Mobject]:
        """Every piece of text the roll shows (title, captions, tick labels, readouts,
        verdicts, badges): none may overlap another or leave the frame."""
        blocks = [self.title, self.caption, *self.labels]
        for lane in self.lanes:
            blocks += [*lane.axes.texts, lane.minimum[-1], lane.badge]
            blocks += [glyphs for glyphs, _ in lane.readouts]
            if lane.verdict is not None:
                blocks.append(lane.verdict)
        return blocks

    def _follow(self, lane: Lane):
        def update(_mob):
            lane.show(self.step.get_value(), self.presence.get_value())
        return update

    def _verdict_caption(self) -> str:
        return " ".join(self.words("caption.verdict", lane=ln.name,
                                   verdict=verdict(ln.run)) for ln in self.lanes)

    # Section: build --------------------------------------------------------------
    def build(self) -> None:
        """Create every mobject (the static ones are played in before the updated
        ones, so Cairo paints them once per play)."""
        th = self.theme
        runs, presets = self.runs, list(self.data.presets)
        ls = core.get_landscape(self.data.landscape)
        window = plot_window(ls, runs)
        g0 = max((abs(float(r.grad[0])) for r in runs), default=1.0) or 1.0
        single = len(runs) == 1
        words = self.words
        if single:
            colors = [th.ball]
            title = words("title.one")
        else:
            colors = [th.lr_colors[s] for s in lane_slots(runs, presets)]
            count = f"count.{len(runs)}"
            title = words("title.many",
                          count=words(count) if count in words else len(runs))
        full = 2 * self.half_w - 0.5  # a line across the frame
        self.title = fit_text(title, TITLE, full).to_edge(UP, buff=0.25)
        formula = localise(ls.formula.replace("-", "−"))
        self.caption = fit_text(words("caption", formula=formula), SMALL, full,
                                th.muted).next_to(self.title, DOWN, buff=0.14)
        self.panels: list[Mobject] = []
        self.labels: list[Mobject] = []
        self.lanes: list[Lane] = []
        if single:
            self._layout_story(runs[0], presets[0], colors[0], window, g0)
        else:
            self._layout_panels(runs, presets, colors, window, g0)
        self.add(self.step, self.presence)

    def _layout_story(self, run, preset, color, window, g0) -> None:
        """One big plot on the left; readouts, verdict and a key on the right."""
        th, hw, hh = self.theme, self.half_w, self.half_h
        col = 3.7  # readout column width
        left, right = -hw + 1.25, hw - col - 0.75
        bottom, top = -hh + 1.0, self.caption.get_bottom()[1] - 0.45
        lane = Lane(run, lane_name(run, preset), color,
                    (left, bottom, right - left, top - bottom), window, th, True, g0)
        self.lanes.append(lane)
        x, value_x = hw - col - 0.2, hw - 0.3
        words = self.words
        rows = [(words("row.step"), lambda k: str(k)),
                (words("row.weight"), lambda k: readable(run.w[k])),
                (words("row.loss"), lambda k: readable(run.loss[k])),
                (words("row.slope"), lambda k: readable(run.grad[k]))]
        y = top - 0.25
        for name, text in rows:
            self._readout_row(lane, name, text, x, value_x, y, BODY)
            y -= 0.6
        rate = number(size=BODY, align=RIGHT).set_text(plain(run.lr, 3))
        label = tx(words("row.lr"), BODY, th.muted)
        shrink_to(label, value_x - x - rate.width - 0.15, size=BODY)
        label = on_baseline(label.next_to([x, y, 0], RIGHT, buff=0), y)
        self.labels.append(VGroup(label, rate.place([value_x, y, 0])))

        said = wrap_text(verdict(run), BODY, color, value_x - x)
        said.align_to([x, 0, 0], LEFT).align_to([0, y - 0.5, 0], UP)
        lane.verdict = said
        lane.dynamic.add(said)

        # The update rule and the key, scaled together into the room left; lines
        # that would shrink below MIN_SIZE are wrapped to the column instead.
        rule, wide = words("rule", lr=plain(run.lr, 3)), value_x - x
        low = -hh + 0.35  # the column may reach below the plot, beside its labels
        room = said.get_bottom()[1] - 0.35 - low
        for wrap in (None, wide):
            notes = VGroup(fit_text(rule, SMALL, wrap, th.text) if wrap else
                           tx(rule, SMALL, th.text), self._key(SMALL, wrap)
                           ).arrange(DOWN, aligned_edge=LEFT, buff=0.3)
            factor = min(1.0, wide / notes.width, room / notes.height)
            if factor >= MIN_SIZE / SMALL:
                break
        if factor < 1:
            notes.scale(factor)
        notes.align_to([x, 0, 0], LEFT).align_to([0, low, 0], DOWN)
        self.labels.append(notes)

    def _key(self, size: float, width: float | None = None) -> VGroup:
        """What the slope segment and the arrow mean (its words fitted to `width`
        when given)."""
        th = self.theme
        seg = Line(ORIGIN, RIGHT * 0.45, stroke_color=th.text, stroke_width=3)
        arr = Arrow(ORIGIN, RIGHT * 0.45, buff=0, color=th.accent, stroke_width=5,
                    max_tip_length_to_length_ratio=0.45)

        def words(key: str) -> Mobject:
            text = self.words(key)
            if width is None:
                return tx(text, size, th.muted)
            return fit_text(text, size, width - 0.45 - 0.15, th.muted)

        rows = VGroup(
            VGroup(seg, words("key.slope")).arrange(RIGHT, buff=0.15),
            VGroup(arr, words("key.downhill")).arrange(RIGHT, buff=0.15),
        )
        return rows.arrange(DOWN, aligned_edge=LEFT, buff=0.14)

    def _layout_panels(self, runs, presets, colors, window, g0) -> None:
        """2, 3 or 4 panels side by side (2x2 for four), readouts in each.

        Verdicts sit beside the panel names when every one fits there, else all of
        them go, wrapped, into each panel's readout area: one place per video."""
        th, hw, hh = self.theme, self.half_w, self.half_h
        n = len(runs)
        rows, cols = (2, 2) if n == 4 else (1, n)
        gap, margin = 0.16, 0.14
        top = self.caption.get_bottom()[1] - 0.16
        bottom = -hh + margin
        width = (2 * hw - 2 * margin - (cols - 1) * gap) / cols
        height = (top - bottom - (rows - 1) * gap) / rows
        wide = width / height > 1.4
        names = [lane_name(r, p) for r, p in zip(runs, presets, strict=True)]
        headers = [tx(nm, SMALL, c) for nm, c in zip(names, colors, strict=True)]
        for h in headers:
            shrink_to(h, width - 0.4, size=SMALL)
        said = [verdict(r) for r in runs]
        verdicts = [tx(v, TINY, c) for v, c in zip(said, colors, strict=True)]
        in_header = all(h.width + v.width + 0.7 <= width
                        for h, v in zip(headers, verdicts, strict=True))
        for i, (run, name, color) in enumerate(zip(runs, names, colors, strict=True)):
            r, c = divmod(i, cols)
            pl = -hw + margin + c * (width + gap)
            pt = top - r * (height + gap)
            floor = pt - height + 0.1  # lowest a verdict may reach in the panel
            self.panels.append(
                panel(width, height).move_to([pl + width / 2, pt - height / 2, 0]))
            header = headers[i].align_to([pl + 0.2, 0, 0], LEFT)
            header.align_to([0, pt - 0.12, 0], UP)
            self.labels.append(header)
            if wide:
                rect = (pl + 0.95, pt - height + 0.72, width - 0.95 - 2.3,
                        height - 0.72 - 0.62)
            else:
                rect = (pl + 0.95, pt - height + 2.0, width - 0.95 - 0.3,
                        height - 2.0 - 0.62)
            lane = Lane(run, name, color, rect, window, th, False, g0)
            self.lanes.append(lane)
            right = pl + width - 0.2
            if wide:
                x, value_x, y = right - 1.95, right, lane.box[3] - 0.2
            else:
                x, value_x, y = pl + 0.3, pl + 2.3, lane.box[2] - 0.95
            first = y
            for label, text in self._panel_rows(run):
                self._readout_row(lane, label, text, x, value_x, y)
                y -= 0.38
            if in_header:
                note = verdicts[i].align_to([0, pt - 0.14, 0], UP)
                note.align_to([right, 0, 0], RIGHT)
            elif wide:
                note = wrap_into(said[i], TINY, color, right - x, y - 0.05 - floor)
                note.align_to([x, 0, 0], LEFT).align_to([0, y - 0.05, 0], UP)
            else:
                note = wrap_into(said[i], TINY, color, right - value_x - 0.4,
                                 first + 0.17 - floor)
                note.align_to([value_x + 0.4, 0, 0], LEFT)
                note.align_to([0, first + 0.17, 0], UP)
            lane.verdict = note
            lane.dynamic.add(note)

    @staticmethod
    def _panel_rows(run: core.Descent) -> list[tuple[str, Callable[[int], str]]]:
        return [(WORDS("row.step"), lambda k: str(k)),
                ("w", lambda k: readable(run.w[k])),
                (WORDS("row.loss"), lambda k: readable(run.loss[k]))]

    def _readout_row(self, lane, name, text, x, value_x, y,
                     size: float = TINY) -> None:
        """`name` at (x, baseline y), its recorded value ending at value_x; a long
        name shrinks to leave room for the widest value the run will show."""
        label = tx(name, size, self.theme.muted)
        widest = value_width([text(k) for k in range(lane.run.n_steps + 1)], size)
        shrink_to(label, value_x - x - widest - 0.15, size=size)
        label = on_baseline(label.next_to([x, y, 0], RIGHT, buff=0), y)
        glyphs = number(size=size, align=RIGHT).set_text(text(0))
        glyphs.place([value_x, y, 0])
        self.labels.append(label)
        lane.readouts.append((glyphs, text))
        lane.dynamic.add(glyphs)

    # Section: close ------------------------------------------------------------
    def build_chart(self) -> dict:
        """Loss against step for every lane, in its colour; a diverged line is cut
        at the top with a mark where it leaves."""
        th, hw, hh = self.theme, self.half_w, self.half_h
        n = max(self.max_steps, 1)
        bounded = [ln.run.loss for ln in self.lanes if not ln.run.stopped]
        starts = [float(ln.run.loss[0]) for ln in self.lanes]
        peak = max([float(np.max(v)) for v in bounded] + starts)
        title = fit_text(self.words("chart.title"), TITLE, 2 * hw - 0.5)
        title.to_edge(UP, buff=0.25)
        legend_w = 4.9
        left, right = -hw + 1.3, hw - legend_w - 0.6
        bottom, top = -hh + 1.05, title.get_bottom()[1] - 0.5
        sz = Sizes(True)
        y1 = nice_top(peak, 4)[0]
        tol = 0.05 * y1 / (top - bottom)  # loss per 0.05 screen units
        widths = casing_widths([ln.run.loss for ln in self.lanes], tol)
        first = self.lanes[0]
        chart = LossChart(first.run.loss, right - left, top - bottom,
                          x_label=self.words("axis.step"),
                          y_label=self.words("axis.loss"), color=first.color,
                          stroke_width=widths[0], x_max=n,
                          y_max=peak, x_ticks=6, y_ticks=4, tick_size=sz.tick,
                          label_size=sz.axis_label, y_label_above=False,
                          vertices=None, dot=False)
        chart.move_origin_to([left, bottom, 0])
        legend = VGroup()
        for lane, width in zip(self.lanes[1:], widths[1:], strict=True):
            chart.add_line(lane.run.loss, lane.color, width)
        for lane in self.lanes:
            swatch = Line(ORIGIN, RIGHT * 0.5, stroke_color=lane.color, stroke_width=6)
            name = tx(lane.name, SMALL, lane.color)
            shrink_to(name, legend_w - 0.7, size=SMALL)
            entry = VGroup(
                VGroup(swatch, name).arrange(RIGHT, buff=0.2),
                fit_text(verdict(lane.run), TINY, legend_w - 0.7, th.muted),
            ).arrange(DOWN, aligned_edge=LEFT, buff=0.1)
            entry[1].shift(RIGHT * 0.7)
            legend.add(entry)
        legend.arrange(DOWN, aligned_edge=LEFT, buff=0.35)
        legend.move_to([hw - legend_w / 2 - 0.3, (top + bottom) / 2, 0])
        if legend.width > legend_w:
            legend.scale_to_fit_width(legend_w)
        if legend.height > top - bottom:
            legend.scale_to_fit_height(top - bottom)
        ax = chart.axes
        return {"title": title, "lines": list(chart.lines), "legend": legend,
                "axes": ax, "chart": chart, "texts": [title, *ax.texts, *legend]}
