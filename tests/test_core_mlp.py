"""The two-layer network: its gradient, its fast loops, XOR, and its trajectory files.

numpy only and fast: no scene, no render.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neuroanim import options
from neuroanim import trajectory as tio
from neuroanim.cli import main
from neuroanim.core import GATES, INPUTS, gate_data, mlp, train_neuron
from neuroanim.core.mlp import (
    MAX_EPOCHS,
    MAX_HIDDEN,
    MLPRun,
    forward,
    forward_and_grad,
    initial,
    train_mlp,
)
from neuroanim.errors import UserError
from neuroanim.params import resolve
from neuroanim.trajectory import TrajectoryError

MLP_KEYS = [
    "schema",
    "gate",
    "hidden_size",
    "lr",
    "epochs",
    "seed",
    "mode",
    "status",
    "accuracy",
    "inputs",
    "targets",
    "w1",
    "b1",
    "w2",
    "b2",
    "loss",
    "hidden",
    "predictions",
    "order",
]


# --------------------------------------------------- a second, plain implementation
def _sig(z: float) -> float:
    """The logistic function computed another way than the core's tanh."""
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def _mse(theta: np.ndarray, hidden: int, x, y) -> float:
    """MSE of the network whose parameters are flattened as (W1, b1, w2, b2)."""
    w1 = theta[: 2 * hidden].reshape(hidden, 2)
    b1 = theta[2 * hidden : 3 * hidden]
    w2 = theta[3 * hidden : 4 * hidden]
    b2 = theta[4 * hidden]
    total = 0.0
    for (x1, x2), t in zip(np.asarray(x).tolist(), np.asarray(y).tolist(), strict=True):
        h = [_sig(w1[j, 0] * x1 + w1[j, 1] * x2 + b1[j]) for j in range(hidden)]
        p = _sig(sum(w2[j] * h[j] for j in range(hidden)) + b2)
        total += (p - t) ** 2
    return total / len(y)


def _flat(w1, b1, w2, b2) -> np.ndarray:
    return np.concatenate([np.ravel(w1), np.ravel(b1), np.ravel(w2), [float(b2)]])


def _step(state, x, y, lr):
    """One update with `forward_and_grad`'s gradient."""
    w1, b1, w2, b2 = state
    *_, (g1, gb1, g2, gb2) = forward_and_grad(w1, b1, w2, b2, x, y)
    return w1 - lr * g1, b1 - lr * gb1, w2 - lr * g2, b2 - lr * gb2


def _replayed(run: MLPRun) -> np.ndarray:
    """(T-1, 4H+1): every epoch replayed from the recorded state before it."""
    rows = []
    for t in range(run.epochs):
        state = run.state(t)
        if run.mode == "batch":
            state = _step(state, run.inputs, run.targets, run.lr)
        else:
            for i in run.order[t]:
                state = _step(state, run.inputs[[i]], run.targets[[i]], run.lr)
        rows.append(_flat(*state))
    return np.array(rows)


def _recorded(run: MLPRun) -> np.ndarray:
    """(T, 4H+1) the recorded states, flattened like `_flat`."""
    t = run.epochs + 1
    return np.column_stack([run.w1.reshape(t, -1), run.b1, run.w2, run.b2])


# --------------------------------------------------------------------- gradient
@pytest.mark.parametrize("hidden", range(1, MAX_HIDDEN + 1))
@pytest.mark.parametrize("seed", [0, 1, 7])
def test_the_gradient_matches_central_differences(hidden, seed):
    rng = np.random.default_rng([seed, hidden])
    x, _ = gate_data("XOR")
    for gate in ("XOR", "AND"):
        y = gate_data(gate)[1]
        # the random start and a state scaled out to where sigmoids bend hard
        for scale in (1.0, 3.0):
            w1, b1, w2, b2 = (
                v * scale for v in initial(hidden, int(rng.integers(1000)))
            )
            h, p, loss, grads = forward_and_grad(w1, b1, w2, b2, x, y)
            theta = _flat(w1, b1, w2, b2)
            assert loss == pytest.approx(_mse(theta, hidden, x, y), rel=1e-12)
            eps = 1e-6
            numeric = np.array(
                [
                    (
                        _mse(theta + eps * e, hidden, x, y)
                        - _mse(theta - eps * e, hidden, x, y)
                    )
                    / (2 * eps)
                    for e in np.eye(len(theta))
                ]
            )
            analytic = _flat(*grads)
            scale_g = max(np.abs(numeric).max(), 1e-3)
            np.testing.assert_allclose(
                analytic,
                numeric,
                rtol=1e-6,
                atol=1e-6 * scale_g,
                err_msg=f"H={hidden} seed={seed} {gate}: backprop != differences",
            )
            assert h.shape == (4, hidden) and p.shape == (4,)


