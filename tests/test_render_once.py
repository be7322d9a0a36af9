"""Render once, encode many: one drawing feeds every format; the same bytes every time.

Checked with real decoders on real files: a three-format figure constructs its
scene once, its files decode to the frames of separate renders, every format
is byte-identical across `render`, `build -j 1`, `build -j 2` and a second
run, and the still layers of `raster` change no pixel.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from neuroanim import lesson, pipeline, raster, registry, transcode
from neuroanim import render as rd
from neuroanim.build import build
from neuroanim.cli import main
from tests import tiny_scene

ROOT = Path(__file__).resolve().parents[1]
SIZE = (320, 180)


def frames(path: Path) -> list[np.ndarray]:
    if path.suffix == ".gif":
        out = []
        with Image.open(path) as im:
            for i in range(im.n_frames):
                im.seek(i)
                out.append(np.asarray(im.convert("RGB")))
        return out
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.render
def test_three_formats_construct_the_scene_once_and_match_separate_renders(tmp_path):
    tiny_scene.SEEN.clear()
    shared = pipeline.make_all("tiny", {"seconds": 0.6}, formats=("mp4", "webm", "gif"),
                               fps=10, resolution=SIZE, out_dir=tmp_path / "shared")
    assert len(tiny_scene.SEEN) == 1, f"construct ran {len(tiny_scene.SEEN)} times"
    assert [f.result.fmt for f in shared] == ["mp4", "webm", "gif"]
    for fin in shared:
        alone = pipeline.make("tiny", {"seconds": 0.6}, fmt=fin.result.fmt, fps=10,
                              resolution=SIZE, out_dir=tmp_path / fin.result.fmt)
        a, b = frames(fin.result.path), frames(alone.result.path)
        assert len(a) == len(b) == fin.result.frames > 5, (len(a), len(b))
        # the same frames into the same encoder: identical files, not just close
        assert sha(fin.result.path) == sha(alone.result.path), fin.result.fmt
        assert fin.captions and (fin.result.path.parent / fin.captions["vtt"]).is_file()
    # the three formats show the same pictures (lossy codecs: within their noise)
    mp4, webm, g = (frames(f.result.path) for f in shared)
    for i in (0, len(mp4) // 2, len(mp4) - 1):
        for other in (webm[i], g[i]):
            assert np.abs(mp4[i].astype(int) - other.astype(int)).mean() < 4, i


@pytest.mark.render
def test_a_gif_keeps_every_kth_frame_of_a_faster_pass(tmp_path):
    groups, _ = rd.passes([("mp4", *SIZE, 20.0), ("gif", *SIZE, 10.0)])
    assert groups == [((*SIZE, 20.0), [(0, 1), (1, 2)])]
    spec = registry.get("tiny")
    values = spec.resolve({"seconds": 1.0})
    wants = [pipeline.Want("mp4", tmp_path / "t.mp4", *SIZE, 20.0),
             pipeline.Want("gif", tmp_path / "t.gif", *SIZE, 10.0)]
    tiny_scene.SEEN.clear()
    mp4, ten = pipeline.make_outputs(spec, values, wants, theme="dark",
                                     data=registry.prepare(spec, values))
    assert len(tiny_scene.SEEN) == 1, "the GIF drew the scene again"
    video, got = frames(mp4.result.path), frames(ten.result.path)
    with Image.open(ten.result.path) as im:
        assert im.info["duration"] == 100, "10 fps: exact 10 cs delays"
    assert len(got) == -(-len(video) // 2), (len(got), len(video))
    for j in (0, len(got) // 3, len(got) - 1):
        assert np.abs(got[j].astype(int) - video[2 * j].astype(int)).mean() < 4, j
        if j:
            assert np.abs(got[j].astype(int) - video[2 * j - 1].astype(int)).mean() \
                > np.abs(got[j].astype(int) - video[2 * j].astype(int)).mean(), j


LESSON = """
title = "determinism"
[defaults]
resolution = "192x108"
fps = 10

