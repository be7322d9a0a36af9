"""Trajectories on disk: strict JSON and .npz validated on load; CSV for export.

JSON is the exchange format (course pages' own widgets read it): no NaN/Infinity
tokens, a schema id, a fixed key order, floats written with `repr` so they
round-trip exactly, columnar arrays. Identical runs give identical bytes (.npz
too: its zip entries carry a fixed timestamp). Loading checks more than shapes:
the recorded numbers must follow from each other (loss = L(w), every update
w[t+1] = w[t] - lr * grad[t], the status), so a scene never replays a file whose
story the maths does not support. Files may come from anyone, so their size is
checked before anything is parsed or decompressed. CSV is written for
spreadsheets only: it lacks the settings (lr, gate, seed, order, landscape) that
the checks need, so it is never read back.

Three kinds: a descent (`neuroanim.descent/1`), a neuron (`neuroanim.neuron/1`)
and a two-layer network (`neuroanim.mlp/1`), each checked by its own maths.
"""

from __future__ import annotations

import csv
import io
import json
import math
import reprlib
import struct
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np

from . import files
from .core import Descent, NeuronRun, get_landscape, mlp
from .core.datasets import GATES, INPUTS, gate_data
from .core.decision import verdicts
from .core.descent import STATUSES, classify, settled_step
from .core.mlp import MLPRun
from .core.neuron import MAX_EPOCHS, MODES, predict_and_grad, sigmoid
from .errors import UserError

DESCENT_SCHEMA = "neuroanim.descent/1"
NEURON_SCHEMA = "neuroanim.neuron/1"
MLP_SCHEMA = "neuroanim.mlp/1"
CURVE_POINTS = 241
FORMATS = (".json", ".npz", ".csv")  # what `save` writes
REPLAYABLE = (".json", ".npz")  # what `load` reads: CSV is an export only
# Recorded numbers are compared with what they must equal after a round trip
# through another implementation (a browser, another numpy): ~1e3 ulps of slack.
RTOL, ATOL = 1e-9, 1e-12
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip entry can carry

# Caps on what `load` will read, 4x the largest real file: a neuron run of
# MAX_EPOCHS epochs (measured at 100k epochs: JSON 24.6 MB holding 1.9M values,
# .npz 12.0 MB). An epoch adds to the JSON at most 11 floats of <= 24 characters
# plus separators (< 300 bytes) and 19 values (11 floats, 4 order entries, 4 row
# arrays); to the .npz 11 float64 and 4 int64 (120 bytes). The value cap bounds
# what json.loads builds, which a file of "[]," would make 20x its size. An mlp
# run is held to fewer epochs (`mlp.MAX_EPOCHS`) so that its largest file, at
# H = 8 (per epoch 70 floats, about 1430 bytes and 92 values of JSON, 592 bytes of
# .npz), fits the same caps with the same room: measured at 20k epochs, JSON
# 28.5 MB holding 1.84M values, .npz 11.8 MB.
MAX_JSON_BYTES = 4 * 300 * MAX_EPOCHS  # 120 MB
MAX_JSON_VALUES = 4 * 20 * MAX_EPOCHS  # 8M commas and brackets
MAX_NPZ_BYTES = 4 * 128 * MAX_EPOCHS  # 51.2 MB, on disk and decompressed
_NPZ_DIRECTORY_BYTES = 1 << 16  # a real one lists at most 19 members in ~2 kB
# The .npz member names `_npz_bytes` writes, every kind of trajectory together,
# and the most one kind writes (an mlp 19, a neuron 17, a descent 16).
_NPZ_NAMES = frozenset(
    "schema landscape landscape_formula landscape_w_min landscape_w_range lr w0 "
    "steps tol status converged_step curve_w curve_loss w loss grad "
    "gate epochs seed mode accuracy inputs targets b predictions grad_w grad_b "
    "order hidden_size w1 b1 w2 b2 hidden".split()
)
_NPZ_MAX_MEMBERS = 19
_NPY_KINDS = "biufcUS"  # numbers and text; never objects, records or dates

Trajectory = Descent | NeuronRun | MLPRun


class TrajectoryError(UserError):
    """A trajectory file that cannot be used; the message names file and field."""

    def __init__(self, path, field: str | None, problem: str):
        self.path, self.field, self.problem = path, field, problem
        where = f"{path}: " if path is not None else ""
        what = f"field '{field}' " if field else ""
        super().__init__(f"{where}{what}{problem}")


_SHORT = reprlib.Repr()  # a value from a file, shown in one short message
_SHORT.maxstring = _SHORT.maxother = _SHORT.maxlong = 60


def _shown(value) -> str:
    return _SHORT.repr(value)


