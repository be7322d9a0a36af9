"""`neuroanim serve` through a real server on loopback and headless Chromium;
drafts, storyboards, `build` finding ./lesson.toml, what `-n` says changed.

The server runs as a real `neuroanim serve` process with an author's scene
(a dot moving for `seconds`) beside a tiny lesson; the page is the one an
author opens. Everything that changes is read back independently: the
manifest and the files on disk, the decoded video, the page's DOM.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from neuroanim import registry
from neuroanim.cli import main
from tests.test_author_scenes import write
from tests.test_browser import chromium

CARD = '''
from neuroanim.params import Param
from neuroanim.spec import SceneSpec


def prepare(values):
    return dict(values)


def alt(data):
    return f"a dot crossing in {data['seconds']:g} seconds"


SCENE = SceneSpec(
    name="pulse", description="A dot crossing the frame (test).",
    params=(Param("seconds", "float", 1.0, "run time", low=0.2, high=60),
            Param("fail", "int", 0, "raise in construct when 1", low=0, high=1),
            Param("delay", "float", 0.0, "seconds each frame takes more (a heavy "
                  "figure)", low=0, high=1)),
    prepare=prepare, draw="pulse_draw:Pulse", alt=alt)
'''
DRAW = '''
import time

from manim import LEFT, RIGHT, Dot
from neuroanim.draw import NeuroScene


class Pulse(NeuroScene):
    spec_name = "pulse"

    def construct(self):
        if self.data["fail"]:
            raise ValueError("pulse: deliberate failure")
        dot = Dot(LEFT * 3, color=self.theme.accent, radius=RADIUS)
        if self.data["delay"]:
            dot.add_updater(lambda m, dt: time.sleep(self.data["delay"]))
        self.add(dot)
        self.play(dot.animate.move_to(RIGHT * 3), run_time=self.data["seconds"])


RADIUS = 0.4
'''
LESSON = '''title = "Serve test"
[defaults]
resolution = "160x90"
fps = 5
formats = ["mp4", "png"]

[[figure]]
name = "first"
scene = "pulse"
options = {{ seconds = {first} }}

[[figure]]
name = "second"
scene = "pulse"
title = "The second dot"
options = {{ seconds = {second} }}
'''


def lesson_text(first=1.0, second=1.0) -> str:
    return LESSON.format(first=first, second=second)


class Serving:
    """A `neuroanim serve` process: its URL, stderr lines as they come."""

    def __init__(self, folder: Path, *args: str):
        self.folder = folder
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "neuroanim.cli", "serve", "lesson.toml", "--port",
             "0", "--no-open", "-j", "1", *args], cwd=folder,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "NEUROANIM_CACHE": str(folder / "cache")})
        self.lines: list[str] = []
        self.stdout: list[str] = []
        threading.Thread(target=self._read, args=(self.proc.stderr, self.lines),
                         daemon=True).start()
        first = self.proc.stdout.readline()
        self.stdout.append(first.rstrip("\n"))
        threading.Thread(target=self._read, args=(self.proc.stdout, self.stdout),
                         daemon=True).start()
        assert first.startswith("serving http://127.0.0.1:"), (first, self.lines)
        self.url = first.split()[1]

    @staticmethod
    def _read(stream, into: list) -> None:
        for line in stream:
            into.append(line.rstrip("\n"))

    def state(self) -> dict:
        with urllib.request.urlopen(self.url + "_neuroanim/state", timeout=5) as r:
            return json.loads(r.read())

    def builds(self) -> int:
        return sum(" outputs in " in line for line in self.lines)

    def wait(self, pred, what: str, timeout: float = 60.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with _quiet():
                got = pred()
                if got:
                    return got
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; stderr:\n"
                             + "\n".join(self.lines[-40:]))

    def settled(self) -> dict:
        """Wait until every figure is done or failed and no build runs."""
        def done():
            s = self.state()
            states = {s["figures"].get(n, {}).get("state") for n in s["order"]}
            n = self.builds()
            return s if s["order"] and states <= {"done", "failed"} and \
                n == self.builds() and self.lines and \
                " outputs in " in "\n".join(self.lines[-3:]) else None
        return self.wait(done, "the build to settle")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


class _quiet:
    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        return kind is not None and issubclass(kind, OSError)


@pytest.fixture
def course(tmp_path) -> Path:
    write(tmp_path / "scenes" / "pulse.py", CARD)
    write(tmp_path / "scenes" / "pulse_draw.py", DRAW)
    (tmp_path / "lesson.toml").write_text(lesson_text())
    return tmp_path


@pytest.fixture
def browser(tmp_path):
    drv = chromium(tmp_path / "chromium-profile", window="900,500")
    try:
        yield drv
    finally:
        drv.quit()


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


SECTION = """
const s = [...document.querySelectorAll('section.figure')]
  .find(x => x.dataset.figure === arguments[0]);