def test_one_example_is_the_n_equals_1_case():
    w1, b1, w2, b2 = initial(3, 5)
    x, y = gate_data("XOR")
    for i in range(4):
        *_, loss, grads = forward_and_grad(w1, b1, w2, b2, x[[i]], y[[i]])
        theta = _flat(w1, b1, w2, b2)
        assert loss == pytest.approx(_mse(theta, 3, x[[i]], y[[i]]), rel=1e-12)
        eps = 1e-6
        numeric = [
            (_mse(theta + eps * e, 3, x[[i]], y[[i]]) - _mse(theta - eps * e, 3, x[[i]], y[[i]]))
            / (2 * eps)
            for e in np.eye(len(theta))
        ]
        np.testing.assert_allclose(_flat(*grads), numeric, rtol=1e-6, atol=1e-9)


def test_forward_broadcasts_over_the_states_of_a_run():
    run = train_mlp("XOR", hidden=3, epochs=40, seed=2)
    h, p = forward(run.w1, run.b1, run.w2, run.b2, run.inputs)
    assert h.shape == (41, 4, 3) and p.shape == (41, 4)
    for t in (0, 17, 40):
        ht, pt, loss, _ = forward_and_grad(*run.state(t), run.inputs, run.targets)
        np.testing.assert_allclose(h[t], ht, rtol=0, atol=1e-15)
        np.testing.assert_allclose(p[t], pt, rtol=0, atol=1e-15)
        assert run.loss[t] == pytest.approx(loss, rel=1e-14)


def test_the_loaders_batched_gradient_is_forward_and_grads():
    """trajectory's replay helper vs the one definition, state by state."""
    run = train_mlp("XOR", hidden=4, epochs=30, seed=3, mode="per-example")
    x, y = run.inputs, run.targets
    t = slice(None, -1)
    batched = tio._mlp_grad(run.w1[t], run.b1[t], run.w2[t], run.b2[t], x, y)
    idx = run.order[:, 2]
    single = tio._mlp_grad(
        run.w1[t], run.b1[t], run.w2[t], run.b2[t], x[idx][:, None, :], y[idx][:, None]
    )
    for e in range(run.epochs):
        *_, want = forward_and_grad(*run.state(e), x, y)
        *_, want1 = forward_and_grad(*run.state(e), x[[idx[e]]], y[[idx[e]]])
        for got, g1, w, w1 in zip(batched, single, want, want1, strict=True):
            np.testing.assert_allclose(got[e], w, rtol=1e-13, atol=1e-16)
            np.testing.assert_allclose(g1[e], w1, rtol=1e-13, atol=1e-16)


# ------------------------------------------------------------------ fast paths
@pytest.mark.parametrize("hidden", [1, 2, 4, 8])
@pytest.mark.parametrize("gate", ["XOR", "NAND"])
def test_the_batch_kernel_takes_forward_and_grads_steps(hidden, gate):
    run = train_mlp(gate, hidden=hidden, epochs=150, seed=hidden, lr=3.0)
    np.testing.assert_allclose(
        _recorded(run)[1:], _replayed(run), rtol=1e-12, atol=1e-12,
        err_msg="the unrolled kernel left forward_and_grad's path",
    )
    assert np.array_equal(run.order, np.tile(np.arange(4), (150, 1)))


