"""Gradient descent on a 1-D landscape, recorded step by step and classified."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .landscapes import Landscape, get_landscape

STATUSES = ("converged", "overshooting", "crawling", "diverged")
# How a recorded run ended (`Descent.outcome`), and the English verdict for each.
OUTCOMES = ("flew-at-once", "flew", "unsettled", "crawling", "bouncing", "bounced",
            "bottom", "arrived")
VERDICTS = {
    "flew-at-once": "flew off at the first step",
    "flew": "flew off after {steps}",
    "unsettled": "bounced without settling for {steps}",
    "crawling": "still crawling after {steps}",
    "bouncing": "still bouncing after {steps}",
    "bounced": "bounced in ({steps})",
    "bottom": "started at the bottom",
    "arrived": "arrived in {steps}",
}

# Presets as fractions of the regime boundaries, for curvature a at the minimum:
# near it, the factor (1 - 2 a lr) multiplies the distance to the minimum every step.
PRESET_FACTORS = {
    "slow": 0.05 / 2,  # lr = 0.025/a: factor 0.95, still crawling after 30 steps
    # good: lr = 0.3/a, factor 0.4: rolls smoothly in (and not the factor 0.5 whose
    # losses would coincide with bouncy's -0.5 on a symmetric bowl)
    "good": 0.6 / 2,
    "bouncy": 1.5 / 2,  # lr = 0.75/a: factor -0.5, overshoots and bounces in
    # diverge: lr = 1.125/a, factor -1.25: just past 1/a, every bounce a quarter
    # wider than the last, so the first three fit on a plot (`plot_window`) before
    # the ball flies off the bowl (lr 0.75 there; factor -1.4 left the plot at the
    # first step). In the curved valleys the bounces grow until the steepening
    # walls hold them: a bounce that never settles, still "diverged" (`classify`).
    "diverge": 2.25 / 2,
}
PRESETS = tuple(PRESET_FACTORS)

SHOWN_BOUNCES = 3  # a diverged run's overshoots that a plot keeps in view
REACH = 1.0  # ... while they stay within this many plotting widths of the range


def _landscape(landscape: Landscape | str) -> Landscape:
    return get_landscape(landscape) if isinstance(landscape, str) else landscape


def preset_lr(landscape: Landscape | str, preset: str) -> float:
    """The learning rate for a named preset, derived from the curvature at w_min.

    lr < 1/(2a) approaches smoothly, 1/(2a) < lr < 1/a overshoots and bounces in,
    lr > 1/a diverges. On the default bowl (a = 1.5) `bouncy` is the lesson's 0.5.
    """
    ls = _landscape(landscape)
    if preset not in PRESET_FACTORS:
        raise KeyError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
    return PRESET_FACTORS[preset] / ls.curvature


@dataclass(frozen=True)
class Descent:
    """A recorded gradient-descent run; step 0 is the start.

    Arrays, step axis first, T = recorded steps + 1 (fewer than `steps` + 1 when
    the run diverged and recording stopped at the last step inside the bound):
      w     (T,)  weight at each step
      loss  (T,)  L(w[t])
      grad  (T,)  L'(w[t]); w[t+1] = w[t] - lr * grad[t] exactly
    `status` is one of STATUSES (see `classify`); `converged_step` is the step
    from which |grad| stays under `tol` to the end of the record (None if never).
    """

    landscape: str
    lr: float
    w0: float
    steps: int
    tol: float
    w: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    status: str
    converged_step: int | None

    def __post_init__(self):
        t = self.w.shape[0] if self.w.ndim == 1 else -1
        if t < 1:
            raise ValueError(f"w has shape {self.w.shape}, expected (T,) with T >= 1")
        for name in ("w", "loss", "grad"):
            arr = getattr(self, name)
            if arr.shape != (t,):
                raise ValueError(f"{name} has shape {arr.shape}, expected ({t},)")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} holds a non-finite value")
        if self.steps < t - 1:
            raise ValueError(f"steps is {self.steps} but {t - 1} steps are recorded")
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} not in {STATUSES}")

    @property
    def n_steps(self) -> int:
        """Steps actually taken (recorded states minus the start)."""
        return self.w.shape[0] - 1

    @property
    def stopped(self) -> bool:
        """True when recording stopped early because the next step left the bound."""
        return self.n_steps < self.steps

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"

    def outcome(self) -> tuple[str, int]:
        """The ending as (kind, steps), for a scene to put into its own words.

        kind is one of OUTCOMES; steps counts the steps the verdict names (the
        recorded steps, or the step it settled from; 0 for "flew-at-once" and
        "bottom").
        """
        if self.status == "diverged":
            if self.stopped and self.n_steps == 0:
                return "flew-at-once", 0
            if self.stopped:
                return "flew", self.n_steps
            return "unsettled", self.n_steps
        if self.status == "crawling":
            return "crawling", self.n_steps
        if self.status == "overshooting":
            if self.converged_step is None:
                return "bouncing", self.n_steps
            return "bounced", self.converged_step
        if self.converged_step == 0:
            return "bottom", 0
        return "arrived", self.converged_step

    def verdict(self) -> str:
        """A short plain-language ending, read from the record (English)."""
        kind, n = self.outcome()
        return VERDICTS[kind].format(steps=_steps(n))


def _steps(n: int) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"


def settled_step(grad: np.ndarray, tol: float) -> int | None:
    """The first step from which |grad| stays under `tol` to the end (None if never)."""
    above = np.flatnonzero(~(np.abs(grad) < tol))
    if above.size == 0:
        return 0
    last = int(above[-1])
    return None if last == len(grad) - 1 else last + 1


def classify(
    landscape: Landscape | str,
    w: np.ndarray,
    grad: np.ndarray,
    lr: float,
    stopped: bool,
    tol: float,
) -> str:
    """The status of a recorded run, from the record and the valley it ends in.

    diverged: recording stopped (the next step left the bound or was not finite),
      or the run bounces across a valley whose bottom repels it (lr >= 1/a for that
      valley's curvature a, so no bounce can shrink), or the bounces grew.
    overshooting: w - m changed sign (m: the minimum nearest the last step).
    converged: never crossed m, and |grad| stayed under `tol` from some step on.
    crawling: never crossed m and not arrived yet.
    """
    ls = _landscape(landscape)
    if stopped:
        return "diverged"
    m = ls.nearest_minimum(float(w[-1]))
    side = np.sign(w - m)  # (T,)
    flips = bool(np.any(side[1:] * side[:-1] < 0))
    arrived = settled_step(grad, tol) is not None
    if flips:
        repels = lr * float(ls.second(m)) >= 2.0
        grew = abs(w[-1] - m) > abs(w[0] - m)
        if repels or (grew and not arrived):
            return "diverged"
        return "overshooting"
    return "converged" if arrived else "crawling"


def overshoots(landscape: Landscape | str, w: np.ndarray) -> np.ndarray:
    """(T - 1,) True where step k -> k + 1 crosses the bottom of the valley it lands
    in (the local minimum nearest w[k + 1]): the ball went past it."""
    ls = _landscape(landscape)
    w = np.asarray(w, dtype=float)  # (T,)
    minima = np.asarray(ls.minima)  # (M,)
    m = minima[np.argmin(np.abs(w[1:, None] - minima[None, :]), axis=1)]  # (T - 1,)
    return (w[:-1] - m) * (w[1:] - m) < 0


def shown_weights(landscape: Landscape | str, run: Descent) -> np.ndarray:
    """The recorded weights a plot of `run` must hold.

    Every step of a run that did not diverge. A diverged run needs only its start
    and its first SHOWN_BOUNCES overshoots, so the growing bounces are seen before
    the ball leaves the plot: a plot of every step would shrink them to nothing.
    Those stop at the first step more than REACH plotting widths outside the
    landscape's range (a huge lr jumps far away at once: no plot should follow).
    """
    ls = _landscape(landscape)
    w = run.w  # (T,)
    if run.status != "diverged":
        return w
    over = np.flatnonzero(overshoots(ls, w))
    end = int(over[SHOWN_BOUNCES - 1]) + 2 if over.size >= SHOWN_BOUNCES else len(w)
    lo, hi = ls.w_range
    reach = REACH * (hi - lo)
    far = np.flatnonzero((w[1:end] < lo - reach) | (w[1:end] > hi + reach))
    return w[: int(far[0]) + 1] if far.size else w[:end]


def plot_window(
    landscape: Landscape | str, runs: list[Descent]
) -> tuple[float, float, float, float]:
    """(w0, w1, loss0, loss1): the window a plot of `runs` on `landscape` shows.

    The landscape's range widened to every start and to every `shown_weights`
    step, padded by 5% of the range; the loss spans the curve over that range
    (and 0). One window for every panel, so the panels compare.
    """
    ls = _landscape(landscape)
    x0, x1 = ls.w_range
    keep = [r.w[:1] for r in runs] + [shown_weights(ls, r) for r in runs]
    if keep:
        lo = min(float(np.min(w)) for w in keep)
        hi = max(float(np.max(w)) for w in keep)
        pad = 0.05 * (x1 - x0)
        x0, x1 = min(x0, lo - pad), max(x1, hi + pad)
    ws = np.linspace(x0, x1, 801)  # (801,)
    with np.errstate(all="ignore"):
        loss = ls.loss(ws)  # (801,)
    return float(x0), float(x1), min(0.0, float(np.min(loss))), float(np.max(loss))


def descend(
    landscape: Landscape | str,
    w0: float | None = None,
    lr: float = 0.1,
    steps: int = 30,
    tol: float = 0.05,
) -> Descent:
    """Run `steps` steps of w <- w - lr * L'(w) from `w0` and classify the run.

    Recording stops early (status `diverged`) when |w - w_min| would exceed the
    landscape's bound or L or L' would stop being finite: nothing non-finite is
    ever stored. ValueError for a start outside the bound or a bad lr/steps.
    """
    ls = _landscape(landscape)
    w0 = ls.default_w0 if w0 is None else float(w0)
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive finite number, got {lr}")
    if not (math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a positive finite number, got {tol}")
    if not (math.isfinite(w0) and abs(w0 - ls.w_min) <= ls.bound):
        raise ValueError(
            f"w0 must be a finite number within {ls.bound:g} of the minimum "
            f"{ls.w_min:g}, got {w0}"
        )
    if isinstance(steps, bool) or int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a whole number >= 0, got {steps}")
    steps = int(steps)

    ws = [w0]
    w = np.float64(w0)
    with np.errstate(all="ignore"):
        for _ in range(steps):
            nxt = w - lr * ls.grad(w)
            if not (
                np.isfinite(nxt)
                and abs(nxt - ls.w_min) <= ls.bound
                and np.isfinite(ls.loss(nxt))
                and np.isfinite(ls.grad(nxt))
            ):
                break
            ws.append(float(nxt))
            w = nxt
    w_arr = np.asarray(ws, dtype=float)  # (T,)
    loss = np.asarray(ls.loss(w_arr), dtype=float)  # (T,)
    grad = np.asarray(ls.grad(w_arr), dtype=float)  # (T,)
    stopped = len(ws) - 1 < steps
    return Descent(
        landscape=ls.name,
        lr=float(lr),
        w0=w0,
        steps=steps,
        tol=float(tol),
        w=w_arr,
        loss=loss,
        grad=grad,
        status=classify(ls, w_arr, grad, lr, stopped, tol),
        converged_step=settled_step(grad, tol),
    )
