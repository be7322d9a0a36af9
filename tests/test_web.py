"""Course-page delivery: WebVTT, posters, alt text, GIF budgets, the preview page.

One file over neuroanim.captions, .posters, .alt, .gif, .transcode, .finish and .page.
"""

from __future__ import annotations

import base64
import html
import math
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from html.parser import HTMLParser
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from neuroanim import captions, gif, pipeline, posters, registry, transcode
from neuroanim.errors import UserError
from neuroanim.page import render_index, write_index
from neuroanim.render import describe, render
from tests import tiny_scene

# ------------------------------------------------------------ a small real set
# Two figures of the tiny test scene: every format, both themes for the GIF and
# the still (so the page shows <picture> snippets), light and dark videos.
SMALL_SET = (
    ("circle", {"seconds": 1.0}, "mp4", "dark"),
    ("circle", {"seconds": 1.0}, "webm", "dark"),
    ("circle", {"seconds": 1.0}, "gif", "dark"),
    ("circle", {"seconds": 1.0}, "gif", "light"),
    ("circle", {"seconds": 1.0}, "png", "dark"),
    ("circle", {"seconds": 1.0}, "png", "light"),
    ("slow-circle", {"seconds": 2.0}, "mp4", "dark"),
    ("slow-circle", {"seconds": 2.0}, "webm", "light"),
)


def build_small_set(out_dir: Path, resolution=(320, 180), fps: float = 10) -> dict:
    """Render SMALL_SET for real, finish each output, write manifest-shaped index.

    The manifest dict has the shape the lesson build writes (neuroanim.manifest/1).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs: dict[str, dict] = {}
    for figure, options, fmt, theme in SMALL_SET:
        suffix = "" if theme == "dark" else "-light"
        name = f"{figure}{suffix}.{fmt}"
        data = tiny_scene.SPEC.prepare(tiny_scene.SPEC.resolve(options))
        kw = {"theme": theme, "data": data}
        notes: list[str] = []
        if fmt == "gif":  # as a lesson build makes GIFs: one render, fitted to budget
            with gif.gif_renderer(tiny_scene.SPEC, options, **kw) as render_at:
                result, notes = gif.fit_gif(render_at, out_dir / name,
                                            width=resolution[0], height=resolution[1],
                                            fps=fps, budget=gif.GIF_BUDGET)
        else:
            result = render("tiny", options, fmt=fmt, resolution=resolution, fps=fps,
                            out=out_dir / name, **kw)
        extra = pipeline.finish(tiny_scene.SPEC, result, data).manifest_fields()
        outputs[name] = {
            "figure": figure, "scene": "tiny", "options": options, "format": fmt,
            "theme": theme, "quality": "l", "key": "0" * 64,
            "bytes": result.bytes, "width": result.width, "height": result.height,
            "fps": result.fps, "frames": result.frames, "duration": result.duration,
            "made": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            **extra,
            "notes": notes or (["a note from the build"] if fmt == "gif" else []),
            "title": "A circle, drawn" if figure == "circle" else "A slower circle",
        }
    manifest = {"schema": "neuroanim.manifest/1", "manim": version("manim"),
                "outputs": outputs}
    write_index(out_dir, manifest)
    return manifest


@pytest.fixture(scope="module")
def small_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("small-set")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEUROANIM_CACHE", str(out.parent / "cache-small-set"))
        manifest = build_small_set(out)
    return out, manifest


class PageParser(HTMLParser):
    """Collects the preview page's outputs, media elements and snippet texts."""

    def __init__(self):
        super().__init__()
        self.outputs: list[str] = []
        self.imgs: list[dict] = []
        self.videos: list[dict] = []
        self.tracks: list[dict] = []
        self.sources: list[dict] = []
        self.snippets: list[str] = []
        self._code = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-output" in a:
            self.outputs.append(a["data-output"])
        if tag == "img":
            self.imgs.append(a)
        elif tag == "video":
            self.videos.append(a)
        elif tag == "track":
            self.tracks.append(a)
        elif tag == "source":
            self.sources.append(a)
        elif tag == "code" and (a.get("id") or "").startswith("snippet-"):
            self._code = []

    def handle_data(self, data):
        if self._code is not None:
            self._code.append(data)

    def handle_endtag(self, tag):
        if tag == "code" and self._code is not None:
            self.snippets.append("".join(self._code))
            self._code = None


def parse_page(text: str) -> PageParser:
    p = PageParser()
    p.feed(text)
    return p


# ------------------------------------------------------------------- captions
STAMP = r"(\d\d):(\d\d):(\d\d){sep}(\d\d\d)"
SRT_STAMP, VTT_STAMP = STAMP.format(sep=","), STAMP.format(sep=r"\.")
SRT_TIME = re.compile(f"{SRT_STAMP} --> {SRT_STAMP}")
VTT_TIME = re.compile(f"^{VTT_STAMP} --> {VTT_STAMP}$")