def _clipped(text: str, limit: int = 160) -> str:
    """An exception's text on one short line, for a message about a file."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ----------------------------------------------------------------------- to dicts
def to_dict(traj: Trajectory) -> dict:
    """The JSON document for a trajectory, keys in schema order."""
    if isinstance(traj, Descent):
        ls = get_landscape(traj.landscape)
        cw, cl = ls.curve(CURVE_POINTS)
        return {
            "schema": DESCENT_SCHEMA,
            "landscape": {
                "name": ls.name,
                "formula": ls.formula,
                "w_min": ls.w_min,
                "w_range": [float(v) for v in ls.w_range],
            },
            "lr": traj.lr,
            "w0": traj.w0,
            "steps": traj.steps,
            "tol": traj.tol,
            "status": traj.status,
            "converged_step": traj.converged_step,
            "curve": {"w": cw.tolist(), "loss": cl.tolist()},
            "w": traj.w.tolist(),
            "loss": traj.loss.tolist(),
            "grad": traj.grad.tolist(),
        }
    if isinstance(traj, NeuronRun):
        return {
            "schema": NEURON_SCHEMA,
            "gate": traj.gate,
            "lr": traj.lr,
            "epochs": traj.epochs,
            "seed": traj.seed,
            "mode": traj.mode,
            "status": traj.status,
            "accuracy": traj.accuracy,
            "inputs": traj.inputs.tolist(),
            "targets": traj.targets.tolist(),
            "w": traj.w.tolist(),
            "b": traj.b.tolist(),
            "loss": traj.loss.tolist(),
            "predictions": traj.predictions.tolist(),
            "grad_w": traj.grad_w.tolist(),
            "grad_b": traj.grad_b.tolist(),
            "order": traj.order.tolist(),
        }
    if isinstance(traj, MLPRun):
        return {
            "schema": MLP_SCHEMA,
            "gate": traj.gate,
            "hidden_size": traj.hidden_size,
            "lr": traj.lr,
            "epochs": traj.epochs,
            "seed": traj.seed,
            "mode": traj.mode,
            "status": _mlp_status(traj),
            "accuracy": _mlp_accuracy(traj),
            "inputs": traj.inputs.tolist(),
            "targets": traj.targets.tolist(),
            "w1": traj.w1.tolist(),
            "b1": traj.b1.tolist(),
            "w2": traj.w2.tolist(),
            "b2": traj.b2.tolist(),
            "loss": traj.loss.tolist(),
            "hidden": traj.hidden.tolist(),
            "predictions": traj.predictions.tolist(),
            "order": traj.order.tolist(),
        }
    raise TypeError(f"not a trajectory: {type(traj).__name__}")


def _mlp_accuracy(run: MLPRun) -> float:
    """Share of the four examples the final network gets right, by `verdicts`."""
    return float(np.mean(verdicts(run.predictions[-1], run.targets)))


def _mlp_status(run: MLPRun) -> str:
    """`learned` when every final output is on its target's side of 0.5."""
    return "learned" if run.learned else "failed"


def digest(traj: Trajectory) -> str:
    """sha256 of everything a trajectory records: equal runs, equal digests.

    Arrays are hashed as their exact bytes (with dtype and shape) and other
    fields as JSON, by field name: what a build key needs, some 50x faster than
    hashing the strict JSON text of a 2000-epoch run.
    """
    import dataclasses
    import hashlib

    h = hashlib.sha256(type(traj).__name__.encode())
    for f in dataclasses.fields(traj):
        v = getattr(traj, f.name)
        h.update(b"\0" + f.name.encode() + b"\0")
        if isinstance(v, np.ndarray):
            a = np.ascontiguousarray(v)
            h.update(f"{a.dtype.str}{a.shape}".encode() + a.tobytes())
        else:
            h.update(json.dumps(v, allow_nan=False).encode())
    return h.hexdigest()


def dumps(traj: Trajectory) -> str:
    """Strict JSON text (allow_nan=False: a non-finite value is an error)."""
    return json.dumps(to_dict(traj), allow_nan=False, separators=(",", ":")) + "\n"


# --------------------------------------------------------------------- from dicts
def _field(doc: dict, name: str, path):
    if name not in doc:
        raise TrajectoryError(path, name, "is missing")
    return doc[name]


def _array(doc, name, path, shape, dtype=float) -> np.ndarray:
    """A numeric array of `shape` (None: any length); bools and strings refused."""
    raw = _field(doc, name, path)
    try:
        arr = np.asarray(raw)
    except (TypeError, ValueError):  # ragged nesting
        raise TrajectoryError(path, name, "is not an array of numbers") from None
    if arr.dtype.kind not in "iuf":
        raise TrajectoryError(path, name, "is not an array of numbers")
    if arr.ndim != len(shape) or any(
        want is not None and got != want
        for got, want in zip(arr.shape, shape, strict=True)
    ):
        want = "x".join("?" if s is None else str(s) for s in shape)
        got = "x".join(map(str, arr.shape)) or "scalar"
        raise TrajectoryError(path, name, f"has shape {got}, expected {want}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise TrajectoryError(path, name, "holds a non-finite number")
    if np.dtype(dtype).kind == "i":
        if not np.all(arr == np.round(arr)):
            raise TrajectoryError(path, name, "must hold whole numbers")
        return arr.astype(np.int64)
    return arr.astype(dtype)


def _number(doc, name, path, *, positive=False, integer=False, low=None) -> float:
    v = _field(doc, name, path)
    if isinstance(v, np.ndarray) and v.ndim == 0:
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, int | float | np.number):
        raise TrajectoryError(path, name, f"must be a number, got {_shown(v)}")
    try:
        finite = math.isfinite(float(v))
    except OverflowError:  # an int beyond any float
        raise TrajectoryError(
            path, name, f"is {_shown(v)}, too large to be a number here"
        ) from None
    if not finite or (positive and v <= 0):
        kind = "positive finite" if positive else "finite"
        raise TrajectoryError(path, name, f"must be a {kind} number")
    if low is not None and v < low:
        raise TrajectoryError(path, name, f"is {_shown(v)}, must be at least {low}")
    if integer:
        if float(v) != int(v):
            raise TrajectoryError(path, name, "must be a whole number")
        return int(v)
    return float(v)


