"""A tampered output folder, a careless lesson, odd sizes: clear errors, nothing leaked."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from neuroanim.scenes.gradient_descent import DescentData

from neuroanim import build, core, files, lesson, registry, render
from neuroanim.cli import main
from tests import tiny_scene  # noqa: F401  (registers "tiny")
from tests.test_cli import ROOT, WITH_TINY, subprocess_env

LESSON = '''
[defaults]
resolution = "160x90"
fps = 5

[[figure]]
name = "y"
scene = "tiny"
formats = ["mp4"]
'''
SECRET = "neuroanim-test-secret-3f9a"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One real build of a one-figure lesson (mp4 with poster and captions)."""
    base = tmp_path_factory.mktemp("hard")
    (base / "lesson.toml").write_text(LESSON)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEUROANIM_CACHE", str(base / "cache"))
        build.build(lesson.load(base / "lesson.toml"), base / "out", jobs=1,
                    warn=print)
    return base


@pytest.fixture
def site(built, tmp_path):
    """A private copy of the built folder and its lesson."""
    import shutil

    shutil.copytree(built / "out", tmp_path / "out")
    shutil.copy(built / "lesson.toml", tmp_path / "lesson.toml")
    return tmp_path


def secret_file(tmp_path: Path) -> Path:
    victim = tmp_path / "victim.txt"
    victim.write_text(SECRET + "\n")
    return victim


def edit_manifest(out: Path, **fields) -> None:
    doc = json.loads((out / "manifest.json").read_text())
    doc["outputs"]["y.mp4"].update(fields)
    (out / "manifest.json").write_text(json.dumps(doc))


# ---------------------------------------------------------------- security
@pytest.mark.render
@pytest.mark.parametrize("field", ["captions", "poster"])
def test_a_manifest_path_outside_the_folder_is_never_opened_and_rerenders(
        site, field):
    victim = secret_file(site)
    rel = os.path.relpath(victim, site / "out")
    tampered = {"srt": "y.srt", "vtt": rel} if field == "captions" else rel
    edit_manifest(site / "out", **{field: tampered})
    res = run("build", str(site / "lesson.toml"), "-o", str(site / "out"))
    assert res.exit_code == 0, res.output
    assert "ignoring it" in res.stderr and "y.mp4" in res.stderr, res.stderr
    assert "done" in res.stdout and "y.mp4" in res.stdout, "entry not re-rendered"
    page = (site / "out" / "index.html").read_text()
    import base64

    assert SECRET not in page
    assert base64.b64encode(SECRET.encode()).decode()[:20] not in page
    assert rel not in page
    entry = json.loads((site / "out" / "manifest.json").read_text())["outputs"]["y.mp4"]
    assert entry["captions"] == {"srt": "y.srt", "vtt": "y.vtt"}
    assert entry["poster"] == "y.poster.png"


@pytest.mark.render
def test_preview_of_a_tampered_manifest_opens_nothing_outside(site):
    victim = secret_file(site)
    edit_manifest(site / "out", captions={"srt": "y.srt", "vtt": str(victim)})
    res = run("preview", "-o", str(site / "out"), "--no-open")
    assert res.exit_code == 0, res.output
    page = (site / "out" / "index.html").read_text()
    assert SECRET not in page and str(victim) not in page


@pytest.mark.render
def test_a_symlinked_lock_does_not_write_into_its_target(site):
    victim = secret_file(site)
    lock = site / "out" / build.LOCK
    lock.unlink(missing_ok=True)
    lock.symlink_to(victim)
    res = run("build", str(site / "lesson.toml"), "-o", str(site / "out"))
    assert res.exit_code == 0, res.output
    assert victim.read_text() == SECRET + "\n"
    assert not lock.is_symlink()


@pytest.mark.render
def test_symlinked_outputs_and_manifest_are_replaced_never_followed(site):
    victim = secret_file(site)
    for name in ("y.mp4", "y.vtt"):
        (site / "out" / name).unlink()
        (site / "out" / name).symlink_to(victim)
    res = run("build", str(site / "lesson.toml"), "-o", str(site / "out"))
    assert res.exit_code == 0, res.output
    assert "done" in res.stdout, "a symlinked output passed as up to date"
    assert victim.read_text() == SECRET + "\n"
    assert not (site / "out" / "y.mp4").is_symlink()
    # a manifest that is a link is not read (nothing of the target reaches the page)
    (site / "out" / "manifest.json").unlink()
    (site / "out" / "manifest.json").symlink_to(victim)
    res = run("build", str(site / "lesson.toml"), "-o", str(site / "out"))
    assert res.exit_code == 0 and "unreadable" in res.stderr, res.output
    assert victim.read_text() == SECRET + "\n"
    assert not (site / "out" / "manifest.json").is_symlink()


