"""The `neuroanim` command: help everywhere, generated options, one-line errors."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from neuroanim import __version__, registry
from neuroanim import render as rd
from neuroanim.cli import main
from neuroanim.errors import UserError
from neuroanim.page import human_size
from tests import tiny_scene  # registers "tiny"

ROOT = Path(__file__).resolve().parents[1]
NEUROANIM = [sys.executable, "-m", "neuroanim.cli"]
TINY = ["--resolution", "160x90", "--fps", "5"]
# The CLI with the tiny test scene registered, for subprocess checks.
WITH_TINY = [sys.executable, "-c",
             "import sys; sys.argv[0] = 'neuroanim'; import tests.tiny_scene; "
             "from neuroanim.cli import main; main()"]
COMMON = {"fmt", "quality", "theme", "transparent", "out", "fps", "resolution",
          "verbose"}


def run(*args: str) -> click.testing.Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=True)


def subprocess_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def walk(cmd: click.Command, ctx: click.Context, path: tuple[str, ...] = ()):
    """Every command and subcommand below `cmd`, with its command path."""
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            assert sub is not None, f"{' '.join(path + (name,))} is listed but missing"
            yield from walk(sub, click.Context(sub, parent=ctx, info_name=name),
                            path + (name,))


# ------------------------------------------------------------- version, help
def test_version():
    res = run("--version")
    assert res.exit_code == 0 and __version__ in res.output, res.output


def test_help_lists_the_commands():
    res = run("--help")
    assert res.exit_code == 0, res.output
    for name in ("list", "render", "train"):
        assert name in res.output, f"{name} missing from --help"


def test_every_command_and_option_has_help():
    root = click.Context(main, info_name="neuroanim")
    seen = []
    for path, cmd in walk(main, root):
        name = " ".join(("neuroanim",) + path)
        seen.append(name)
        assert (cmd.help or "").strip(), f"{name} has no help text"
        if path:
            assert "Example" in cmd.help, f"{name}: help has no Example block"
        for p in cmd.params:
            if isinstance(p, click.Option) and "--help" not in p.opts:
                assert (p.help or "").strip(), f"{name} {p.opts[0]} has no help"
        res = run(*path, "--help")
        assert res.exit_code == 0 and "Usage:" in res.output, f"{name} --help failed"
    assert "neuroanim render tiny" in seen, seen


def test_bare_groups_show_their_help_without_an_error_line():
    res = run("render")
    assert "Usage:" in res.output and "Error" not in res.output, res.output


# ----------------------------------------------------------------------- list
def test_list_shows_every_scene_and_parameter():
    res = run("list")
    assert res.exit_code == 0, res.output
    blocks = {}
    for line in res.output.splitlines():
        if not line.startswith(" "):
            name = line.split()[0]
            blocks[name] = [line]
        else:
            blocks[name].append(line)
    assert set(blocks) == set(registry.scenes()), set(blocks) ^ set(registry.scenes())
    for spec in registry.scenes().values():
        head, *rows = blocks[spec.name]
        assert spec.description in head, f"{spec.name}: no description"
        assert len(rows) == len(spec.params), f"{spec.name}: {rows}"
        for p, row in zip(spec.params, rows, strict=True):
            cells = row.split()
            assert cells[0] == p.flag and cells[1] == p.type_name(), row
            default = p.default if p.default not in (None, ()) else None
            if default is not None:
                assert f"default {default}" in row, f"{p.flag}: {row}"
            else:
                assert "default none" in row or "default derived" in row, row


# ------------------------------------------------------------ render options
@pytest.mark.parametrize("name", list(registry.scenes()))
def test_render_options_come_from_the_param_spec(name):
    spec = registry.scenes()[name]
    ctx = click.Context(main, info_name="neuroanim")
    cmd = main.get_command(ctx, "render").get_command(ctx, name)
    names = {p.name for p in cmd.params}
    assert {p.name for p in spec.params} <= names, f"{name}: missing scene options"
    assert COMMON <= names, f"{name}: missing common options {COMMON - names}"
    flags = {o for p in cmd.params for o in p.opts}
    for p in spec.params:
        assert p.flag in flags, f"{name}: no {p.flag}"
        opt = next(o for o in cmd.params if o.name == p.name)
        assert opt.multiple == p.multiple and opt.help.startswith(p.help), p.name
        if p.default not in (None, ()):
            assert f"[default: {p.default}]" in opt.help, f"{name} {p.flag}: {opt.help}"


def test_a_newly_registered_scene_gets_options_without_cli_changes():
    from neuroanim.params import Param
    from neuroanim.spec import SceneSpec

    spec = SceneSpec("probe-scene", "probe",
                     (Param("bumpiness", "float", 1.0, "how bumpy", low=0),), dict,
                     draw="tiny_scene:Tiny")
    registry.register(spec, module="tests.tiny_scene")
    try:
        res = run("render", "probe-scene", "--help")
        assert "--bumpiness" in res.output and "how bumpy" in res.output, res.output
        res = run("render", "probe-scene", "--bumpiness", "-2")
        assert res.exit_code == 2 and "--bumpiness" in res.stderr, res.output
    finally:
        del registry._registered["probe-scene"]
        registry._index = None


# ----------------------------------------------------------------- rendering
@pytest.mark.render
def test_render_prints_path_size_duration_and_frames(tmp_path):
    out = tmp_path / "c.mp4"
    res = run("render", "tiny", *TINY, "-o", str(out))
    assert res.exit_code == 0, res.output
    first = res.stdout.splitlines()[0]
    got = rd.describe(out)
    assert first.startswith(f"{out}  "), first
    assert f"  {human_size(got.bytes)}  " in first, first
    assert f"{got.duration:.2f} s" in first and f"{got.frames} frames" in first, first
    assert got.frames == 7, got


@pytest.mark.render
def test_output_folder_and_format_from_the_extension(tmp_path):
    res = run("render", "tiny", *TINY, "--theme", "light", "-o", f"{tmp_path}/figs/")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "figs" / "tiny-light.mp4").is_file(), list(tmp_path.rglob("*"))
    res = run("render", "tiny", *TINY, "-o", str(tmp_path / "x.gif"))
    assert res.exit_code == 0 and (tmp_path / "x.gif").read_bytes()[:6] == b"GIF89a"


# --------------------------------------------------------------- bad input
BAD = [
    (["render", "nope"], "unknown scene 'nope'"),
    (["render", "tiny", "-f", "avi"], "--format"),
    (["render", "tiny", "-q", "z"], "--quality"),
    (["render", "tiny", "--theme", "pink"], "--theme"),
    (["render", "tiny", "--seconds", "-1"], "--seconds"),
    (["render", "tiny", "--seconds", "abc"], "--seconds"),
    (["render", "and-gate", "--lr", "-0.5"], "--lr"),
    (["render", "and-gate", "--epochs", "ten"], "--epochs"),
    (["render", "gradient-descent", "--preset", "wild"], "--preset"),
    (["render", "tiny", "--resolution", "0x-3"], "--resolution"),
    (["render", "tiny", "--resolution", "abc"], "--resolution"),
    (["render", "tiny", "--resolution", "161x90"], "--resolution"),
    (["render", "tiny", "--fps", "abc"], "--fps"),
    (["render", "tiny", "-f", "gif", "--fps", "60"], "--fps"),
    (["render", "tiny", "--transparent"], "--transparent: mp4 cannot carry alpha"),
    (["render", "tiny", "-o", "x.gif", "-f", "mp4"], "-o"),
    (["render", "tiny", "-o", "blocker/sub/x.mp4"], "-o"),
    (["render", "and-gate", "--trajectory", "missing.json"], "--trajectory"),
    (["render", "tiny", "--bogus"], "--bogus"),
]


@pytest.mark.parametrize("args, names", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, monkeypatch, args,
                                                         names):
    monkeypatch.chdir(tmp_path)
    Path("blocker").write_text("a file where a folder should be")
    res = run(*args[:2], *TINY, *args[2:])  # the bad value comes last
    left = sorted(p.name for p in tmp_path.rglob("*"))
    lines = res.stderr.strip().splitlines()
    assert res.exit_code == 2, f"exit {res.exit_code}: {res.output}"
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.stderr
    assert names in lines[0], f"{names!r} not named in {lines[0]!r}"
    assert "Traceback" not in res.output and res.stdout == "", res.output
    assert left == ["blocker"], f"files written: {left}"


def test_debug_shows_the_traceback():
    res = subprocess.run(NEUROANIM + ["--debug", "render", "and-gate", "--lr", "-1"],
                         capture_output=True, text=True, cwd=ROOT, env=subprocess_env())
    assert res.returncode != 0, res
    assert "Traceback" in res.stderr and "UserError: --lr" in res.stderr, res.stderr
    res = run("--debug", "render", "and-gate", "--lr", "-1")
    assert isinstance(res.exception, UserError), res.exception


@pytest.mark.render
def test_a_bug_is_one_line_exit_1_with_a_debug_hint(tmp_path):
    res = run("render", "tiny", *TINY, "--fail", "1", "-o", str(tmp_path / "x.mp4"))
    assert res.exit_code == 1, res.output
    # the scene's own file and line, then what it raised
    assert res.stderr.startswith(f"Error: {tiny_scene.__file__}:"), res.stderr
    assert "RuntimeError: deliberate failure" in res.stderr, res.stderr
    assert res.stderr.count("\n") == 1, res.stderr
    assert "--debug" in res.stderr and "Traceback" not in res.output, res.stderr
    assert list(tmp_path.iterdir()) == [], list(tmp_path.iterdir())


@pytest.mark.render
def test_ctrl_c_exits_130_and_leaves_nothing(tmp_path):
    res = run("render", "tiny", *TINY, "--fail", "1", "--failure", "interrupt",
              "-o", str(tmp_path / "x.mp4"))
    assert res.exit_code == 130 and "interrupted" in res.stderr, res.output
    assert list(tmp_path.iterdir()) == [], list(tmp_path.iterdir())


# ------------------------------------------------------------ progress, log
@pytest.mark.render
def test_verbose_shows_manims_log_on_stderr_and_quiet_otherwise(tmp_path):
    quiet = run("render", "tiny", *TINY, "-o", str(tmp_path / "q.mp4"))
    loud = run("render", "tiny", *TINY, "-v", "-o", str(tmp_path / "v.mp4"))
    assert quiet.exit_code == loud.exit_code == 0, (quiet.output, loud.output)
    assert "INFO" not in quiet.output, quiet.output
    assert "Played 2 animations" in loud.stderr, loud.stderr
    assert "INFO" not in loud.stdout, "manim's log mixed into stdout"


def _frames_of(path: Path) -> int:
    import av

    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


def _run_with_stderr(stderr_tty: bool, out: Path) -> str:
    """The CLI in a subprocess, stderr a pseudo-terminal or a pipe; returns stderr."""
    cmd = WITH_TINY + ["render", "tiny", *TINY, "-o", str(out)]
    if not stderr_tty:
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                             env=subprocess_env(), timeout=120)
        assert res.returncode == 0, res.stderr
        return res.stderr
    master, slave = pty.openpty()
    # A real terminal has a size; tqdm draws nothing on a 0-column one.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=slave, cwd=ROOT, env=subprocess_env())
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 120)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=120) == 0, b"".join(chunks)
    return b"".join(chunks).decode(errors="replace")


@pytest.mark.render
def test_progress_bar_only_on_a_terminal(tmp_path):
    on_tty = _run_with_stderr(True, tmp_path / "t.mp4")
    piped = _run_with_stderr(False, tmp_path / "p.mp4")
    # one bar for the whole render (manim's per-animation bars stay off)
    assert "Animation 0" not in on_tty and "it/s" not in on_tty, on_tty
    bar = re.findall(r"(\d+)/(\d+) frames", on_tty)
    assert bar and "left" in on_tty, on_tty
    frames = _frames_of(tmp_path / "t.mp4")  # decoded: the reference
    assert tuple(map(int, bar[-1])) == (frames, frames), on_tty
    assert abs(int(bar[0][1]) - frames) <= 1, (
        "the total shown from the start (the skipped pass's count) is the real one")
    assert "frames" not in piped and "it/s" not in piped, piped


# ------------------------------------------------------------------ start-up
MANIM_PROBE = """
import sys
sys.argv = ["neuroanim"] + sys.argv[1:]
try:
    from neuroanim.cli import main
    main()