def _text(doc, name, path, choices=None) -> str:
    v = _field(doc, name, path)
    if isinstance(v, np.ndarray):
        v = v.item() if v.ndim == 0 else v
    if not isinstance(v, str):
        raise TrajectoryError(path, name, f"must be text, got {type(v).__name__}")
    if choices is not None and v not in choices:
        raise TrajectoryError(
            path, name, f"is {_shown(v)}, expected one of {', '.join(choices)}"
        )
    return v


def _agrees(path, name, got, want, what: str, offset: int = 0) -> None:
    """TrajectoryError naming `name[index]` at the first entry where got != want.

    `offset` is added to the first index (got = w[1:] is reported as w[t]).
    """
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    bad = ~np.isclose(got, want, rtol=RTOL, atol=ATOL)
    if np.any(bad):
        at = np.unravel_index(int(np.argmax(bad)), bad.shape)
        shown = (at[0] + offset, *at[1:]) if at else at
        where = "[" + ", ".join(map(str, shown)) + "]" if got.ndim else ""
        raise TrajectoryError(
            path,
            f"{name}{where}",
            f"is {float(got[at])!r} but {what} gives {float(want[at])!r}",
        )


def _a(kind: str) -> str:
    """The kind with its article: a neuron, a descent, an mlp (said em-el-pee)."""
    return f"an {kind}" if kind == "mlp" else f"a {kind}"


def from_dict(doc: dict, path=None, expect: str | None = None) -> Trajectory:
    """Validate a parsed document and rebuild its trajectory.

    `expect` ("descent", "neuron" or "mlp") rejects the other kinds with a clear
    message.
    """
    if not isinstance(doc, dict):
        raise TrajectoryError(
            path, None, "is not a neuroanim trajectory (not an object)"
        )
    schema = _field(doc, "schema", path)
    if isinstance(schema, np.ndarray):
        schema = schema.item()
    kinds = {DESCENT_SCHEMA: "descent", NEURON_SCHEMA: "neuron", MLP_SCHEMA: "mlp"}
    if not isinstance(schema, str) or schema not in kinds:
        raise TrajectoryError(
            path,
            "schema",
            f"is {_shown(schema)}, expected {DESCENT_SCHEMA}, {NEURON_SCHEMA} "
            f"or {MLP_SCHEMA}",
        )
    kind = kinds[schema]
    if expect is not None and kind != expect:
        raise TrajectoryError(
            path,
            "schema",
            f"is {_a(kind)} trajectory; this needs {_a(expect)} trajectory",
        )
    if kind == "descent":
        return _descent_from(doc, path)
    if kind == "mlp":
        return _mlp_from(doc, path)
    return _neuron_from(doc, path)


def _nested(doc, name, path, keys: str) -> dict:
    """The object field `name`, its keys prefixed ("curve.w") so errors name them."""
    sub = _field(doc, name, path)
    if not isinstance(sub, dict):
        raise TrajectoryError(path, name, f"must be an object with {keys}")
    return {f"{name}.{k}": v for k, v in sub.items()}


def _landscape_from(doc, path):
    land = _nested(doc, "landscape", path, "name, formula, w_min")
    name = _text(land, "landscape.name", path)
    try:
        ls = get_landscape(name)
    except KeyError:
        raise TrajectoryError(
            path, "landscape.name", f"names an unknown landscape {_shown(name)}"
        ) from None
    _text(land, "landscape.formula", path)
    w_min = _number(land, "landscape.w_min", path)
    if not math.isclose(w_min, ls.w_min, rel_tol=RTOL, abs_tol=ATOL):
        raise TrajectoryError(
            path,
            "landscape.w_min",
            f"is {w_min!r} but {name}'s minimum is {ls.w_min!r}",
        )
    return ls