if (!s) return null;
const v = s.querySelector('video'), b = s.querySelector('.live-status');
return {version: s.dataset.version || '', ready: !!v && v.readyState >= 1,
        src: v ? v.currentSrc : '', state: b ? b.dataset.state : null,
        error: (s.querySelector('.live-error') || {}).textContent || null};
"""


def frames(path: Path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


# ------------------------------------------------------------------ serving
@pytest.mark.render
@pytest.mark.browser
def test_serve_edit_reload_broken_edit_ten_saves_code_edit_and_ctrl_c(course, browser):
    lesson = course / "lesson.toml"
    out = course / "renders"
    srv = Serving(course)
    try:
        s = srv.settled()
        assert s["order"] == ["first", "second"]
        assert srv.stdout == [f"serving {srv.url}"], "exactly one line on stdout"
        assert frames(out / "first.mp4") == 5, "1 s at 5 fps"
        browser.get(srv.url)
        srv.wait(lambda: browser.execute_script(
            "return window.__neuroanim && window.__neuroanim.connected"), "the page")
        titles = browser.execute_script(
            "return [...document.querySelectorAll('section.figure h2')]"
            ".map(h => h.firstChild.textContent)")
        assert titles == ["first", "The second dot"], "lesson order, titles"
        browser.execute_script("window.scrollTo(0, 150)")
        y0 = browser.execute_script("return window.scrollY")
        assert y0 > 100, "the page must scroll for the scroll test to mean anything"
        before = browser.execute_script(SECTION, "second")

        # an edit: only that figure renders again, the page swaps it in place
        lesson.write_text(lesson_text(second=2.0))
        after = srv.wait(lambda: (x := browser.execute_script(SECTION, "second"))
                         ["version"] != before["version"] and x["ready"] and x,
                         "the page to show the new second figure")
        assert frames(out / "second.mp4") == 10, "2 s at 5 fps: the new options"
        assert manifest(out)["outputs"]["second.mp4"]["options"] == {"seconds": 2.0}
        assert "v=" in after["src"], "the new file, not the browser's cached one"
        assert after["state"] == "done"
        assert browser.execute_script("return window.scrollY") == y0, "scroll kept"
        mp4 = (out / "first.mp4").stat().st_mtime_ns
        assert any("skipped  first.mp4" in x for x in srv.lines), "first untouched"

        # a broken edit: the page and the terminal say so; the old files stay
        lesson.write_text(lesson_text(second=2.0).replace("[[figure]]", "[[figure]", 1))
        banner = srv.wait(lambda: browser.execute_script(
            "const b = document.getElementById('live-banner');"
            "return b && b.textContent"), "the error banner")
        assert "not valid TOML" in banner and "lesson.toml" in banner, banner
        assert any(x.startswith("Error: ") and "not valid TOML" in x
                   for x in srv.lines), srv.lines[-5:]
        with urllib.request.urlopen(srv.url + "second.mp4") as r:
            assert r.status == 200 and r.read() == (out / "second.mp4").read_bytes()
        # a scene that raises: that figure fails, on the page, the rest is kept
        lesson.write_text(lesson_text(second=2.0).replace(
            "seconds = 2.0 }", "seconds = 2.0, fail = 1 }"))
        failed = srv.wait(lambda: (x := browser.execute_script(SECTION, "second"))
                          ["state"] == "failed" and x, "the failed figure")
        assert "deliberate failure" in failed["error"], failed
        assert not browser.execute_script("return document.getElementById("
                                          "'live-banner')"), "the lesson is valid"
        assert frames(out / "second.mp4") == 10, "the last good file stays"
        # the fix recovers
        lesson.write_text(lesson_text(second=3.0))
        srv.wait(lambda: (x := browser.execute_script(SECTION, "second"))
                 ["state"] == "done" and x["ready"] and frames(out / "second.mp4") == 15,
                 "the fixed figure")

        # ten saves in a row: one rebuild
        srv.settled()
        n = srv.builds()
        for i in range(10):
            lesson.write_text(lesson_text(second=round(1.0 + i / 10, 1)))
        srv.wait(lambda: frames(out / "second.mp4") == 10 and srv.builds() > n,
                 "the rebuild after ten saves")
        srv.settled()
        time.sleep(1.0)  # a second build would have started by now
        assert srv.builds() == n + 1, srv.lines[-20:]
        assert (out / "first.mp4").stat().st_mtime_ns == mp4

        # an edit of the author's scene code: the server restarts with it
        pid = srv.proc.pid
        draw = course / "scenes" / "pulse_draw.py"
        draw.write_text(draw.read_text().replace("RADIUS = 0.4", "RADIUS = 0.2"))
        srv.wait(lambda: any("restarting" in x for x in srv.lines), "the restart")
        srv.wait(lambda: srv.state()["figures"].get("first", {}).get("state") == "done"
                 and (out / "first.mp4").stat().st_mtime_ns != mp4, "the new code")
        assert srv.proc.pid == pid and srv.proc.poll() is None
        assert srv.stdout == [f"serving {srv.url}"], "still one line: same server"
        srv.wait(lambda: browser.execute_script(
            "return window.__neuroanim.connected"), "the page to reconnect")
    finally:
        code = srv.stop()
    assert code == 0, srv.lines[-10:]
    text = "\n".join(srv.lines)
    assert "Traceback" not in text and "leaked" not in text, text[-2000:]
    assert not list(out.glob(".*.part")) and not list(out.glob("*.part"))


def test_a_port_in_use_is_one_line_and_exit_2(course):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        res = subprocess.run([sys.executable, "-m", "neuroanim.cli", "serve",
                              "lesson.toml", "--port", str(port), "--no-open"],
                             cwd=course, capture_output=True, text=True, timeout=60)
    assert res.returncode == 2, res.stderr
    errors = [x for x in res.stderr.splitlines() if x.startswith("Error")]
    assert len(errors) == 1 and f"127.0.0.1:{port} is in use" in errors[0], res.stderr
    assert "Traceback" not in res.stderr and res.stdout == ""
    assert not (course / "renders" / "manifest.json").exists(), "nothing built"


@pytest.mark.render
def test_a_render_made_stale_by_a_newer_edit_is_cancelled(course):
    lesson = course / "lesson.toml"
    out = course / "renders"
    srv = Serving(course)
    try:
        srv.settled()
        slow = lesson_text().replace("seconds = 1.0 }", "seconds = 20.0, delay = 0.05 }", 1)
        lesson.write_text(slow)  # 100 frames of 50 ms: long enough to edit meanwhile
        srv.wait(lambda: srv.state()["figures"]["first"]["state"] == "building",
                 "the slow render to start")
        time.sleep(0.5)
        lesson.write_text(lesson_text(first=1.5))
        srv.wait(lambda: any("cancelled" in x and "first.mp4" in x for x in srv.lines),
                 "the stale render to be cancelled")
        srv.wait(lambda: manifest(out)["outputs"]["first.mp4"]["options"]
                 == {"seconds": 1.5}, "the newer edit's render")
        srv.settled()
    finally:
        assert srv.stop() == 0
    assert frames(out / "first.mp4") == 8, "1.5 s at 5 fps (ceil)"
    assert not [x for x in srv.lines if "done" in x and "first.mp4" in x and
                "changed" in x][:-1], "only the newest edit's render finished"
    assert not list(out.glob(".*.part"))


# ------------------------------------------------------------- build, drafts
@pytest.fixture
def in_course(course, monkeypatch):
    monkeypatch.chdir(course)
    yield course
    registry.use(())


def cli(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=True)


def test_build_uses_lesson_toml_here_and_says_so(in_course):
    res = cli("build", "-n")
    assert res.exit_code == 0, res.output
    first = res.output.splitlines()[0]
    assert "lesson.toml" in first and "using ./lesson.toml" in first
    assert "render first.mp4  (new)" in res.output
    (in_course / "lesson.toml").unlink()
    res = cli("build", "-n")
    assert res.exit_code == 0, res.output
    assert "built-in lesson" in res.output.splitlines()[0]
    assert "training-loop.mp4" in res.output


@pytest.mark.render
def test_drafts_land_in_their_own_folder_and_dry_runs_say_what_changed(in_course):
    res = cli("build", "-j", "1")
    assert res.exit_code == 0, res.output
    out = in_course / "renders"
    published = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()}
    res = cli("build", "--draft", "-j", "1")
    assert res.exit_code == 0, res.output
    draft = out / "draft"
    assert {p.name for p in draft.iterdir()} >= {"first.mp4", "first.png", "second.mp4",
                                                 "manifest.json", "index.html"}
    with av.open(str(draft / "first.mp4")) as c:
        v = c.streams.video[0]
        assert (v.codec_context.width, v.codec_context.height) == (428, 240)
        assert float(v.average_rate) == 10
    with Image.open(draft / "first.png") as im:
        assert im.size == (428, 240)
    doc = manifest(draft)
    assert doc["draft"] is True and all(e["draft"] for e in doc["outputs"].values())
    assert 'class="draft-mark"' in (draft / "index.html").read_text()
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()
            if p.is_file()} == published, "drafts never touch the publishing files"

    lesson = in_course / "lesson.toml"
    lesson.write_text(lesson_text(second=2.0))
    res = cli("build", "-n")
    assert "render second.mp4  (changed: options)" in res.output, res.output
    assert "skip   first.mp4  (unchanged)" in res.output
    lesson.write_text(lesson_text().replace('formats = ["mp4", "png"]',
                                            'formats = ["mp4", "png"]\nthemes = ["light"]'))
    res = cli("build", "-n")
    assert "render first-light.mp4  (new)" in res.output, res.output


def test_qualities_never_share_a_file_name(in_course):
    from neuroanim import lesson as lsn

    names = {}
    for q in ("l", "m", "h", "k"):
        ls = lsn.loads(lesson_text().replace('resolution = "160x90"\nfps = 5\n',
                                             f'quality = "{q}"\n'), base=in_course)
        names[q] = {o.name for f in ls.figures for o in f.outputs}
    assert names["l"] == {"first.mp4", "first.png", "second.mp4", "second.png"}
    assert "first.1080p.mp4" in names["h"] and "second.720p.png" in names["m"]
    flat = [n for q in names for n in names[q]]
    assert len(flat) == len(set(flat)), "no two qualities write one file"


# ----------------------------------------------------------------- storyboard
def _panels(board: np.ndarray, bg=(246, 246, 248)) -> list[tuple[int, int, int, int]]:
    """Dark rectangles on the light board: (x0, y0, x1, y1) of each keyframe."""
    dark = np.abs(board.astype(int) - np.array(bg)).sum(axis=2) > 0  # not board
    rows = np.flatnonzero(dark.mean(axis=1) > 0.6)  # text rows are sparse
    bands, start = [], rows[0]
    for a, b in zip(rows, rows[1:], strict=False):
        if b != a + 1:
            bands.append((start, a))
            start = b
    bands.append((start, rows[-1]))
    out = []
    for y0, y1 in bands:
        cols = np.flatnonzero(dark[y0:y1 + 1].mean(axis=0) > 0.99)
        start = cols[0]
        for a, b in zip(cols, cols[1:], strict=False):
            if b != a + 1:
                out.append((start, y0, a, y1))
                start = b
        out.append((start, y0, cols[-1], y1))
    return out


@pytest.mark.render
def test_storyboard_is_one_png_of_at_least_six_labelled_keyframes(tmp_path):
    target = tmp_path / "board.png"
    res = cli("render", "and-gate", "--epochs", "60", "--grid", "8", "--storyboard",
              "--resolution", "214x120", "-o", str(target))
    assert res.exit_code == 0, res.output
    assert "storyboard: 6 keyframes" in res.output or "keyframes" in res.output
    with Image.open(target) as im:
        board = np.asarray(im.convert("RGB"))
    panels = _panels(board)
    assert len(panels) >= 6, panels
    for x0, y0, x1, y1 in panels:
        assert (x1 - x0 + 1, y1 - y0 + 1) == (214, 120), "each keyframe at full size"
        label = board[y1 + 4:y1 + 22, x0:x1]
        assert (label.sum(axis=2) < 300).any(), "a dark label under every keyframe"
    shots = [board[y0:y1 + 1, x0:x1 + 1].astype(int) for x0, y0, x1, y1 in panels]
    assert len({s.tobytes() for s in shots}) >= 5, "keyframes of different moments"
    assert not list(tmp_path.glob("*.mp4")), "no video was encoded"
