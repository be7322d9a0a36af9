"""The 1-D loss landscapes vs finite differences, sampled grids and printed formulas."""

from __future__ import annotations

import re

import numpy as np
import pytest

from neuroanim.core import DEFAULT_LANDSCAPE, LANDSCAPES, get_landscape

NAMES = sorted(LANDSCAPES)


def _fd(f, w, h):
    """Central finite difference (f(w + h) - f(w - h)) / 2h, elementwise."""
    return (f(w + h) - f(w - h)) / (2 * h)


def _grid(ls, n=401):
    lo, hi = ls.w_range
    return np.linspace(lo, hi, n)


def _formula_values(formula: str, w: np.ndarray) -> np.ndarray:
    """Evaluate the printed formula text itself, so the text cannot drift from the code.

    The text is plain maths ("L(w) = 1.5 (w - 2)²"): the right-hand side becomes
    Python by spelling out the square and the implied products, evaluated with no
    builtins and only `w` and `exp` in scope.
    """
    lhs, rhs = formula.split("=", 1)
    assert lhs.strip() == "L(w)", f"formula should start with 'L(w) =', got {formula!r}"
    expr = rhs.replace("²", "**2").replace("³", "**3")
    expr = re.sub(r"(\d|\))\s*(\(|w|exp)", r"\1*\2", expr)  # 1.5 (w → 1.5*(w
    return eval(expr, {"__builtins__": {}}, {"w": w, "exp": np.exp})  # noqa: S307


@pytest.mark.parametrize("name", NAMES)
def test_grad_matches_central_differences(name):
    ls = get_landscape(name)
    w = _grid(ls)
    h = 1e-6
    fd = _fd(ls.loss, w, h)
    scale = np.maximum(1.0, np.abs(ls.grad(w)))
    err = np.abs(ls.grad(w) - fd) / scale
    assert err.max() < 1e-7, (
        f"{name}: L'(w) differs from the finite difference by {err.max():.2e}"
    )


@pytest.mark.parametrize("name", NAMES)
def test_second_derivative_matches_central_differences(name):
    ls = get_landscape(name)
    w = _grid(ls)
    fd = _fd(ls.grad, w, 1e-6)
    err = np.abs(ls.second(w) - fd) / np.maximum(1.0, np.abs(fd))
    assert err.max() < 1e-7, (
        f"{name}: L''(w) differs from the finite difference by {err.max():.2e}"
    )


@pytest.mark.parametrize("name", NAMES)
def test_curvature_is_half_the_second_difference_of_the_loss_at_the_minimum(name):
    ls = get_landscape(name)
    h = 1e-4
    m = ls.w_min
    second = (ls.loss(m + h) - 2 * ls.loss(m) + ls.loss(m - h)) / h**2
    assert ls.curvature == pytest.approx(second / 2, rel=1e-5), (
        f"{name}: curvature {ls.curvature} but the loss curves like a = {second / 2}"
    )


@pytest.mark.parametrize("name", NAMES)
def test_minima_are_where_the_sampled_curve_bottoms_out(name):
    ls = get_landscape(name)
    w = np.linspace(*ls.w_range, 200_001)
    loss = ls.loss(w)
    # Interior local minima of the densely sampled curve, found without the derivative.
    inner = np.flatnonzero((loss[1:-1] < loss[:-2]) & (loss[1:-1] <= loss[2:])) + 1
    step = w[1] - w[0]
    assert len(inner) == len(ls.minima), (
        f"{name}: the curve has {len(inner)} valleys, the landscape lists {ls.minima}"
    )
    for found, listed in zip(w[inner], ls.minima, strict=True):
        assert abs(found - listed) <= step, (
            f"{name}: valley at {found}, listed {listed}"
        )
        assert abs(ls.grad(listed)) < 1e-12, f"{name}: L'({listed}) = {ls.grad(listed)}"
        assert ls.second(listed) > 0, f"{name}: {listed} is not a minimum"
    assert abs(w[np.argmin(loss)] - ls.w_min) <= step, (
        f"{name}: the lowest sample is at {w[np.argmin(loss)]}, w_min is {ls.w_min}"
    )
    assert list(ls.minima) == sorted(ls.minima), f"{name}: minima not ascending"


@pytest.mark.parametrize("name", NAMES)
def test_printed_formula_is_the_loss(name):
    ls = get_landscape(name)
    assert "\\" not in ls.formula and "$" not in ls.formula, (
        f"{name}: formula {ls.formula!r} must be plain text (no LaTeX)"
    )
    w = _grid(ls, 97)
    np.testing.assert_allclose(
        _formula_values(ls.formula, w),
        ls.loss(w),
        rtol=1e-12,
        atol=1e-12,
        err_msg=f"{name}: the printed formula {ls.formula!r} is not loss()",
    )


@pytest.mark.parametrize("name", NAMES)
def test_default_start_and_minima_lie_on_the_plot(name):
    ls = get_landscape(name)
    lo, hi = ls.w_range
    assert lo < ls.default_w0 < hi, (
        f"{name}: default start {ls.default_w0} off the plot"
    )
    assert all(lo < m < hi for m in ls.minima), f"{name}: a minimum is off the plot"
    assert ls.bound > hi - lo, f"{name}: divergence bound {ls.bound} inside the plot"


def test_curve_samples_the_plotting_range():
    ls = get_landscape("bowl")
    w, loss = ls.curve(241)
    assert w.shape == loss.shape == (241,), f"curve shapes {w.shape}, {loss.shape}"
    assert (w[0], w[-1]) == ls.w_range, f"curve spans {w[0]}..{w[-1]}, not {ls.w_range}"
    np.testing.assert_allclose(
        loss,
        1.5 * (w - 2.0) ** 2,
        rtol=1e-15,
        err_msg="bowl curve is not 1.5 (w - 2)^2",
    )


def test_double_well_valleys_differ_in_depth():
    ls = get_landscape("double-well")
    left, right = ls.minima
    assert left < 0 < right, f"valleys at {ls.minima} should sit either side of 0"
    depth = ls.loss(right) - ls.loss(left)
    assert depth > 0.3, f"the right valley is only {depth:.3f} higher than the left"
    assert ls.w_min == left, "the deeper (left) valley is the global minimum"
    assert ls.nearest_minimum(0.5) == right and ls.nearest_minimum(-0.4) == left, (
        "nearest_minimum should pick the valley on the same side"
    )


def test_default_landscape_is_the_lesson_bowl():
    ls = get_landscape(DEFAULT_LANDSCAPE)
    assert ls.name == "bowl" and ls.curvature == 1.5 and ls.w_min == 2.0, (
        f"default landscape is {ls.name} (a = {ls.curvature}, w_min = {ls.w_min})"
    )


def test_unknown_landscape_names_the_choices():
    with pytest.raises(KeyError) as info:
        get_landscape("saddle")
    msg = str(info.value)
    assert "saddle" in msg and all(n in msg for n in NAMES), f"unhelpful message {msg}"
