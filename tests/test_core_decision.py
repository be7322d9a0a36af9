"""The neuron's decision rules against brute force: verdicts, separability, boundary."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuroanim.core import (
    GATES,
    INPUTS,
    boundary_flat,
    boundary_segment,
    gate_data,
    separable,
    train_neuron,
    verdicts,
)

ABOVE, BELOW = np.nextafter(0.5, 1.0), np.nextafter(0.5, 0.0)  # the floats by 0.5


# ------------------------------------------------------------------- verdicts
def _answer_is_right(p: float, target: float) -> bool:
    """Plainly: the neuron says yes above 0.5, no below it, nothing at 0.5."""
    if p == 0.5:
        return False
    return (p > 0.5) == (target == 1)


def test_an_output_of_exactly_one_half_is_wrong_for_either_target():
    assert verdicts([0.5, 0.5], [0, 1]).tolist() == [False, False], (
        "0.5 answers neither yes nor no"
    )
    got = verdicts([ABOVE, ABOVE, BELOW, BELOW], [1, 0, 0, 1]).tolist()
    assert got == [True, False, True, False], f"the floats next to 0.5 gave {got}"


def test_verdicts_follow_the_yes_no_rule_elementwise():
    rng = np.random.default_rng(3)
    p = np.concatenate([rng.random(200), [0.0, 1.0, 0.5, ABOVE, BELOW]])
    p = np.tile(p, 2)  # every output against both targets
    t = np.repeat([0.0, 1.0], len(p) // 2)
    want = [_answer_is_right(a, c) for a, c in zip(p.tolist(), t.tolist(), strict=True)]
    assert verdicts(p, t).tolist() == want
    assert verdicts(p.reshape(2, -1), t.reshape(2, -1)).shape == (2, len(p) // 2)


def test_accuracy_and_status_count_the_same_verdicts():
    run = train_neuron("AND", epochs=5, seed=0)  # targets 0, 0, 0, 1

    def ending(final):
        pred = run.predictions.copy()
        pred[-1] = final
        return dataclasses.replace(run, predictions=pred)

    undecided = ending([0.5, 0.5, 0.5, 0.5])
    assert undecided.accuracy == 0.0 and undecided.status == "failed", (
        "outputs of exactly 0.5 are none of them right"
    )
    nearly = ending([BELOW, BELOW, BELOW, 0.5])
    assert nearly.accuracy == 0.75 and nearly.status == "failed", nearly.accuracy
    right = ending([BELOW, BELOW, BELOW, ABOVE])
    assert right.accuracy == 1.0 and right.status == "learned", right.accuracy
    for r in (undecided, nearly, right, run):
        assert r.accuracy == np.mean(verdicts(r.predictions[-1], r.targets))


# ------------------------------------------------------------------ separable
def _a_line_splits(targets) -> bool:
    """Brute force: is there a line in a dense set with every 1 strictly on its
    positive side and every 0 strictly on its negative side?"""
    angle = np.linspace(0.0, 2 * np.pi, 720, endpoint=False)  # normals, 0.5 deg apart
    offset = np.linspace(-2.0, 2.0, 801)  # the corners lie within 1.5 of the origin
    z = (
        np.cos(angle)[:, None, None] * INPUTS[:, 0]
        + np.sin(angle)[:, None, None] * INPUTS[:, 1]
        + offset[None, :, None]
    )  # (720, 801, 4)
    one = np.asarray(targets) == 1
    return bool(np.any(np.all(np.where(one, z > 1e-9, z < -1e-9), axis=-1)))


def test_fourteen_of_the_sixteen_truth_tables_are_separable():
    found = {}
    for t in itertools.product([0, 1], repeat=4):
        found[t] = separable(t)
        assert found[t] == _a_line_splits(t), f"targets {t}: separable() disagrees"
    assert sum(found.values()) == 14, f"{sum(found.values())} separable"
    apart = sorted(t for t, ok in found.items() if not ok)
    assert apart == [(0, 1, 1, 0), (1, 0, 0, 1)], f"not separable: {apart} (XOR, XNOR)"


def test_a_run_knows_whether_its_gate_is_separable():
    for gate in GATES:
        run = train_neuron(gate, epochs=2)
        want = _a_line_splits(gate_data(gate)[1])
        assert run.separable == want == (gate != "XOR"), gate


@pytest.mark.parametrize("bad", [[0, 1, 1], [0, 1, 2, 0], [0.5, 0, 0, 1]])
def test_separable_refuses_what_is_not_a_truth_table(bad):
    with pytest.raises(ValueError, match="targets"):
        separable(bad)


# ------------------------------------------------------------------- boundary
SQUARES = [(0.0, 1.0), (-0.25, 1.25), (-3.0, 2.0)]
FLATS = [0.0, 0.02, 1.0]


def _grid(w1, w2, b, lo, hi, n=61):
    """z on an n x n grid of the square that includes its edges and corners."""
    s = np.linspace(lo, hi, n)  # s[0] = lo, s[-1] = hi exactly
    return s, w1 * s[None, :] + w2 * s[:, None] + b  # [i, j]: x1 = s[j], x2 = s[i]


def _distance_to_segment(pt, seg) -> float:
    (ax, ay), (bx, by) = seg
    dx, dy = bx - ax, by - ay
    s = ((pt[0] - ax) * dx + (pt[1] - ay) * dy) / (dx * dx + dy * dy)
    s = min(1.0, max(0.0, s))
    return math.dist(pt, (ax + s * dx, ay + s * dy))


@settings(max_examples=300, deadline=None)
@given(
    w1=st.floats(-20, 20),
    w2=st.floats(-20, 20),
    b=st.floats(-20, 20),
    square=st.sampled_from(SQUARES),
    flat=st.sampled_from(FLATS),
)
def test_boundary_is_where_z_changes_sign_on_a_fine_grid(w1, w2, b, square, flat):
    lo, hi = square
    seg = boundary_segment((w1, w2), b, lo, hi, flat=flat)
    s, z = _grid(w1, w2, b, lo, hi)
    scale = abs(w1) + abs(w2) + abs(b)
    tol = 1e-6 * scale  # sign changes smaller than this may or may not count
    is_flat = np.abs(z).max() < flat or not z.any()
    assert boundary_flat((w1, w2), b, lo, hi, flat=flat) == is_flat
    if is_flat:
        assert seg is None, "a boundary where the output is flat"
        return
    if z.min() > tol or z.max() < -tol:  # the whole square on one side
        assert seg is None, f"a boundary though z keeps one sign: {seg}"
        return
    crosses = z.min() < -tol and z.max() > tol
    if crosses:
        assert seg is not None, "z changes sign on the grid but no boundary"
    if seg is None:
        return
    size = hi - lo
    for x1, x2 in seg:
        edge = min(abs(x1 - lo), abs(x1 - hi), abs(x2 - lo), abs(x2 - hi))
        assert edge < 1e-9 * size, f"end {(x1, x2)} is not on the square's border"
        inside = lo - 1e-9 * size <= min(x1, x2) and max(x1, x2) <= hi + 1e-9 * size
        assert inside, f"end {(x1, x2)} is outside the square"
        zz = w1 * x1 + w2 * x2 + b
        assert abs(zz) <= 1e-9 * scale * max(1.0, abs(lo), abs(hi)), f"z = {zz} at end"
    # The segment is all of the crossing: every grid cell whose corners take
    # both signs lies across it.
    cell = s[1] - s[0]
    block = np.stack([z[:-1, :-1], z[:-1, 1:], z[1:, :-1], z[1:, 1:]])
    changes = (block.min(axis=0) < -tol) & (block.max(axis=0) > tol)
    for i, j in zip(*np.nonzero(changes), strict=True):
        centre = (s[j] + cell / 2, s[i] + cell / 2)
        assert _distance_to_segment(centre, seg) <= cell * (0.5**0.5) * (1 + 1e-9), (
            f"cell at {centre} changes sign but the segment passes it by"
        )


def test_boundary_worked_examples():
    def ends(seg):
        return sorted((round(x1, 12), round(x2, 12)) for x1, x2 in seg)

    # AND's classic line x1 + x2 = 1.5 cuts the unit square from (0.5, 1) to (1, 0.5).
    assert ends(boundary_segment((1.0, 1.0), -1.5)) == [(0.5, 1.0), (1.0, 0.5)]
    # Through two opposite corners: the diagonal.
    assert ends(boundary_segment((1.0, -1.0), 0.0)) == [(0.0, 0.0), (1.0, 1.0)]
    # Along an edge: that edge.
    assert ends(boundary_segment((1.0, 0.0), 0.0)) == [(0.0, 0.0), (0.0, 1.0)]
    # Touching one corner only, missing the square, or no line at all: none.
    assert boundary_segment((1.0, 1.0), 0.0) is None
    assert boundary_segment((1.0, 1.0), 5.0) is None
    assert boundary_segment((0.0, 0.0), 0.0) is None  # z = 0 everywhere
    assert boundary_segment((0.0, 0.0), 0.3) is None  # z = 0.3 everywhere
    # The scene's screen square with its flat threshold: a tiny neuron is flat.
    assert boundary_segment((0.001, 0.001), -0.001, -0.25, 1.25, flat=0.02) is None
    assert boundary_segment((0.001, 0.001), -0.001, -0.25, 1.25) is not None


def test_boundary_refuses_an_empty_square():
    with pytest.raises(ValueError, match="lo < hi"):
        boundary_segment((1.0, 1.0), -1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="lo < hi"):
        boundary_flat((1.0, 1.0), -1.0, 2.0, 1.0)