def _descent_from(doc, path) -> Descent:
    ls = _landscape_from(doc, path)
    curve = _nested(doc, "curve", path, "w and loss")
    cw = _array(curve, "curve.w", path, (None,))
    if len(cw) < 2:
        raise TrajectoryError(path, "curve.w", "needs at least 2 points")
    cl = _array(curve, "curve.loss", path, (len(cw),))
    _agrees(path, "curve.loss", cl, ls.loss(cw), "the landscape at curve.w")

    w = _array(doc, "w", path, (None,))
    t = len(w)
    if t < 1:
        raise TrajectoryError(path, "w", "is empty")
    loss = _array(doc, "loss", path, (t,))
    grad = _array(doc, "grad", path, (t,))
    lr = _number(doc, "lr", path, positive=True)
    w0 = _number(doc, "w0", path)
    tol = _number(doc, "tol", path, positive=True)
    steps = _number(doc, "steps", path, integer=True, low=0)
    if steps < t - 1:
        raise TrajectoryError(
            path, "steps", f"is {steps} but {t - 1} steps are recorded"
        )
    if w[0] != w0:
        raise TrajectoryError(path, "w[0]", f"is {float(w[0])!r} but w0 is {w0!r}")
    _agrees(path, "loss", loss, ls.loss(w), f"{ls.name}'s L(w)")
    _agrees(path, "grad", grad, ls.grad(w), f"{ls.name}'s L'(w)")
    _agrees(path, "w", w[1:], w[:-1] - lr * grad[:-1], "w[t-1] - lr * grad[t-1]", 1)

    cs = _field(doc, "converged_step", path)
    if isinstance(cs, np.ndarray):
        cs = cs.item()
    cs = (
        None
        if cs is None or cs == -1
        else _number(doc, "converged_step", path, integer=True)
    )
    if cs != settled_step(grad, tol):
        raise TrajectoryError(
            path,
            "converged_step",
            f"is {cs} but |grad| stays under tol from step {settled_step(grad, tol)}",
        )
    status = _text(doc, "status", path, STATUSES)
    derived = classify(ls, w, grad, lr, t - 1 < steps, tol)
    if status != derived:
        raise TrajectoryError(
            path, "status", f"is {status!r} but the steps say {derived!r}"
        )
    return Descent(
        landscape=ls.name,
        lr=lr,
        w0=w0,
        steps=steps,
        tol=tol,
        w=w,
        loss=loss,
        grad=grad,
        status=status,
        converged_step=cs,
    )


def _truth_table(doc, path, gate: str) -> tuple[np.ndarray, np.ndarray]:
    """inputs (4, 2) and targets (4,), which must be `gate`'s truth table."""
    x = _array(doc, "inputs", path, (4, 2))
    y = _array(doc, "targets", path, (4,))
    if not np.array_equal(x, INPUTS):
        raise TrajectoryError(
            path, "inputs", f"must be the truth-table rows {INPUTS.tolist()}"
        )
    if not np.array_equal(y, gate_data(gate)[1]):
        raise TrajectoryError(path, "targets", f"are not {gate}'s truth table")
    return x, y


def _orders(doc, path, epochs: int) -> np.ndarray:
    """order (epochs, 4), each row a permutation of 0..3."""
    order = _array(doc, "order", path, (epochs, 4), dtype=np.int64)
    if not np.all(np.sort(order, axis=1) == np.arange(4)):
        raise TrajectoryError(path, "order", "rows must each hold 0, 1, 2, 3 once")
    return order


def _neuron_from(doc, path) -> NeuronRun:
    epochs = _number(doc, "epochs", path, integer=True, low=1)
    if epochs > MAX_EPOCHS:
        raise TrajectoryError(path, "epochs", f"is {epochs}, more than {MAX_EPOCHS}")
    t = epochs + 1
    gate = _text(doc, "gate", path, GATES)
    mode = _text(doc, "mode", path, MODES)
    lr = _number(doc, "lr", path, positive=True)
    seed = _number(doc, "seed", path, integer=True, low=0)
    x, y = _truth_table(doc, path, gate)
    order = _orders(doc, path, epochs)
    w = _array(doc, "w", path, (t, 2))
    b = _array(doc, "b", path, (t,))
    p = _array(doc, "predictions", path, (t, 4))
    loss = _array(doc, "loss", path, (t,))
    grad_w = _array(doc, "grad_w", path, (t, 2))
    grad_b = _array(doc, "grad_b", path, (t,))

    # Every recorded number must follow from w, b and the update rule.
    p_true, gw, gb = predict_and_grad(w, b, x, y)  # (T, 4), (T, 2), (T,)
    _agrees(path, "predictions", p, p_true, "sigmoid(w . x + b)")
    _agrees(path, "loss", loss, np.mean((p_true - y) ** 2, axis=1), "the MSE")
    _agrees(path, "grad_w", grad_w, gw, "dL/dw of the MSE")
    _agrees(path, "grad_b", grad_b, gb, "dL/db of the MSE")
    if mode == "batch":
        nxt_w, nxt_b = w[:-1] - lr * grad_w[:-1], b[:-1] - lr * grad_b[:-1]
    else:
        nxt_w, nxt_b = _replay_epochs(w[:-1], b[:-1], x, y, lr, order)
    _agrees(path, "w", w[1:], nxt_w, "the update from the epoch before", 1)
    _agrees(path, "b", b[1:], nxt_b, "the update from the epoch before", 1)

    run = NeuronRun(
        gate=gate,
        lr=lr,
        epochs=epochs,
        seed=seed,
        mode=mode,
        inputs=x,
        targets=y,
        w=w,
        b=b,
        loss=loss,
        predictions=p,
        grad_w=grad_w,
        grad_b=grad_b,
        order=order,
    )
    status = _text(doc, "status", path, ("learned", "failed"))
    if status != run.status:
        raise TrajectoryError(
            path,
            "status",
            f"is {status!r} but the final predictions say {run.status!r}",
        )
    if "accuracy" in doc and _number(doc, "accuracy", path) != run.accuracy:
        raise TrajectoryError(
            path,
            "accuracy",
            f"is {_shown(doc['accuracy'])} but the final predictions give "
            f"{run.accuracy!r}",
        )
    return run


