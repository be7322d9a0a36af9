"""The no-op fast path: answered without imports only when nothing it depends on moved."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from neuroanim import nochange

ROOT = Path(__file__).resolve().parents[1]


def test_a_record_answers_only_while_every_file_is_as_it_was(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROANIM_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("one")
    b.write_text("two")
    argv = ["build", "l.toml"]
    nochange.record(argv, [a, b], ["line 1", "done in {seconds} s"])
    assert nochange.unchanged(argv) == ["line 1", "done in {seconds} s"]
    assert nochange.unchanged(["build", "other.toml"]) is None, "another command"
    st = os.stat(a)
    os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # same bytes, touched
    assert nochange.unchanged(argv) is None
    nochange.record(argv, [a, b], ["x"])
    b.unlink()
    assert nochange.unchanged(argv) is None, "a file went missing"
    nochange.record(argv, [a, tmp_path / "later"], ["x"])
    assert nochange.unchanged(argv) == ["x"]
    (tmp_path / "later").write_text("new")  # a file that appears counts as a change
    assert nochange.unchanged(argv) is None
    nochange.record(argv, [a], ["x"])
    nochange.forget(argv)
    assert nochange.unchanged(argv) is None


@pytest.mark.parametrize("args, fast", [
    (["build"], ["build"]),
    (["build", "l.toml", "-o", "out", "-j", "2"], ["build", "l.toml", "-o", "out",
                                                    "-j", "2"]),
    (["build", "--force"], None), (["build", "--only", "x"], None),
    (["build", "-n"], None), (["build", "a", "b"], None), (["list"], None),
    (["build", "--scenes", "d"], None), (["--debug", "build"], None), ([], None),
])
def test_only_a_plain_build_command_takes_the_fast_path(args, fast):
    assert nochange.fast_argv(args) == fast


LESSON = '''
[defaults]
resolution = "320x180"

[[figure]]
name = "g"
scene = "and-gate"
formats = ["png"]
options = { trajectory = "run.json" }
'''

RUN = ("import sys, atexit; sys.argv = ['neuroanim', 'build', 'l.toml', '-o', 'out']; "
       "atexit.register(lambda: print('numpy' in sys.modules, file=sys.stderr)); "
       "from neuroanim.command import main; main()")


def _build(cwd: Path) -> tuple[str, bool]:
    env = {**os.environ, "NEUROANIM_CACHE": str(cwd / "cache")}
    done = subprocess.run([sys.executable, "-c", RUN], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr.strip().splitlines()[-1] == "True"


def _train(cwd: Path, seed: int) -> None:
    subprocess.run([str(Path(sys.executable).parent / "neuroanim"), "train", "neuron",
                    "--seed", str(seed), "--epochs", "300", "-o", "run.json"],
                   cwd=cwd, check=True, capture_output=True)


@pytest.mark.render
def test_a_repeated_build_answers_without_imports_until_an_input_changes(tmp_path):
    (tmp_path / "l.toml").write_text(LESSON)
    _train(tmp_path, 0)
    out, _ = _build(tmp_path)
    assert "done" in out and "g.png" in out, out
    first = (tmp_path / "out" / "g.png").read_bytes()
    out, numpy = _build(tmp_path)  # nothing changed: the record answers
    assert "1 unchanged" in out and "skipped" in out and not numpy, out
    _train(tmp_path, 1)  # the replayed run changed: the real build, a new still
    out, numpy = _build(tmp_path)
    assert "done" in out and numpy, out
    assert (tmp_path / "out" / "g.png").read_bytes() != first
    (tmp_path / "out" / "g.png").unlink()  # an output removed: rendered again
    out, _ = _build(tmp_path)
    assert "done" in out and (tmp_path / "out" / "g.png").is_file(), out