[[figure]]
name = "ball"
scene = "gradient-descent"
formats = ["mp4", "webm", "mov", "gif", "png"]
options = { lr = [0.5], steps = 5 }
"""


@pytest.mark.render
def test_every_format_has_the_same_bytes_across_render_builds_and_runs(tmp_path):
    src = tmp_path / "lesson.toml"
    src.write_text(LESSON)
    ls = lesson.load(src)
    names = [o.name for o in ls.figures[0].outputs]
    runs = {}
    for label, jobs in (("j1", 1), ("j2", 2), ("again", 1)):
        report = build(ls, tmp_path / label, jobs=jobs, force=True, on_event=print)
        assert report.ok, [e.error for e in report.failed]
        runs[label] = {n: sha(tmp_path / label / n) for n in names}
    out = tmp_path / "cli"
    for fmt in ("mp4", "webm", "mov", "gif", "png"):
        args = ["render", "gradient-descent", "--lr", "0.5", "--steps", "5", "-f", fmt,
                "--resolution", "192x108", "--fps", "10", "-o", str(out / f"ball.{fmt}")]
        if fmt == "mp4":  # a fresh process, as an author runs it
            done = subprocess.run([sys.executable, "-m", "neuroanim.cli", *args],
                                  cwd=ROOT, capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
        else:  # the same command in this process, after three builds
            res = CliRunner().invoke(main, args)
            assert res.exit_code == 0, res.output
    runs["render"] = {n: sha(out / n) for n in names}
    assert runs["j1"] == runs["j2"] == runs["again"] == runs["render"], runs


@pytest.mark.render
def test_still_layers_change_no_pixel(tmp_path, monkeypatch):
    """The same scene drawn with and without `raster`'s cached still layers,
    into the lossless intermediate: the pictures agree (Cairo compositing one
    layer may round an edge pixel by a level)."""
    spec = registry.get("gradient-descent")
    values = spec.resolve({"lr": [0.05, 0.5]})
    data = registry.prepare(spec, values)

    def drawn(name: str) -> list[np.ndarray]:
        path = tmp_path / f"{name}.bin"
        with rd.scratch_dir() as scratch:
            rd.draw(spec, values, data, scratch, w=SIZE[0], h=SIZE[1], fps=10,
                    theme="dark", gifs=[(1, path)])
        return [f.copy() for f in transcode.read_frames(path)]

    painted = []
    real_paint = raster.Layers._paint
    monkeypatch.setattr(raster.Layers, "_paint",
                        lambda self, run: painted.append(len(run)) or
                        real_paint(self, run))
    monkeypatch.setattr(raster.Fader, "plain", staticmethod(lambda anim: False))
    layered = drawn("layered")  # fades are drawn as usual here (next test)
    assert painted and max(painted) > 20, "no still layer was used"
    monkeypatch.setattr(raster, "install", lambda scene: None)
    plain = drawn("plain")
    assert len(layered) == len(plain)
    worst = max(np.abs(a.astype(int) - b.astype(int)).max()
                for a, b in zip(layered, plain, strict=True))
    mean = max(np.abs(a.astype(int) - b.astype(int)).mean()
               for a, b in zip(layered, plain, strict=True))
    assert worst <= 2 and mean < 0.05, (worst, mean)


@pytest.mark.render
def test_a_fade_is_its_final_picture_at_the_frames_opacity(tmp_path, monkeypatch):
    """`raster.Fader`: words on a panel fading in are the finished picture
    composited at the frame's factor (bg + f x (final - bg), computed here from
    the frames themselves); shapes that overlap nothing fade exactly as manim
    draws them."""
    spec = registry.get("fades")
    values = spec.resolve({})
    factors: list[float] = []
    real_draw = raster.Layers.draw

    def draw(self, pixel_array):
        factors.extend(f.factor for f in self.faders[:1])
        return real_draw(self, pixel_array)

    def drawn(name: str) -> list[np.ndarray]:
        path = tmp_path / f"{name}.bin"
        with rd.scratch_dir() as scratch:
            rd.draw(spec, values, {}, scratch, w=320, h=180, fps=10, theme="dark",
                    gifs=[(1, path)])
        return [f.astype(float) for f in transcode.read_frames(path)]

    monkeypatch.setattr(raster.Layers, "draw", draw)
    layered = drawn("layered")
    np.testing.assert_allclose(factors[:10], np.arange(10) / 10, atol=1e-9)
    final, bg = layered[10], layered[0][0, 0]
    assert np.abs(final - bg).max() > 100, "nothing faded in"
    for k in range(1, 10):
        want = bg + factors[k] * (final - bg)
        assert np.abs(layered[k] - want).max() <= 3, k  # 8-bit premultiplied rounding
    monkeypatch.setattr(raster, "install", lambda scene: None)
    plain = drawn("plain")
    assert len(plain) == len(layered)
    for a, b in zip(layered[12:], plain[12:], strict=True):  # the shapes apart
        assert np.abs(a - b).max() <= 3
    assert max(np.abs(a - b).max()
               for a, b in zip(layered[1:10], plain[1:10], strict=True)) > 2, \
        "words over a half-faded panel look the same either way: the test shows nothing"


def test_a_frame_file_gives_back_every_frame_exactly(tmp_path):
    """`transcode.FrameWriter` stores changed rectangles: reading them back
    rebuilds each frame bit for bit (first frame, small changes, a repeat, a
    change in a corner, a frame that changes everywhere)."""
    from fractions import Fraction

    rng = np.random.default_rng(7)
    h, w = 90, 160
    first = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    shown = [first]
    for step in range(6):
        nxt = shown[-1].copy()
        if step == 2:
            pass  # unchanged: stored as a repeat
        elif step == 4:
            nxt[-1, -1, 0] ^= 1  # one channel of the last pixel
        elif step == 5:
            nxt = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
        else:
            nxt[10 + step:30, 40:60 + step] = rng.integers(0, 256, (20 - step, 20 + step, 4))
        shown.append(nxt)
    writer = transcode.FrameWriter(tmp_path / "f.bin", w, h, Fraction(20))
    for frame in shown:
        writer.add(frame)
    writer.close()
    assert transcode.frame_file_info(tmp_path / "f.bin") == (w, h, Fraction(20))
    back = [f.copy() for f in transcode.read_frames(tmp_path / "f.bin")]
    assert len(back) == len(shown)
    for i, (a, b) in enumerate(zip(shown, back, strict=True)):
        assert np.array_equal(a, b), i  # every channel kept
    assert (tmp_path / "f.bin").stat().st_size < 2.5 * first.nbytes  # not 7 frames


def test_a_replayed_path_paints_the_same_pixels():
    """`raster.PathCache` hands Cairo a remembered outline: every pixel is what
    manim's own path building paints, on a miss and on the hits after it."""
    from manim import Arc, Circle, Dot, Line, Polygon, VGroup
    from manim.camera.camera import Camera

    from neuroanim.glyphs import FastText

    shapes = VGroup(Circle(1.2, fill_opacity=0.5), Arc(0.8, 0, 4), Dot([2, 1, 0]),
                    Line([-3, -2, 0], [3, 2, 0]), Polygon([0, 0, 0], [1, 2, 0], [2, 0, 0]),
                    FastText("Ärger, 0.25", font_size=30).shift([-2, 2, 0]))
    shapes.add(shapes[0].copy().shift([1.5, 0, 0]))  # same shape elsewhere: new path

    def paint(cached: bool, times: int) -> np.ndarray:
        cam = Camera(pixel_width=320, pixel_height=180)
        if cached:
            cam.set_cairo_context_path = cache = raster.PathCache(cam)
        for _ in range(times):
            cam.reset()
            cam.capture_mobjects(shapes.family_members_with_points())
        if cached:
            n = len(shapes.family_members_with_points())
            assert (cache.misses, cache.hits) == (n, n * (times - 1))
        return cam.pixel_array.copy()

    plain = paint(False, 1)
    assert np.array_equal(plain, paint(True, 1)), "a miss painted other pixels"
    assert np.array_equal(plain, paint(True, 3)), "a replayed path painted other pixels"