def _replay_epochs(w, b, x, y, lr, order):
    """One per-example epoch from every recorded state at once: (E, 2), (E,).

    Step k of every epoch at once: each state takes the gradient of its own
    example's squared error, `predict_and_grad` with one example per state.
    """
    for k in range(4):
        i = order[:, k]  # (E,)
        _, gw, gb = predict_and_grad(w, b, x[i][:, None, :], y[i][:, None])
        w, b = w - lr * gw, b - lr * gb  # (E, 2), (E,)
    return w, b


def _mlp_from(doc, path) -> MLPRun:
    epochs = _number(doc, "epochs", path, integer=True, low=1)
    if epochs > mlp.MAX_EPOCHS:
        raise TrajectoryError(
            path, "epochs", f"is {epochs}, more than {mlp.MAX_EPOCHS}"
        )
    size = _number(doc, "hidden_size", path, integer=True, low=mlp.MIN_HIDDEN)
    if size > mlp.MAX_HIDDEN:
        raise TrajectoryError(
            path, "hidden_size", f"is {size}, more than {mlp.MAX_HIDDEN}"
        )
    t = epochs + 1
    gate = _text(doc, "gate", path, GATES)
    mode = _text(doc, "mode", path, MODES)
    lr = _number(doc, "lr", path, positive=True)
    seed = _number(doc, "seed", path, integer=True, low=0)
    x, y = _truth_table(doc, path, gate)
    order = _orders(doc, path, epochs)
    w1 = _array(doc, "w1", path, (t, size, 2))
    b1 = _array(doc, "b1", path, (t, size))
    w2 = _array(doc, "w2", path, (t, size))
    b2 = _array(doc, "b2", path, (t,))
    hidden = _array(doc, "hidden", path, (t, 4, size))
    p = _array(doc, "predictions", path, (t, 4))
    loss = _array(doc, "loss", path, (t,))

    # Every recorded number must follow from the weights and the update rule.
    h_true, p_true = mlp.forward(w1, b1, w2, b2, x)  # (T, 4, H), (T, 4)
    _agrees(path, "hidden", hidden, h_true, "sigmoid(W1 x + b1)")
    _agrees(path, "predictions", p, p_true, "sigmoid(w2 . h + b2)")
    _agrees(path, "loss", loss, np.mean((p_true - y) ** 2, axis=1), "the MSE")
    state = (w1[:-1], b1[:-1], w2[:-1], b2[:-1])
    if mode == "batch":
        nxt = _mlp_step(*state, x, y, lr)
    else:
        nxt = _mlp_replay_epochs(*state, x, y, lr, order)
    for name, got, want in zip(
        ("w1", "b1", "w2", "b2"), (w1[1:], b1[1:], w2[1:], b2[1:]), nxt, strict=True
    ):
        _agrees(path, name, got, want, "the update from the epoch before", 1)

    run = MLPRun(
        gate=gate,
        hidden_size=size,
        lr=lr,
        epochs=epochs,
        seed=seed,
        mode=mode,
        inputs=x,
        targets=y,
        w1=w1,
        b1=b1,
        w2=w2,
        b2=b2,
        loss=loss,
        hidden=hidden,
        predictions=p,
        order=order,
    )
    status = _text(doc, "status", path, ("learned", "failed"))
    if status != _mlp_status(run):
        raise TrajectoryError(
            path,
            "status",
            f"is {status!r} but the final predictions say {_mlp_status(run)!r}",
        )
    if "accuracy" in doc and _number(doc, "accuracy", path) != _mlp_accuracy(run):
        raise TrajectoryError(
            path,
            "accuracy",
            f"is {_shown(doc['accuracy'])} but the final predictions give "
            f"{_mlp_accuracy(run)!r}",
        )
    return run


def _mlp_grad(w1, b1, w2, b2, x, y):
    """`mlp.forward_and_grad`'s gradient at every state at once.

    The same backpropagation with leading axes: w1 (..., H, 2), b1 (..., H),
    w2 (..., H), b2 (...), with the rows x (N, 2), y (N,) shared by every
    state or each state's own, x (..., N, 2), y (..., N). Returns dL/dW1
    (..., H, 2), dL/db1 (..., H), dL/dw2 (..., H), dL/db2 (...). Matrix
    products, not einsum: a 10,000-epoch replay stays a few milliseconds.
    """
    h = sigmoid(x @ np.swapaxes(w1, -1, -2) + b1[..., None, :])  # (..., N, H)
    p = sigmoid((h @ w2[..., :, None])[..., 0] + b2[..., None])  # (..., N)
    dz = 2.0 / p.shape[-1] * (p - y) * p * (1.0 - p)  # (..., N): dL/dz
    gw2 = (dz[..., None, :] @ h)[..., 0, :]  # (..., H)
    da = dz[..., :, None] * w2[..., None, :] * h * (1.0 - h)  # (..., N, H)
    gw1 = np.swapaxes(da, -1, -2) @ x  # (..., H, 2)
    return gw1, da.sum(axis=-2), gw2, dz.sum(axis=-1)


