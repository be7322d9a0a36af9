"""Gradient descent vs its closed form, the regime boundaries, the lesson's claims."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuroanim.core import (
    LANDSCAPES,
    PRESETS,
    STATUSES,
    descend,
    get_landscape,
    preset_lr,
)
from neuroanim.core.descent import PRESET_FACTORS, overshoots, plot_window

NAMES = sorted(LANDSCAPES)


def _curvature_by_differences(ls, m: float) -> float:
    """a = L''(m) / 2 from the loss alone (second central difference)."""
    h = 1e-4
    return (ls.loss(m + h) - 2 * ls.loss(m) + ls.loss(m - h)) / h**2 / 2


def _crossings(run, m: float) -> int:
    side = np.sign(run.w - m)
    return int(np.sum(side[1:] * side[:-1] < 0))


# ------------------------------------------------------------- the recorded steps
@pytest.mark.parametrize("lr", [0.01, 1 / 6, 0.3, 0.5, 0.6])
def test_bowl_descent_follows_the_closed_form(lr):
    # On L = a (w - w*)^2, GD gives w_t = w* + (w0 - w*) (1 - 2 a lr)^t exactly.
    a, w_star, w0 = 1.5, 2.0, -1.0
    run = descend("bowl", w0, lr, 40)
    t = np.arange(41)
    want = w_star + (w0 - w_star) * (1 - 2 * a * lr) ** t
    np.testing.assert_allclose(
        run.w,
        want,
        rtol=1e-12,
        atol=1e-12,
        err_msg=f"lr {lr}: steps leave the closed form",
    )


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("preset", PRESETS)
def test_every_step_is_w_minus_lr_grad_exactly(name, preset):
    ls = get_landscape(name)
    lr = preset_lr(ls, preset)
    run = descend(ls, None, lr, 60)
    assert run.w[0] == ls.default_w0, "step 0 must be the start"
    assert np.array_equal(run.w[1:], run.w[:-1] - lr * run.grad[:-1]), (
        f"{name}/{preset}: a recorded step is not w - lr * grad"
    )
    assert np.array_equal(run.loss, ls.loss(run.w)), (
        f"{name}/{preset}: loss is not L(w)"
    )
    fd = (ls.loss(run.w + 1e-6) - ls.loss(run.w - 1e-6)) / 2e-6
    np.testing.assert_allclose(
        run.grad,
        fd,
        rtol=1e-6,
        atol=1e-6,
        err_msg=f"{name}/{preset}: grad is not dL/dw",
    )


# ------------------------------------------------------------------- the regimes
@pytest.mark.parametrize(
    ("factor", "status"),
    [
        (1 - 1e-6, "converged"),  # just below 1/(2a): (1 - 2 a lr) > 0, no crossing
        (1 + 1e-6, "overshooting"),  # just above 1/(2a): the first step crosses w*
        (2 - 1e-6, "overshooting"),  # just below 1/a: bounces that (barely) shrink
        (2 + 1e-6, "diverged"),  # just above 1/a: bounces that (barely) grow
    ],
)
def test_bowl_regime_boundaries_at_half_over_a_and_one_over_a(factor, status):
    a = 1.5
    lr = factor / (2 * a)
    run = descend("bowl", -1.0, lr, 30)
    assert run.status == status, f"lr = {factor}/(2a): {run.status}, expected {status}"
    crossings = _crossings(run, 2.0)
    if factor < 1:
        assert crossings == 0, f"lr = {factor}/(2a) crossed w* {crossings} times"
    elif factor < 1.5:
        assert crossings >= 1, f"lr = {factor}/(2a) never crossed w*"
    else:
        assert crossings == 30, (
            f"lr = {factor}/(2a): only {crossings} of 30 steps crossed"
        )
    if factor > 2:
        # The oscillation grows but is nowhere near the bound: still not "overshooting".
        assert not run.stopped and np.abs(run.w - 2).max() < 4, (
            "should stay on the chart"
        )
        assert abs(run.w[-1] - 2) > abs(run.w[0] - 2), "each bounce should be wider"


def test_lr_exactly_one_over_a_bounces_forever_and_is_not_called_settling():
    run = descend("bowl", -1.0, 1 / 1.5, 30)
    np.testing.assert_allclose(
        np.abs(run.w - 2.0),
        3.0,
        rtol=1e-12,
        err_msg="lr = 1/a should swing between -1 and 5",
    )
    assert run.status == "diverged", f"a bounce that never shrinks is {run.status}"
    assert "without settling" in run.verdict(), run.verdict()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    ("factor", "status"),
    [
        (0.8, "converged"),
        (1.2, "overshooting"),
        (1.8, "overshooting"),
        (2.2, "diverged"),
    ],
)
def test_regimes_hold_near_every_valley_with_its_own_curvature(name, factor, status):
    # lr = factor / (2a) with a measured from the loss at each valley; start close by.
    ls = get_landscape(name)
    for m in ls.minima:
        a = _curvature_by_differences(ls, m)
        run = descend(ls, m - 0.05, factor / (2 * a), 60)
        assert run.status == status, (
            f"{name} valley {m:.3f}: lr = {factor}/(2a) gave {run.status}, "
            f"expected {status}"
        )


@pytest.mark.parametrize("name", NAMES)
def test_presets_are_derived_from_the_curvature(name):
    ls = get_landscape(name)
    a = _curvature_by_differences(ls, ls.w_min)
    lrs = {p: preset_lr(name, p) for p in PRESETS}
    for p, lr in lrs.items():
        assert lr == pytest.approx(PRESET_FACTORS[p] / a, rel=1e-6), (
            f"{name}/{p}: lr {lr} is not {PRESET_FACTORS[p]}/a with a = {a}"
        )
    assert (
        lrs["slow"] < lrs["good"] < 1 / (2 * a) < lrs["bouncy"] < 1 / a < lrs["diverge"]
    ), (
        f"{name}: presets {lrs} are not in their regimes "
        f"(1/(2a) = {1 / (2 * a)}, 1/a = {1 / a})"
    )


@pytest.mark.parametrize("name", NAMES)
def test_presets_show_their_regime_from_the_default_start(name):
    want = {
        "slow": "crawling",
        "good": "converged",
        "bouncy": "overshooting",
        "diverge": "diverged",
    }
    got = {p: descend(name, None, preset_lr(name, p), 30).status for p in PRESETS}
    assert got == want, f"{name}: presets from the default start gave {got}"


def test_lesson_example_lr_half_overshoots_and_bounces_in():
    # Chapter 2: "crank the learning rate up to 0.5 ... see how it behaves differently".
    run = descend("bowl", None, 0.5, 30)
    dist = run.w - 2.0
    assert run.status == "overshooting", f"lr 0.5 on the bowl is {run.status}"
    assert run.w[1] - 2.0 > 1.0, (
        f"the first step should land well past w* (w1 = {run.w[1]})"
    )
    assert np.all(np.sign(dist[1:10]) == -np.sign(dist[:9])), (
        "every step should cross w*"
    )
    assert np.all(np.abs(dist[1:]) < np.abs(dist[:-1]) + 1e-15), "bounces should shrink"
    assert run.converged_step is not None, "lr 0.5 should bounce in within 30 steps"
    assert run.verdict().startswith("bounced in"), run.verdict()


def test_small_learning_rate_crawls():
    run = descend("bowl", None, 0.01, 30)
    assert run.status == "crawling", f"lr 0.01 on the bowl is {run.status}"
    assert np.all(np.diff(run.w) > 0) and run.w[-1] < 2.0, (
        "it should creep towards w* from below"
    )
    assert run.converged_step is None and abs(run.grad[-1]) > run.tol, "not arrived yet"


def test_double_well_start_decides_the_valley():
    ls = get_landscape("double-well")
    left, right = ls.minima
    lr = preset_lr(ls, "good")
    from_left = descend(ls, -1.6, lr, 60)
    from_right = descend(ls, 1.6, lr, 60)
    assert from_left.w[-1] == pytest.approx(left, abs=1e-3), (
        f"left start ends at {from_left.w[-1]}"
    )
    assert from_right.w[-1] == pytest.approx(right, abs=1e-3), (
        f"right start ends at {from_right.w[-1]}"
    )
    assert from_right.loss[-1] > from_left.loss[-1] + 0.3, (
        "the right valley should be visibly shallower than the left"
    )
    # Either side of the hump (the local maximum between the valleys) picks the valley.
    hump = max(r.real for r in np.roots([4.0, 0.0, -4.0, 0.3]) if left < r.real < right)
    for w0 in (hump - 0.05, hump + 0.05):
        end = descend(ls, w0, lr, 200).w[-1]
        want = left if w0 < hump else right
        assert end == pytest.approx(want, abs=1e-3), f"start {w0:.3f} ended at {end}"


# -------------------------------------------------- the diverge preset on a plot
def _three_growing_bounces(w: np.ndarray, m: float, x0: float, x1: float):
    """The first step k from which three successive steps overshoot m, each bounce
    wider than the one before, every landing in [x0, x1]; None if there is none.

    A bounce is wider when its swing |w[j+1] - w[j]| is longer and it lands farther
    from m than the landing before last (on the same side: |w - m| alone alternates
    in a lopsided valley). Visibly wider: the third swing is 20% over the first."""
    d = w - m  # (T,)
    for k in range(len(d) - 3):
        seg, ws = d[k : k + 4], w[k : k + 4]
        swing = np.abs(np.diff(seg))  # (3,)
        if (
            np.all(seg[1:] * seg[:-1] < 0)
            and np.all((x0 <= ws) & (ws <= x1))
            and swing[0] < swing[1] < swing[2]
            and abs(seg[2]) > abs(seg[0])
            and abs(seg[3]) > abs(seg[1])
            and swing[2] >= 1.2 * swing[0]
        ):
            return k
    return None


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("alone", [True, False], ids=["alone", "with-all-presets"])
def test_diverge_preset_bounces_wider_three_times_inside_the_plot(name, alone):
    # The lesson: big steps overshoot and every bounce is wider. The recorded run
    # must show that inside the window a plot of it draws, before the ball leaves.
    ls = get_landscape(name)
    runs = [descend(ls, None, preset_lr(ls, p), 30) for p in PRESETS]
    run = runs[-1]
    x0, x1, _, _ = plot_window(ls, [run] if alone else runs)
    k = _three_growing_bounces(run.w, ls.w_min, x0, x1)
    assert k is not None, (
        f"{name}: no three growing bounces inside w in [{x0:.2f}, {x1:.2f}]; "
        f"w = {np.round(run.w[:10], 3)}"
    )
    assert run.status == "diverged", f"{name}: the diverge preset {run.status}"


def test_diverge_preset_on_the_bowl_grows_a_quarter_a_step_then_flies_off():
    ls = get_landscape("bowl")
    run = descend(ls, None, preset_lr(ls, "diverge"), 30)
    assert run.lr == pytest.approx(0.75), f"lr {run.lr}"
    dist = run.w - ls.w_min
    np.testing.assert_allclose(dist, -3.0 * (-1.25) ** np.arange(len(dist)), rtol=1e-12)
    x0, x1, y0, y1 = plot_window(ls, [run])
    inside = (run.w >= x0) & (run.w <= x1) & (run.loss <= y1)
    assert inside[:4].all() and not inside[4:].any(), (
        f"the start and three bounces should be on the plot, then none: {inside}"
    )
    assert run.stopped and run.verdict() == f"flew off after {run.n_steps} steps", (
        run.verdict()
    )


def test_window_holds_every_start_and_every_step_of_a_run_that_did_not_diverge():
    ls = get_landscape("bowl")
    runs = [descend(ls, 40.0, 0.01, 30), descend(ls, None, 0.5, 30)]
    x0, x1, y0, y1 = plot_window(ls, runs)
    lo, hi = ls.w_range
    assert x0 <= lo and hi < 40.0 < x1, f"window {x0}..{x1} misses the start 40"
    for r in runs:
        assert np.all((r.w >= x0) & (r.w <= x1) & (r.loss <= y1)), "a step is cut off"
    ws = np.linspace(x0, x1, 1001)
    assert y0 == 0.0 and y1 == pytest.approx(float(ls.loss(ws).max()), rel=1e-3)
    assert plot_window(ls, [descend(ls, None, 0.2, 30)])[:2] == pytest.approx(
        (lo, hi)
    ), "a run inside the landscape's range should not widen it"


def test_window_keeps_only_the_first_bounces_of_a_diverged_run():
    ls = get_landscape("bowl")
    lo, hi = ls.w_range
    # Factor -1.1: bounded for 30 steps (|w - 2| reaches 52) but diverged.
    wide = descend(ls, None, 0.7, 30)
    assert wide.status == "diverged" and not wide.stopped, wide.status
    x0, x1, _, _ = plot_window(ls, [wide])
    over = np.flatnonzero(overshoots(ls, wide.w))
    shown = wide.w[: over[2] + 2]  # the start and three overshoots
    assert x0 <= shown.min() and shown.max() <= x1, f"{shown} not all in {x0}..{x1}"
    assert x1 - x0 < 2 * (hi - lo), f"window {x0}..{x1} follows the whole run"
    # A huge step lands far away at once: the window stays the landscape's.
    for lr in (10.0, 1000.0):
        far = descend(ls, None, lr, 30)
        assert plot_window(ls, [far])[:2] == pytest.approx((lo, hi)), lr


def test_overshoots_count_crossings_of_the_valley_landed_in():
    ls = get_landscape("double-well")
    left, right = ls.minima
    # Jumping from the right wall into the left valley is no overshoot of either.
    w = np.array(
        [1.5, -0.5, left + 0.05, left - 0.1, left + 0.1, right - 0.2, right + 0.2]
    )
    assert overshoots(ls, w).tolist() == [False, False, True, True, False, True]


# -------------------------------------------------------------- classification edges
def test_first_step_out_of_range_records_only_the_start():
    run = descend("bowl", -1.0, 1000.0, 30)
    assert run.w.tolist() == [-1.0] and run.stopped, f"recorded {run.w}"
    assert run.status == "diverged" and run.verdict() == "flew off at the first step", (
        run.verdict()
    )


def test_diverging_run_stops_at_the_last_step_inside_the_bound():
    ls = get_landscape("bowl")
    lr = preset_lr(ls, "diverge")
    run = descend(ls, None, lr, 100)
    assert run.stopped and run.status == "diverged", (
        f"{run.status}, {run.n_steps} steps"
    )
    assert np.all(np.abs(run.w - ls.w_min) <= ls.bound), (
        "a recorded step is past the bound"
    )
    nxt = run.w[-1] - lr * run.grad[-1]
    assert abs(nxt - ls.w_min) > ls.bound, (
        "recording stopped although the next step was inside"
    )


def test_overflowing_landscape_never_stores_inf():
    # exp(w - 1) overflows fast: the run must stop before any inf or nan appears.
    with np.errstate(all="raise"):
        run = descend("asymmetric", 3.0, 1000.0, 50)
    assert run.status == "diverged" and np.all(np.isfinite(run.loss)), run.loss


def test_start_at_the_minimum_converges_at_step_zero_even_with_a_large_lr():
    run = descend("bowl", 2.0, preset_lr("bowl", "diverge"), 10)
    assert run.status == "converged" and run.converged_step == 0, (run.status, run.w)


def test_tiny_offset_with_a_diverging_lr_is_not_called_overshooting():
    # |grad| starts under tol, so a first-below rule would call it arrived; it grows.
    run = descend("bowl", 2.0 + 1e-6, preset_lr("bowl", "diverge"), 30)
    assert run.status == "diverged", f"growing bounces called {run.status}"


def test_converged_step_is_where_grad_stays_under_tol():
    run = descend("bowl", None, preset_lr("bowl", "bouncy"), 30)
    k = run.converged_step
    assert k is not None and np.all(np.abs(run.grad[k:]) < run.tol), (
        "not under tol from k on"
    )
    assert abs(run.grad[k - 1]) >= run.tol, (
        "the step before k should still be above tol"
    )


def test_zero_steps_record_the_start():
    run = descend("bowl", -1.0, 0.1, 0)
    assert run.w.tolist() == [-1.0] and run.status == "crawling" and not run.stopped, (
        run
    )


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"lr": 0.0}, "lr"),
        ({"lr": -0.1}, "lr"),
        ({"lr": math.nan}, "lr"),
        ({"lr": math.inf}, "lr"),
        ({"w0": math.nan}, "w0"),
        ({"w0": 1e6}, "w0"),
        ({"steps": -1}, "steps"),
        ({"steps": 2.5}, "steps"),
        ({"tol": 0.0}, "tol"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(kwargs, word):
    args = {"lr": 0.1, "w0": None, "steps": 10} | kwargs
    with pytest.raises(ValueError, match=word):
        descend("bowl", **args)


def test_unknown_preset_raises_key_error():
    with pytest.raises(KeyError, match="fast"):
        preset_lr("bowl", "fast")


# ------------------------------------------------------------------- properties
@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(NAMES),
    lr=st.floats(1e-6, 1e4),
    start=st.floats(-1.0, 2.0),
    steps=st.integers(0, 120),
)
def test_any_run_is_finite_exact_and_classified(name, lr, start, steps):
    ls = get_landscape(name)
    lo, hi = ls.w_range
    w0 = lo + start * (hi - lo)  # from a plot-width left of the chart to one right
    run = descend(ls, w0, lr, steps)
    for field in ("w", "loss", "grad"):
        assert np.all(np.isfinite(getattr(run, field))), (
            f"{field} holds a non-finite value"
        )
    assert np.array_equal(run.w[1:], run.w[:-1] - lr * run.grad[:-1]), "an inexact step"
    assert np.all(np.abs(run.w - ls.w_min) <= ls.bound), (
        "a recorded step is past the bound"
    )
    assert run.status in STATUSES and run.n_steps <= steps, (run.status, run.n_steps)
    assert run.stopped == (run.status == "diverged" and run.n_steps < steps), (
        "stopped flag"
    )