def ms(h, m, s, f) -> int:
    return ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(f)


def read_srt(text: str) -> list[tuple[int, int, str]]:
    """An independent SRT reader: (start ms, end ms, text) per cue."""
    cues = []
    for block in text.replace("\r\n", "\n").strip().split("\n\n"):
        lines = block.split("\n")
        m = SRT_TIME.fullmatch(lines[1])
        cues.append((ms(*m.groups()[:4]), ms(*m.groups()[4:]), "\n".join(lines[2:])))
    return cues


def read_vtt(text: str) -> list[tuple[int, int, str]]:
    """A strict WebVTT reader for what srt_to_vtt writes; text is unescaped."""
    assert text.startswith("WEBVTT\n\n") or text == "WEBVTT\n", "VTT header missing"
    cues = []
    for block in text[len("WEBVTT\n\n"):].strip("\n").split("\n\n"):
        if not block:
            continue
        lines = block.split("\n")
        timing = next(i for i, line in enumerate(lines) if "-->" in line)
        m = VTT_TIME.match(lines[timing])
        assert m, f"bad VTT timing line {lines[timing]!r}"
        body = lines[timing + 1:]
        for line in body:
            assert "<" not in line and ">" not in line, f"unescaped markup in {line!r}"
            assert not re.search(r"&(?!amp;|lt;|gt;)", line), f"bare & in {line!r}"
        cues.append((ms(*m.groups()[:4]), ms(*m.groups()[4:]),
                     html.unescape("\n".join(body))))
    return cues


def test_vtt_of_a_real_manim_srt_matches_the_scene_timings(tmp_path):
    seconds = 0.6
    result = render("tiny", {"seconds": seconds}, fmt="mp4", resolution=(160, 90),
                    fps=5, out=tmp_path / "t.mp4")
    assert result.captions and result.captions.is_file(), "manim wrote no .srt"
    vtt = captions.write_vtt(result.captions, tmp_path / "t.vtt")
    srt_cues = read_srt(result.captions.read_text())
    vtt_cues = read_vtt(vtt.read_text())
    assert vtt_cues == srt_cues, f"VTT {vtt_cues} differs from its SRT {srt_cues}"
    # The scene's own run times are the closed form of the caption timings.
    end = seconds + tiny_scene.DONE_SECONDS
    expected = [(0, round(seconds * 1000), tiny_scene.CIRCLE_CAPTION),
                (round(seconds * 1000), round(end * 1000), tiny_scene.DONE_CAPTION)]
    assert vtt_cues == expected, f"caption timings {vtt_cues}, expected {expected}"


cue_text = st.lists(
    st.text(alphabet=st.sampled_from(list("ab <>&-->;é #\"'")), min_size=1,
             max_size=12).filter(lambda s: s.strip()),
    min_size=1, max_size=3)


@settings(max_examples=60, deadline=None)
@given(cues=st.lists(st.tuples(st.integers(0, 10 * 3_600_000), st.integers(0, 60_000),
                               cue_text), min_size=1, max_size=6),
       crlf=st.booleans(), bom=st.booleans())
def test_srt_to_vtt_keeps_times_and_text_and_escapes_markup(cues, crlf, bom):
    def stamp(t):
        return (f"{t // 3_600_000:02d}:{t // 60_000 % 60:02d}:{t // 1000 % 60:02d},"
                f"{t % 1000:03d}")

    blocks = [f"{i + 1}\n{stamp(s)} --> {stamp(s + d)}\n" + "\n".join(lines)
              for i, (s, d, lines) in enumerate(cues)]
    srt = "\n\n".join(blocks) + "\n"
    if crlf:
        srt = srt.replace("\n", "\r\n")
    vtt = captions.srt_to_vtt(("\ufeff" if bom else "") + srt)
    got = read_vtt(vtt)
    want = sorted(((s, s + d, "\n".join(lines)) for s, d, lines in cues),
                  key=lambda c: c[0])  # stable: equal starts keep file order
    assert got == want, f"cues changed in conversion:\n{srt}\n->\n{vtt}"
    assert "," not in "".join(line for line in vtt.splitlines() if "-->" in line), \
        "a comma millisecond separator survived"