def _mlp_step(w1, b1, w2, b2, x, y, lr):
    """theta - lr * dL/dtheta for every state at once (`_mlp_grad`)."""
    g = _mlp_grad(w1, b1, w2, b2, x, y)
    return tuple(v - lr * gv for v, gv in zip((w1, b1, w2, b2), g, strict=True))


def _mlp_replay_epochs(w1, b1, w2, b2, x, y, lr, order):
    """One per-example epoch from every recorded state at once.

    Step k of every epoch at once: each state takes the gradient of its own
    example's squared error (N = 1), as `_replay_epochs` does for a neuron.
    """
    state = (w1, b1, w2, b2)
    for k in range(4):
        i = order[:, k]  # (E,)
        state = _mlp_step(*state, x[i][:, None, :], y[i][:, None], lr)
    return state


# -------------------------------------------------------------------- npz and csv
def _npz_bytes(traj: Trajectory) -> bytes:
    """Named arrays, nested objects flattened with a prefix (landscape_w_min).

    Written entry by entry with a fixed timestamp (np.savez stamps the current
    time), so identical runs give identical bytes here too.
    """
    arrays = {}
    for key, val in to_dict(traj).items():
        if key == "landscape":
            arrays["landscape"] = np.array(val["name"])
            for sub in ("formula", "w_min", "w_range"):
                arrays[f"landscape_{sub}"] = np.array(val[sub])
        elif key == "curve":
            arrays["curve_w"] = np.asarray(val["w"])
            arrays["curve_loss"] = np.asarray(val["loss"])
        elif key == "converged_step":
            arrays[key] = np.array(-1 if val is None else val)
        else:
            arrays[key] = np.asarray(val)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for key, arr in arrays.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_TIME)
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, arr, allow_pickle=False)
    return buf.getvalue()


def _npz_load(path: Path) -> dict:
    """The arrays of an .npz file, regrouped into the JSON document's shape."""
    doc: dict = {}
    for k, v in _npz_arrays(path).items():
        if v.ndim == 0:
            doc[k] = str(v) if v.dtype.kind in "US" else v.item()
        else:
            doc[k] = v
    if "landscape" in doc:
        land = {"name": doc.pop("landscape")}
        for sub in ("formula", "w_min", "w_range"):
            if f"landscape_{sub}" in doc:
                land[sub] = doc.pop(f"landscape_{sub}")
        doc["landscape"] = land
    if "curve_w" in doc or "curve_loss" in doc:
        doc["curve"] = {
            k[6:]: doc.pop(k) for k in ("curve_w", "curve_loss") if k in doc
        }
    return doc


# What a damaged or hostile zip can raise on the way (zlib: a corrupt stream).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    RuntimeError,  # an encrypted member, an unknown compression method
    ValueError,
    struct.error,
)