except SystemExit:
    pass
finally:
    loaded = sorted(m for m in sys.modules if m == "manim" or m.startswith("manim."))
    print("MANIM-LOADED" if loaded else "NO-MANIM", file=sys.stderr)
"""


@pytest.mark.parametrize("args", [
    ["--help"], ["list"], ["render", "--help"], ["render", "and-gate", "--help"],
    ["train", "--help"], ["train", "neuron", "--epochs", "5", "-o", "{tmp}/n.json"],
    ["train", "descent", "--steps", "3", "-o", "{tmp}/d.json"],
], ids=lambda a: " ".join(a[:2]))
def test_fast_commands_import_no_manim(tmp_path, args):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    res = subprocess.run([sys.executable, "-c", MANIM_PROBE, *args],
                         capture_output=True, text=True, cwd=ROOT,
                         env=subprocess_env(), timeout=60)
    assert "NO-MANIM" in res.stderr, f"{args} imported manim: {res.stderr[-500:]}"
    assert "Traceback" not in res.stderr, res.stderr


def test_library_modules_import_no_manim():
    code = ("import sys, neuroanim.core, neuroanim.registry, neuroanim.render, "
            "neuroanim.params, neuroanim.trajectory, neuroanim.cli; "
            "print([m for m in sys.modules if m.split('.')[0] == 'manim'])")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env=subprocess_env(), timeout=60)
    assert res.stdout.strip() == "[]", res.stdout + res.stderr


@pytest.mark.render
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_a_killed_render_cleans_up_and_keeps_the_old_file(tmp_path, sig):
    out = tmp_path / "x.mp4"
    out.write_bytes(b"the previous good file")
    cache = tmp_path / "cache"
    env = {**subprocess_env(), "NEUROANIM_CACHE": str(cache)}
    # Long enough (1200 frames) that the signal lands mid-render.
    cmd = WITH_TINY + ["render", "tiny", "--seconds", "10", "--fps", "120",
                       "--resolution", "320x180", "-o", str(out)]
    # xdist workers ignore SIGINT, and children inherit that: restore the default.
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT,
                                                             signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while not list(cache.glob("scratch-*/out*.mp4")) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, (proc.returncode, stderr[-800:])
    assert "interrupted" in stderr and "Traceback" not in stderr, stderr[-800:]
    assert out.read_bytes() == b"the previous good file", "the old file was replaced"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "x.mp4"]
    assert list(cache.iterdir()) == [], f"scratch left: {list(cache.iterdir())}"