def test_srt_errors_name_the_cue_and_the_file(tmp_path):
    with pytest.raises(UserError, match="SRT cue 2: no"):
        captions.srt_to_vtt("1\n00:00:00,000 --> 00:00:01,000\nok\n\n"
                            "2\n00:00:01 -> x\nno\n")
    with pytest.raises(UserError, match="cue 1: ends before it starts"):
        captions.srt_to_vtt("1\n00:00:02,000 --> 00:00:01,000\nback\n")
    bad = tmp_path / "bad.srt"
    bad.write_text("garbage\n")
    with pytest.raises(UserError, match=r"bad\.srt: SRT cue 1"):
        captions.write_vtt(bad, tmp_path / "bad.vtt")
    assert not (tmp_path / "bad.vtt").exists(), "a failed conversion left a .vtt"


# -------------------------------------------------------------------- posters
def _synthetic_video(path: Path, frames: list[np.ndarray], fps: int = 10) -> None:
    import av

    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        s.options = {"crf": "10"}
        for f in frames:
            c.mux(s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        c.mux(s.encode())


def test_poster_is_the_finished_picture_not_a_black_or_faded_frame(tmp_path):
    h, w = 96, 128
    black = np.zeros((h, w, 3), np.uint8)
    partial = black.copy()
    partial[10:40, 10:40] = 255  # a white square
    full = partial.copy()
    full[20:80, 60:120] = (230, 60, 30)  # plus a red panel: the finished picture
    frames = [black] * 5 + [partial] * 5 + [full] * 5 + [black] * 5  # fade to black
    video = tmp_path / "v.mp4"
    _synthetic_video(video, frames)
    poster = posters.make_poster(video, tmp_path / "v.poster.png")
    img = np.asarray(Image.open(poster).convert("RGB")).astype(int)
    assert img.shape == full.shape, f"poster {img.shape} is not the video's size"
    diff = np.abs(img - full).mean()
    assert diff < 4, f"poster differs from the finished frame by {diff:.1f} on average"
    assert img[50, 90].tolist() != [0, 0, 0], "poster is black where the panel is"


def test_a_pass_picks_the_poster_the_video_would_give(tmp_path):
    """The pass scores its own frames; decoding the video it wrote picks the same
    picture (within the encoder's noise), and two makes give the same bytes."""
    done = [pipeline.make_all("tiny", {"seconds": 0.6}, formats=("mp4", "webm"),
                              out_dir=tmp_path / str(i), resolution=(320, 180), fps=10)
            for i in range(2)]
    for a, b in zip(*done, strict=True):
        pa, pb = a.path.with_name(a.poster), b.path.with_name(b.poster)
        assert pa.read_bytes() == pb.read_bytes(), f"{pa.name} differs between runs"
        got = np.asarray(Image.open(pa).convert("RGB")).astype(int)
        want = posters.telling_frame(a.path)[0][..., :3].astype(int)
        assert np.abs(got - want).mean() < 4, f"{pa.name} is not the video's telling frame"
    first = [np.asarray(Image.open(f.path.with_name(f.poster))) for f in done[0]]
    assert np.array_equal(*first), "mp4 and webm of one pass have different posters"


def test_poster_of_a_real_render_is_its_final_frame(tmp_path):
    size = (320, 180)
    video = render("tiny", {"seconds": 0.6}, fmt="mp4", resolution=size, fps=10,
                   out=tmp_path / "t.mp4")
    still = render("tiny", {"seconds": 0.6}, fmt="png", resolution=size,
                   out=tmp_path / "t.png")  # manim's own last frame
    poster = posters.make_poster(video.path, tmp_path / "t.poster.png")
    a = np.asarray(Image.open(poster).convert("RGB")).astype(int)
    b = np.asarray(Image.open(still.path).convert("RGB")).astype(int)
    assert a.shape == b.shape, f"poster {a.shape} vs still {b.shape}"
    assert np.abs(a - b).mean() < 6, "poster is not the scene's finished frame"
    assert np.abs(a - a[0, 0]).max() > 100, "poster has no drawing on it"


def test_poster_of_a_transparent_webm_keeps_its_alpha(tmp_path):
    kw = {"transparent": True, "resolution": (320, 180)}
    video = render("tiny", {"seconds": 0.4}, fmt="webm", fps=5, out=tmp_path / "t.webm",
                   **kw)
    still = render("tiny", {"seconds": 0.4}, fmt="png", out=tmp_path / "t.png", **kw)
    poster = Image.open(posters.make_poster(video.path, tmp_path / "t.poster.png"))
    assert poster.mode == "RGBA", f"poster mode {poster.mode}, expected RGBA"
    alpha = np.asarray(poster)[..., 3].astype(int)
    want = np.asarray(Image.open(still.path))[..., 3].astype(int)  # manim's last frame
    assert alpha.min() == 0 and alpha.max() > 200, "poster lost the video's alpha"
    assert np.abs(alpha - want).mean() < 3, "poster alpha differs from the last frame"


def test_finish_output_per_format(small_set):
    out, manifest = small_set
    for name, e in manifest["outputs"].items():
        if e["format"] in ("mp4", "webm"):
            want = Path(name).stem + ".poster.png"
            assert e["poster"] == want, f"{name}: poster {e['poster']}"
            assert (out / e["poster"]).is_file(), f"{name}: poster not written"
        else:
            assert e["poster"] is None, f"{name}: a {e['format']} got a poster"
        if e["format"] == "png":
            assert e["captions"] is None, f"{name}: a still got captions"
        else:
            caps = e["captions"]
            assert caps and (out / caps["vtt"]).is_file(), f"{name}: no .vtt"
            assert read_vtt((out / caps["vtt"]).read_text()) == read_srt(
                (out / caps["srt"]).read_text()), f"{name}: vtt differs from srt"
        mode = (out / name).stat().st_mode & 0o777
        assert mode & 0o044 == 0o044, f"{name}: mode {oct(mode)} unreadable by a server"
        assert e["alt"] == tiny_scene.SPEC.description, f"{name}: alt {e['alt']!r}"


# ------------------------------------------------------------------- alt text
NUM = r"(-?[\d,]+(?:\.\d+)?)"


def close(text: str, value: float, digits: int = 2) -> bool:
    """`text` is `value` to the precision it shows (2 significant digits or 0.1)."""
    got = float(text.replace(",", ""))
    tol = max(abs(value) * 0.5 * 10 ** (1 - digits), 0.05 if abs(value) >= 1 else 0)
    return abs(got - value) <= tol + 1e-12 or (abs(value) < 1e-4 and got == 0)


def alt_text(scene: str, data) -> str:
    return registry.get(scene).alt_text(data)


def prepared(scene: str, options: dict):
    spec = registry.get(scene)
    return spec.prepare(spec.resolve(options))


@pytest.mark.parametrize("gate", ["AND", "XOR"])
def test_gate_alt_text_holds_the_runs_numbers(gate):
    data = prepared("and-gate", {"gate": gate, "epochs": 400})
    run = data.run
    alt = alt_text("and-gate", data)
    m = re.search(rf"learning {gate} .*after (\d+) epochs the loss \w+ (?:\w+ )?from "
                  rf"{NUM} to {NUM}; weights {NUM} and {NUM}, bias {NUM}", alt)
    assert m, f"alt text lacks the run's story: {alt}"
    epochs, l0, l1, w1, w2, b = m.groups()
    assert int(epochs) == run.epochs == 400, alt
    for shown, true in ((l0, run.loss[0]), (l1, run.loss[-1]), (w1, run.w[-1, 0]),
                        (w2, run.w[-1, 1]), (b, run.b[-1])):
        assert close(shown, true), f"{shown} in the alt text is not {true}: {alt}"
    outs = re.search(r"outputs ([\d., ]+) for inputs", alt).group(1).split(", ")
    assert np.allclose([float(o) for o in outs], run.predictions[-1], atol=0.005), alt
    right = int(np.sum(np.round(run.predictions[-1]) == run.targets))
    assert f"{right} of 4 right" in alt, f"expected {right} of 4 right: {alt}"
    assert ("learned the gate" in alt) == (right == 4), alt


def test_descent_alt_text_names_every_rate_with_its_verdict_and_loss():
    data = prepared("gradient-descent", {"steps": 30})
    alt = alt_text("gradient-descent", data)
    assert "L(w) = 1.5 (w - 2)²" in alt, alt
    parts = re.findall(rf"(\d[\d.]*): ([^;,]+), loss (below 0\.0001|{NUM})", alt)
    assert len(parts) == len(data.runs) == 4, f"{len(parts)} rates in: {alt}"
    for (lr, verdict, loss, _), run in zip(parts, data.runs, strict=True):
        assert close(lr, run.lr), f"rate {lr} is not {run.lr}"
        assert verdict == run.verdict(), f"{verdict!r} is not {run.verdict()!r}"
        if loss == "below 0.0001":
            assert run.loss[-1] < 1e-4, f"{run.loss[-1]} is not below 0.0001"
        else:
            assert close(loss, run.loss[-1]), f"loss {loss} is not {run.loss[-1]}"


def test_single_rate_descent_alt_text():
    data = prepared("gradient-descent", {"lr": [0.5]})
    run = data.runs[0]
    alt = alt_text("gradient-descent", data)
    assert f"learning rate 0.5: it {run.verdict()}" in alt, alt
    w = re.search(rf"at w = {NUM}\.$", alt).group(1)
    assert close(w, run.w[-1]), f"final w {w} is not {run.w[-1]}"


def test_training_loop_alt_text_holds_the_dissected_step():
    data = prepared("training-loop", {"epochs": 300})
    run, alt = data.run, alt_text("training-loop", data)
    # The step re-derived here from the recorded state, independently of core.
    x, y = run.inputs[3], run.targets[3]
    w, b = run.w[0], run.b[0]
    p = 1 / (1 + math.exp(-(x @ w + b)))
    g = 2 * (p - y) * p * (1 - p)
    m = re.search(rf"predicts {NUM} \(z = {NUM}\); error {NUM}, squared error {NUM}; "
                  rf"gradients {NUM} and {NUM} for the weights, {NUM} for the bias; "
                  rf"with learning rate {NUM} the weights go from {NUM} and {NUM} to "
                  rf"{NUM} and {NUM}, the bias from {NUM} to {NUM}\.", alt)
    assert m, f"alt text lacks the step: {alt}"
    want = [p, x @ w + b, p - y, (p - y) ** 2, g * x[0], g * x[1], g, run.lr,
            w[0], w[1], w[0] - run.lr * g * x[0], w[1] - run.lr * g * x[1], b,
            b - run.lr * g]
    for shown, true in zip(m.groups(), want, strict=True):
        assert close(shown, true), f"{shown} is not {true}: {alt}"
    assert f"for {run.epochs} epochs" in alt, alt


def test_loss_and_epochs_alt_text_follows_the_loss():
    data = prepared("loss-and-epochs", {"epochs": 500, "example": 1})
    run, alt = data.run, alt_text("loss-and-epochs", data)
    pred = 1 / (1 + math.exp(-(run.inputs[1] @ run.w[0] + run.b[0])))
    m = re.search(rf"inputs \(0, 1\) it predicts {NUM} where the target is {NUM}, an "
                  rf"error of {NUM} and a squared error of {NUM}", alt)
    assert m, alt
    for shown, true in zip(m.groups(), [pred, 0, pred, pred**2], strict=True):
        assert close(shown, true), f"{shown} is not {true}: {alt}"
    for e in (10, 100):
        shown = re.search(rf"{NUM} after {e}\b", alt).group(1)
        assert close(shown, run.loss[e]), f"loss after {e}: {shown} vs {run.loss[e]}"


def test_alt_text_imports_no_manim():
    code = ("import sys; from neuroanim import registry; "
            "s = registry.get('and-gate'); "
            "print(s.alt_text(s.prepare(s.resolve({'epochs': 50})))); "
            "assert 'manim' not in sys.modules, 'manim imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "A neuron learning AND" in done.stdout, done.stdout


# ------------------------------------------------------------------ GIF budget
@given(w=st.integers(40, 2000).map(lambda v: v * 2), aspect=st.sampled_from(
    [16 / 9, 4 / 3, 1.0, 9 / 16]), fps=st.sampled_from([10, 20, 25, 50]))
def test_gif_ladder_keeps_aspect_even_sizes_and_exact_rates(w, aspect, fps):
    h = max(16, int(round(w / aspect / 2)) * 2)
    ladder = gif.gif_ladder(w, h, fps)
    assert ladder[0] == (fps, (w, h)), f"first attempt {ladder[0]} is not as asked"
    widths = [size[0] for _, size in ladder]
    assert widths == sorted(widths, reverse=True), f"widths not decreasing {widths}"
    assert widths[-1] == min(w, gif.GIF_MIN_WIDTH), f"floor missed: {widths}"
    for f, (aw, ah) in ladder:
        assert aw % 2 == 0 and ah % 2 == 0, f"odd size {aw}x{ah}"
        assert abs(aw / ah - w / h) <= 2.5 / ah * (w / h), f"{aw}x{ah} vs {w}x{h}"
        assert (100 / f).is_integer(), f"{f} fps has no exact centisecond delay"
    assert all(f == min(fps, 10) for f, _ in ladder[1:]), ladder


class NoiseGifs:
    """A render_at writing real GIFs of random pixels: size ~ pixels x frames."""

    def __init__(self, seconds: float = 1.0, fail_at: int | None = None):
        self.calls: list[tuple[float, tuple[int, int], Path]] = []
        self.seconds, self.fail_at = seconds, fail_at

    def __call__(self, fps, size, path, lossy=0):
        self.calls.append((fps, size, Path(path)))
        if self.fail_at is not None and len(self.calls) == self.fail_at:
            raise RuntimeError("renderer crashed")
        rng = np.random.default_rng([int(fps), *size])  # same attempt, same bytes
        n = max(1, round(self.seconds * fps))
        frames = [Image.fromarray(rng.integers(0, 255, (size[1], size[0]), np.uint8))
                  .convert("P") for _ in range(n)]
        frames[0].save(path, save_all=True, append_images=frames[1:],
                       duration=round(1000 / fps), loop=0)
        srt = Path(path).with_suffix(".srt")
        srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nx\n")
        return describe(path, srt)


def test_fit_gif_fails_clearly_and_keeps_the_previous_file(tmp_path, monkeypatch):
    monkeypatch.setattr(gif, "LOSSY", (0,))  # random pixels: compression cannot help
    out = tmp_path / "fig.gif"
    out.write_bytes(b"GIF89a previous good file")
    gifs = NoiseGifs(seconds=0.3)
    with pytest.raises(gif.GifBudgetError) as err:
        gif.fit_gif(gifs, out, width=640, height=360, fps=20, budget=2000)
    msg = str(err.value)
    assert "\n" not in msg and "2.0 KB GIF budget" in msg, msg
    assert "320x180" in msg and "10 fps" in msg, f"message hides the last try: {msg}"
    assert out.read_bytes() == b"GIF89a previous good file", "previous GIF destroyed"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.gif"], \
        f"temporary files left: {list(tmp_path.iterdir())}"
    # The floor is always tried; hopeless middle steps are skipped.
    assert gifs.calls[0][:2] == (20, (640, 360)), gifs.calls
    assert gifs.calls[-1][:2] == (10, (320, 180)), gifs.calls
    assert len(gifs.calls) < len(gif.gif_ladder(640, 360, 20)), "no attempt was skipped"
    assert all(p.parent == tmp_path and p.name.startswith(".") for *_, p in gifs.calls)


def test_fit_gif_steps_down_until_it_fits(tmp_path, monkeypatch):
    monkeypatch.setattr(gif, "LOSSY", (0,))  # random pixels: compression cannot help
    gifs = NoiseGifs(seconds=0.5)
    probe = gifs(10, (480, 270), tmp_path / "probe.gif").bytes  # a size it can reach
    for p in tmp_path.iterdir():
        p.unlink()
    out = tmp_path / "fig.gif"
    result, notes = gif.fit_gif(gifs, out, width=640, height=360, fps=20, budget=probe)
    assert result.path == out and out.stat().st_size <= probe
    assert result.captions == out.with_suffix(".srt") and result.captions.is_file()
    # 640x360 at 10 fps is predicted at ~1.8x the budget from the first try: skipped.
    assert [c[:2] for c in gifs.calls[1:]] == [(20, (640, 360)), (10, (480, 270))], \
        gifs.calls
    assert len(notes) == 1 and "10 fps and 480x270" in notes[0], notes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.gif", "fig.srt"]


def test_fit_gif_renderer_crash_leaves_no_trace(tmp_path, monkeypatch):
    monkeypatch.setattr(gif, "LOSSY", (0,))  # random pixels: compression cannot help
    out = tmp_path / "fig.gif"
    out.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="crashed"):
        gif.fit_gif(NoiseGifs(fail_at=2), out, width=640, height=360, budget=1000)
    assert out.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["fig.gif"]


def gif_delays(path: Path) -> tuple[list[int], int | None]:
    with Image.open(path) as im:
        delays = []
        for i in range(im.n_frames):
            im.seek(i)
            delays.append(im.info["duration"])
        return delays, im.info.get("loop")


def test_real_gif_forced_over_budget_ends_under_it_with_exact_delays(tmp_path):
    out = tmp_path / "tiny.gif"
    spec = registry.get("tiny")
    with gif.gif_renderer(spec, {"seconds": 1.0}) as render_at:
        first = render_at(20, (320, 180), tmp_path / "first.gif")
        delays, loop = gif_delays(first.path)
        assert set(delays) == {50} and loop == 0, f"20 fps GIF delays {set(delays)}"
        assert first.frames == round(20 * (1.0 + tiny_scene.DONE_SECONDS)), first
        budget = int(first.bytes * 0.8)  # forces at least one step down
        result, notes = gif.fit_gif(render_at, out, width=320, height=180, fps=20,
                                    budget=budget, min_width=160)
    assert result.bytes <= budget < first.bytes, (result.bytes, budget)
    assert notes and "over the" in notes[0], notes
    delays, loop = gif_delays(out)
    assert loop == 0, "GIF does not loop forever"
    assert set(delays) == {round(1000 / result.fps)} == {100}, f"delays {set(delays)}"
    assert result.width % 2 == 0 and result.height % 2 == 0
    assert abs(result.width / result.height - 16 / 9) < 0.02


def test_gif_from_video_keeps_the_theme_colours(tmp_path):
    """Colours stay true to the video, not dithered into manim's fixed 3-3-2 set."""
    video = render("tiny", {"seconds": 0.4}, fmt="mp4", resolution=(160, 90), fps=10,
                   out=tmp_path / "t.mp4")
    gif = transcode.gif_from_video(video.path, tmp_path / "t.gif", fps=10)
    with Image.open(gif) as im:
        im.seek(im.n_frames - 1)
        g = np.asarray(im.convert("RGB")).astype(int)
    v = np.asarray(Image.open(posters.make_poster(video.path, tmp_path / "p.png"))
                   .convert("RGB")).astype(int)
    corner = np.abs(g[:10, :10] - v[:10, :10]).max()
    assert corner <= 2, f"background off by {corner} levels from the video's"
    assert np.abs(g - v).mean() < 3, "GIF frame drifts from the video frame"


def test_gif_delays_are_exact_at_every_lesson_rate(tmp_path):
    video = render("tiny", {"seconds": 0.6}, fmt="mp4", resolution=(160, 90), fps=50,
                   out=tmp_path / "t.mp4")
    for fps in (10, 20, 25, 50):
        gif = transcode.gif_from_video(video.path, tmp_path / f"t{fps}.gif", fps=fps)
        delays, loop = gif_delays(gif)
        assert set(delays) == {1000 // fps} and loop == 0, (fps, set(delays), loop)
        assert abs(len(delays) / fps - video.duration) <= 1 / fps, (fps, len(delays))


def test_gif_timing_reads_what_pillow_decodes(tmp_path):
    """`transcode.gif_timing` walks the blocks; Pillow decoding every frame is
    the reference: same size, frame count and delays, for ffmpeg's GIF and
    gifsicle's (which merges unchanged frames into longer delays)."""
    video = render("tiny", {"seconds": 0.6}, fmt="mp4", resolution=(160, 90), fps=10,
                   out=tmp_path / "t.mp4")
    made = [transcode.gif_from_video(video.path, tmp_path / "t.gif", fps=10)]
    if gif.lossy_available():
        made.append(gif.compress(made[0], tmp_path / "lossy.gif", 60))
    for path in made:
        with Image.open(path) as im:
            want = []
            for i in range(im.n_frames):
                im.seek(i)
                want.append(int(im.info["duration"]))
            size = im.size
        assert transcode.gif_timing(path) == (*size, want), path.name
    cut = tmp_path / "cut.gif"
    cut.write_bytes(made[0].read_bytes()[:-40])
    with pytest.raises(UserError, match="not a readable GIF"):
        transcode.gif_timing(cut)


def test_render_command_applies_the_gif_budget(tmp_path):
    from neuroanim.cli import main

    out = tmp_path / "t.gif"
    args = ["render", "tiny", "-f", "gif", "--resolution", "640x360", "--fps", "20",
            "-o", str(out)]
    res = CliRunner().invoke(main, [*args, "--gif-budget", "1MB"])
    assert res.exit_code == 0, res.output
    full = out.stat().st_size
    res = CliRunner().invoke(main, [*args, "--gif-budget", str(full - 1)])
    assert res.exit_code == 0, res.output
    assert out.stat().st_size < full, "over-budget GIF kept"
    assert "stepped down" in res.output, res.output
    res = CliRunner().invoke(main, [*args, "--gif-budget", "0"])  # no limit
    assert res.exit_code == 0 and out.stat().st_size == full, res.output
    res = CliRunner().invoke(main, [*args, "--gif-budget", "lots"])
    assert res.exit_code == 2 and "--gif-budget" in res.output, res.output


# ------------------------------------------------------------- preview page
def test_page_lists_exactly_the_manifests_outputs(small_set):
    out, manifest = small_set
    page = parse_page((out / "index.html").read_text())
    assert sorted(page.outputs) == sorted(manifest["outputs"]), page.outputs
    alts = {e["alt"] for e in manifest["outputs"].values()}
    assert {i["alt"] for i in page.imgs} == alts, "an <img> lacks the alt text"
    outs = manifest["outputs"]
    gifs_pngs = [n for n, e in outs.items() if e["format"] in ("gif", "png")]
    assert sorted(i["src"] for i in page.imgs) == sorted(gifs_pngs)
    videos = [n for n, e in outs.items() if e["format"] in ("mp4", "webm")]
    assert len(page.videos) == len(videos)
    for v in page.videos:
        assert "controls" in v and v["poster"].endswith(".poster.png"), v


def test_page_tracks_are_the_vtt_files_inline(small_set):
    out, manifest = small_set
    page = parse_page((out / "index.html").read_text())
    vtts = {(out / e["captions"]["vtt"]).read_bytes()
            for e in manifest["outputs"].values() if e["format"] in ("mp4", "webm")}
    prefix = "data:text/vtt;base64,"
    assert page.tracks and all(t["src"].startswith(prefix) for t in page.tracks)
    inline = {base64.b64decode(t["src"][len(prefix):]) for t in page.tracks}
    assert inline == vtts, "inline tracks differ from the .vtt files"


def test_snippets_use_picture_for_both_themes_and_plain_paths(small_set):
    out, manifest = small_set
    snippets = parse_page((out / "index.html").read_text()).snippets
    alt = manifest["outputs"]["circle.gif"]["alt"]
    picture = ('<picture>\n  <source srcset="circle.gif" media="(prefers-color-scheme: '
               f'dark)">\n  <img src="circle-light.gif" alt="{alt}" width="320" '
               'height="180">\n</picture>')
    assert picture in snippets, f"no GIF <picture> snippet in {snippets}"
    assert any('<source srcset="circle.png"' in s and 'src="circle-light.png"' in s
               for s in snippets), "no still <picture> snippet"
    assert f"![{alt}](circle-light.gif)" in snippets
    video = [s for s in snippets if s.startswith("<video")]
    dark = next(s for s in video if 'src="circle.webm"' in s)
    assert dark.index("circle.webm") < dark.index("circle.mp4"), "webm goes first"
    assert 'src="circle.vtt"' in dark and 'poster="circle.poster.png"' in dark, dark
    assert not any("data:" in s for s in snippets), "a snippet embeds a data: URL"
    assert any(s.startswith("[![") and "slow-circle-light.webm" in s for s in snippets)


def test_page_escapes_text_and_quotes_paths(tmp_path):
    (tmp_path / "a-b.c.png").write_bytes(b"png")
    evil = 'He said "<script>alert(1)</script>" & left'
    manifest = {"outputs": {"a-b.c.png": {
        "figure": "odd <name>", "scene": "tiny", "format": "png", "theme": "dark",
        "alt": evil, "bytes": 3, "notes": ["<b>bold</b>"], "title": "T <i>x</i>"}}}
    text = render_index(tmp_path, manifest)
    page = parse_page(text)
    assert page.imgs[0]["alt"] == evil and page.imgs[0]["src"] == "a-b.c.png"
    assert "<script>alert" not in text and "<b>bold" not in text and "<i>x" not in text
    assert page.outputs == ["a-b.c.png"]


def test_page_marks_missing_files_and_handles_an_empty_manifest(tmp_path):
    manifest = {"outputs": {"gone.gif": {"figure": "f", "format": "gif", "alt": "x"}}}
    text = render_index(tmp_path, manifest)
    assert parse_page(text).outputs == ["gone.gif"] and "is missing" in text
    assert not parse_page(text).imgs, "a missing file got an <img>"
    empty = write_index(tmp_path, {"schema": "neuroanim.manifest/1", "outputs": {}})
    assert "No figures yet" in empty.read_text()
    assert not parse_page(empty.read_text()).outputs


# ------------------------------------------------------------------------ CLI
def test_render_command_finishes_the_output(tmp_path):
    from neuroanim.cli import main

    res = CliRunner().invoke(main, ["render", "tiny", "--resolution", "160x90",
                                    "--fps", "5", "-o", str(tmp_path / "t.mp4")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "t.poster.png").is_file() and (tmp_path / "t.vtt").is_file()
    assert f"poster {tmp_path / 't.poster.png'}" in res.output, res.output
    assert f"alt text: {tiny_scene.SPEC.description}" in res.output, res.output


def test_preview_writes_the_page_and_prints_its_path(small_set, monkeypatch):
    from neuroanim.cli import main

    out, _ = small_set
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda uri: opened.append(uri) or True)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    before = (out / "index.html").stat().st_mtime_ns
    res = CliRunner().invoke(main, ["preview", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert str((out / "index.html").resolve()) in res.output
    assert "no browser" in res.output and not opened, "opened a browser headless"
    assert (out / "index.html").stat().st_mtime_ns >= before
    monkeypatch.setenv("DISPLAY", ":0")
    res = CliRunner().invoke(main, ["preview", "-o", str(out)])
    assert res.exit_code == 0 and opened == [(out / "index.html").resolve().as_uri()]


def test_preview_without_a_build_is_one_line_exit_2(tmp_path):
    from neuroanim.cli import main

    res = CliRunner().invoke(main, ["preview", "-o", str(tmp_path / "nowhere")])
    assert res.exit_code == 2, res.output
    assert res.output.count("\n") == 1 and "neuroanim build" in res.output, res.output
    (tmp_path / "manifest.json").write_text("{not json")
    res = CliRunner().invoke(main, ["preview", "-o", str(tmp_path), "--no-open"])
    assert res.exit_code == 2 and "manifest.json" in res.output, res.output


def test_written_files_are_readable_by_a_web_server(small_set):
    out, _ = small_set
    for name in ("index.html", "circle.vtt", "circle.poster.png"):
        mode = (out / name).stat().st_mode & 0o777
        assert mode & 0o044 == 0o044, f"{name} has mode {oct(mode)}"
    assert not [p for p in os.listdir(out) if p.endswith(".part")], "left .part files"
