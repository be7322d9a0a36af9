"""Trajectory files: strict JSON, exact round trips, .npz, CSV, and named refusals."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neuroanim import trajectory as tio
from neuroanim.cli import main
from neuroanim.core import (
    GATES,
    LANDSCAPES,
    MAX_EPOCHS,
    descend,
    get_landscape,
    preset_lr,
    train_neuron,
)
from neuroanim.trajectory import TrajectoryError

DESCENT_KEYS = [
    "schema",
    "landscape",
    "lr",
    "w0",
    "steps",
    "tol",
    "status",
    "converged_step",
    "curve",
    "w",
    "loss",
    "grad",
]
NEURON_KEYS = [
    "schema",
    "gate",
    "lr",
    "epochs",
    "seed",
    "mode",
    "status",
    "accuracy",
    "inputs",
    "targets",
    "w",
    "b",
    "loss",
    "predictions",
    "grad_w",
    "grad_b",
    "order",
]


def _strict(text: str):
    """Parse as a browser would: NaN, Infinity and -Infinity are not JSON."""

    def refuse(token):
        raise AssertionError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def _same(a, b) -> None:
    """Two trajectories hold the same values, bit for bit."""
    assert type(a) is type(b), f"{type(a).__name__} came back as {type(b).__name__}"
    for name, va in vars(a).items():
        vb = getattr(b, name)
        if isinstance(va, np.ndarray):
            assert va.shape == vb.shape and np.array_equal(va, vb), f"{name} changed"
            assert va.tobytes() == vb.astype(va.dtype).tobytes(), f"{name} lost bits"
        else:
            assert va == vb and type(va) is type(vb), (
                f"{name}: {va!r} came back as {vb!r}"
            )


@pytest.fixture(scope="module")
def runs():
    return {
        "descent": descend("bowl", None, 0.1 + 0.2, 30),  # 0.30000000000000004 exactly
        "diverged": descend("bowl", 1 / 3, preset_lr("bowl", "diverge"), 60),
        "bounce": descend("asymmetric", None, preset_lr("asymmetric", "diverge"), 30),
        "neuron": train_neuron("AND", epochs=120, seed=3),
        "per-example": train_neuron("XOR", epochs=60, seed=9, mode="per-example"),
    }


# ------------------------------------------------------------------------- JSON
def test_descent_json_is_strict_ordered_and_complete(runs):
    run = runs["diverged"]
    doc = _strict(tio.dumps(run))
    assert list(doc) == DESCENT_KEYS, f"keys {list(doc)}"
    assert doc["schema"] == "neuroanim.descent/1"
    ls = get_landscape("bowl")
    assert doc["landscape"] == {
        "name": "bowl",
        "formula": ls.formula,
        "w_min": 2.0,
        "w_range": [-1.5, 5.5],
    }, doc["landscape"]
    assert doc["status"] == "diverged" and len(doc["w"]) == run.n_steps + 1 < 61, (
        "stopped run"
    )
    curve = doc["curve"]
    assert len(curve["w"]) >= 200 and len(curve["w"]) == len(curve["loss"]), (
        "curve too sparse"
    )
    assert (curve["w"][0], curve["w"][-1]) == (-1.5, 5.5), "curve should span the plot"
    cw = np.array(curve["w"])
    assert np.all(np.diff(cw) > 0), "curve w should ascend"
    np.testing.assert_allclose(
        curve["loss"],
        1.5 * (cw - 2) ** 2,
        rtol=1e-15,
        err_msg="curve loss is not the bowl",
    )


def test_neuron_json_is_strict_ordered_and_complete(runs):
    doc = _strict(tio.dumps(runs["neuron"]))
    assert list(doc) == NEURON_KEYS, f"keys {list(doc)}"
    assert doc["schema"] == "neuroanim.neuron/1" and doc["gate"] == "AND"
    assert doc["inputs"] == [[0, 0], [0, 1], [1, 0], [1, 1]] and doc["targets"] == [
        0,
        0,
        0,
        1,
    ]
    assert len(doc["w"]) == 121 and all(len(r) == 2 for r in doc["w"]), "w is (T, 2)"
    assert len(doc["predictions"]) == 121 and len(doc["order"]) == 120, (
        "columnar lengths"
    )
    assert doc["status"] in ("learned", "failed"), doc["status"]


def test_identical_inputs_give_identical_bytes_in_every_format(runs):
    again = {
        "descent": descend("bowl", None, 0.1 + 0.2, 30),
        "per-example": train_neuron("XOR", epochs=60, seed=9, mode="per-example"),
    }
    for key, run in again.items():
        for suffix in tio.FORMATS:
            assert tio.encode(run, suffix) == tio.encode(runs[key], suffix), (
                f"{key}{suffix}: same inputs, different bytes"
            )


def test_json_bytes_do_not_depend_on_the_process(tmp_path):
    code = (
        "import sys; from neuroanim import core, trajectory as t; "
        "sys.stdout.write(t.dumps(core.train_neuron('OR', epochs=50, seed=4, "
        "mode='per-example')))"
    )
    env = dict(os.environ, PYTHONHASHSEED="123")
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    here = tio.dumps(train_neuron("OR", epochs=50, seed=4, mode="per-example"))
    assert out == here, "another process wrote different JSON for the same run"


@pytest.mark.parametrize(
    "key", ["descent", "diverged", "bounce", "neuron", "per-example"]
)
@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_round_trip_is_exact(runs, tmp_path, key, suffix):
    path = tio.save(runs[key], tmp_path / f"run{suffix}")
    _same(runs[key], tio.load(path))


def test_npz_holds_named_plain_arrays(runs, tmp_path):
    path = tio.save(runs["descent"], tmp_path / "d.npz")
    with np.load(path, allow_pickle=False) as data:
        names = set(data.files)
        assert {
            "schema",
            "landscape",
            "w",
            "loss",
            "grad",
            "curve_w",
            "curve_loss",
            "lr",
            "w0",
            "status",
        } <= names, f"npz arrays {sorted(names)}"
        assert str(data["schema"]) == "neuroanim.descent/1"
        assert np.array_equal(data["w"], runs["descent"].w), "npz w"
        assert all(data[k].dtype != object for k in data.files), "an object array"
    with zipfile.ZipFile(path) as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}, (
            "timestamps"
        )


def test_csv_is_readable_and_exact(runs, tmp_path):
    run = runs["neuron"]
    path = tio.save(run, tmp_path / "n.csv")
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert rows[0] == [
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
    ], rows[0]
    assert len(rows) == run.epochs + 2, f"{len(rows)} rows"
    body = np.array([[float(v) for v in r] for r in rows[1:]])
    assert body[:, 0].tolist() == list(range(run.epochs + 1)), "epoch column"
    want = np.column_stack(
        [run.w, run.b, run.loss, run.predictions, run.grad_w, run.grad_b]
    )
    assert np.array_equal(body[:, 1:], want), "CSV values do not read back exactly"
    d = tio.save(runs["descent"], tmp_path / "d.csv")
    drows = list(csv.DictReader(io.StringIO(d.read_text())))
    assert [float(r["w"]) for r in drows] == runs["descent"].w.tolist(), "descent CSV w"


def test_files_get_ordinary_permissions_and_no_leftovers(runs, tmp_path):
    path = tio.save(runs["neuron"], tmp_path / "n.json")
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask, oct(path.stat().st_mode)
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(OSError):
        tio.save(runs["neuron"], tmp_path / "dir.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.json", "n.json"], (
        "leftovers"
    )


# ---------------------------------------------------------------- refused files
def _write_doc(tmp_path, doc, name="bad.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def _refused(path, field: str | None, expect=None) -> str:
    with pytest.raises(TrajectoryError) as info:
        tio.load(path, expect=expect)
    msg = str(info.value)
    assert str(path) in msg, f"message does not name the file: {msg}"
    assert "\n" not in msg, f"message is more than one line: {msg!r}"
    if field is not None:
        assert f"'{field}'" in msg, f"message does not name field {field!r}: {msg}"
    return msg


def test_truncated_json_and_npz_are_refused(runs, tmp_path):
    for suffix in (".json", ".npz"):
        data = tio.encode(runs["neuron"], suffix)
        path = tmp_path / f"cut{suffix}"
        path.write_bytes(data[: len(data) // 2])
        _refused(path, None)


def test_nan_token_is_refused_naming_the_field(runs, tmp_path):
    text = tio.dumps(runs["descent"])
    path = tmp_path / "nan.json"
    path.write_text(text.replace('"w":[-1.0,', '"w":[NaN,', 1))
    assert "NaN" in path.read_text(), "tamper did not apply"
    msg = _refused(path, "w")
    assert "non-finite" in msg, msg
    path.write_text(text.replace('"tol":0.05', '"tol":Infinity', 1))
    _refused(path, "tol")
    path.write_text(text[:-2] + ',"extra":-Infinity}\n')
    assert "Infinity" in _refused(path, None), (
        "a stray token elsewhere must still be refused"
    )


@pytest.mark.parametrize(
    ("key", "tamper", "field"),
    [
        ("descent", lambda d: d.update(schema="neuroanim.descent/2"), "schema"),
        ("descent", lambda d: d.pop("grad"), "grad"),
        ("descent", lambda d: d.pop("curve"), "curve"),
        ("descent", lambda d: d["curve"].pop("loss"), "curve.loss"),
        ("descent", lambda d: d["loss"].pop(), "loss"),
        ("descent", lambda d: d.update(lr=-0.3), "lr"),
        ("descent", lambda d: d.update(lr="fast"), "lr"),
        ("descent", lambda d: d["landscape"].update(name="saddle"), "landscape.name"),
        ("descent", lambda d: d["landscape"].update(w_min=1.0), "landscape.w_min"),
        ("descent", lambda d: d["w"].__setitem__(5, d["w"][5] + 0.01), "loss[5]"),
        ("descent", lambda d: d.update(lr=0.31), "w[1]"),
        ("descent", lambda d: d.update(status="crawling"), "status"),
        ("descent", lambda d: d.update(converged_step=1), "converged_step"),
        ("descent", lambda d: d["w"].__setitem__(0, "1.0"), "w"),
        ("neuron", lambda d: d.pop("predictions"), "predictions"),
        ("neuron", lambda d: d.update(epochs=121), "order"),
        ("neuron", lambda d: d.update(gate="XAND"), "gate"),
        ("neuron", lambda d: d.update(targets=[0, 1, 1, 1]), "targets"),
        ("neuron", lambda d: d.update(mode="minibatch"), "mode"),
        (
            "neuron",
            lambda d: d["b"].__setitem__(7, d["b"][7] + 1e-6),
            "predictions[7, 0]",
        ),
        ("neuron", lambda d: d.update(lr=2.5), "w[1, 0]"),
        ("neuron", lambda d: d.update(status="failed"), "status"),
        ("per-example", lambda d: d["order"][10].reverse(), "w[11, 0]"),
        (
            "per-example",
            lambda d: d["order"][3].__setitem__(0, d["order"][3][1]),
            "order",
        ),
        ("per-example", lambda d: d.update(status="learned"), "status"),
    ],
)
def test_tampered_json_is_refused_naming_the_field(runs, tmp_path, key, tamper, field):
    doc = json.loads(tio.dumps(runs[key]))
    before = json.dumps(doc)
    tamper(doc)
    assert json.dumps(doc) != before, "the tamper changed nothing"
    _refused(_write_doc(tmp_path, doc), field)


def test_wrong_kind_is_refused(runs, tmp_path):
    path = tio.save(runs["descent"], tmp_path / "d.json")
    assert "needs a neuron" in _refused(path, "schema", expect="neuron")
    path = tio.save(runs["neuron"], tmp_path / "n.npz")
    assert "needs a descent" in _refused(path, "schema", expect="descent")
    _refused(_write_doc(tmp_path, [1, 2, 3]), None)
    _refused(_write_doc(tmp_path, {"w": [1.0]}), "schema")


def test_tampered_npz_is_refused_naming_the_field(runs, tmp_path):
    good = tio.save(runs["neuron"], tmp_path / "good.npz")
    with np.load(good, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    short = dict(arrays, loss=arrays["loss"][:-1])
    np.savez(tmp_path / "short.npz", **short)
    _refused(tmp_path / "short.npz", "loss")
    missing = {k: v for k, v in arrays.items() if k != "grad_b"}
    np.savez(tmp_path / "missing.npz", **missing)
    _refused(tmp_path / "missing.npz", "grad_b")
    nan = dict(
        arrays, b=np.where(np.arange(len(arrays["b"])) == 4, np.nan, arrays["b"])
    )
    np.savez(tmp_path / "nan.npz", **nan)
    _refused(tmp_path / "nan.npz", "b")
    pickled = dict(arrays, gate=np.array([{"gate": "AND"}], dtype=object))
    np.savez(tmp_path / "pickled.npz", **pickled)
    assert "npz" in _refused(tmp_path / "pickled.npz", None), (
        "object arrays must not load"
    )


def test_missing_file_and_unknown_extension_are_refused(runs, tmp_path):
    _refused(tmp_path / "nope.json", None)
    path = tmp_path / "n.txt"
    path.write_text(tio.dumps(runs["neuron"]))
    assert ".json or .npz" in _refused(path, None)


def test_a_csv_export_is_refused_as_a_replay_with_a_way_forward(runs, tmp_path):
    path = tio.save(runs["neuron"], tmp_path / "and.csv")
    msg = _refused(path, None)
    assert "CSV is an export for spreadsheets" in msg, msg
    assert "replay a .json or .npz file" in msg and "-o and.json" in msg, msg


def test_render_refuses_a_csv_trajectory_in_one_line_naming_the_flag(tmp_path):
    csv_path, video = tmp_path / "and.csv", tmp_path / "and.gif"
    runner = CliRunner()
    trained = runner.invoke(
        main, ["train", "neuron", "--epochs", "20", "-o", str(csv_path)]
    )
    assert trained.exit_code == 0 and csv_path.is_file(), trained.output
    result = runner.invoke(
        main, ["render", "and-gate", "--trajectory", str(csv_path), "-o", str(video)]
    )
    assert result.exit_code == 2, f"exit {result.exit_code}: {result.output}"
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert "--trajectory" in lines[0] and str(csv_path) in lines[0], lines[0]
    assert "CSV is an export for spreadsheets" in lines[0], lines[0]
    assert not video.exists(), "a refused render wrote a file"


# ------------------------------------------------------ oversized and hostile files
def _refused_cheaply(path, field: str | None, allowed: int = 4 << 20) -> str:
    """`_refused`, within 2 s and without allocating more than `allowed` bytes."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        msg = _refused(path, field)
    finally:
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak <= allowed, f"refusing {path.name} allocated {peak / 2**20:.0f} MiB"
    assert elapsed < 2, f"refusing {path.name} took {elapsed:.1f} s"
    return msg