def _npz_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every member's array, each .npy header checked before its data is read.

    np.load would decompress a member whatever it declares (a 2 MB file can
    unpack to gigabytes) and would list a zip's every entry first; so the zip's
    directory, member names and sizes, and each header's dtype and shape are all
    checked against the caps before a byte of array data is decompressed.
    """
    size = path.stat().st_size
    if size > MAX_NPZ_BYTES:
        raise TrajectoryError(
            path,
            None,
            f"is {size:,} bytes, more than an .npz trajectory can be "
            f"({MAX_NPZ_BYTES:,})",
        )
    try:
        with path.open("rb") as fh:
            _check_zip_directory(path, fh, size)
            with zipfile.ZipFile(fh) as zf:
                return _read_members(path, zf)
    except TrajectoryError:
        raise
    except MemoryError:
        raise TrajectoryError(path, None, "is too large to read") from None
    except _ZIP_ERRORS as exc:
        raise TrajectoryError(
            path, None, f"is not a readable .npz file ({_clipped(str(exc))})"
        ) from None


def _check_zip_directory(path: Path, fh, size: int) -> None:
    """Refuse a zip whose directory zipfile would spend long parsing.

    zipfile reads the whole central directory into ZipInfo objects before
    anything can be counted (600k tiny entries fit under the size cap and take
    seconds and hundreds of MB), so its declared size is checked first, in the
    end record zipfile itself uses: the last 22 bytes. Our writer and np.savez
    add no zip comment and no zip64 end record (17 entries need neither).
    """
    if size < 22:
        raise TrajectoryError(path, None, "is not a readable .npz file (too short)")
    fh.seek(size - 22)
    end = fh.read(22)
    if end[:4] != b"PK\x05\x06" or end[-2:] != b"\x00\x00":
        raise TrajectoryError(
            path, None, "is not a readable .npz file (no zip end record, or a comment)"
        )
    if size >= 42:
        fh.seek(size - 42)
        if fh.read(4) == b"PK\x06\x07":
            raise TrajectoryError(
                path, None, "has a zip64 directory, which no trajectory needs"
            )
    directory = struct.unpack("<L", end[12:16])[0]
    if directory > _NPZ_DIRECTORY_BYTES:
        raise TrajectoryError(
            path,
            None,
            f"has a {directory:,}-byte zip directory; a trajectory's is "
            f"under {_NPZ_DIRECTORY_BYTES:,}",
        )
    fh.seek(0)


def _read_members(path: Path, zf: zipfile.ZipFile) -> dict[str, np.ndarray]:
    """Names and zip sizes, then every .npy header, then (all passed) the data."""
    infos = zf.infolist()
    if len(infos) > _NPZ_MAX_MEMBERS:
        raise TrajectoryError(
            path,
            None,
            f"holds {len(infos)} members, more than a trajectory's {_NPZ_MAX_MEMBERS}",
        )
    names = [i.filename.removesuffix(".npy") for i in infos]
    for info, name in zip(infos, names, strict=True):
        if not info.filename.endswith(".npy") or name not in _NPZ_NAMES:
            raise TrajectoryError(
                path, None, f"holds an unexpected member {_shown(info.filename)}"
            )
        if names.count(name) > 1:
            raise TrajectoryError(path, name, "is stored twice")
        if info.file_size > MAX_NPZ_BYTES:
            raise TrajectoryError(
                path,
                name,
                f"unpacks to {info.file_size:,} bytes, more than {MAX_NPZ_BYTES:,}",
            )
    unpacked = sum(i.file_size for i in infos)
    if unpacked > MAX_NPZ_BYTES:
        raise TrajectoryError(
            path, None, f"unpacks to {unpacked:,} bytes, more than {MAX_NPZ_BYTES:,}"
        )
    headers = {
        name: _npy_header(path, zf, info, name)
        for info, name in zip(infos, names, strict=True)
    }
    return {
        name: _npy_data(path, zf, info, name, headers[name])
        for info, name in zip(infos, names, strict=True)
    }


def _npy_header(path, zf, info, name):
    """(shape, fortran_order, dtype, data bytes) from a member's .npy header."""
    with zf.open(info) as fh:
        try:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            else:
                raise ValueError(f"unsupported .npy version {version}")
        except ValueError as exc:
            raise TrajectoryError(
                path, name, f"is not a .npy array ({_clipped(str(exc))})"
            ) from None
    if dtype.hasobject or dtype.kind not in _NPY_KINDS or dtype.itemsize == 0:
        raise TrajectoryError(
            path,
            name,
            f"has dtype {_shown(str(dtype))}; an .npz trajectory holds "
            "only numbers and text, never Python objects",
        )
    if any(n < 0 for n in shape):
        raise TrajectoryError(path, name, f"declares a negative shape {shape}")
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > MAX_NPZ_BYTES:
        raise TrajectoryError(
            path,
            name,
            f"declares shape {_shown(shape)} of {dtype}: {nbytes:,} bytes, "
            f"more than {MAX_NPZ_BYTES:,}",
        )
    if nbytes > info.file_size:
        raise TrajectoryError(
            path,
            name,
            f"declares {nbytes:,} bytes but the member holds {info.file_size:,}",
        )
    return shape, fortran, dtype, nbytes


def _npy_data(path, zf, info, name, header) -> np.ndarray:
    """The member's array, read as plain bytes: no pickle can be involved.

    The header is read again from the same open zip and must match the one
    checked, so a file rewritten in between cannot slip a bigger array past.
    """
    shape, fortran, dtype, nbytes = header
    with zf.open(info) as fh:
        version = np.lib.format.read_magic(fh)
        read = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        if read(fh) != (shape, fortran, dtype):
            raise TrajectoryError(path, name, "changed while it was being read")
        data = fh.read(nbytes)
        extra = fh.read(1)  # and reaching the end checks the member's CRC
    if len(data) != nbytes:
        raise TrajectoryError(path, name, "is truncated")
    if extra:
        raise TrajectoryError(path, name, "has data after its array")
    arr = np.frombuffer(data, dtype=dtype)
    return arr.reshape(shape, order="F" if fortran else "C")


