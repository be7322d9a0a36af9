"""Lesson builds: keys, skip/rebuild decisions, failures, the lock, crashes, -j."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from neuroanim import build, core, lesson, registry
from neuroanim import trajectory as tio
from neuroanim.cli import main
from neuroanim.errors import UserError
from tests import tiny_scene

ROOT = Path(__file__).resolve().parents[1]
TINY = '''
[defaults]
resolution = "160x90"
fps = 5

[[figure]]
name = "circle"
scene = "tiny"
formats = ["mp4", "png", "gif"]

[[figure]]
name = "quick"
scene = "tiny"
formats = ["webm", "png"]
themes = ["light"]
options = { seconds = 0.5 }
'''
TINY_OUTPUTS = {"circle.mp4", "circle.png", "circle.gif", "quick-light.webm",
                "quick-light.png"}
BOOKKEEPING = {"made", "mtime_ns", "seconds", "cpu", "sha256"}  # differ per build


def tiny(text: str = TINY) -> lesson.Lesson:
    return lesson.loads(text, "tiny.toml")


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def frames(path: Path) -> list[np.ndarray]:
    """Every decoded frame of a video or GIF, as RGB arrays."""
    if path.suffix in (".gif", ".png"):
        with Image.open(path) as im:
            out = []
            for i in range(getattr(im, "n_frames", 1)):
                im.seek(i)
                out.append(np.asarray(im.convert("RGB")))
            return out
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def manifest(out: Path) -> dict:
    return json.loads((out / build.MANIFEST).read_text())


def reasons(plan: build.Plan) -> dict[str, str | None]:
    return {j.name: j.reason for j in plan.jobs}


_DIGESTS: dict[tuple, str] = {}
_REAL_DIGEST = build.code_digest
OWN_DIGEST = ("test_scene_source", "test_a_killed_build", "test_real_scenes")


def frozen_digest(modules) -> str:
    """`code_digest` computed once per module set in this test process.

    Keys hash the project's source, which people edit while a test session runs:
    tests of the other key inputs would see "changed" from an unrelated edit.
    The digest itself is tested with the real function (OWN_DIGEST tests).
    """
    modules = tuple(modules)
    if modules not in _DIGESTS:
        _DIGESTS[modules] = _REAL_DIGEST(modules)
    return _DIGESTS[modules]


@pytest.fixture(autouse=True)
def _frozen_code(request, monkeypatch):
    if not request.node.name.startswith(OWN_DIGEST):
        monkeypatch.setattr(build, "code_digest", frozen_digest)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One real build of the tiny lesson at -j 2: (folder, report). Do not modify."""
    base = tmp_path_factory.mktemp("built")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEUROANIM_CACHE", str(base / "cache"))
        mp.setattr(build, "code_digest", frozen_digest)
        report = build.build(tiny(), base / "out", jobs=2, warn=print)
    return base / "out", report


@pytest.fixture
def out(built, tmp_path) -> Path:
    """A private copy of the built folder, mtimes kept (copy2)."""
    dest = tmp_path / "out"
    shutil.copytree(built[0], dest)
    return dest


# ------------------------------------------------------------------ first build
@pytest.mark.render
def test_first_build_renders_and_records_every_output(built):
    folder, report = built
    assert report.ok, [e.error for e in report.failed]
    assert {e.name for e in report.events} == TINY_OUTPUTS
    assert {e.status for e in report.events} == {"done"}
    doc = manifest(folder)
    assert doc["schema"] == "neuroanim.manifest/1"
    assert doc["manim"] == importlib.metadata.version("manim")
    assert set(doc["outputs"]) == TINY_OUTPUTS, "exactly the lesson's outputs"
    for name, e in doc["outputs"].items():
        path = folder / name
        assert e["bytes"] == path.stat().st_size, name
        assert e["sha256"] == sha(path), name
        assert len(e["key"]) == 64 and int(e["key"], 16) >= 0, name
        assert e["format"] == path.suffix[1:] and e["scene"] == "tiny", name
        assert e["theme"] == ("light" if "-light" in name else "dark"), name
        decoded = frames(path)
        assert (e["width"], e["height"]) == (160, 90), name
        assert decoded[0].shape == (90, 160, 3), f"{name}: decoder disagrees on size"
        if e["format"] == "png":
            assert e["frames"] == 1 and e["duration"] == 0 and e["poster"] is None
        else:
            assert e["frames"] == len(decoded), f"{name}: frame count vs decoder"
            assert e["duration"] == pytest.approx(len(decoded) / 5, abs=0.21), name
        if e["format"] in ("mp4", "webm"):
            assert (folder / e["poster"]).is_file(), f"{name}: poster"
            vtt = (folder / e["captions"]["vtt"]).read_text()
            assert vtt.startswith("WEBVTT") and "a circle" in vtt, name
        assert e["alt"], f"{name}: alt text"
    assert doc["outputs"]["quick-light.webm"]["options"] == {"seconds": 0.5}
    assert doc["outputs"]["circle.mp4"]["options"] == {}
    assert (folder / "index.html").is_file(), "every build writes the preview page"
    assert not list(folder.glob(".*.part")), "no temporary files left"


