"""The sigmoid neuron vs finite differences, a hand-worked epoch, a second version."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuroanim.core import (
    DEFAULT_EPOCHS,
    DEFAULT_LR,
    GATES,
    INPUTS,
    MODES,
    dissect_step,
    gate_data,
    loss_and_grad,
    output_grid,
    predict,
    predict_and_grad,
    sigmoid,
    train_neuron,
)
from neuroanim.core.neuron import INIT_SCALE, MAX_EPOCHS

TRUTH = {
    "AND": [0, 0, 0, 1],
    "OR": [0, 1, 1, 1],
    "NAND": [1, 1, 1, 0],
    "NOR": [1, 0, 0, 0],
    "XOR": [0, 1, 1, 0],
}
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)


# --------------------------------------------------- a second, plain implementation
def _sig(z: float) -> float:
    """The textbook logistic function, computed a different way than the core's tanh."""
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def _mse_and_grad(w, b, y):
    """MSE over the four rows and (dL/dw1, dL/dw2, dL/db), one example at a time."""
    loss = g1 = g2 = gb = 0.0
    for (x1, x2), t in zip(X.tolist(), y, strict=True):
        p = _sig(w[0] * x1 + w[1] * x2 + b)
        loss += (p - t) ** 2 / 4
        d = 2 * (p - t) * p * (1 - p) / 4  # d/dz of (p - t)^2 / 4
        g1, g2, gb = g1 + d * x1, g2 + d * x2, gb + d
    return loss, np.array([g1, g2]), gb


def _example_update(w, b, x, t, lr):
    """One per-example step on (p - t)^2."""
    p = _sig(w[0] * x[0] + w[1] * x[1] + b)
    d = 2 * (p - t) * p * (1 - p)
    return w - lr * d * np.asarray(x), b - lr * d


# ------------------------------------------------------------------------ gradients
def test_sigmoid_is_the_logistic_function_and_never_overflows():
    z = np.linspace(-30, 30, 121)
    np.testing.assert_allclose(
        sigmoid(z),
        [_sig(v) for v in z],
        rtol=1e-14,
        atol=1e-16,
        err_msg="sigmoid differs from 1 / (1 + e^-z)",
    )
    with np.errstate(all="raise"):
        ends = sigmoid(np.array([-1e308, 1e308]))
    assert ends.tolist() == [0.0, 1.0], f"sigmoid at the extremes gave {ends}"


def _plain_mse(w, b, x, y) -> float:
    """Mean squared error of the textbook sigmoid, one example at a time."""
    pairs = zip(np.asarray(x).tolist(), np.asarray(y).tolist(), strict=True)
    errs = [(_sig(w[0] * a + w[1] * c + b) - t) ** 2 for (a, c), t in pairs]
    return sum(errs) / len(errs)


def _central_differences(w, b, x, y, h=1e-6):
    """(dL/dw1, dL/dw2), dL/db of `_plain_mse` by central differences."""
    gw = [
        (_plain_mse(w + e, b, x, y) - _plain_mse(w - e, b, x, y)) / (2 * h)
        for e in np.eye(2) * h
    ]
    gb = (_plain_mse(w, b + h, x, y) - _plain_mse(w, b - h, x, y)) / (2 * h)
    return np.array(gw), gb


@pytest.mark.parametrize("gate", GATES)
def test_the_gradient_matches_central_differences(gate):
    # predict_and_grad is the one definition of the neuron's gradient.
    x, y = gate_data(gate)
    rng = np.random.default_rng(7)
    for _ in range(20):
        w, b = rng.normal(0, 3, 2), float(rng.normal(0, 3))
        p, gw, gb = predict_and_grad(w, b, x, y)
        np.testing.assert_allclose(p, [_sig(v) for v in x @ w + b], atol=1e-15)
        fw, fb = _central_differences(w, b, x, y)
        np.testing.assert_allclose(gw, fw, rtol=1e-6, atol=1e-9, err_msg=gate)
        assert gb == pytest.approx(fb, rel=1e-6, abs=1e-9), f"{gate}: dL/db"


def test_one_example_is_the_n_equals_1_case():
    rng = np.random.default_rng(11)
    for _ in range(20):
        w, b = rng.normal(0, 3, 2), float(rng.normal(0, 3))
        for xi, t in zip(X, (0.0, 1.0, 1.0, 0.0), strict=True):
            p, gw, gb = predict_and_grad(w, b, xi[None, :], [t])
            assert p.shape == (1,) and gw.shape == (2,) and np.ndim(gb) == 0
            fw, fb = _central_differences(w, b, [xi], [t])  # of (p - t)^2 alone
            np.testing.assert_allclose(gw, fw, rtol=1e-6, atol=1e-9)
            assert gb == pytest.approx(fb, rel=1e-6, abs=1e-9)