def test_a_planted_temporary_name_is_never_written_through(tmp_path):
    victim = secret_file(tmp_path)
    target = tmp_path / "a.txt"
    # whatever temporary name the writer picks is created exclusively
    for i in range(50):
        (tmp_path / f".a.txt.{i:08d}.part").symlink_to(victim)
    files.atomic_write(target, b"new")
    files.place([(target, tmp_path / "b.txt")])
    assert target.read_bytes() == b"new" and (tmp_path / "b.txt").read_bytes() == b"new"
    assert victim.read_text() == SECRET + "\n"


def test_an_output_name_collision_with_a_poster_is_one_lesson_error():
    text = '''
[[figure]]
name = "x"
scene = "tiny"
formats = ["mp4"]

[[figure]]
name = "x.poster"
scene = "tiny"
formats = ["png"]
'''
    with pytest.raises(lesson.LessonError) as err:
        lesson.loads(text, "c.toml")
    assert err.value.problems == [
        "c.toml: figure 'x.poster': name: writes x.poster.png, which figure 'x' "
        "writes too; rename one of them"]


def test_names_that_differ_only_in_case_collide():
    text = '''
[[figure]]
name = "Ball"
scene = "tiny"
formats = ["png"]

[[figure]]
name = "ball"
scene = "tiny"
formats = ["png"]
'''
    with pytest.raises(lesson.LessonError) as err:
        lesson.loads(text, "c.toml")
    assert "writes ball.png, which figure 'Ball' writes too (as Ball.png)" in str(
        err.value)


def test_manifest_entries_a_build_would_not_write_are_refused():
    good = {"format": "mp4", "poster": "y.poster.png",
            "captions": {"srt": "y.srt", "vtt": "y.vtt"}, "width": 160}
    assert files.entry_problem("y.mp4", good) is None
    for name, entry in [
        ("../y.mp4", good),
        ("y.mp4", {**good, "poster": "../../etc/passwd"}),
        ("y.mp4", {**good, "poster": "z.poster.png"}),
        ("y.mp4", {**good, "captions": {"srt": "y.srt", "vtt": "/etc/hostname"}}),
        ("y.mp4", {**good, "width": "wide"}),
        ("y.mp4", {**good, "notes": "x"}),
        ("y.png", {"format": "png", "poster": "y.poster.png"}),
    ]:
        assert files.entry_problem(name, entry), (name, entry)


# ------------------------------------------------------- clear errors up front
@pytest.mark.parametrize("size", ["16x16", "32x18", "56x32"])
def test_a_frame_below_a_scenes_minimum_is_refused_up_front(tmp_path, size):
    res = run("render", "and-gate", "--resolution", size, "-f", "png",
              "-o", str(tmp_path / "x.png"))
    assert res.exit_code == 2, res.output
    assert res.stderr.strip() == (f"Error: --resolution: {size} is too small for "
                                  "and-gate; it needs at least 64x36")
    assert list(tmp_path.iterdir()) == []


def test_an_aspect_the_layout_cannot_fit_is_refused(tmp_path):
    res = run("render", "training-loop", "--resolution", "1280x40", "-f", "png",
              "-o", str(tmp_path / "x.png"))
    assert res.exit_code == 2 and "aspect ratio 32.00" in res.stderr, res.output


@pytest.mark.render
@pytest.mark.parametrize("scene", ["training-loop", "loss-and-epochs",
                                   "gradient-descent", "and-gate"])
def test_every_scene_draws_at_its_declared_minimum(tmp_path, scene):
    spec = registry.get(scene)
    w, h = spec.min_size
    res = render.render(scene, {}, fmt="png", resolution=(w, h),
                        out=tmp_path / "min.png")
    assert (res.width, res.height) == (w, h)


def test_a_figure_name_too_long_for_a_file_is_a_lesson_error():
    name = "a" * 245
    with pytest.raises(lesson.LessonError) as err:
        lesson.loads(f'[[figure]]\nname = "{name}"\nscene = "tiny"\n'
                     'formats = ["mp4"]\n', "c.toml")
    (line,) = err.value.problems
    assert line.startswith(f"c.toml: figure '{name}': name: is too long")
    limit = int(line.rsplit("at most ", 1)[1].split()[0])
    # the limit is real: a name of that length builds all its file names
    fig = lesson.loads(f'[[figure]]\nname = "{"a" * limit}"\nscene = "tiny"\n'
                       'formats = ["mp4"]\n', "c.toml").figures[0]
    longest = max(len(f) for o in fig.outputs
                  for f in (o.name, *files.sidecars(o.name, o.fmt)))
    assert longest + files.TEMP_EXTRA == files.NAME_MAX