@pytest.mark.render
def test_an_updater_changing_a_still_mobject_is_caught():
    """A mobject with no updater of its own, moved by another's updater, is
    seen to change (fingerprint) and the play falls back to manim's drawing."""
    from manim import Dot, Square, VGroup

    sq = VGroup(*(Square(0.2).shift(i * 0.3 * np.array([1, 0, 0])) for i in range(6)))
    dot = Dot()
    state = raster._VState([*sq, dot])
    assert state.same()
    for change in (lambda: sq[3].shift(np.array([0.0, 0.5, 0.0])),  # in place
                   lambda: sq[2].points.__setitem__((5, 1), 0.01),  # one inner point
                   lambda: dot.set_fill(opacity=0.0),
                   lambda: sq[0].set_stroke(width=7),
                   lambda: sq[1].set_points(sq[1].points[:-4]),  # fewer points
                   lambda: sq[4].set_points([])):  # emptied (points of shape (0,))
        state = raster._VState([*sq, dot])
        change()
        assert not state.same()
    assert raster._invisible(dot.set_stroke(width=0))


class ShrinkingGifs:
    """A `render_at` whose attempts weigh pixels x frames x (1 - lossy/100)."""

    def __init__(self):
        self.calls = []

    def __call__(self, fps, size, path, lossy=0):
        self.calls.append((fps, size, lossy))
        Path(path).write_bytes(b"G" * int(size[0] * size[1] * fps / 40
                                          * (1 - lossy / 100)))
        return rd.RenderResult(Path(path), "gif", Path(path).stat().st_size,
                               *size, fps, int(fps), 1.0)


