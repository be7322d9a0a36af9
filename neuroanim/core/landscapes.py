"""Named 1-D loss landscapes with analytic loss, gradient and curvature."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

ArrayFn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Landscape:
    """A loss curve L(w) over one weight.

    `formula` is plain text (no LaTeX) that a scene can print. `w_min` is the global
    minimum, `minima` every local minimum (ascending), `w_range` the plotting range.
    `curvature` is the coefficient a of the local quadratic a*(w - w_min)**2, i.e.
    half the second derivative at the global minimum: gradient descent there behaves
    as `w - w_min <- (1 - 2*a*lr) * (w - w_min)`.
    """

    name: str
    formula: str
    description: str
    loss_fn: ArrayFn = field(repr=False)
    grad_fn: ArrayFn = field(repr=False)
    second_fn: ArrayFn = field(repr=False)
    w_range: tuple[float, float]
    minima: tuple[float, ...]
    default_w0: float

    @property
    def w_min(self) -> float:
        """The global minimum (the lowest of the local minima)."""
        vals = self.loss_fn(np.asarray(self.minima, dtype=float))
        return float(self.minima[int(np.argmin(vals))])

    @property
    def curvature(self) -> float:
        """a = L''(w_min) / 2: the regime boundaries for lr are 1/(2a) and 1/a."""
        return float(self.second_fn(np.float64(self.w_min))) / 2.0

    @property
    def bound(self) -> float:
        """|w - w_min| beyond which a run counts as diverged: 50 plotting widths."""
        return 50.0 * (self.w_range[1] - self.w_range[0])

    def loss(self, w):
        """L(w), elementwise over a scalar or an array."""
        return self.loss_fn(np.asarray(w, dtype=float))

    def grad(self, w):
        """L'(w), elementwise: the slope the ball follows downhill."""
        return self.grad_fn(np.asarray(w, dtype=float))

    def second(self, w):
        """L''(w), elementwise: twice the local curvature a."""
        return self.second_fn(np.asarray(w, dtype=float))

    def curve(self, n: int = 241) -> tuple[np.ndarray, np.ndarray]:
        """`n` evenly spaced samples (w, loss) over the plotting range."""
        w = np.linspace(self.w_range[0], self.w_range[1], n)
        return w, self.loss(w)

    def nearest_minimum(self, w: float) -> float:
        """The local minimum closest to `w` (the valley a settled run is in)."""
        m = np.asarray(self.minima)
        return float(m[int(np.argmin(np.abs(m - w)))])


def _bowl() -> Landscape:
    a, c = 1.5, 2.0
    return Landscape(
        name="bowl",
        formula="L(w) = 1.5 (w - 2)²",
        description="a symmetric quadratic valley",
        loss_fn=lambda w: a * (w - c) ** 2,
        grad_fn=lambda w: 2 * a * (w - c),
        second_fn=lambda w: np.full_like(w, 2 * a, dtype=float),
        w_range=(-1.5, 5.5),
        minima=(c,),
        default_w0=-1.0,
    )


def _asymmetric() -> Landscape:
    return Landscape(
        name="asymmetric",
        formula="L(w) = exp(w - 1) - w",
        description="a valley with a steep right wall and a gentle left slope",
        loss_fn=lambda w: np.exp(w - 1.0) - w,
        grad_fn=lambda w: np.exp(w - 1.0) - 1.0,
        second_fn=lambda w: np.exp(w - 1.0),
        w_range=(-3.0, 3.5),
        minima=(1.0,),
        default_w0=-2.5,
    )


def _double_well() -> Landscape:
    # L(w) = (w^2 - 1)^2 + 0.3 w + 0.4: two valleys, the left one deeper.
    # L'(w) = 4 w^3 - 4 w + 0.3; its real roots with L'' > 0 are the minima.
    roots = np.roots([4.0, 0.0, -4.0, 0.3])
    roots = np.sort(roots[np.abs(roots.imag) < 1e-12].real)
    minima = tuple(float(r) for r in roots if 12 * r * r - 4 > 0)
    return Landscape(
        name="double-well",
        formula="L(w) = (w² - 1)² + 0.3 w + 0.4",
        description=(
            "two valleys of different depth: where you start decides where you end"
        ),
        loss_fn=lambda w: (w**2 - 1.0) ** 2 + 0.3 * w + 0.4,
        grad_fn=lambda w: 4 * w**3 - 4 * w + 0.3,
        second_fn=lambda w: 12 * w**2 - 4.0,
        w_range=(-2.0, 2.0),
        minima=minima,
        # On the right wall: every preset shows its regime in the shallower valley
        # (further up, the quartic wall is so steep that even `good` overshoots).
        default_w0=1.5,
    )


LANDSCAPES: dict[str, Landscape] = {
    ls.name: ls for ls in (_bowl(), _asymmetric(), _double_well())
}
DEFAULT_LANDSCAPE = "bowl"


def get_landscape(name: str) -> Landscape:
    """The landscape called `name`; KeyError names the choices."""
    try:
        return LANDSCAPES[name]
    except KeyError:
        raise KeyError(
            f"unknown landscape {name!r}; choose from {', '.join(LANDSCAPES)}"
        ) from None