def test_a_cache_variable_naming_a_file_is_one_line(tmp_path, monkeypatch):
    (tmp_path / "afile").write_text("x")
    monkeypatch.setenv("NEUROANIM_CACHE", str(tmp_path / "afile"))
    (tmp_path / "l.toml").write_text(LESSON)
    for args in (["render", "tiny", "--resolution", "160x90", "-o",
                  str(tmp_path / "x.mp4")],
                 ["build", str(tmp_path / "l.toml"), "-o", str(tmp_path / "o")]):
        res = run(*args)
        assert res.exit_code == 2, res.output
        assert res.stderr.startswith("Error: NEUROANIM_CACHE: ") and \
            res.stderr.count("\n") == 1, res.stderr
        assert "is a file, not a folder" in res.stderr


@pytest.mark.render
def test_a_full_disk_at_the_end_of_a_build_names_the_file(site, monkeypatch):
    real = os.replace

    def full(src, dst, *a, **kw):
        if str(dst).endswith("index.html"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst, *a, **kw)

    monkeypatch.setattr(files.os, "replace", full)
    before = (site / "out" / "index.html").read_bytes()
    res = run("build", str(site / "lesson.toml"), "-o", str(site / "out"))
    assert res.exit_code == 1, res.output
    assert res.stderr.splitlines()[-1] == (
        f"Error: {site / 'out' / 'index.html'}: cannot write "
        "(No space left on device)"), res.stderr
    assert (site / "out" / "index.html").read_bytes() == before
    assert not [p for p in (site / "out").iterdir() if p.name.endswith(".part")]


