"""Trajectories on disk: strict JSON, .npz and CSV, validated on load.

JSON is the exchange format (course pages' own widgets read it): no NaN/Infinity
tokens, a schema id, a fixed key order, floats written with `repr` so they
round-trip exactly, columnar arrays. Identical runs give identical bytes.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .core import Descent, NeuronRun, get_landscape
from .errors import UserError
from .core.datasets import GATES
from .core.descent import STATUSES
from .core.neuron import MODES

DESCENT_SCHEMA = "neuroanim.descent/1"
NEURON_SCHEMA = "neuroanim.neuron/1"
CURVE_POINTS = 241
FORMATS = (".json", ".npz", ".csv")

Trajectory = Descent | NeuronRun


class TrajectoryError(UserError):
    """A trajectory file that cannot be used; the message names file and field."""

    def __init__(self, path, field: str | None, problem: str):
        self.path, self.field, self.problem = path, field, problem
        where = f"{path}: " if path is not None else ""
        what = f"field '{field}' " if field else ""
        super().__init__(f"{where}{what}{problem}")


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
                "w_range": list(ls.w_range),
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
    raise TypeError(f"not a trajectory: {type(traj).__name__}")


def dumps(traj: Trajectory) -> str:
    """Strict JSON text (allow_nan=False: a non-finite value is an error)."""
    return json.dumps(to_dict(traj), allow_nan=False, separators=(",", ":")) + "\n"


# --------------------------------------------------------------------- from dicts
def _field(doc: dict, name: str, path):
    if name not in doc:
        raise TrajectoryError(path, name, "is missing")
    return doc[name]


def _array(doc, name, path, shape, dtype=float) -> np.ndarray:
    raw = _field(doc, name, path)
    try:
        arr = np.asarray(raw, dtype=dtype)
    except (TypeError, ValueError):
        raise TrajectoryError(path, name, "is not an array of numbers") from None
    if arr.dtype == object:
        raise TrajectoryError(path, name, "is not an array of numbers")
    if arr.ndim != len(shape) or any(
        want is not None and got != want for got, want in zip(arr.shape, shape)
    ):
        want = "x".join("?" if s is None else str(s) for s in shape)
        got = "x".join(map(str, arr.shape)) or "scalar"
        raise TrajectoryError(path, name, f"has shape {got}, expected {want}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise TrajectoryError(path, name, "holds a non-finite number")
    return arr


def _number(doc, name, path, *, positive=False, integer=False) -> float:
    v = _field(doc, name, path)
    if isinstance(v, np.ndarray) and v.ndim == 0:
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, int | float | np.number):
        raise TrajectoryError(path, name, f"must be a number, got {v!r}")
    if not math.isfinite(float(v)) or (positive and v <= 0):
        raise TrajectoryError(path, name, f"must be a {'positive ' if positive else ''}finite number")
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
        raise TrajectoryError(path, name, f"is {v!r}, expected one of {', '.join(choices)}")
    return v


def from_dict(doc: dict, path=None, expect: str | None = None) -> Trajectory:
    """Validate a parsed document and rebuild its trajectory.

    `expect` ("descent" or "neuron") rejects the other kind with a clear message.
    """
    if not isinstance(doc, dict):
        raise TrajectoryError(path, None, "is not a neuroanim trajectory (not an object)")
    schema = _field(doc, "schema", path)
    if isinstance(schema, np.ndarray):
        schema = schema.item()
    kinds = {DESCENT_SCHEMA: "descent", NEURON_SCHEMA: "neuron"}
    if schema not in kinds:
        raise TrajectoryError(
            path, "schema", f"is {schema!r}, expected {DESCENT_SCHEMA} or {NEURON_SCHEMA}"
        )
    kind = kinds[schema]
    if expect is not None and kind != expect:
        raise TrajectoryError(
            path, "schema", f"is a {kind} trajectory; this needs a {expect} trajectory"
        )
    if kind == "descent":
        return _descent_from(doc, path)
    return _neuron_from(doc, path)


def _descent_from(doc, path) -> Descent:
    land = _field(doc, "landscape", path)
    name = land.get("name") if isinstance(land, dict) else land
    if isinstance(name, np.ndarray):
        name = name.item()
    try:
        get_landscape(name)
    except (KeyError, TypeError):
        raise TrajectoryError(path, "landscape", f"names an unknown landscape {name!r}") from None
    w = _array(doc, "w", path, (None,))
    t = len(w)
    if t < 1:
        raise TrajectoryError(path, "w", "is empty")
    loss = _array(doc, "loss", path, (t,))
    grad = _array(doc, "grad", path, (t,))
    cs = doc.get("converged_step")
    if isinstance(cs, np.ndarray):
        cs = cs.item()
    if cs is not None and cs != -1:
        cs = _number(doc, "converged_step", path, integer=True)
        if not 0 <= cs < t:
            raise TrajectoryError(path, "converged_step", f"is {cs}, outside 0..{t - 1}")
    else:
        cs = None
    steps = _number(doc, "steps", path, integer=True)
    if steps < t - 1:
        raise TrajectoryError(path, "steps", f"is {steps} but {t - 1} steps are recorded")
    return Descent(
        landscape=name,
        lr=_number(doc, "lr", path, positive=True),
        w0=_number(doc, "w0", path),
        steps=steps,
        tol=_number(doc, "tol", path, positive=True),
        w=w,
        loss=loss,
        grad=grad,
        status=_text(doc, "status", path, STATUSES),
        converged_step=cs,
    )


def _neuron_from(doc, path) -> NeuronRun:
    epochs = _number(doc, "epochs", path, integer=True)
    if epochs < 1:
        raise TrajectoryError(path, "epochs", "must be at least 1")
    t = epochs + 1
    gate = _text(doc, "gate", path, GATES)
    order = _array(doc, "order", path, (epochs, 4), dtype=float)
    if not np.all(np.sort(order, axis=1) == np.arange(4)):
        raise TrajectoryError(path, "order", "rows must each hold 0, 1, 2, 3 once")
    return NeuronRun(
        gate=gate,
        lr=_number(doc, "lr", path, positive=True),
        epochs=epochs,
        seed=_number(doc, "seed", path, integer=True),
        mode=_text(doc, "mode", path, MODES),
        inputs=_array(doc, "inputs", path, (4, 2)),
        targets=_array(doc, "targets", path, (4,)),
        w=_array(doc, "w", path, (t, 2)),
        b=_array(doc, "b", path, (t,)),
        loss=_array(doc, "loss", path, (t,)),
        predictions=_array(doc, "predictions", path, (t, 4)),
        grad_w=_array(doc, "grad_w", path, (t, 2)),
        grad_b=_array(doc, "grad_b", path, (t,)),
        order=order.astype(np.int64),
    )


# -------------------------------------------------------------------- npz and csv
def _npz_bytes(traj: Trajectory) -> bytes:
    doc = to_dict(traj)
    arrays = {}
    for key, val in doc.items():
        if key == "landscape":
            arrays["landscape"] = np.array(val["name"])
        elif key == "curve":
            arrays["curve_w"] = np.asarray(val["w"])
            arrays["curve_loss"] = np.asarray(val["loss"])
        elif key == "converged_step":
            arrays[key] = np.array(-1 if val is None else val)
        elif isinstance(val, str):
            arrays[key] = np.array(val)
        else:
            arrays[key] = np.asarray(val)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _npz_load(path: Path) -> dict:
    try:
        with np.load(path, allow_pickle=False) as data:
            doc = {k: data[k] for k in data.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise TrajectoryError(path, None, f"is not a readable .npz file ({exc})") from None
    out = {}
    for k, v in doc.items():
        if v.ndim == 0 and v.dtype.kind in "US":
            out[k] = str(v)
        elif v.ndim == 0:
            out[k] = v.item()
        else:
            out[k] = v
    return out


def _csv_text(traj: Trajectory) -> str:
    """One row per step/epoch, for spreadsheets (export only)."""
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    if isinstance(traj, Descent):
        wr.writerow(["step", "w", "loss", "grad"])
        for t in range(len(traj.w)):
            wr.writerow([t, repr(traj.w[t]), repr(traj.loss[t]), repr(traj.grad[t])])
    else:
        wr.writerow(
            ["epoch", "w1", "w2", "b", "loss", "p00", "p01", "p10", "p11",
             "grad_w1", "grad_w2", "grad_b"]
        )
        for t in range(traj.epochs + 1):
            row = [traj.w[t, 0], traj.w[t, 1], traj.b[t], traj.loss[t],
                   *traj.predictions[t], traj.grad_w[t, 0], traj.grad_w[t, 1],
                   traj.grad_b[t]]
            wr.writerow([t, *(repr(float(v)) for v in row)])
    return buf.getvalue()


def encode(traj: Trajectory, suffix: str) -> bytes:
    """The file content for `suffix` (.json, .npz or .csv)."""
    if suffix == ".json":
        return dumps(traj).encode()
    if suffix == ".npz":
        return _npz_bytes(traj)
    if suffix == ".csv":
        return _csv_text(traj).encode()
    raise ValueError(f"unknown trajectory format {suffix!r}; use {', '.join(FORMATS)}")


def atomic_write(path: Path, data: bytes) -> None:
    """Write beside `path` under a temporary name, then rename into place."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(traj: Trajectory, path) -> Path:
    """Save by extension (.json, .npz, .csv), atomically."""
    path = Path(path)
    atomic_write(path, encode(traj, path.suffix.lower()))
    return path


def load(path, expect: str | None = None) -> Trajectory:
    """Load and validate a .json or .npz trajectory; TrajectoryError names the field."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise TrajectoryError(path, None, "does not exist")
    if suffix == ".npz":
        doc = _npz_load(path)
    elif suffix == ".json":
        try:
            doc = json.loads(
                path.read_text(encoding="utf-8"),
                parse_constant=lambda c: _reject_constant(path, c),
            )
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise TrajectoryError(path, None, f"is not valid JSON ({exc})") from None
    else:
        raise TrajectoryError(path, None, "has an unknown extension; use .json or .npz")
    try:
        return from_dict(doc, path, expect)
    except TrajectoryError:
        raise
    except (ValueError, TypeError, AttributeError) as exc:
        raise TrajectoryError(path, None, f"is inconsistent ({exc})") from None


def _reject_constant(path, token):
    raise TrajectoryError(path, None, f"holds a non-standard JSON token {token}")