def test_keys_differ_by_theme_format_and_options():
    ls = tiny(TINY.replace('themes = ["light"]', 'themes = ["light", "dark"]'))
    plan = build.make_plan(ls, Path("/nonexistent"), manifest=build.empty_manifest())
    keys = {j.name: j.key for j in plan.jobs}
    assert len(set(keys.values())) == len(keys), f"every output its own key: {keys}"
    again = build.make_plan(ls, Path("/nonexistent"), manifest=build.empty_manifest())
    assert keys == {j.name: j.key for j in again.jobs}, "keys are deterministic"


# -------------------------------------------------------------------- decisions
def test_nothing_changed_skips_everything(out):
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert all(r is None for r in reasons(build.make_plan(tiny(), out)).values())
    report = build.build(tiny(), out, jobs=2)
    assert [e.status for e in report.events] == ["skipped"] * len(TINY_OUTPUTS)
    for name in TINY_OUTPUTS:
        assert (out / name).stat().st_mtime_ns == before[name], f"{name} was rewritten"


def test_one_option_rerenders_only_its_figure(out):
    changed = tiny(TINY.replace("seconds = 0.5", "seconds = 0.6"))
    got = reasons(build.make_plan(changed, out))
    assert got == {"circle.mp4": None, "circle.png": None, "circle.gif": None,
                   "quick-light.webm": "changed: options",
                   "quick-light.png": "changed: options"}


def test_a_new_theme_renders_only_the_new_files(out):
    both = tiny(TINY.replace('themes = ["light"]', 'themes = ["light", "dark"]'))
    got = reasons(build.make_plan(both, out))
    assert got["quick.webm"] == got["quick.png"] == "new"
    assert got["quick-light.webm"] is None and got["circle.mp4"] is None, got


def test_settings_and_trajectory_content_are_in_the_key(tmp_path, monkeypatch):
    traj = tmp_path / "and.json"
    tio.save(core.train_neuron("AND", epochs=40), traj)
    text = ('[[figure]]\nname = "g"\nscene = "and-gate"\nformats = ["png"]\n'
            'options = { trajectory = "and.json" }\n')
    (tmp_path / "l.toml").write_text(text)

    def key(path=tmp_path / "l.toml") -> str:
        plan = build.make_plan(lesson.load(path), tmp_path / "out",
                               manifest=build.empty_manifest())
        return plan.jobs[0].key

    k0 = key()
    tio.save(core.train_neuron("AND", epochs=41), traj)  # same path, new content
    k1 = key()
    assert k1 != k0, "replaying a different trajectory file must re-render"
    (tmp_path / "m.toml").write_text(text.replace('formats = ["png"]',
                                                  'formats = ["png"]\nquality = "m"'))
    assert key(tmp_path / "m.toml") != k1, "quality is in the key"
    monkeypatch.setattr(build, "versions", lambda: {"manim": "0.99.0"})
    assert key() != k1, "another manim version must re-render"