def test_the_gradient_broadcasts_over_leading_axes_of_states():
    rng = np.random.default_rng(2)
    w, b = rng.normal(0, 2, (3, 5, 2)), rng.normal(0, 2, (3, 5))
    _, y = gate_data("OR")
    p, gw, gb = predict_and_grad(w, b, X, y)  # the same four rows for every state
    assert p.shape == (3, 5, 4) and gw.shape == (3, 5, 2) and gb.shape == (3, 5)
    rows = np.broadcast_to(X, (3, 5, 4, 2))  # the same rows, given per state
    for got, want in zip(predict_and_grad(w, b, rows, y), (p, gw, gb), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    pick = rng.integers(0, 4, (3, 5))  # and one example of its own per state
    p1, gw1, gb1 = predict_and_grad(w, b, X[pick][..., None, :], y[pick][..., None])
    assert p1.shape == (3, 5, 1) and gw1.shape == (3, 5, 2) and gb1.shape == (3, 5)
    for i, j in itertools.product(range(3), range(5)):
        one = predict_and_grad(w[i, j], b[i, j], X, y)
        for got, want in zip((p[i, j], gw[i, j], gb[i, j]), one, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
        k = pick[i, j]
        one = predict_and_grad(w[i, j], b[i, j], X[k : k + 1], y[k : k + 1])
        for got, want in zip((p1[i, j], gw1[i, j], gb1[i, j]), one, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_loss_and_grad_is_the_mse_with_that_gradient():
    x, y = gate_data("NAND")
    w, b = np.array([0.7, -1.3]), 0.4
    loss, gw, gb = loss_and_grad(w, b, x, y)
    p, want_w, want_b = predict_and_grad(w, b, x, y)
    assert loss == pytest.approx(_plain_mse(w, b, x, y), rel=1e-14)
    assert loss == np.mean((p - y) ** 2) == np.mean((predict(w, b, x) - y) ** 2)
    assert gw.tolist() == want_w.tolist() and gb == want_b and isinstance(gb, float)


# The fast loop `_descend` against the one gradient: every recorded epoch stepped
# again with predict_and_grad, from the state the run recorded before it.
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("gate", "lr"), [("AND", 2.0), ("XOR", 0.5), ("NOR", 20.0)])
def test_the_fast_loop_takes_the_gradients_steps(gate, lr, seed, mode):
    run = train_neuron(gate, lr=lr, epochs=400, seed=seed, mode=mode)
    x, y = run.inputs, run.targets
    w, b = run.w[:-1], run.b[:-1]  # (E, 2), (E,): each epoch's start
    if mode == "batch":
        _, gw, gb = predict_and_grad(w, b, x, y)
        w, b = w - lr * gw, b - lr * gb
    else:
        for k in range(4):
            i = run.order[:, k]  # (E,): each epoch's k-th example
            _, gw, gb = predict_and_grad(w, b, x[i][:, None, :], y[i][:, None])
            w, b = w - lr * gw, b - lr * gb
    tol = 1e-14 * lr  # ~100 ulps of an O(1) gradient step
    np.testing.assert_allclose(run.w[1:], w, rtol=0, atol=tol, err_msg="w")
    np.testing.assert_allclose(run.b[1:], b, rtol=0, atol=tol, err_msg="b")


@pytest.mark.parametrize("mode", MODES)
def test_the_fast_loop_follows_a_whole_run_of_numpy_steps(mode):
    run = train_neuron("AND", epochs=200, seed=9, mode=mode)
    x, y, lr = run.inputs, run.targets, run.lr
    w, b = run.w[0], float(run.b[0])
    for t in range(run.epochs):
        rows = [run.order[t]] if mode == "batch" else [[i] for i in run.order[t]]
        for i in rows:
            _, gw, gb = predict_and_grad(w, b, x[i], y[i])
            w, b = w - lr * gw, b - lr * gb
        np.testing.assert_allclose(run.w[t + 1], w, rtol=0, atol=1e-12)
        assert run.b[t + 1] == pytest.approx(b, abs=1e-12), f"{mode} epoch {t + 1}"


def test_update_sizes_are_the_distances_between_recorded_states():
    for mode in MODES:
        run = train_neuron("OR", epochs=60, seed=6, mode=mode)
        sizes = run.update_sizes
        assert sizes.shape == (run.epochs,), sizes.shape
        for t in range(run.epochs):
            a = (*run.w[t], run.b[t])
            c = (*run.w[t + 1], run.b[t + 1])
            assert sizes[t] == pytest.approx(math.dist(a, c), rel=1e-14), t


@pytest.mark.parametrize("mode", ["batch", "per-example"])
def test_recorded_gradients_match_central_differences(mode):
    run = train_neuron("AND", epochs=50, seed=3, mode=mode)
    h = 1e-6
    for t in (0, 1, 17, 50):
        w, b = run.w[t], run.b[t]
        for k in range(2):
            e = np.eye(2)[k] * h
            fd = (
                _mse_and_grad(w + e, b, run.targets)[0]
                - _mse_and_grad(w - e, b, run.targets)[0]
            ) / (2 * h)
            assert run.grad_w[t, k] == pytest.approx(fd, rel=1e-6, abs=1e-9), (
                f"{mode} epoch {t}: grad_w{k + 1} is not dL/dw"
            )
        fd = (
            _mse_and_grad(w, b + h, run.targets)[0]
            - _mse_and_grad(w, b - h, run.targets)[0]
        ) / (2 * h)
        assert run.grad_b[t] == pytest.approx(fd, rel=1e-6, abs=1e-9), (
            f"epoch {t}: grad_b"
        )


# ----------------------------------------------------------------- training records
def test_first_epoch_worked_by_hand():
    # The documented init: w1, w2, b ~ Normal(0, 0.5^2) from default_rng(0), in order:
    #   w = (0.062865, -0.066052), b = 0.320211.
    # Forward on AND (targets 0, 0, 0, 1), p = 1 / (1 + e^-z):
    #   x      z = w.x + b   p          error p - y   error^2    dL/dz = 2/4 err p (1-p)
    #   (0,0)  0.320211      0.579376    0.579376     0.335676    0.070597
    #   (0,1)  0.254159      0.563200    0.563200     0.317194    0.069275
    #   (1,0)  0.383076      0.594615    0.594615     0.353567    0.071665
    #   (1,1)  0.317024      0.578599   -0.421401     0.177579   -0.051373
    # L = mean error^2 = (0.335676 + 0.317194 + 0.353567 + 0.177579) / 4 = 0.296004
    # dL/dw1 = rows with x1 = 1: 0.071665 - 0.051373 = 0.020292
    # dL/dw2 = rows with x2 = 1: 0.069275 - 0.051373 = 0.017902
    # dL/db  = all four rows:                          0.160164
    # lr = 2: w1 = 0.062865 - 2 (0.020292) = 0.022281
    #         w2 = -0.066052 - 2 (0.017902) = -0.101856
    #         b  = 0.320211 - 2 (0.160164) = -0.000116
    assert DEFAULT_LR == 2.0 and INIT_SCALE == 0.5, (
        "the worked epoch assumes lr 2, sd 0.5"
    )
    run = train_neuron("AND", epochs=1, seed=0)
    hand = {
        "w[0]": (run.w[0], [0.062865, -0.066052]),
        "b[0]": (run.b[0], 0.320211),
        "predictions[0]": (
            run.predictions[0],
            [0.579376, 0.563200, 0.594615, 0.578599],
        ),
        "loss[0]": (run.loss[0], 0.296004),
        "grad_w[0]": (run.grad_w[0], [0.020292, 0.017902]),
        "grad_b[0]": (run.grad_b[0], 0.160164),
        "w[1]": (run.w[1], [0.022281, -0.101856]),
        "b[1]": (run.b[1], -0.000116),
    }
    for name, (got, want) in hand.items():
        np.testing.assert_allclose(
            got, want, atol=2e-6, err_msg=f"{name} differs from the hand epoch"
        )
    init = np.random.default_rng(0).normal(0.0, 0.5, size=3)
    assert run.w[0].tolist() == init[:2].tolist() and run.b[0] == init[2], (
        "init is not as documented"
    )


@pytest.mark.parametrize("gate", GATES)
def test_every_batch_update_rederived_from_the_recorded_state(gate):
    run = train_neuron(gate, epochs=300, seed=1)
    y = run.targets
    for t in range(run.epochs + 1):
        loss, gw, gb = _mse_and_grad(run.w[t], run.b[t], y)
        p = [_sig(v) for v in X @ run.w[t] + run.b[t]]
        np.testing.assert_allclose(
            run.predictions[t],
            p,
            rtol=1e-13,
            atol=1e-15,
            err_msg=f"{gate} epoch {t}: predictions",
        )
        assert run.loss[t] == pytest.approx(loss, rel=1e-12, abs=1e-15), (
            f"{gate} epoch {t}: loss"
        )
        np.testing.assert_allclose(
            run.grad_w[t],
            gw,
            rtol=1e-10,
            atol=1e-15,
            err_msg=f"{gate} epoch {t}: grad_w",
        )
        assert run.grad_b[t] == pytest.approx(gb, rel=1e-10, abs=1e-15), (
            f"{gate} epoch {t}: grad_b"
        )
    np.testing.assert_allclose(
        run.w[1:],
        run.w[:-1] - run.lr * run.grad_w[:-1],
        rtol=0,
        atol=1e-13,
        err_msg=f"{gate}: w[t+1] != w[t] - lr grad_w[t]",
    )
    np.testing.assert_allclose(
        run.b[1:],
        run.b[:-1] - run.lr * run.grad_b[:-1],
        rtol=0,
        atol=1e-13,
        err_msg=f"{gate}: b[t+1] != b[t] - lr grad_b[t]",
    )


@pytest.mark.parametrize("gate", ["AND", "XOR"])
def test_every_per_example_epoch_replays_from_the_recorded_state(gate):
    run = train_neuron(gate, epochs=200, seed=5, mode="per-example")
    assert run.order.shape == (200, 4), f"order shape {run.order.shape}"
    assert np.all(np.sort(run.order, axis=1) == np.arange(4)), (
        "an order row is not 0..3"
    )
    for t in range(run.epochs):
        w, b = run.w[t].copy(), float(run.b[t])
        for i in run.order[t]:
            w, b = _example_update(w, b, X[i], run.targets[i], run.lr)
        np.testing.assert_allclose(
            run.w[t + 1], w, rtol=0, atol=1e-12, err_msg=f"{gate} epoch {t + 1}: w"
        )
        assert run.b[t + 1] == pytest.approx(b, abs=1e-12), f"{gate} epoch {t + 1}: b"


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("gate", ["AND", "OR", "NAND", "NOR"])
def test_linearly_separable_gates_are_learned_with_the_defaults(gate, seed):
    run = train_neuron(gate, seed=seed)
    assert run.epochs == DEFAULT_EPOCHS and run.lr == DEFAULT_LR, "defaults changed"
    rounded = np.round(run.predictions[-1]).astype(int).tolist()
    assert rounded == TRUTH[gate], f"{gate} seed {seed}: rounded predictions {rounded}"
    assert run.status == "learned" and run.accuracy == 1.0, (run.status, run.accuracy)
    w, b = run.w[-1], run.b[-1]
    if gate in ("AND", "OR"):  # both inputs push towards 1, the bias towards 0
        assert w[0] > 0 and w[1] > 0 and b < 0, f"{gate} seed {seed}: w = {w}, b = {b}"
    else:  # NAND and NOR mirror them
        assert w[0] < 0 and w[1] < 0 and b > 0, f"{gate} seed {seed}: w = {w}, b = {b}"
    assert run.loss[-1] < 0.01 < run.loss[0], (
        f"{gate} seed {seed}: loss {run.loss[[0, -1]]}"
    )


@pytest.mark.parametrize("mode", ["batch", "per-example"])
@pytest.mark.parametrize("seed", range(10))
def test_xor_fails_honestly(seed, mode):
    run = train_neuron("XOR", seed=seed, mode=mode)
    rounded = np.round(run.predictions[-1]).astype(int).tolist()
    assert rounded != TRUTH["XOR"], f"seed {seed}: a single neuron cannot compute XOR"
    assert run.status == "failed" and run.accuracy < 1.0, (run.status, run.accuracy)
    right = np.abs(run.predictions[-1] - np.array(TRUTH["XOR"])) < 0.5
    assert run.accuracy == np.mean(right), "accuracy is not the share right"
    assert run.loss[-1] > 0.2, f"seed {seed}: XOR loss fell to {run.loss[-1]}"


def test_per_example_mode_is_seeded_and_reproducible():
    a = train_neuron("AND", epochs=100, seed=11, mode="per-example")
    b = train_neuron("AND", epochs=100, seed=11, mode="per-example")
    c = train_neuron("AND", epochs=100, seed=12, mode="per-example")
    for name in ("w", "b", "loss", "predictions", "grad_w", "grad_b", "order"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), (
            f"same seed, different {name}"
        )
    assert not np.array_equal(a.order, c.order), "different seeds gave the same orders"
    assert len({tuple(r) for r in a.order.tolist()}) > 10, (
        "orders should vary between epochs"
    )


def test_batch_mode_visits_examples_in_table_order():
    run = train_neuron("OR", epochs=3, seed=0)
    assert run.order.tolist() == [[0, 1, 2, 3]] * 3, f"batch order {run.order}"


def test_gates_and_inputs_are_the_truth_tables():
    for gate in GATES:
        x, y = gate_data(gate.lower())
        assert x.tolist() == X.tolist() and y.tolist() == TRUTH[gate], f"{gate} table"
    assert INPUTS.tolist() == X.tolist()
    with pytest.raises(KeyError, match="XAND"):
        gate_data("XAND")


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"lr": 0.0}, "lr"),
        ({"lr": -1.0}, "lr"),
        ({"lr": math.nan}, "lr"),
        ({"lr": math.inf}, "lr"),
        ({"lr": True}, "lr"),
        ({"epochs": 0}, "epochs"),
        ({"epochs": 2.5}, "epochs"),
        ({"epochs": MAX_EPOCHS + 1}, "epochs"),
        ({"seed": -1}, "seed"),
        ({"mode": "minibatch"}, "mode"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(kwargs, word):
    with pytest.raises(ValueError, match=word):
        train_neuron("AND", **kwargs)


# ------------------------------------------------------------------- output grid
def test_output_grid_matches_per_cell_evaluation():
    run = train_neuron("AND", epochs=300, seed=2)
    grid = output_grid(run.w, run.b, resolution=33)
    assert grid.shape == (301, 33, 33), f"grid shape {grid.shape}"
    s = np.linspace(0, 1, 33)
    for e, i, j in [
        (0, 0, 0),
        (0, 32, 0),
        (0, 0, 32),
        (150, 7, 21),
        (300, 32, 32),
        (300, 16, 5),
    ]:
        # Row i is x2, column j is x1.
        want = _sig(run.w[e, 0] * s[j] + run.w[e, 1] * s[i] + run.b[e])
        assert grid[e, i, j] == pytest.approx(want, rel=1e-13), f"cell [{e}, {i}, {j}]"
    corners = grid[:, [0, -1, 0, -1], [0, 0, -1, -1]]  # (0,0), (0,1), (1,0), (1,1)
    np.testing.assert_allclose(
        corners,
        run.predictions,
        rtol=1e-13,
        err_msg="grid corners should be the four predictions",
    )


def test_output_grid_single_state_and_range():
    grid = output_grid(np.array([2.0, -1.0]), 0.5, resolution=5, lo=-1.0, hi=1.0)
    s = np.linspace(-1, 1, 5)
    want = [[_sig(2 * x1 - x2 + 0.5) for x1 in s] for x2 in s]
    np.testing.assert_allclose(grid[0], want, rtol=1e-13, err_msg="single-state grid")
    with pytest.raises(ValueError):
        output_grid(np.zeros((3, 2)), np.zeros(2))


# ------------------------------------------------------------------ dissected step
@pytest.mark.parametrize("mode", ["batch", "per-example"])
@pytest.mark.parametrize("epoch", [0, 40, 120])
def test_dissected_step_stages_are_consistent(epoch, mode):
    # Without replay, all four examples start from the recorded state of the epoch.
    run = train_neuron("AND", epochs=120, seed=4, mode=mode)
    steps = [dissect_step(run, epoch, i) for i in range(4)]
    h = 1e-6
    for i, s in enumerate(steps):
        assert s.x.tolist() == X[i].tolist() and s.target == TRUTH["AND"][i], (
            "wrong example"
        )
        assert s.w.tolist() == run.w[epoch].tolist() and s.b == run.b[epoch], (
            "wrong state"
        )
        assert s.z == pytest.approx(s.x @ s.w + s.b, rel=1e-15, abs=1e-15), (
            "z = x.w + b"
        )
        assert s.prediction == pytest.approx(_sig(s.z), rel=1e-14), "p = sigmoid(z)"
        assert s.prediction == pytest.approx(run.predictions[epoch, i], rel=1e-14), (
            "p recorded"
        )
        assert s.error == s.prediction - s.target and s.loss == s.error**2, (
            "error and loss"
        )
        assert s.dloss_dp == 2 * s.error and s.dp_dz == s.prediction * (
            1 - s.prediction
        )

        def sq(w, b, s=s):
            return (_sig(w @ s.x + b) - s.target) ** 2

        fd_w = [(sq(s.w + e, s.b) - sq(s.w - e, s.b)) / (2 * h) for e in np.eye(2) * h]
        fd_b = (sq(s.w, s.b + h) - sq(s.w, s.b - h)) / (2 * h)
        np.testing.assert_allclose(
            s.grad_w, fd_w, rtol=1e-6, atol=1e-10, err_msg="dL/dw"
        )
        assert s.grad_b == pytest.approx(fd_b, rel=1e-6, abs=1e-10), "dL/db"
        np.testing.assert_allclose(s.w_new, s.w - s.lr * s.grad_w, rtol=1e-15, atol=0)
        assert s.b_new == s.b - s.lr * s.grad_b and s.lr == run.lr, "the adjust stage"
    # The epoch's loss and full-batch gradient are the means over the four
    # examples (in batch mode that gradient is the update the run made).
    assert np.mean([s.loss for s in steps]) == pytest.approx(run.loss[epoch], rel=1e-12)
    np.testing.assert_allclose(
        np.mean([s.grad_w for s in steps], axis=0),
        run.grad_w[epoch],
        rtol=1e-12,
        atol=1e-15,
        err_msg="mean dL/dw != recorded grad_w",
    )
    assert np.mean([s.grad_b for s in steps]) == pytest.approx(
        run.grad_b[epoch], rel=1e-12
    )


@pytest.mark.parametrize("epoch", [0, 9, 29])
def test_replayed_per_example_step_is_the_update_the_run_made(epoch):
    run = train_neuron("AND", epochs=30, seed=8, mode="per-example")
    order = run.order[epoch]
    w, b = run.w[epoch].copy(), float(run.b[epoch])
    for i in order:
        s = dissect_step(run, epoch, int(i), replay=True)
        np.testing.assert_allclose(s.w, w, rtol=0, atol=1e-14, err_msg=f"before {i}")
        assert s.b == pytest.approx(b, abs=1e-14), f"bias before example {i}"
        w, b = _example_update(w, b, X[i], run.targets[i], run.lr)
        np.testing.assert_allclose(s.w_new, w, rtol=0, atol=1e-14, err_msg=f"after {i}")
    last = dissect_step(run, epoch, int(order[-1]), replay=True)
    np.testing.assert_allclose(
        last.w_new,
        run.w[epoch + 1],
        rtol=0,
        atol=1e-13,
        err_msg="the epoch's last step should land on the next epoch",
    )
    assert last.b_new == pytest.approx(run.b[epoch + 1], abs=1e-13)
    # After the last epoch no order was drawn: replay starts from the final state.
    end = dissect_step(run, run.epochs, 2, replay=True)
    assert end.w.tolist() == run.w[-1].tolist() and end.b == run.b[-1], "final state"


def test_dissect_step_rejects_out_of_range_epoch_and_example():
    run = train_neuron("AND", epochs=5)
    with pytest.raises(ValueError, match="epoch"):
        dissect_step(run, 6, 0)
    with pytest.raises(ValueError, match="example"):
        dissect_step(run, 0, 4)


# ------------------------------------------------------------------- properties
@settings(max_examples=60, deadline=None)
@given(
    gate=st.sampled_from(GATES),
    lr=st.floats(1e-3, 1000.0),
    epochs=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
    mode=st.sampled_from(["batch", "per-example"]),
)
def test_any_run_is_finite_and_consistent(gate, lr, epochs, seed, mode):
    run = train_neuron(gate, lr=lr, epochs=epochs, seed=seed, mode=mode)
    for name in ("w", "b", "loss", "predictions", "grad_w", "grad_b"):
        assert np.all(np.isfinite(getattr(run, name))), (
            f"{name} holds a non-finite value"
        )
    assert np.all((run.predictions >= 0) & (run.predictions <= 1)), (
        "predictions outside [0, 1]"
    )
    np.testing.assert_allclose(
        run.loss,
        np.mean((run.predictions - run.targets) ** 2, axis=1),
        rtol=1e-12,
        atol=1e-15,
        err_msg="loss is not the MSE",
    )
    if mode == "batch":
        np.testing.assert_allclose(
            run.w[1:],
            run.w[:-1] - lr * run.grad_w[:-1],
            rtol=1e-12,
            atol=1e-12,
            err_msg="batch update",
        )