def test_the_gif_ladder_compresses_before_it_drops_rate_or_size(tmp_path, monkeypatch):
    from neuroanim import gif

    monkeypatch.setattr(gif, "lossy_available", lambda: True)
    full = 640 * 360 * 20 / 40
    fake = ShrinkingGifs()
    res, notes = gif.fit_gif(fake, tmp_path / "a.gif", width=640, height=360, fps=20,
                             budget=int(full * 0.72))
    assert fake.calls == [(20, (640, 360), 0), (20, (640, 360), 30)], fake.calls
    assert res.width == 640 and res.fps == 20 and "lossy compression 30" in notes[0]
    fake = ShrinkingGifs()
    gif.fit_gif(fake, tmp_path / "b.gif", width=640, height=360, fps=20,
                budget=int(full * 0.6))
    assert fake.calls == [(20, (640, 360), 0), (20, (640, 360), 30),
                          (20, (640, 360), 60)], fake.calls
    # out of reach of compression (it leaves 0.59 at best): the rate drops
    # without trying it, and at 10 fps the palette alone is out of reach too
    fake = ShrinkingGifs()
    gif.fit_gif(fake, tmp_path / "c.gif", width=640, height=360, fps=20,
                budget=int(full * 0.33))
    assert fake.calls[:2] == [(20, (640, 360), 0), (10, (640, 360), 30)], fake.calls


