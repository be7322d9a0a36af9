"""Gradient descent on a 1-D landscape, recorded step by step."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .landscapes import Landscape, get_landscape

STATUSES = ("converged", "overshooting", "crawling", "diverged")

# Presets as fractions of the regime boundaries, for curvature a at the minimum:
# the factor (1 - 2 a lr) multiplies the distance to the minimum every step.
PRESET_FACTORS = {
    "slow": 0.05 / 2,  # lr = 0.025/a: factor 0.95, still crawling after 30 steps
    "good": 0.5 / 2,  # lr = 0.25/a: factor 0.5, rolls smoothly in
    "bouncy": 1.5 / 2,  # lr = 0.75/a: factor -0.5, overshoots and bounces in
    "diverge": 1.2,  # lr = 1.2/a: factor -1.4, every bounce grows
}
PRESETS = tuple(PRESET_FACTORS)


def preset_lr(landscape: Landscape | str, preset: str) -> float:
    """The learning rate for a named preset, derived from the curvature at w_min.

    lr < 1/(2a) approaches smoothly, 1/(2a) < lr < 1/a overshoots and bounces in,
    lr > 1/a diverges. On the default bowl (a = 1.5) `bouncy` is the lesson's 0.5.
    """
    ls = get_landscape(landscape) if isinstance(landscape, str) else landscape
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
    `status` is one of STATUSES; `converged_step` the first step with
    |grad| < tol (None if never); `settled_min` the valley the run ends in.
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
        t = self.w.shape[0]
        for name in ("w", "loss", "grad"):
            arr = getattr(self, name)
            if arr.shape != (t,):
                raise ValueError(f"{name} has shape {arr.shape}, expected ({t},)")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} holds a non-finite value")
        if t < 1:
            raise ValueError("a descent records at least step 0")
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} not in {STATUSES}")

    @property
    def n_steps(self) -> int:
        """Steps actually taken (recorded states minus the start)."""
        return self.w.shape[0] - 1

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"

    def verdict(self) -> str:
        """A short plain-language ending, read from the record."""
        if self.status == "diverged":
            return f"diverged after {self.n_steps} steps"
        if self.status == "crawling":
            return f"still crawling after {self.n_steps} steps"
        if self.status == "overshooting":
            if self.converged_step is None:
                return f"still bouncing after {self.n_steps} steps"
            return f"bounced in ({self.converged_step} steps)"
        return f"arrived in {self.converged_step} steps"


def descend(
    landscape: Landscape | str,
    w0: float | None = None,
    lr: float = 0.1,
    steps: int = 30,
    tol: float = 0.05,
) -> Descent:
    """Run `steps` steps of w <- w - lr * L'(w) from `w0` and classify the run.

    Recording stops early (status `diverged`) when |w - w_min| would exceed the
    landscape's bound or stop being finite; nothing non-finite is ever stored.
    """
    ls = get_landscape(landscape) if isinstance(landscape, str) else landscape
    w0 = ls.default_w0 if w0 is None else float(w0)
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive finite number, got {lr}")
    if not math.isfinite(w0):
        raise ValueError(f"w0 must be finite, got {w0}")
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")

    ws = [w0]
    diverged = False
    w = np.float64(w0)
    with np.errstate(all="ignore"):
        for _ in range(steps):
            nxt = w - lr * ls.grad(w)
            g_next = ls.grad(nxt)
            if (
                not np.isfinite(nxt)
                or abs(nxt - ls.w_min) > ls.bound
                or not np.isfinite(ls.loss(nxt))
                or not np.isfinite(g_next)
            ):
                diverged = True
                break
            ws.append(float(nxt))
            w = nxt
    w_arr = np.asarray(ws, dtype=float)  # (T,)
    loss = np.asarray(ls.loss(w_arr), dtype=float)  # (T,)
    grad = np.asarray(ls.grad(w_arr), dtype=float)  # (T,)

    small = np.flatnonzero(np.abs(grad) < tol)
    converged_step = int(small[0]) if small.size else None
    if diverged:
        status = "diverged"
    else:
        settled = ls.nearest_minimum(float(w_arr[-1]))
        side = np.sign(w_arr - settled)
        flips = np.any(side[1:] * side[:-1] < 0)
        growing = abs(w_arr[-1] - settled) > abs(w_arr[0] - settled)
        if flips and converged_step is None and growing:
            status = "diverged"  # bounded so far, but every bounce grows
        elif flips:
            status = "overshooting"
        elif converged_step is not None:
            status = "converged"
        else:
            status = "crawling"
    return Descent(
        landscape=ls.name,
        lr=float(lr),
        w0=w0,
        steps=int(steps),
        tol=float(tol),
        w=w_arr,
        loss=loss,
        grad=grad,
        status=status,
        converged_step=converged_step,
    )