def test_scene_source_and_the_code_it_imports_are_in_the_key(tmp_path, monkeypatch):
    pkg = f"lessonscenes_{uuid.uuid4().hex[:8]}"
    root = tmp_path / pkg
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "helper.py").write_text("SPEED = 1\n")
    (root / "unrelated.py").write_text("X = 1\n")
    (root / "scene.py").write_text(
        "from tests.tiny_scene import Tiny\n\nfrom . import helper  # noqa: F401\n\n\n"
        "class Copy(Tiny):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = registry.SceneSpec(f"copy-{pkg}", "a copy", tiny_scene.SPEC.params,
                              tiny_scene.SPEC.prepare, draw="scene:Copy",
                              module=f"{pkg}.card")
    monkeypatch.setitem(registry._registered, spec.name, spec)
    monkeypatch.setattr(registry, "_index", None)
    files = build.code_files([spec.draw_module, *build.PIPELINE])
    for name in (f"{pkg}.scene", f"{pkg}.helper", f"{pkg}", "tests.tiny_scene",
                 "neuroanim.draw", "neuroanim.render", "neuroanim.core.neuron"):
        assert name in files, f"{name} is code the render runs: {sorted(files)}"
    assert f"{pkg}.unrelated" not in files and "neuroanim.cli" not in files

    ls = tiny(f'[[figure]]\nname = "c"\nscene = "{spec.name}"\nformats = ["png"]\n')

    def key() -> str:
        return build.make_plan(ls, tmp_path / "o",
                               manifest=build.empty_manifest()).jobs[0].key

    k0 = key()
    (root / "unrelated.py").write_text("X = 2\n")
    assert key() == k0, "a module the scene never imports does not re-render it"
    (root / "helper.py").write_text("SPEED = 2\n")
    k1 = key()
    assert k1 != k0, "editing a module the scene imports re-renders it"
    (root / "scene.py").write_text((root / "scene.py").read_text() + "# tweak\n")
    assert key() != k1, "editing the scene's own source re-renders it"