@pytest.mark.render
def test_gifsicle_makes_a_real_gif_smaller_and_keeps_its_frames(tmp_path):
    from neuroanim import gif

    assert gif.lossy_available(), "gifsicle is part of the set-up"
    done = pipeline.make("and-gate", {"epochs": 300}, fmt="gif", fps=10,
                         resolution=SIZE, out=tmp_path / "a.gif", budget=0)
    small = gif.compress(done.result.path, tmp_path / "b.gif", 30)
    before, after = rd.describe(done.result.path), rd.describe(small)
    assert after.bytes < 0.9 * before.bytes, (before.bytes, after.bytes)
    # gifsicle may merge a frame that does not change into the one before (a
    # longer delay): the same rate, length and pictures for a player
    assert (after.frames, after.fps, after.width, after.duration) == (
        before.frames, before.fps, before.width, before.duration)
    a = frames(done.result.path)
    with Image.open(small) as im:
        shown = []
        for i in range(im.n_frames):
            im.seek(i)
            shown += [np.asarray(im.convert("RGB"))] * (im.info["duration"] // 100)
    assert len(shown) == len(a)
    assert max(np.abs(x.astype(int) - y.astype(int)).mean()
               for x, y in zip(a, shown, strict=True)) < 3


def test_frames_read_ahead_stop_with_their_reader_and_hand_on_its_error():
    """`transcode._ahead`: a consumer that stops early (its encoder failed)
    leaves no reader thread behind, even with the queue full; an error of
    the reader is raised where the consumer reads."""
    import threading
    import time

    def alive() -> list:
        return [t for t in threading.enumerate() if t.name == "frames-ahead"]

    ahead = transcode._ahead(iter(range(9)), depth=8)
    assert next(ahead) == 0
    time.sleep(0.2)  # the reader fills the queue and waits with its last item
    ahead.close()
    deadline = time.monotonic() + 2
    while alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not alive(), "the reader thread outlived its consumer"

    def failing():
        yield 1
        raise ValueError("a broken frame file")

    with pytest.raises(ValueError, match="broken frame file"):
        list(transcode._ahead(failing()))


def _sink_threads() -> list:
    import threading

    return [t for t in threading.enumerate() if t.name.startswith("sink-")]


@pytest.mark.render
@pytest.mark.parametrize("other", ["gif", "png"])
def test_the_rest_of_a_figure_is_made_while_its_videos_encoders_finish(
        tmp_path, monkeypatch, other):
    """A pass's videos drain their encoders' last frames while the figure's
    GIF is mapped onto its palette, or its still is drawn: that work starts
    before the mp4's encoder is done, and every file is whole."""
    import threading
    import time

    from neuroanim import encode, gif

    seen: dict[str, float] = {}
    finish = encode.VideoSink.finish
    patched = (gif, "fit_gif") if other == "gif" else (rd, "render")
    original = getattr(*patched)

    def slow_finish(self):
        time.sleep(0.5)  # an encoder with a long lookahead to drain
        finish(self)
        seen["video done"] = time.perf_counter()

    def start_of_the_rest(*a, **kw):
        seen["rest starts"] = time.perf_counter()
        seen["thread"] = threading.current_thread().name
        return original(*a, **kw)

    monkeypatch.setattr(encode.VideoSink, "finish", slow_finish)
    monkeypatch.setattr(*patched, start_of_the_rest)
    done = pipeline.make_all("tiny", {"seconds": 0.6}, formats=("mp4", other), fps=10,
                             resolution=SIZE, out_dir=tmp_path)
    assert seen["rest starts"] < seen["video done"] - 0.2, seen
    assert not seen["thread"].startswith("sink-")
    mp4, rest = (frames(f.result.path) if f.result.fmt != "png"
                 else [np.asarray(Image.open(f.result.path).convert("RGB"))]
                 for f in done)
    assert len(mp4) == done[0].result.frames > 5
    if other == "gif":
        assert len(rest) == len(mp4)
    assert np.abs(mp4[-1].astype(int) - rest[-1].astype(int)).mean() < 4
    assert not _sink_threads()


@pytest.mark.render
@pytest.mark.parametrize("fails", ["video", "gif", "still"])
def test_a_failure_after_drawing_leaves_no_video_and_no_thread(tmp_path, monkeypatch,
                                                                fails):
    """An encoder failing while it drains, or the GIF post pass or the still
    failing while the videos drain: the figure raises that error, no video
    lands, and no encoder thread is left running."""
    from neuroanim import encode, gif

    if fails == "video":
        def finish(self):
            raise OSError("disk full")  # the encoder's last write
        monkeypatch.setattr(encode.VideoSink, "finish", finish)
        expected = "disk full"
    elif fails == "gif":
        def fit_gif(*a, **kw):
            raise RuntimeError("palette gone")
        monkeypatch.setattr(gif, "fit_gif", fit_gif)
        expected = "palette gone"
    else:
        def still(*a, **kw):
            raise OSError("no room for the still")
        monkeypatch.setattr(rd, "render", still)
        expected = "no room for the still"
    import threading

    raised: list[BaseException] = []

    def make() -> None:
        try:
            pipeline.make_all("tiny", {"seconds": 0.6},
                              formats=("mp4", "webm", "gif", "png"), fps=10,
                              resolution=SIZE, out_dir=tmp_path)
        except BaseException as exc:
            raised.append(exc)

    worker = threading.Thread(target=make, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the pass hung after the failure"
    assert raised, "the failure was not raised"
    chain, e = [], raised[0]
    while e is not None:
        chain.append(str(e))
        e = e.__cause__ or e.__context__
    assert any(expected in m for m in chain), chain
    assert not list(tmp_path.glob("*.mp4")) and not list(tmp_path.glob("*.webm"))
    assert not _sink_threads()


@pytest.mark.render
def test_an_interrupt_while_the_videos_drain_stops_their_threads(tmp_path, monkeypatch):
    """Ctrl-C (or a build worker's SIGTERM) while waiting for an encoder to
    drain: the interrupt goes on up, the encoder is waited for and its file
    dropped before the scratch folder goes, and no video lands."""
    import time

    from neuroanim import encode, sink

    finish, close = encode.VideoSink.finish, encode.VideoSink.close
    wrote_into: list[bool] = []

    def slow_finish(self):
        time.sleep(0.8)
        wrote_into.append(self.path.parent.is_dir())  # the scratch folder is there
        finish(self)

    def interrupted_close(self):
        sink.Sink.end(self)
        raise KeyboardInterrupt

    monkeypatch.setattr(encode.VideoSink, "finish", slow_finish)
    monkeypatch.setattr(encode.VideoSink, "close", interrupted_close)
    with pytest.raises(KeyboardInterrupt):
        pipeline.make_all("tiny", {"seconds": 0.6}, formats=("mp4", "webm", "png"),
                          fps=10, resolution=SIZE, out_dir=tmp_path)
    assert not _sink_threads()
    # an encoder that was still finishing did so into its scratch folder (one
    # that had not reached its end marker when aborted skips finishing)
    assert all(wrote_into), wrote_into
    assert not list(tmp_path.glob("*.mp4")) and not list(tmp_path.glob("*.webm"))
    monkeypatch.setattr(encode.VideoSink, "close", close)


def test_abort_leaves_a_file_alone_while_its_thread_still_finishes_it(monkeypatch):
    """`Sink.abort` waits `ABORT_WAIT` for the sink's thread; one still
    finishing its file then is not discarded under it (two threads on one
    container could crash libav)."""
    import threading
    import time

    from neuroanim import sink

    monkeypatch.setattr(sink, "ABORT_WAIT", 0.2)
    events: list[str] = []
    finishing = threading.Event()

    class Slow(sink.Sink):
        def consume(self, pixels, repeat):
            pass

        def finish(self):
            finishing.set()
            time.sleep(0.8)
            events.append("finished")

        def discard(self):
            events.append("discarded")

    s = Slow("slow")
    s.put(np.zeros((2, 2, 4), np.uint8))
    s.end()
    assert finishing.wait(5)
    s.abort()
    assert events == [], events  # still finishing: left alone
    s._thread.join(5)
    assert events == ["finished"]
    fast = Slow("fast")  # a sink whose thread is done is discarded
    monkeypatch.setattr(sink, "ABORT_WAIT", 5)
    fast.abort()
    assert events == ["finished", "discarded"]