# ------------------------------------------------------------ signals, pipes
def _spawn(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(WITH_TINY + args, cwd=ROOT, env=subprocess_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


SLOW = '''
[defaults]
resolution = "1280x720"  # 600 frames at 720p: still rendering when the signal comes
fps = 60

[[figure]]
name = "slow"
scene = "tiny"
formats = ["mp4", "webm"]
options = { seconds = 10 }
'''


@pytest.mark.render
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_build_stops_cleanly_and_leaves_no_temporary_files(
        tmp_path, sig):
    (tmp_path / "l.toml").write_text(SLOW)
    out = tmp_path / "out"
    proc = _spawn(["build", str(tmp_path / "l.toml"), "-o", str(out), "-j", "2"],
                  tmp_path)
    assert "to render" in proc.stdout.readline()
    time.sleep(2.5)  # the workers are rendering
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, (proc.returncode, stderr)
    assert stderr == "interrupted\n", stderr  # no semaphore warning, no traceback
    temps = {p.name for p in out.iterdir() if p.name.startswith(".")}
    assert temps == {build.LOCK}, temps  # no temporary file left behind


@pytest.mark.render
def test_a_closed_pipe_stops_the_printing_not_the_build(tmp_path):
    (tmp_path / "l.toml").write_text(LESSON.replace('["mp4"]', '["mp4", "png"]'))
    out = tmp_path / "out"
    proc = _spawn(["build", str(tmp_path / "l.toml"), "-o", str(out), "-j", "1"],
                  tmp_path)
    proc.stdout.readline()
    proc.stdout.close()  # `| head -1`
    stderr = proc.stderr.read()
    assert proc.wait(timeout=120) == 0, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
    done = json.loads((out / "manifest.json").read_text())["outputs"]
    assert set(done) == {"y.mp4", "y.png"}


# --------------------------------------------------------------- surprises
@pytest.mark.parametrize("extra", [["--gate", "OR"], ["--epochs", "7"],
                                   ["--gate", "OR", "--seed", "3"]])
def test_options_the_trajectory_file_decides_are_refused(tmp_path, extra):
    res = run("train", "neuron", "-o", str(tmp_path / "and.json"))
    assert res.exit_code == 0, res.output
    res = run("render", "and-gate", "--trajectory", str(tmp_path / "and.json"),
              *extra, "-f", "png", "-o", str(tmp_path / "x.png"))
    assert res.exit_code == 2, res.output
    flags = [a for a in extra if a.startswith("--")]
    assert res.stderr.startswith(f"Error: {', '.join(flags)}: the --trajectory file "
                                 "decides"), res.stderr
    assert not (tmp_path / "x.png").exists()


def test_a_lesson_figure_giving_what_its_file_decides_is_a_lesson_error(tmp_path):
    res = run("train", "neuron", "-o", str(tmp_path / "and.json"))
    text = ('[[figure]]\nname = "a"\nscene = "and-gate"\n'
            'options = { trajectory = "and.json", lr = 8.0 }\n')
    with pytest.raises(lesson.LessonError) as err:
        lesson.loads(text, "c.toml", base=tmp_path)
    assert res.exit_code == 0
    assert "figure 'a': options: --lr: the --trajectory file decides" in str(err.value)


def test_the_default_name_of_a_replayed_file_names_the_file_only(tmp_path):
    spec = registry.get("and-gate")
    values = spec.resolve({"trajectory": str(tmp_path / "run.json")})
    assert render.default_name(spec.name, spec.variant(values), "dark", "mp4") == \
        "and-gate-trajectoryrun.mp4"


def test_debug_works_before_and_after_the_command(tmp_path):
    for args in (["--debug", "train", "neuron", "--gate", "FOO"],
                 ["train", "neuron", "--gate", "FOO", "--debug"]):
        with pytest.raises(Exception, match="--gate: 'FOO' is not one of"):
            CliRunner().invoke(main, args, catch_exceptions=False)
    res = run("train", "neuron", "--gate", "FOO")  # and off again without it
    assert res.exit_code == 2 and res.stderr.startswith("Error: --gate"), res.output


def test_train_reads_like_render():
    helps = run("train", "neuron", "--help").output
    assert "--mode batch|per-example" in helps and "[default: batch]" in helps
    assert "--epochs INT" in helps and "[default: 2000]" in helps
    helps = run("train", "descent", "--help").output
    assert "--lr FLOAT" in helps and "--steps INT" in helps
    assert "[default: 30]" in helps and "--landscape bowl|asymmetric" in helps


def test_a_start_too_far_out_names_the_range_that_is_allowed():
    ls = core.get_landscape("bowl")
    msgs = []
    for w0 in ("1e300", str(ls.w_min + ls.bound + 1)):
        res = run("train", "descent", "--w0", w0)
        assert res.exit_code == 2, res.output
        msgs.append(res.stderr.split(" is too far out")[1])
    assert msgs[0] == msgs[1], "two limits for one option"
    edge = run("train", "descent", "--w0", str(ls.w_min + ls.bound))
    assert edge.exit_code == 0, edge.output


def test_alt_text_keeps_a_tiny_learning_rate_and_shortens_huge_losses():
    tiny_lr = core.descend("bowl", lr=1e-320, steps=3)
    alt = registry.get("gradient-descent").alt_text
    text = alt(DescentData("bowl", (tiny_lr,), (None,)))
    assert "learning rate 1 × 10^-320" in text, text
    ls = core.get_landscape("asymmetric")
    off = core.descend(ls, lr=300, steps=5)  # thrown far up the exponential wall
    assert off.loss.max() > 1e100
    text = alt(DescentData(ls.name, (off,), (None,)))
    assert max(len(tok) for tok in text.replace(",", " ").split()) < 20, text


@pytest.mark.parametrize("cmd", [["render", "and-gate", "-f", "png"],
                                 ["train", "neuron"], ["build"], ["preview"]])
def test_an_empty_output_path_is_refused(tmp_path, cmd, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = run(*cmd, "-o", "")
    assert res.exit_code == 2 and "-o" in res.stderr and "empty" in res.stderr, \
        res.output
    assert list(tmp_path.iterdir()) == []


def test_an_output_under_a_file_says_it_is_a_file(tmp_path):
    (tmp_path / "afile").write_text("x")
    res = run("train", "neuron", "-o", str(tmp_path / "afile" / "x.json"))
    assert res.exit_code == 2 and "afile is a file, not a folder" in res.stderr


@pytest.mark.parametrize("options, problem", [
    ('{ epochs = "200" }', "'200' is text, not a number; write epochs = 200"),
    ('{ lr = true }', "True must be a number, not true/false"),
    ('{ gate = 1 }', "1 must be text, not a number"),
])
def test_lesson_options_keep_their_toml_types(options, problem):
    text = f'[[figure]]\nname = "a"\nscene = "and-gate"\noptions = {options}\n'
    with pytest.raises(lesson.LessonError) as err:
        lesson.loads(text, "c.toml")
    assert problem in str(err.value), err.value


def test_the_suite_leaves_no_manim_text_cache_in_the_checkout():
    from manim import config

    assert not Path(config.get_dir("text_dir")).resolve().is_relative_to(ROOT)