def test_deleted_edited_and_touched_files(out):
    (out / "circle.png").unlink()
    gif = out / "circle.gif"
    data = bytearray(gif.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, different bytes
    gif.write_bytes(bytes(data))
    mp4 = out / "circle.mp4"
    os.utime(mp4, ns=(time.time_ns(), time.time_ns()))  # touched, bytes unchanged
    (out / "quick-light.poster.png").unlink()
    got = reasons(build.make_plan(tiny(), out))
    assert got == {"circle.png": "file missing", "circle.gif": "file edited",
                   "circle.mp4": None, "quick-light.png": None,
                   "quick-light.webm": "poster or captions missing"}, got
    report = build.build(tiny(), out, jobs=2)
    done = {e.name for e in report.events if e.status == "done"}
    assert done == {"circle.png", "circle.gif", "quick-light.webm"}, done
    entry = manifest(out)["outputs"]["circle.mp4"]
    assert entry["mtime_ns"] == mp4.stat().st_mtime_ns, "a touch is recorded, not rendered"
    assert all(r is None for r in reasons(build.make_plan(tiny(), out)).values())


@pytest.mark.parametrize("garbage", [b"{not json", b'{"schema": "other/9"}', b"\xff\xfe",
                                     b'{"schema": "neuroanim.manifest/1", "outputs": []}'])
def test_a_corrupt_manifest_counts_as_empty_with_a_warning(out, garbage):
    (out / build.MANIFEST).write_bytes(garbage)
    warnings: list[str] = []
    plan = build.make_plan(tiny(), out, warn=warnings.append)
    assert len(warnings) == 1 and "manifest.json" in warnings[0], warnings
    assert set(reasons(plan).values()) == {"new"}


def test_force_and_only(out):
    assert set(reasons(build.make_plan(tiny(), out, force=True)).values()) == {"forced"}
    only = build.make_plan(tiny(), out, only=["quick"], force=True)
    assert set(reasons(only)) == {"quick-light.webm", "quick-light.png"}
    with pytest.raises(UserError, match="--only: no figure named 'nope'"):
        build.make_plan(tiny(), out, only=["nope"])


def test_figures_removed_from_the_lesson_leave_the_manifest(out):
    only_circle = tiny(TINY.split("[[figure]]\nname = \"quick\"")[0])
    report = build.build(only_circle, out, jobs=1)
    assert {e.status for e in report.events} == {"skipped"}
    assert set(manifest(out)["outputs"]) == {"circle.mp4", "circle.png", "circle.gif"}
    assert (out / "quick-light.webm").is_file(), "files are kept, only unlisted"


# ------------------------------------------------------------- the CLI command
def write_lesson(folder: Path, text: str = TINY) -> Path:
    path = folder / "tiny.toml"
    path.write_text(text)
    return path


@pytest.mark.render
def test_cli_progress_lines_only_and_exit_status(out, tmp_path):
    src = write_lesson(tmp_path)
    (out / "quick-light.png").unlink()
    res = CliRunner().invoke(main, ["build", str(src), "-o", str(out), "--only",
                                    "quick", "-j", "1"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == f"{src} -> {out}: 2 outputs, 1 to render in 1 worker process"
    assert any(x.startswith("[1/2] skipped  quick-light.webm") for x in lines), lines
    done = [x for x in lines if x.startswith("[2/2] done     quick-light.png")]
    assert done and " s " in done[0] and "KB" in done[0] and "(file missing)" in done[0]
    assert any(x.startswith("2 outputs in ") and "1 rendered, 1 unchanged, 0 failed"
               in x for x in lines), lines
    assert set(manifest(out)["outputs"]) == TINY_OUTPUTS, "--only keeps the others"
    for args, msg in ((["--only", "nope"], "no figure named 'nope'"),
                      (["-j", "0"], "-j")):
        bad = CliRunner().invoke(main, ["build", str(src), "-o", str(out), *args])
        assert bad.exit_code == 2 and msg in bad.output, bad.output
    dry = CliRunner().invoke(main, ["build", str(src), "-o", str(out), "-n", "--force"])
    assert dry.exit_code == 0 and "5 of 5 outputs would render" in dry.output


@pytest.mark.render
def test_a_failing_figure_is_reported_and_keeps_the_old_file(out, tmp_path):
    old = {n: sha(out / n) for n in TINY_OUTPUTS}
    old_entries = manifest(out)["outputs"]
    src = write_lesson(tmp_path, TINY.replace(
        'formats = ["mp4", "png", "gif"]',
        'formats = ["mp4", "png", "gif"]\noptions = { fail = 1 }').replace(
        "seconds = 0.5", "seconds = 0.6"))
    res = CliRunner().invoke(main, ["build", str(src), "-o", str(out), "-j", "2"])
    assert res.exit_code == 1, res.output
    assert res.output.count(" failed   circle.") == 3, res.output
    assert res.output.count(" done     quick-light.") == 2, "the others still build"
    tail = res.output.split("failed:\n", 1)[1].splitlines()
    assert len(tail) == 3 and all("deliberate failure" in x for x in tail), tail
    doc = manifest(out)["outputs"]
    for n in ("circle.mp4", "circle.png", "circle.gif"):
        assert sha(out / n) == old[n], f"{n}: the previous good file must survive"
        assert doc[n] == old_entries[n], f"{n}: its manifest entry is untouched"
    assert doc["quick-light.png"]["options"] == {"seconds": 0.6}
    assert not [p for p in out.iterdir() if p.name.startswith(".") and
                p.name != build.LOCK], "no temporary files left behind"


# ------------------------------------------------------------------- parallel
@pytest.mark.render
def test_j2_makes_the_same_files_as_j1(built, tmp_path):
    j2, _ = built
    j1 = tmp_path / "j1"
    report = build.build(tiny(), j1, jobs=1)
    assert report.ok and report.jobs == 1
    m1, m2 = manifest(j1)["outputs"], manifest(j2)["outputs"]
    for name in TINY_OUTPUTS:
        a, b = j1 / name, j2 / name
        if name.endswith((".png", ".gif", ".mp4")):
            assert a.read_bytes() == b.read_bytes(), f"{name} differs between -j 1 and 2"
        a_frames, b_frames = frames(a), frames(b)  # webm holds a random track id
        assert len(a_frames) == len(b_frames), name
        assert all(np.array_equal(x, y) for x, y in zip(a_frames, b_frames, strict=True))
        strip = {k: v for k, v in m1[name].items() if k not in BOOKKEEPING}
        assert strip == {k: v for k, v in m2[name].items() if k not in BOOKKEEPING}


# ------------------------------------------------------------------- the lock
def test_a_second_build_in_the_same_folder_is_refused(out, tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import fcntl, os, sys
            fd = os.open({str(out / build.LOCK)!r}, os.O_RDWR | os.O_CREAT)
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.pwrite(fd, b"4242\\n", 0)
            print("locked", flush=True)
            sys.stdin.read()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = (out / build.MANIFEST).read_bytes()
        res = CliRunner().invoke(main, ["build", str(write_lesson(tmp_path)), "-o",
                                        str(out), "--force"])
        assert res.exit_code == 2, res.output
        assert res.output.count("\n") == 1 and "another neuroanim build (pid 4242)" \
            in res.output, res.output
        assert (out / build.MANIFEST).read_bytes() == before, "the second touched nothing"
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    report = build.build(tiny(), out, jobs=1)  # the lock died with its holder
    assert {e.status for e in report.events} == {"skipped"}


# ------------------------------------------------------------ killed midway
@pytest.mark.render
def test_a_killed_build_leaves_true_files_and_manifest(tmp_path):
    slow = "".join(
        f'\n[[figure]]\nname = "slow{i}"\nscene = "tiny"\noptions = {{ seconds = 8 }}\n'
        f'fps = 25\n' for i in range(4))
    text = TINY.split("[[figure]]")[0] + slow
    src = write_lesson(tmp_path, text)
    out = tmp_path / "out"
    script = ("import sys; import tests.tiny_scene; from neuroanim import build, lesson;"
              "build.build(lesson.load(sys.argv[1]), sys.argv[2], jobs=1)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", script, str(src), str(out)],
                            cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            path = out / build.MANIFEST
            if path.is_file() and json.loads(path.read_text())["outputs"]:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the build finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)  # the build and its worker, mid-render
    finally:
        proc.wait(timeout=10)
    entries = manifest(out)["outputs"]
    assert 1 <= len(entries) < 4, f"killed after {len(entries)} of 4 outputs"
    for name in (f"slow{i}.mp4" for i in range(4)):
        path = out / name
        if name in entries:
            assert sha(path) == entries[name]["sha256"], f"{name}: manifest is true"
        if path.exists():  # any file under a final name is complete
            # the tiny scene plays 8 s, then 0.4 s: (8 + 0.4) * 25 frames
            assert len(frames(path)) == 210, f"{name} is partial"
    plan = build.make_plan(lesson.load(src), out)
    if all(entries[j.name]["key"] == j.key for j in plan.jobs if j.name in entries):
        # (unless someone edited the code since: then everything is "changed")
        assert all(j.reason is None for j in plan.jobs if j.name in entries), (
            "finished outputs are not rendered again")
    report = build.build(lesson.load(src), out, jobs=2)
    statuses = {e.name: e.status for e in report.events}
    assert report.ok and set(manifest(out)["outputs"]) == set(statuses)
    assert all(sha(out / n) == e["sha256"] for n, e in manifest(out)["outputs"].items())


# ------------------------------------------------------ real scenes, end to end
REAL = '''
title = "A tiny real lesson"
[defaults]
resolution = "160x90"
[[figure]]
name = "ball"
scene = "gradient-descent"
formats = ["gif"]
fps = 10
resolution = "320x180"
gif_budget = "20 MB"
options = { lr = [0.5], steps = 6 }
[[figure]]
name = "gate"
scene = "and-gate"
formats = ["png"]
themes = ["dark", "light"]
options = { epochs = 200, grid = 16 }
'''


@pytest.mark.render
def test_real_scenes_build_and_a_noop_rebuild_imports_no_manim(tmp_path):
    src = write_lesson(tmp_path, REAL)
    out = tmp_path / "out"
    report = build.build(lesson.load(src), out, jobs=2)
    assert report.ok, [e.error for e in report.failed]
    doc = manifest(out)
    assert set(doc["outputs"]) == {"ball.gif", "gate.png", "gate-light.png"}
    assert doc["title"] == "A tiny real lesson"
    gif = doc["outputs"]["ball.gif"]
    with Image.open(out / "ball.gif") as im:
        assert im.size == (320, 180) and im.info.get("loop") == 0, "a looping GIF"
        delays = set()
        for i in range(im.n_frames):
            im.seek(i)
            delays.add(im.info["duration"])
        assert delays == {100}, f"10 fps means exact 100 ms delays, got {delays}"
        assert gif["frames"] == im.n_frames
    assert gif["options"] == {"lr": [0.5], "steps": 6}
    light, dark = (frames(out / n)[0] for n in ("gate-light.png", "gate.png"))
    assert light.mean() > dark.mean() + 60, "the light still is drawn on white"

    probe = textwrap.dedent("""
        import json, sys, time
        t = time.perf_counter()
        from neuroanim import build, lesson
        r = build.build(lesson.load(sys.argv[1]), sys.argv[2], warn=print)
        print(json.dumps({"manim": sorted(m for m in sys.modules
                                          if m.split(".")[0] == "manim"),
                          "status": sorted({e.status for e in r.events}),
                          "why": [(e.name, e.reason, e.error) for e in r.events],
                          "seconds": time.perf_counter() - t}))
    """)
    for _ in range(3):  # a code edit by someone else meanwhile re-renders: go again
        res = subprocess.run([sys.executable, "-c", probe, str(src), str(out)],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        got = json.loads(res.stdout.splitlines()[-1])
        if {why for _, why, _ in got["why"]} != {"changed"}:
            break
    assert got["status"] == ["skipped"], got
    assert got["manim"] == [], f"a no-op build imported {got['manim'][:3]}"


def test_the_import_scan_finds_every_import_ast_finds():
    """The fast line scan against Python's own parser, over all project code."""
    import ast

    files = [*sorted((ROOT / "neuroanim").rglob("*.py")),
             *sorted((ROOT / "scenes").glob("*.py")), Path(tiny_scene.__file__)]
    assert len(files) > 10
    for path in files:
        rel = path.relative_to(ROOT).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        name = ".".join(parts)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        want = set()
        for node in ast.walk(ast.parse(path.read_bytes())):
            if isinstance(node, ast.Import):
                want |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                if node.level:
                    pkg = package.split(".")
                    base = ".".join(pkg[: len(pkg) - node.level + 1])
                    mod = f"{base}.{mod}" if mod else base
                want |= {mod} | {f"{mod}.{a.name}" for a in node.names if a.name != "*"}
        missing = want - set(build._imports(path, name))
        assert not missing, f"{path}: the scan misses {sorted(missing)}"


# ------------------------------------------------------------------ scheduling
def test_past_render_times_order_the_queue_and_first_results_reprice(tmp_path,
                                                                   monkeypatch):
    """A figure's outputs in one theme are one batch (drawn together); batches
    are priced from past runs, else guessed, and the first result re-prices
    the unmeasured batches of its figure."""
    monkeypatch.setenv("NEUROANIM_CACHE", str(tmp_path))  # where the timings live
    ls = tiny(TINY.replace('formats = ["mp4", "png", "gif"]',
                           'formats = ["mp4", "png", "gif", "webm"]\n'
                           'themes = ["dark", "light"]'))
    circle, quick = ls.figures
    past = {build.signature(quick, *quick.outputs): 42.0}
    (tmp_path / build.TIMINGS).write_text(json.dumps(past))
    plan = build.make_plan(ls, tmp_path / "out", manifest=build.empty_manifest())
    queue = build.batches(plan.todo, build.load_timings())
    by_first = {b.jobs[0].name: b for b in queue}
    assert sorted(by_first) == ["circle-light.mp4", "circle.mp4", "quick-light.webm"]
    assert [j.name for j in by_first["circle.mp4"].jobs] == [
        "circle.mp4", "circle.png", "circle.gif", "circle.webm"], "one batch a theme"
    first = by_first["quick-light.webm"]
    assert first.measured and first.estimate == 42.0, "a past time is used as is"
    dark, light = by_first["circle.mp4"], by_first["circle-light.mp4"]
    assert not dark.measured and not light.measured
    # mp4, webm and the GIF (all at the lesson's 5 fps) share one pass: the guess
    # is the dearest output of the pass plus a quarter of the others, plus the still.
    w = build.weight
    outs = {j.output.fmt: j.output for j in dark.jobs}
    guess = build.GUESS_SECONDS * (w(outs["gif"]) + 0.25 * (w(outs["mp4"]) +
                                                            w(outs["webm"]))
                                   + w(outs["png"]))
    assert dark.estimate == pytest.approx(guess)
    queue.sort(key=lambda b: b.estimate, reverse=True)
    build.learn(queue, dark, 30.0)  # the dark batch really took 30 CPU seconds
    assert light.estimate == pytest.approx(30.0), "the other theme costs the same"
    assert first.estimate == 42.0, "measured batches keep their own time"
    assert [b.estimate for b in queue] == sorted((b.estimate for b in queue),
                                                 reverse=True), "queue re-sorted"