def test_the_caps_leave_four_times_room_for_the_largest_real_run():
    # Full-precision floats (a per-example XOR run) and 1000-epoch steps,
    # extrapolated to MAX_EPOCHS: the largest file `train neuron` can write.
    small, big = (
        train_neuron("XOR", lr=7.3, epochs=n, seed=5, mode="per-example")
        for n in (1000, 2000)
    )

    def values(run):
        text = tio.dumps(run)
        return text.count(",") + text.count("[") + text.count("{")

    for what, size, cap in [
        ("JSON bytes", lambda r: len(tio.dumps(r)), tio.MAX_JSON_BYTES),
        ("JSON values", values, tio.MAX_JSON_VALUES),
        (".npz bytes", lambda r: len(tio.encode(r, ".npz")), tio.MAX_NPZ_BYTES),
    ]:
        per_epoch = (size(big) - size(small)) / 1000
        largest = size(big) + per_epoch * (MAX_EPOCHS - big.epochs)
        assert 3.5 * largest <= cap <= 6 * largest, (
            f"{what}: cap {cap:,} for a largest real file of {largest:,.0f}"
        )


def test_json_over_the_size_cap_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.json"
    with path.open("wb") as fh:  # sparse: takes no disk
        fh.truncate(tio.MAX_JSON_BYTES + 1)
    assert "bytes" in _refused_cheaply(path, None)


