"""`neuroanim train` through click's CliRunner: formats, summaries and refusals."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from click.testing import CliRunner

from neuroanim import trajectory as tio
from neuroanim.cli import main
from neuroanim.core import descend, preset_lr, train_neuron


def _run(*args):
    return CliRunner().invoke(main, list(args))


def _strict(text: str):
    def refuse(token):
        raise AssertionError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def _summary_line(result) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, (
        f"expected a one-line summary on stderr, got {result.stderr!r}"
    )
    return lines[0]


# ------------------------------------------------------------------------ descent
def test_descent_writes_json_by_extension_and_summarises(tmp_path):
    out = tmp_path / "ball.json"
    result = _run("train", "descent", "--lr", "0.5", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == "", f"nothing belongs on stdout with -o: {result.stdout!r}"
    run = tio.load(out, expect="descent")
    ref = descend("bowl", None, 0.5, 30)
    assert np.array_equal(run.w, ref.w) and run.status == "overshooting", run.status
    line = _summary_line(result)
    assert "overshooting" in line and f"{ref.loss[-1]:.4g}" in line, line
    assert f"{ref.w[-1]:.4f}" in line, f"summary lacks the final weight: {line}"


def test_descent_json_goes_to_stdout_without_output():
    result = _run("train", "descent", "--preset", "bouncy", "--landscape", "asymmetric")
    assert result.exit_code == 0, result.output
    doc = _strict(result.stdout)
    assert (
        doc["schema"] == "neuroanim.descent/1"
        and doc["landscape"]["name"] == "asymmetric"
    )
    assert doc["lr"] == preset_lr("asymmetric", "bouncy"), doc["lr"]
    assert doc["status"] == "overshooting", doc["status"]
    _summary_line(result)


def test_descent_default_is_the_good_preset_on_the_bowl():
    doc = _strict(_run("train", "descent").stdout)
    assert doc["lr"] == preset_lr("bowl", "good") and doc["status"] == "converged", doc[
        "lr"
    ]


@pytest.mark.parametrize("suffix", [".npz", ".csv", ".JSON"])
def test_descent_other_formats(tmp_path, suffix):
    out = tmp_path / f"ball{suffix}"
    result = _run("train", "descent", "--w0", "4.5", "--steps", "12", "-o", str(out))
    assert result.exit_code == 0, result.output
    ref = descend("bowl", 4.5, preset_lr("bowl", "good"), 12)
    if suffix == ".csv":
        rows = list(csv.DictReader(io.StringIO(out.read_text())))
        assert [float(r["w"]) for r in rows] == ref.w.tolist(), "CSV w column"
    elif suffix == ".npz":
        with np.load(out, allow_pickle=False) as data:
            assert np.array_equal(data["w"], ref.w), "npz w"
    else:
        assert _strict(out.read_text())["w"] == ref.w.tolist(), "upper-case .JSON"


# ------------------------------------------------------------------------- neuron
def test_neuron_writes_the_run_the_library_trains(tmp_path):
    out = tmp_path / "and.json"
    result = _run(
        "train",
        "neuron",
        "--gate",
        "and",
        "--epochs",
        "500",
        "--seed",
        "4",
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.output
    run = tio.load(out, expect="neuron")
    ref = train_neuron("AND", epochs=500, seed=4)
    assert np.array_equal(run.w, ref.w) and np.array_equal(run.b, ref.b), (
        "different run"
    )
    line = _summary_line(result)
    w, b = ref.w[-1], ref.b[-1]
    for part in (
        f"{ref.loss[-1]:.4f}",
        f"{w[0]:.3f}",
        f"{w[1]:.3f}",
        f"{b:.3f}",
        ref.status,
    ):
        assert part in line, f"summary lacks {part!r}: {line}"


def test_neuron_json_to_stdout_and_xor_reported_as_failed():
    result = _run("train", "neuron", "--gate", "XOR", "--epochs", "300")
    assert result.exit_code == 0, result.output
    doc = _strict(result.stdout)
    assert doc["gate"] == "XOR" and doc["status"] == "failed", doc["status"]
    assert "failed" in _summary_line(result)


def test_neuron_output_is_byte_identical_across_runs(tmp_path):
    for name in ("a", "b"):
        for suffix in (".json", ".npz", ".csv"):
            result = _run(
                "train",
                "neuron",
                "--mode",
                "per-example",
                "--seed",
                "6",
                "--epochs",
                "200",
                "-o",
                str(tmp_path / f"{name}{suffix}"),
            )
            assert result.exit_code == 0, result.output
    for suffix in (".json", ".npz", ".csv"):
        a, b = (
            (tmp_path / f"a{suffix}").read_bytes(),
            (tmp_path / f"b{suffix}").read_bytes(),
        )
        assert a == b, f"{suffix}: two identical commands wrote different bytes"
    other = _run(
        "train", "neuron", "--mode", "per-example", "--seed", "7", "--epochs", "200"
    )
    assert (
        _strict(other.stdout)["order"]
        != json.loads((tmp_path / "a.json").read_text())["order"]
    )


# ---------------------------------------------------------------------- refusals
@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["descent", "--lr", "0"], "--lr"),
        (["descent", "--lr", "-0.5"], "--lr"),
        (["descent", "--lr", "nan"], "--lr"),
        (["descent", "--lr", "inf"], "--lr"),
        (["descent", "--lr", "fast"], "--lr"),
        (["descent", "--lr", "0.5", "--preset", "good"], "--preset"),
        (["descent", "--preset", "wild"], "--preset"),
        (["descent", "--landscape", "saddle"], "--landscape"),
        (["descent", "--landscape", "asymmetric", "--w0", "900"], "--w0"),
        (["descent", "--steps", "0"], "--steps"),
        (["neuron", "--lr", "0"], "--lr"),
        (["neuron", "--lr", "-1e-3"], "--lr"),
        (["neuron", "--lr", "Infinity"], "--lr"),
        (["neuron", "--epochs", "0"], "--epochs"),
        (["neuron", "--epochs", "1000000000"], "--epochs"),
        (["neuron", "--epochs", "2.5"], "--epochs"),
        (["neuron", "--gate", "XAND"], "--gate"),
        (["neuron", "--seed", "-3"], "--seed"),
        (["neuron", "--mode", "minibatch"], "--mode"),
    ],
)
def test_bad_values_give_one_error_line_and_no_file(tmp_path, args, flag):
    out = tmp_path / "run.json"
    result = _run("train", *args, "-o", str(out))
    assert result.exit_code == 2, f"exit {result.exit_code}: {result.output}"
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:"), (
        f"stderr {result.stderr!r}"
    )
    assert flag in lines[0], f"the error should name {flag}: {lines[0]}"
    assert "Traceback" not in result.output and result.stdout == "", result.output
    assert list(tmp_path.iterdir()) == [], "a file was left behind"


@pytest.mark.parametrize("cmd", ["descent", "neuron"])
def test_bad_output_paths_give_one_error_line_and_no_file(tmp_path, cmd):
    (tmp_path / "taken.json").mkdir()
    for target in (
        tmp_path / "run.txt",
        tmp_path / "missing" / "run.json",
        tmp_path / "taken.json",
    ):
        result = _run(
            "train",
            cmd,
            "--epochs" if cmd == "neuron" else "--steps",
            "5",
            "-o",
            str(target),
        )
        assert result.exit_code == 2, (
            f"{target}: exit {result.exit_code} {result.output}"
        )
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: -o"), (
            f"{target}: {lines}"
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.json"], (
        "a file was left behind"
    )
    assert list((tmp_path / "taken.json").iterdir()) == [], "wrote into the directory"


def test_unwritable_output_gives_one_error_line():
    result = _run("train", "neuron", "--epochs", "5", "-o", "/proc/neuroanim-run.json")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error: -o") and result.stderr.count("\n") == 1, (
        result.stderr
    )


def test_train_commands_have_help_with_an_example():
    for cmd in ("descent", "neuron"):
        result = _run("train", cmd, "--help")
        assert result.exit_code == 0 and "Example:" in result.output, result.output
        assert "-o, --output" in result.output, f"{cmd} help lacks -o"