@pytest.mark.parametrize("hidden", [1, 3, 8])
def test_the_generic_loop_in_batch_mode_matches_the_kernel(hidden):
    x, y = gate_data("XOR")
    w1, b1, w2, b2 = initial(hidden, 4)
    order = np.tile(np.arange(4), (120, 1))
    flat = mlp._descend(w1, b1, w2, b2, x, y, 2.0, order, True)
    kernel = mlp._batch_kernel(hidden)(
        w1.ravel().tolist(), b1.tolist(), w2.tolist(), b2, y.tolist(), 2.0, 120
    )
    kernel = 2.0 * np.asarray(kernel).reshape(121, 4 * hidden + 1)  # it keeps halves
    np.testing.assert_allclose(flat, kernel, rtol=1e-12, atol=1e-12)
    state = (w1, b1, w2, b2)
    for t in range(120):
        state = _step(tuple(
            np.asarray(v) for v in (
                flat[t, : 2 * hidden].reshape(hidden, 2), flat[t, 2 * hidden : 3 * hidden],
                flat[t, 3 * hidden : 4 * hidden], flat[t, 4 * hidden])
        ), x, y, 2.0)
        np.testing.assert_allclose(flat[t + 1], _flat(*state), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("hidden", [1, 2, 5, 8])
def test_the_per_example_loop_takes_forward_and_grads_steps(hidden):
    run = train_mlp("XOR", hidden=hidden, epochs=120, seed=11, mode="per-example")
    np.testing.assert_allclose(
        _recorded(run)[1:], _replayed(run), rtol=1e-12, atol=1e-12,
        err_msg="the per-example loop left forward_and_grad's path",
    )
    assert np.all(np.sort(run.order, axis=1) == np.arange(4))
    assert len({tuple(r) for r in run.order.tolist()}) > 5, "orders are not shuffled"


def test_runs_are_seeded_and_the_recorded_numbers_follow_from_the_weights():
    a = train_mlp("XOR", hidden=3, epochs=50, seed=8, mode="per-example")
    b = train_mlp("xor", hidden=3, epochs=50, seed=8, mode="per-example")
    assert tio.digest(a) == tio.digest(b) and a.gate == "XOR"
    c = train_mlp("XOR", hidden=3, epochs=50, seed=9, mode="per-example")
    assert tio.digest(a) != tio.digest(c)
    assert np.array_equal(a.w1[0], initial(3, 8)[0]), "epoch 0 is the random start"
    h, p = forward(a.w1, a.b1, a.w2, a.b2, INPUTS)
    assert np.array_equal(a.hidden, h) and np.array_equal(a.predictions, p)
    assert np.array_equal(a.loss, np.mean((p - a.targets) ** 2, axis=1))


# -------------------------------------------------------------------------- XOR
def test_the_default_network_learns_xor():
    run = train_mlp()
    assert (run.gate, run.hidden_size, run.seed, run.epochs) == ("XOR", 2, 1, 5000)
    assert run.learned and run.right.all(), run.predictions[-1]
    assert np.all(np.abs(run.predictions[-1] - run.targets) < 0.5)
    assert run.loss[-1] < 0.01 < run.loss[0], run.loss[[0, -1]]


def test_seed_0_with_two_hidden_neurons_stalls_honestly():
    # Seed 0 falls into XOR's local minimum: (0, 1) and (1, 1) both sit at ~0.5,
    # each on the wrong side, and the loss stalls near 1/8. The default seed is 1.
    run = train_mlp("XOR", hidden=2, seed=0)
    assert not run.learned and run.right.sum() == 2, run.predictions[-1]
    assert 0.1 < run.loss[-1] < 0.15, run.loss[-1]
    assert np.all(np.abs(run.predictions[-1][[1, 3]] - 0.5) < 0.01)


def test_an_output_of_exactly_one_half_is_wrong_whatever_its_target():
    run = train_mlp(epochs=3)
    p = run.predictions.copy()
    p[-1] = [0.5, 0.9, 0.9, 0.1]  # target 0 at 0.5: undecided, so wrong
    half = dataclasses.replace(run, predictions=p)
    assert half.right.tolist() == [False, True, True, True] and not half.learned


@pytest.mark.parametrize(
    ("kwargs", "word", "error"),
    [
        ({"hidden": 0}, "hidden", ValueError),
        ({"hidden": 9}, "hidden", ValueError),
        ({"hidden": True}, "hidden", ValueError),
        ({"hidden": 2.0}, "hidden", ValueError),
        ({"lr": 0.0}, "lr", ValueError),
        ({"lr": -1.0}, "lr", ValueError),
        ({"lr": math.nan}, "lr", ValueError),
        ({"epochs": 0}, "epochs", ValueError),
        ({"epochs": MAX_EPOCHS + 1}, "epochs", ValueError),
        ({"epochs": 2.5}, "epochs", ValueError),
        ({"seed": -1}, "seed", ValueError),
        ({"mode": "minibatch"}, "mode", ValueError),
        ({"gate": "XAND"}, "XAND", KeyError),
    ],
)
def test_bad_arguments_raise_naming_them(kwargs, word, error):
    with pytest.raises(error, match=word):
        train_mlp(**kwargs)


# ------------------------------------------------------------- trajectory files
@pytest.fixture(scope="module")
def runs():
    return {
        "batch": train_mlp("XOR", hidden=2, epochs=120, seed=1),
        "per-example": train_mlp("XOR", hidden=3, epochs=60, seed=9, mode="per-example"),
        "or": train_mlp("OR", hidden=1, epochs=30, seed=4, lr=0.1 + 0.2),
    }


def _strict(text: str):
    def refuse(token):
        raise AssertionError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def _same(a, b) -> None:
    assert type(a) is type(b), f"{type(a).__name__} came back as {type(b).__name__}"
    for f in dataclasses.fields(a):
        va, vb = getattr(a, f.name), getattr(b, f.name)
        if isinstance(va, np.ndarray):
            assert va.shape == vb.shape and va.tobytes() == vb.astype(va.dtype).tobytes(), (
                f"{f.name} changed"
            )
        else:
            assert va == vb and type(va) is type(vb), f"{f.name}: {va!r} -> {vb!r}"


def _refused(path, field: str | None, expect=None) -> str:
    """The TrajectoryError's one line, naming the file and (from its start) field."""
    with pytest.raises(TrajectoryError) as info:
        tio.load(path, expect=expect)
    msg = str(info.value)
    assert str(path) in msg and "\n" not in msg, msg
    if field is not None:
        assert f"field '{field}" in msg, f"message does not name {field!r}: {msg}"
    return msg


def test_json_is_strict_ordered_and_complete(runs):
    run = runs["batch"]
    doc = _strict(tio.dumps(run))
    assert list(doc) == MLP_KEYS, list(doc)
    assert doc["schema"] == "neuroanim.mlp/1" == tio.MLP_SCHEMA
    assert (doc["gate"], doc["hidden_size"], doc["epochs"]) == ("XOR", 2, 120)
    assert doc["inputs"] == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert doc["targets"] == [0, 1, 1, 0]
    assert np.shape(doc["w1"]) == (121, 2, 2) and np.shape(doc["hidden"]) == (121, 4, 2)
    assert len(doc["order"]) == 120 and doc["status"] in ("learned", "failed")
    assert doc["accuracy"] == float(np.mean(run.right))
    assert tio.dumps(run) == tio.dumps(train_mlp("XOR", hidden=2, epochs=120, seed=1))


@pytest.mark.parametrize("key", ["batch", "per-example", "or"])
@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_round_trip_is_exact(runs, tmp_path, key, suffix):
    path = tio.save(runs[key], tmp_path / f"run{suffix}")
    back = tio.load(path, expect="mlp")
    _same(runs[key], back)
    assert tio.digest(back) == tio.digest(runs[key])
    assert tio.encode(back, suffix) == path.read_bytes(), "bytes changed on a re-save"


def test_npz_holds_named_plain_arrays(runs, tmp_path):
    path = tio.save(runs["per-example"], tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as data:
        assert set(data.files) == set(MLP_KEYS)
        assert len(data.files) <= tio._NPZ_MAX_MEMBERS
        assert data["w1"].shape == (61, 3, 2) and int(data["hidden_size"]) == 3
        assert all(data[k].dtype != object for k in data.files)


def test_npz_written_by_numpy_itself_loads(runs, tmp_path):
    run = runs["per-example"]
    with np.load(tio.save(run, tmp_path / "plain.npz"), allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    np.savez_compressed(tmp_path / "packed.npz", **arrays)
    _same(run, tio.load(tmp_path / "packed.npz"))


def test_csv_is_one_exact_row_per_epoch(runs, tmp_path):
    run = runs["per-example"]
    path = tio.save(run, tmp_path / "m.csv")
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert rows[0][:9] == ["epoch", "w1_1_1", "w1_1_2", "w1_2_1", "w1_2_2",
                           "w1_3_1", "w1_3_2", "b1_1", "b1_2"], rows[0]
    assert rows[0][-6:] == ["h3_10", "h3_11", "p00", "p01", "p10", "p11"], rows[0]
    assert len(rows[0]) == 1 + 8 * 3 + 6 and len(rows) == run.epochs + 2
    body = np.array([[float(v) for v in r] for r in rows[1:]])
    assert body[:, 0].tolist() == list(range(run.epochs + 1))
    col = {name: body[:, i] for i, name in enumerate(rows[0])}
    assert np.array_equal(col["w1_2_1"], run.w1[:, 1, 0])
    assert np.array_equal(col["b2"], run.b2) and np.array_equal(col["loss"], run.loss)
    assert np.array_equal(col["h3_01"], run.hidden[:, 1, 2])
    assert np.array_equal(col["p10"], run.predictions[:, 2])
    assert "CSV is an export" in _refused(path, None)


def _write(tmp_path, doc, name="bad.json"):
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def _set(key, *index, by=1e-3):
    def tamper(d):
        target = d[key]
        for i in index[:-1]:
            target = target[i]
        target[index[-1]] += by

    return tamper


_FLIP = {"learned": "failed", "failed": "learned"}


def _consistent_w1(d):
    """Change w1[5, 1, 0] and re-derive epoch 5's hidden, predictions and loss."""
    d["w1"][5][1][0] += 1e-3
    h, p = forward(d["w1"][5], d["b1"][5], d["w2"][5], d["b2"][5], INPUTS)
    d["hidden"][5], d["predictions"][5] = h.tolist(), p.tolist()
    d["loss"][5] = float(np.mean((p - np.array(d["targets"])) ** 2))


@pytest.mark.parametrize(
    ("key", "tamper", "field"),
    [
        # w1[5, 1, 0] weighs x1 into hidden neuron 1: its outputs for (1, 0), (1, 1)
        ("batch", _set("w1", 5, 1, 0), "hidden[5, 2, 1]'"),
        ("batch", _consistent_w1, "w1[5, 1, 0]'"),  # then only the update rule knows
        ("batch", _set("b1", 9, 0), "hidden[9, 0, 0]'"),
        ("batch", _set("w2", 3, 1), "predictions[3, 0]'"),
        ("batch", _set("b2", 120), "predictions[120, 0]'"),
        ("batch", _set("loss", 7), "loss[7]'"),
        ("batch", _set("hidden", 3, 1, 0), "hidden[3, 1, 0]'"),
        ("batch", _set("predictions", 4, 2), "predictions[4, 2]'"),
        ("batch", lambda d: d.update(lr=2.5), "w1[1, "),
        ("batch", lambda d: d.update(mode="per-example"), "w1[1, "),
        ("batch", lambda d: d.update(schema="neuroanim.mlp/2"), "schema'"),
        ("batch", lambda d: d.update(gate="AND"), "targets'"),
        ("batch", lambda d: d.update(gate="XAND"), "gate'"),
        ("batch", lambda d: d.update(targets=[0, 1, 1, 1]), "targets'"),
        ("batch", lambda d: d["inputs"].reverse(), "inputs'"),
        ("batch", lambda d: d.update(hidden_size=3), "w1'"),
        ("batch", lambda d: d.update(hidden_size=0), "hidden_size'"),
        ("batch", lambda d: d.update(hidden_size=9), "hidden_size'"),
        ("batch", lambda d: d.update(hidden_size=True), "hidden_size'"),
        ("batch", lambda d: d.update(epochs=121), "order'"),
        ("batch", lambda d: d.update(epochs=MAX_EPOCHS + 1), "epochs'"),
        ("batch", lambda d: d.update(status=_FLIP[d["status"]]), "status'"),
        ("batch", lambda d: d.update(accuracy=1.25 - d["accuracy"]), "accuracy'"),
        ("batch", lambda d: d.pop("hidden"), "hidden'"),
        ("batch", lambda d: d["w2"][4].pop(), "w2'"),
        ("batch", lambda d: d["b1"].__setitem__(2, ["1.0", "2.0"]), "b1'"),
        ("per-example", lambda d: d["order"][10].reverse(), "w1[11, "),
        ("per-example", lambda d: d["order"][3].__setitem__(0, d["order"][3][1]),
         "order'"),
        ("per-example", lambda d: d["order"][0].__setitem__(0, 4), "order'"),
        ("per-example", lambda d: d.update(mode="batch"), "w1[1, "),
        ("per-example", lambda d: d.update(seed=-1), "seed'"),
    ],
)
def test_tampered_json_is_refused_naming_the_field(runs, tmp_path, key, tamper, field):
    doc = json.loads(tio.dumps(runs[key]))
    before = json.dumps(doc)
    tamper(doc)
    assert json.dumps(doc) != before, "the tamper changed nothing"
    _refused(_write(tmp_path, doc), field)


def test_the_order_tamper_is_caught_by_the_replay_of_that_epoch(runs, tmp_path):
    doc = json.loads(tio.dumps(runs["per-example"]))
    doc["order"][10].reverse()
    msg = _refused(_write(tmp_path, doc), "w1[11, ")
    assert "the update from the epoch before" in msg, msg


def test_non_standard_json_tokens_are_refused_naming_the_field(runs, tmp_path):
    text = tio.dumps(runs["batch"])
    path = tmp_path / "nan.json"
    first = repr(float(runs["batch"].w1[0, 0, 0]))
    path.write_text(text.replace(f'"w1":[[[{first},', '"w1":[[[NaN,', 1))
    assert "NaN" in path.read_text(), "tamper did not apply"
    assert "non-finite" in _refused(path, "w1'")
    loss = repr(float(runs["batch"].loss[0]))
    path.write_text(text.replace(f'"loss":[{loss},', '"loss":[Infinity,', 1))
    assert "Infinity" in path.read_text()
    _refused(path, "loss'")
    path.write_text(text.replace('"lr":2.0', '"lr":-Infinity', 1))
    _refused(path, "lr'")
    path.write_text(text[:-2] + ',"extra":NaN}\n')
    assert "NaN" in _refused(path, None), "a stray token elsewhere must be refused"


def test_tampered_npz_is_refused_naming_the_field(runs, tmp_path):
    good = tio.save(runs["batch"], tmp_path / "good.npz")
    with np.load(good, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    moved = arrays["b1"].copy()
    moved[1, 0] += 1e-4
    cases = {
        "nan": (dict(arrays, w2=np.where(arrays["w2"] == arrays["w2"][4, 1], np.nan,
                                         arrays["w2"])), "w2'"),
        "short": (dict(arrays, hidden=arrays["hidden"][:, :3]), "hidden'"),
        "missing": ({k: v for k, v in arrays.items() if k != "b2"}, "b2'"),
        "moved": (dict(arrays, b1=moved), "hidden[1, 0, 0]'"),
        "pickled": (dict(arrays, gate=np.array([{"gate": "XOR"}], dtype=object)), None),
    }
    for name, (data, field) in cases.items():
        np.savez(tmp_path / f"{name}.npz", **data)
        _refused(tmp_path / f"{name}.npz", field)
    extra = dict(arrays, **{f"w{i}": arrays["w2"] for i in range(3, 10)})
    np.savez(tmp_path / "extra.npz", **extra)
    assert "members" in _refused(tmp_path / "extra.npz", None)


def test_the_wrong_kind_is_refused_and_the_other_kinds_still_load(runs, tmp_path):
    m = tio.save(runs["batch"], tmp_path / "m.json")
    assert "is an mlp trajectory; this needs a neuron" in _refused(m, "schema", "neuron")
    _refused(m, "schema", "descent")
    n = tio.save(train_neuron("AND", epochs=20, seed=3), tmp_path / "n.npz")
    assert "needs an mlp" in _refused(n, "schema", "mlp")
    assert isinstance(tio.load(n, expect="neuron"), type(train_neuron(epochs=1)))
    doc = json.loads(m.read_text())
    doc["schema"] = "neuroanim.tree/1"
    assert "neuroanim.mlp/1" in _refused(_write(tmp_path, doc), "schema")


def test_the_caps_leave_four_times_room_for_the_largest_mlp_file():
    # Full-precision floats, the widest network, extrapolated to MAX_EPOCHS: the
    # largest file `train mlp` can write must load.
    small, big = (
        train_mlp("XOR", hidden=MAX_HIDDEN, lr=7.3, epochs=n, seed=5, mode="per-example")
        for n in (500, 1000)
    )

    def values(run):
        text = tio.dumps(run)
        return text.count(",") + text.count("[") + text.count("{")

    for what, size, cap in [
        ("JSON bytes", lambda r: len(tio.dumps(r)), tio.MAX_JSON_BYTES),
        ("JSON values", values, tio.MAX_JSON_VALUES),
        (".npz bytes", lambda r: len(tio.encode(r, ".npz")), tio.MAX_NPZ_BYTES),
    ]:
        per_epoch = (size(big) - size(small)) / 500
        largest = size(big) + per_epoch * (MAX_EPOCHS - big.epochs)
        assert 3.5 * largest <= cap, f"{what}: cap {cap:,} for {largest:,.0f}"


def test_a_10000_epoch_file_loads_back_equal(tmp_path):
    """(Its load time is a benchmark: benchmarks/core.py, `load mlp 10k`.)"""
    run = train_mlp("XOR", hidden=4, epochs=10_000)
    for suffix in (".json", ".npz"):
        path = tio.save(run, tmp_path / f"long{suffix}")
        back = tio.load(path, expect="mlp")
        assert tio.digest(back) == tio.digest(run)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    gate=st.sampled_from(GATES),
    hidden=st.integers(1, MAX_HIDDEN),
    lr=st.floats(1e-3, 1e3),
    epochs=st.integers(1, 25),
    seed=st.integers(0, 2**32 - 1),
    mode=st.sampled_from(["batch", "per-example"]),
)
def test_any_mlp_file_is_strict_and_loads_back_equal(
    tmp_path, gate, hidden, lr, epochs, seed, mode
):
    run = train_mlp(gate, hidden=hidden, lr=lr, epochs=epochs, seed=seed, mode=mode)
    _strict(tio.dumps(run))
    for suffix in (".json", ".npz"):
        _same(run, tio.load(tio.save(run, tmp_path / f"p{suffix}")))


# -------------------------------------------------------------------- options
def test_mlp_params_declare_the_cores_defaults_and_ranges():
    ps = {p.name: p for p in options.mlp_params()}
    assert list(ps) == ["gate", "hidden", "lr", "epochs", "seed", "mode", "trajectory"]
    assert set(options.MLP_FILE_DECIDES) <= set(ps)
    assert (ps["gate"].default, ps["hidden"].default, ps["lr"].default) == ("XOR", 2, 2.0)
    assert (ps["epochs"].default, ps["seed"].default, ps["mode"].default) == (
        5000, mlp.DEFAULT_SEED, "batch")
    assert (ps["hidden"].low, ps["hidden"].high) == (1, 8)
    assert ps["epochs"].high == MAX_EPOCHS and ps["trajectory"].kind == "path"
    assert "trajectory" not in {p.name for p in options.mlp_params(trajectory=False)}
    for given_, flag in [({"hidden": "0"}, "--hidden"), ({"hidden": "9"}, "--hidden"),
                         ({"lr": "0"}, "--lr"), ({"gate": "XAND"}, "--gate"),
                         ({"mode": "x"}, "--mode"), ({"epochs": "20001"}, "--epochs")]:
        with pytest.raises(UserError, match=flag):
            resolve(options.mlp_params(), given_, "test")


def test_mlp_run_trains_or_replays_a_file(runs, tmp_path):
    values = resolve(options.mlp_params(), {"epochs": "50", "hidden": "3"}, "test")
    _same(options.mlp_run(values), train_mlp("XOR", hidden=3, epochs=50))
    path = tio.save(runs["per-example"], tmp_path / "m.npz")
    values = resolve(options.mlp_params(), {"trajectory": str(path)}, "test")
    _same(options.mlp_run(values), runs["per-example"])
    n = tio.save(train_neuron("AND", epochs=5), tmp_path / "n.json")
    with pytest.raises(TrajectoryError, match="needs an mlp"):
        options.mlp_run(dict(values, trajectory=str(n)))


# ------------------------------------------------------------------------ CLI
def _run(*args):
    return CliRunner().invoke(main, list(args))


def test_train_mlp_writes_the_run_and_says_whether_it_learned(tmp_path):
    out = tmp_path / "xor.json"
    result = _run("train", "mlp", "--gate", "XOR", "--hidden", "2", "--seed", "1",
                  "--lr", "2", "--epochs", "5000", "--mode", "batch", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == "", result.stdout
    run = tio.load(out, expect="mlp")
    _same(run, train_mlp())
    lines = result.stderr.splitlines()
    assert lines == [
        f"mlp 2-2-1 on XOR: loss {run.loss[0]:.4f} -> {run.loss[-1]:.4f} after 5000 "
        f"epochs (batch, lr 2, seed 1): learned XOR, 4 of 4 right -> {out}"
    ], lines


def test_train_mlp_defaults_and_a_stalled_run(tmp_path):
    out = tmp_path / "stall.npz"
    result = _run("train", "mlp", "--seed", "0", "-o", str(out))
    assert result.exit_code == 0, result.output
    _same(tio.load(out), train_mlp(seed=0))
    assert "did not learn XOR, 2 of 4 right" in result.stderr, result.stderr
    doc = _strict(_run("train", "mlp", "--epochs", "20", "--gate", "or").stdout)
    assert (doc["schema"], doc["gate"], doc["seed"], doc["hidden_size"]) == (
        "neuroanim.mlp/1", "OR", 1, 2)


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--hidden", "0"], "--hidden"),
        (["--hidden", "9"], "--hidden"),
        (["--hidden", "2.5"], "--hidden"),
        (["--lr", "0"], "--lr"),
        (["--lr", "-1"], "--lr"),
        (["--lr", "nan"], "--lr"),
        (["--gate", "XAND"], "--gate"),
        (["--epochs", "0"], "--epochs"),
        (["--epochs", str(MAX_EPOCHS + 1)], "--epochs"),
        (["--seed", "-1"], "--seed"),
        (["--mode", "minibatch"], "--mode"),
    ],
)
def test_bad_options_give_one_error_line_and_no_file(tmp_path, args, flag):
    out = tmp_path / "run.json"
    result = _run("train", "mlp", *args, "-o", str(out))
    assert result.exit_code == 2, f"exit {result.exit_code}: {result.output}"
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {flag}"), result.stderr
    assert result.stdout == "" and list(tmp_path.iterdir()) == []


def test_train_help_lists_the_mlp_example():
    assert "neuroanim train mlp --gate XOR" in _run("train", "--help").output
    helps = _run("train", "mlp", "--help").output
    assert "Example:" in helps and "--hidden INT" in helps and "[default: 5000]" in helps