def _csv_text(traj: Trajectory) -> str:
    """One row per step/epoch, for spreadsheets (export only)."""
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    if isinstance(traj, Descent):
        wr.writerow(["step", "w", "loss", "grad"])
        cols = np.column_stack([traj.w, traj.loss, traj.grad])  # (T, 3)
    elif isinstance(traj, MLPRun):
        wr.writerow(_mlp_csv_header(traj.hidden_size))
        t = traj.epochs + 1
        cols = np.column_stack(
            [
                traj.w1.reshape(t, -1),  # w1_j_k: hidden neuron j's weight on x_k
                traj.b1,
                traj.w2,
                traj.b2,
                traj.loss,
                np.swapaxes(traj.hidden, 1, 2).reshape(t, -1),  # h{j}_{x1}{x2}
                traj.predictions,
            ]
        )  # (T, 8H + 6)
    else:
        wr.writerow(
            [
                "epoch",
                "w1",
                "w2",
                "b",
                "loss",
                "p00",
                "p01",
                "p10",
                "p11",
                "grad_w1",
                "grad_w2",
                "grad_b",
            ]
        )
        cols = np.column_stack(
            [traj.w, traj.b, traj.loss, traj.predictions, traj.grad_w, traj.grad_b]
        )  # (T, 11)
    for t, row in enumerate(cols.tolist()):
        wr.writerow([t, *(repr(v) for v in row)])  # Python floats: shortest exact text
    return buf.getvalue()


def _mlp_csv_header(size: int) -> list[str]:
    """epoch, w1_j_k, b1_j, w2_j, b2, loss, hj_00..hj_11, p00..p11 (j from 1)."""
    js = range(1, size + 1)
    rows = ("00", "01", "10", "11")
    return [
        "epoch",
        *(f"w1_{j}_{k}" for j in js for k in (1, 2)),
        *(f"b1_{j}" for j in js),
        *(f"w2_{j}" for j in js),
        "b2",
        "loss",
        *(f"h{j}_{r}" for j in js for r in rows),
        *(f"p{r}" for r in rows),
    ]


def encode(traj: Trajectory, suffix: str) -> bytes:
    """The file content for `suffix` (.json, .npz or .csv)."""
    if suffix == ".json":
        return dumps(traj).encode()
    if suffix == ".npz":
        return _npz_bytes(traj)
    if suffix == ".csv":
        return _csv_text(traj).encode()
    raise ValueError(f"unknown trajectory format {suffix!r}; use {', '.join(FORMATS)}")


def save(traj: Trajectory, path) -> Path:
    """Save by extension (.json, .npz, .csv), atomically."""
    path = Path(path)
    files.atomic_write(path, encode(traj, path.suffix.lower()))
    return path


def _json_load(path: Path) -> tuple[dict, list[str]]:
    """The parsed document and any NaN/Infinity tokens it held, sizes capped first.

    NaN/Infinity tokens are not JSON: they are read as floats only so that the
    validation names the field holding one, and the file is refused after it.
    """
    size = path.stat().st_size
    if size > MAX_JSON_BYTES:
        raise TrajectoryError(
            path,
            None,
            f"is {size:,} bytes, more than a trajectory can be ({MAX_JSON_BYTES:,})",
        )
    with path.open("rb") as fh:
        data = fh.read(size + 1)  # read(n) allocates n bytes up front: not the cap
    if len(data) > size:
        raise TrajectoryError(path, None, "grew while it was being read")
    values = data.count(b",") + data.count(b"[") + data.count(b"{")
    if values > MAX_JSON_VALUES:
        raise TrajectoryError(
            path,
            None,
            f"holds about {values:,} values, more than a trajectory "
            f"can have ({MAX_JSON_VALUES:,})",
        )
    tokens: list[str] = []
    try:
        doc = json.loads(
            data.decode("utf-8"),
            parse_constant=lambda c: tokens.append(c) or float(c),
        )
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TrajectoryError(
            path, None, f"is not valid JSON ({_clipped(str(exc))})"
        ) from None
    except ValueError:  # int(): more digits than sys.get_int_max_str_digits()
        raise TrajectoryError(
            path,
            None,
            "holds an integer too long to read (over "
            f"{sys.get_int_max_str_digits()} digits)",
        ) from None
    except RecursionError:
        raise TrajectoryError(
            path, None, "nests arrays or objects too deeply to be a trajectory"
        ) from None
    except MemoryError:
        raise TrajectoryError(path, None, "is too large to read") from None
    return doc, tokens


def load(path, expect: str | None = None) -> Trajectory:
    """Load and validate a .json or .npz trajectory; TrajectoryError names the field."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise TrajectoryError(path, None, "does not exist or is not a file")
    tokens: list[str] = []
    if suffix == ".npz":
        doc = _npz_load(path)
    elif suffix == ".json":
        doc, tokens = _json_load(path)
    elif suffix == ".csv":
        raise TrajectoryError(
            path,
            None,
            f"CSV is an export for spreadsheets; replay a {' or '.join(REPLAYABLE)} "
            f"file (`neuroanim train ... -o {path.stem}.json` writes one)",
        )
    else:
        raise TrajectoryError(
            path, None, f"has an unknown extension; use {' or '.join(REPLAYABLE)}"
        )
    try:
        traj = from_dict(doc, path, expect)
    except TrajectoryError:
        raise
    except (
        ValueError,
        TypeError,
        AttributeError,
        KeyError,
        ArithmeticError,
        RecursionError,
        MemoryError,
    ) as exc:
        raise TrajectoryError(
            path, None, f"is inconsistent ({_clipped(str(exc))})"
        ) from None
    if tokens:
        raise TrajectoryError(
            path, None, f"holds a non-standard JSON token {tokens[0]}"
        )
    return traj