def test_json_holding_millions_of_tiny_values_is_refused_before_parsing(tmp_path):
    # 12 MB of "[]," (two counted values each) would make json.loads build
    # ~300 MB of empty lists.
    path = tmp_path / "lists.json"
    path.write_text("[" + "[]," * (tio.MAX_JSON_VALUES // 2 + 1) + "[]]")
    size = path.stat().st_size
    assert size < tio.MAX_JSON_BYTES, "the file must pass the byte cap"
    msg = _refused_cheaply(path, None, allowed=size + (4 << 20))
    assert "values" in msg, msg


def test_json_integer_of_5001_digits_is_refused_naming_the_file(runs, tmp_path):
    text = tio.dumps(runs["neuron"])
    path = tmp_path / "digits.json"
    path.write_text(text.replace('"seed":3', '"seed":' + "9" * 5001, 1))
    assert "9" * 5001 in path.read_text(), "tamper did not apply"
    assert "digits" in _refused(path, None)


def test_json_integer_too_big_for_a_float_is_refused_naming_the_field(runs, tmp_path):
    text = tio.dumps(runs["neuron"])
    path = tmp_path / "big.json"
    path.write_text(text.replace('"epochs":120', '"epochs":' + "9" * 4000, 1))
    msg = _refused(path, "epochs")
    assert "too large" in msg, msg
    assert len(msg) < len(str(path)) + 200, f"message repeats the number: {msg}"


def test_json_nested_100000_deep_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"schema":' + "[" * 100_000 + "]" * 100_000 + "}")
    assert "deeply" in _refused(path, None)


def _good_members(runs, tmp_path) -> dict[str, bytes]:
    good = tio.save(runs["neuron"], tmp_path / "good.npz")
    with zipfile.ZipFile(good) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _write_npz(path, members, comment: bytes = b"") -> Path:
    """A deflated zip of (name, member) pairs, duplicates allowed.

    A member is the bytes of a whole .npy file, or (shape, n): a float64 header
    declaring `shape` followed by n zero bytes, which deflate to ~1/1000th.
    """
    zero = bytes(1 << 20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, member in members:
                with zf.open(name, "w", force_zip64=True) as fh:
                    if isinstance(member, bytes):
                        fh.write(member)
                        continue
                    shape, n = member
                    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
                    np.lib.format.write_array_header_1_0(fh, header)
                    for start in range(0, n, len(zero)):
                        fh.write(zero[: min(len(zero), n - start)])
            zf.comment = comment
    return path


_CAP = tio.MAX_NPZ_BYTES


@pytest.mark.parametrize(
    ("case", "field", "words"),
    [
        ("an array declared at 2 GiB", "w", "declares"),
        ("a member unpacking past the cap", "w", "unpacks"),
        ("members unpacking past the cap together", None, "unpacks"),
        ("an unknown member", None, "unexpected member"),
        ("a member stored twice", "w", "twice"),
        ("too many members", None, "members"),
        ("a zip directory of thousands of entries", None, "directory"),
        ("a zip comment", None, "comment"),
        ("a file over the cap", None, "bytes"),
    ],
)
def test_hostile_npz_is_refused_before_decompressing(
    runs, tmp_path, case, field, words
):
    good = _good_members(runs, tmp_path)
    members = list(good.items())
    swap = {}
    comment = b""
    if case == "an array declared at 2 GiB":
        swap = {"w.npy": ((2**28,), 1 << 20)}  # 2 GiB declared, 1 MiB held
    elif case == "a member unpacking past the cap":
        swap = {"w.npy": ((_CAP // 8 + 1,), _CAP + 8)}  # the whole bomb, honest
    elif case == "members unpacking past the cap together":
        n = _CAP // 3 // 8 + 1
        swap = {k: ((n,), 8 * n) for k in ("w.npy", "b.npy", "loss.npy")}
    elif case == "an unknown member":
        members.append(("evil.npy", good["w.npy"]))
    elif case == "a member stored twice":
        members.append(("w.npy", good["w.npy"]))
    elif case == "too many members":
        members += [(f"extra{i}.npy", good["w.npy"]) for i in range(12)]
    elif case == "a zip directory of thousands of entries":
        members += [(f"{i}.npy", b"") for i in range(3000)]
    elif case == "a zip comment":
        comment = b"hello"
    members = [(name, swap.get(name, m)) for name, m in members]
    path = _write_npz(tmp_path / "hostile.npz", members, comment)
    if case == "a file over the cap":
        with path.open("r+b") as fh:  # sparse: takes no disk
            fh.truncate(_CAP + 1)
    assert path.stat().st_blocks * 512 < 8 << 20, "the test file should stay small"
    msg = _refused_cheaply(path, field)
    assert words in msg, msg


def test_npz_written_by_numpy_itself_loads(runs, tmp_path):
    run = runs["per-example"]
    plain = tio.save(run, tmp_path / "plain.npz")
    with np.load(plain, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    np.savez_compressed(tmp_path / "packed.npz", **arrays)
    _same(run, tio.load(tmp_path / "packed.npz"))
    fortran = {k: np.asfortranarray(v) if v.ndim == 2 else v for k, v in arrays.items()}
    np.savez(tmp_path / "fortran.npz", **fortran)
    _same(run, tio.load(tmp_path / "fortran.npz"))


# ------------------------------------------------------------------- properties
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    name=st.sampled_from(sorted(LANDSCAPES)),
    lr=st.floats(1e-5, 1e3),
    start=st.floats(-0.5, 1.5),
    steps=st.integers(0, 150),
)
def test_any_descent_file_is_strict_and_loads_back_equal(
    tmp_path, name, lr, start, steps
):
    ls = get_landscape(name)
    run = descend(
        ls, ls.w_range[0] + start * (ls.w_range[1] - ls.w_range[0]), lr, steps
    )
    text = tio.dumps(run)
    _strict(text)
    for suffix in (".json", ".npz"):
        _same(run, tio.load(tio.save(run, tmp_path / f"p{suffix}")))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    gate=st.sampled_from(GATES),
    lr=st.floats(1e-3, 1e3),
    epochs=st.integers(1, 30),
    seed=st.integers(0, 2**32 - 1),
    mode=st.sampled_from(["batch", "per-example"]),
)
def test_any_neuron_file_is_strict_and_loads_back_equal(
    tmp_path, gate, lr, epochs, seed, mode
):
    run = train_neuron(gate, lr=lr, epochs=epochs, seed=seed, mode=mode)
    _strict(tio.dumps(run))
    for suffix in (".json", ".npz"):
        _same(run, tio.load(tio.save(run, tmp_path / f"p{suffix}")))


# ------------------------------------------------------------------ layering
def test_core_trajectory_registry_and_cli_import_no_manim():
    code = (
        "import sys, neuroanim.core, neuroanim.trajectory, neuroanim.registry, "
        "neuroanim.cli; print('manim' in sys.modules, "
        "sorted(m for m in sys.modules if m.startswith('manim'))[:3])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("False"), f"importing the CLI pulled in manim: {out}"
