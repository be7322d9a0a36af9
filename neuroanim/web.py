"""Course-page delivery: WebVTT, posters, alt text, GIF budgets, a preview page.

No manim import here: everything works from finished files (PyAV and Pillow read
them) and from the prepared trajectories (numpy), so a lesson build that skips
every render can still rewrite the preview page in milliseconds.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import html
import itertools
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import numpy as np

from . import files
from .errors import UserError

VIDEO_FORMATS = ("mp4", "webm", "mov")
BROWSER_VIDEO = {"webm": "video/webm", "mp4": "video/mp4"}  # <source> order: webm first
GIF_BUDGET = 2_000_000
GIF_FALLBACK_FPS = 10  # exact 10 cs frame delays
GIF_MIN_WIDTH = 320
_SKIP_FACTOR = 1.5  # skip a GIF attempt predicted at more than this times the budget


def publish(path: Path, data: bytes) -> Path:
    """Write a file of the output folder atomically, readable by a web server."""
    return files.atomic_write(Path(path), data)


# --------------------------------------------------------------------- captions
_TIMING = re.compile(
    r"^\s*(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})\s*-->\s*"
    r"(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})"
)


def _ms(h: str, m: str, s: str, frac: str) -> int:
    # "1,5" in a timestamp means 500 ms: the digits are a decimal fraction.
    return ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(frac.ljust(3, "0"))


def _stamp(ms: int) -> str:
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, rest = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{rest:03d}"


def _escape_cue(line: str) -> str:
    """Cue text is markup in WebVTT: `&`, `<`, `>` must be character references.

    manim's subcaptions are plain text, so a caption such as "loss < 0.1" is shown
    literally rather than parsed as a tag (or ending the cue at `-->`).
    """
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def parse_srt(text: str) -> list[tuple[str, int, int, list[str]]]:
    """SRT text -> [(id, start_ms, end_ms, text lines)] in file order.

    Raises UserError naming the cue for a block without a valid timing line.
    """
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    blocks = re.split(r"\n[ \t]*\n", text.strip("\n"))
    cues = []
    for n, block in enumerate(b for b in blocks if b.strip()):
        lines = block.split("\n")
        ident = ""
        if lines and lines[0].strip().isdigit() and len(lines) > 1:
            ident = lines.pop(0).strip()
        m = _TIMING.match(lines[0]) if lines else None
        if not m:
            raise UserError(f"SRT cue {ident or n + 1}: no "
                            "'HH:MM:SS,mmm --> HH:MM:SS,mmm' line")
        start, end = _ms(*m.groups()[:4]), _ms(*m.groups()[4:])
        if end < start:
            raise UserError(f"SRT cue {ident or n + 1}: ends before it starts")
        cues.append((ident, start, end, lines[1:]))
    return cues


def srt_to_vtt(text: str) -> str:
    """WebVTT from SRT text: header, `.` before milliseconds, escaped text.

    Cues are sorted stably by start time, as WebVTT requires; SRT numbers are
    kept as cue identifiers.
    """
    cues = sorted(parse_srt(text), key=lambda c: c[1])
    out = ["WEBVTT", ""]
    for ident, start, end, lines in cues:
        if ident:
            out.append(ident)
        out.append(f"{_stamp(start)} --> {_stamp(end)}")
        out.extend(_escape_cue(line) for line in lines)
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def write_vtt(srt_path: Path, vtt_path: Path) -> Path:
    """Convert an .srt file to .vtt beside it (atomically); UserError names the file."""
    srt_path, vtt_path = Path(srt_path), Path(vtt_path)
    try:
        text = srt_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{srt_path}: cannot read captions ({exc})") from None
    try:
        vtt = srt_to_vtt(text)
    except UserError as exc:
        raise UserError(f"{srt_path}: {exc}") from None
    publish(vtt_path, vtt.encode("utf-8"))
    return vtt_path


# ----------------------------------------------------------------------- posters
def _content(rgb: np.ndarray) -> float:
    """How much is drawn: mean distance of the pixels from the border's colour.

    The border's median colour is the background, so a black or faded-out frame
    scores ~0 and a frame full of curves and text scores high, on either theme.
    """
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])  # (P, 3)
    bg = np.median(border, axis=0)
    return float(np.abs(rgb.astype(np.float32) - bg).mean())


def _frames(video_path: Path):
    """Decoded frames in order; VP9 with alpha through libvpx so alpha survives."""
    import av

    with av.open(str(video_path)) as c:
        st = c.streams.video[0]
        alpha = st.codec_context.name in ("vp8", "vp9") and st.metadata.get(
            "alpha_mode") == "1"
        if alpha:
            dec = av.CodecContext.create(f"libvpx-{st.codec_context.name}", "r")
            for packet in c.demux(st):
                yield from dec.decode(packet if packet.size else None)
        else:
            yield from c.decode(st)


def telling_frame(video_path: Path):
    """The last frame drawn nearly as fully as the fullest frame.

    Scenes build up and may fade out at the end: the fullest frames show the
    finished picture; taking the last of those (within 10% of the maximum)
    skips both a black first frame and a fade-out, in one decoding pass.
    Returns (RGBA array (H, W, 4), its content score, frames decoded).
    """
    best, best_score, peak, n = None, -1.0, 0.0, 0
    for frame in _frames(Path(video_path)):
        n += 1
        small = frame.to_ndarray(format="rgb24", width=160, height=90)
        score = _content(small)
        peak = max(peak, score)
        if score >= 0.9 * peak:
            best, best_score = frame, score  # converted once, at the end
    if best is None:
        raise UserError(f"{video_path}: no video frames to make a poster from")
    return best.to_ndarray(format="rgba"), best_score, n


def make_poster(video_path: Path, poster_path: Path) -> Path:
    """A PNG of the video's telling frame (see `telling_frame`), written atomically.

    Opaque videos give an RGB poster; a transparent webm/mov keeps its alpha so the
    poster sits on the course page exactly as the video will.
    """
    import io

    from PIL import Image

    rgba, _, _ = telling_frame(video_path)
    img = Image.fromarray(rgba)
    if rgba[..., 3].min() == 255:
        img = img.convert("RGB")
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    publish(Path(poster_path), buf.getvalue())
    return Path(poster_path)


# ---------------------------------------------------------------------- alt text
def num(x: float, zeros: bool = False, tiny: bool = False) -> str:
    """A number as a reader would say it: 2 significant digits below 1, one
    decimal up to 100, whole (with thousands commas) beyond, powers of ten from
    10^7; `zeros` keeps trailing zeros (0.30) so losses read with their
    precision; `tiny` keeps a non-zero value under 0.0001 (a learning rate of
    1e-320 is not 0), which otherwise reads 0."""
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else str(x)
    if abs(x) < 1e-4 and not tiny:
        return "0"
    if abs(x) < 1e-4 or abs(x) >= 1e7:  # 1e141 needs no 142 digits
        mant, _, exp = f"{x:.2g}".partition("e")
        return f"{mant} × 10^{int(exp)}" if exp else mant
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        s = f"{x:.1f}"
        return s if zeros or not s.endswith(".0") else s[:-2]
    return f"{x:#.2g}" if zeros else f"{x:.2g}"


def _loss(x: float) -> str:
    return "below 0.0001" if 0 <= x < 1e-4 else num(x, zeros=True)


def _trend(first: float, last: float) -> str:
    if last < 0.9 * first:
        return f"falls from {_loss(first)} to {_loss(last)}"
    if last > 1.1 * first:
        return f"rises from {_loss(first)} to {_loss(last)}"
    return f"only moves from {_loss(first)} to {_loss(last)}"


def _point(x) -> str:
    return "(" + ", ".join(num(v) for v in x) + ")"


def _is(verdict: str) -> str:
    """"still crawling after 30 steps" reads "it is still crawling ..."."""
    return f"is {verdict}" if verdict.startswith("still") else verdict


def _alt_descent(data: dict) -> str:
    from .core import get_landscape

    ls = get_landscape(data["landscape"])
    runs = data["runs"]
    w0 = num(runs[0].w0)
    where = (f"{ls.formula}, {ls.description}, lowest at w = {num(ls.w_min)}")
    if len(runs) == 1:
        r = runs[0]
        return (f"A ball rolls down the loss curve {where}, starting at w = {w0} with "
                f"learning rate {num(r.lr, tiny=True)}: it {_is(r.verdict())}, final loss "
                f"{_loss(r.loss[-1])} at w = {num(r.w[-1])}.")
    parts = [f"{num(r.lr, tiny=True)}: {r.verdict()}, loss {_loss(r.loss[-1])}" for r in runs]
    return (f"Balls rolling down the loss curve {where}, from w = {w0} at "
            f"{len(runs)} learning rates side by side: " + "; ".join(parts) + ".")


def _outputs(run) -> str:
    pts = ", ".join(_point(x) for x in run.inputs)
    outs = ", ".join(f"{p:.2f}" for p in run.predictions[-1])
    tgt = ", ".join(num(t) for t in run.targets)
    return f"outputs {outs} for inputs {pts} (targets {tgt})"


def _setting(run) -> str:
    per = ", one update per example" if run.mode == "per-example" else ""
    return f"(learning rate {num(run.lr, tiny=True)}{per})"


def _alt_gate(data: dict) -> str:
    run = data["run"]
    right = int(round(run.accuracy * 4))
    if run.status == "learned":
        verdict = "it learned the gate"
    elif run.gate == "XOR":  # not linearly separable: no line splits its 1s from 0s
        verdict = "it cannot learn it, as no single line separates XOR's 1s from 0s"
    else:
        verdict = "it has not learned the gate yet"
    return (f"A neuron learning {run.gate} {_setting(run)}: "
            f"after {run.epochs} epochs the loss {_trend(run.loss[0], run.loss[-1])}; "
            f"weights {num(run.w[-1, 0])} and {num(run.w[-1, 1])}, bias "
            f"{num(run.b[-1])}; {_outputs(run)}: {verdict}, {right} of 4 right.")


def _alt_loop(data: dict) -> str:
    run, st = data["run"], data["step"]
    return (f"The training loop (forward, error, backward, adjust, repeat) on one real "
            f"step of a neuron learning {run.gate}: for inputs {_point(st.x)} with "
            f"target {num(st.target)} it predicts {num(st.prediction, True)} "
            f"(z = {num(st.z)}); error {num(st.error)}, squared error "
            f"{num(st.loss, True)}; gradients {num(st.grad_w[0])} and "
            f"{num(st.grad_w[1])} for the weights, {num(st.grad_b)} for the bias; "
            f"with learning rate {num(st.lr, tiny=True)} the weights go from {num(st.w[0])} and "
            f"{num(st.w[1])} to {num(st.w_new[0])} and {num(st.w_new[1])}, the bias "
            f"from {num(st.b)} to {num(st.b_new)}. Repeated for {run.epochs} epochs, "
            f"the loss {_trend(run.loss[0], run.loss[-1])}.")


def _alt_epochs(data: dict) -> str:
    run, st = data["run"], data["step"]
    marks = [e for e in (10, 100, 1000, 10_000) if e < run.epochs]
    along = ", ".join(f"{_loss(run.loss[e])} after {e}" for e in marks)
    return (f"Loss and epochs for a neuron learning {run.gate}: for inputs "
            f"{_point(st.x)} it predicts {num(st.prediction, True)} where the target "
            f"is {num(st.target)}, an error of {num(st.error)} and a squared error of "
            f"{num(st.loss, True)}. The loss, the mean of the squared errors over the "
            f"4 examples of one epoch, {_trend(run.loss[0], run.loss[-1])} over "
            f"{run.epochs} epochs" + (f" ({along})" if along else "") + ".")


ALT_WRITERS: dict[str, Callable[[dict], str]] = {
    "gradient-descent": _alt_descent,
    "and-gate": _alt_gate,
    "training-loop": _alt_loop,
    "loss-and-epochs": _alt_epochs,
}


def alt_text(scene: str, data: dict) -> str:
    """Plain-language alt text from a figure's prepared data (numpy only).

    Every number comes from the trajectory the figure replays, so the text
    stays true when options change. Scenes without a writer get their
    registered description.
    """
    writer = ALT_WRITERS.get(scene)
    if writer is not None:
        return writer(data)
    from . import registry

    spec = registry.SCENES.get(scene)
    return spec.description if spec else f"Animation: {scene}."


# -------------------------------------------------------------------- GIF budget
class GifBudgetError(UserError):
    """A GIF that stays over its size budget even at the smallest size tried."""


def gif_ladder(width: int, height: int, fps: float,
               min_width: int = GIF_MIN_WIDTH) -> list[tuple[float, tuple[int, int]]]:
    """Attempts in order: the asked size, 10 fps, then 3/4 steps down to `min_width`.

    Sizes keep the aspect ratio and stay even (video codecs and manim's encoder
    need it); fps stays at an exact GIF delay.
    """
    out = [(float(fps), (width, height))]
    low = float(min(fps, GIF_FALLBACK_FPS))
    if low != fps:
        out.append((low, (width, height)))
    w = width
    while w > min_width:
        w = max(min_width, int(round(w * 0.75 / 2)) * 2)
        h = max(2, int(round(w * height / width / 2)) * 2)
        out.append((low, (w, h)))
    return out


def fit_gif(render_at: Callable, out: Path, *, width: int, height: int,
            fps: float = 20, budget: int = GIF_BUDGET,
            min_width: int = GIF_MIN_WIDTH):
    """Render a GIF within `budget` bytes, stepping down fps then resolution.

    `render_at(fps, (w, h), path) -> RenderResult` renders one attempt to `path`,
    a temporary name beside `out`; the first attempt within budget is renamed to
    `out` (its .srt too), so `out` never holds an over-budget file and a failure
    leaves the previous `out` untouched. Attempts predicted (from the last size,
    scaled by frames and pixels) at over 1.5x the budget are skipped, except the
    smallest. Returns (result at `out`, notes of what was done).
    """
    out = Path(out)
    if budget <= 0:
        raise UserError(f"{out.name}: the GIF budget must be positive, got {budget}")
    ladder = gif_ladder(width, height, fps, min_width)
    tried: list[tuple[float, int, int, int]] = []  # (fps, w, h, bytes)
    temps: list[Path] = []
    try:
        for i, (f, (w, h)) in enumerate(ladder):
            if tried and i < len(ladder) - 1:
                lf, lw, lh, lb = tried[-1]
                if lb * (f / lf) * (w * h) / (lw * lh) > _SKIP_FACTOR * budget:
                    continue
            tmp = files.temp_beside(out, ".fit.gif")  # exclusive: no planted link
            temps.append(tmp)
            result = render_at(f, (w, h), tmp)
            size = Path(result.path).stat().st_size
            tried.append((f, w, h, size))
            if size <= budget:
                return _keep(result, out, tried, budget)
        f, w, h, size = tried[-1]
        raise GifBudgetError(
            f"{human_size(size)} even at {w}x{h} and {f:g} fps, over the "
            f"{human_size(budget)} GIF budget; shorten the figure, raise the budget, "
            "or use mp4/webm"
        )
    finally:
        for t in temps:
            t.unlink(missing_ok=True)
            t.with_suffix(".srt").unlink(missing_ok=True)


def _keep(result, out: Path, tried: list, budget: int):
    """Rename the winning attempt (and its captions) to `out`; describe the steps."""
    os.replace(result.path, out)
    captions = None
    if result.captions and Path(result.captions).is_file():
        captions = out.with_suffix(".srt")
        os.replace(result.captions, captions)
    kept = dataclasses.replace(result, path=out, captions=captions)
    notes = []
    if len(tried) > 1:
        f0, w0, h0, b0 = tried[0]
        f, w, h, b = tried[-1]
        steps = []
        if f != f0:
            steps.append(f"{f:g} fps")
        if (w, h) != (w0, h0):
            steps.append(f"{w}x{h}")
        notes.append(
            f"{human_size(b0)} at {w0}x{h0} {f0:g} fps was over the "
            f"{human_size(budget)} budget; "
            f"stepped down to {' and '.join(steps)} ({human_size(b)}, "
            f"{len(tried)} attempts)"
        )
    return kept, notes


def gif_from_video(video: Path, gif: Path, *, fps: float,
                   size: tuple[int, int] | None = None) -> Path:
    """Transcode a video to a looping GIF with its own 256-colour palette, atomically.

    manim 0.22 builds its palette and then hands the encoder `rgb8`, a fixed
    3-3-2 palette: colours shift and every flat background is dithered into
    noise, so its GIFs come out ~30x larger. Here the palettegen/paletteuse
    output stays `pal8`; frames are resampled to `fps` (exact centisecond delays
    when 100/fps is whole) and scaled with Lanczos to `size`.
    """
    from fractions import Fraction

    import av

    video, gif = Path(video), Path(gif)
    rate = Fraction(fps).limit_denominator(1000)
    tmp = files.temp_beside(gif)
    try:
        with av.open(str(video)) as inp:
            ist = inp.streams.video[0]
            w, h = size or (ist.codec_context.width, ist.codec_context.height)
            graph = av.filter.Graph()
            chain = [graph.add_buffer(template=ist),
                     graph.add("fps", f"fps={rate}"),
                     graph.add("scale", f"{w}:{h}:flags=lanczos"),
                     graph.add("split")]
            for a, b in itertools.pairwise(chain):
                a.link_to(b)
            palette = graph.add("palettegen", "stats_mode=full")
            use = graph.add("paletteuse",
                            "dither=bayer:bayer_scale=5:diff_mode=rectangle")
            sink = graph.add("buffersink")
            chain[-1].link_to(palette, 0, 0)
            chain[-1].link_to(use, 1, 0)
            palette.link_to(use, 0, 1)
            use.link_to(sink)
            graph.configure()
            for frame in inp.decode(ist):
                graph.push(frame)
            graph.push(None)
            with av.open(str(tmp), "w", format="gif") as out:
                ost = out.add_stream("gif", rate=rate)
                ost.width, ost.height, ost.pix_fmt = w, h, "pal8"
                n = 0
                while True:
                    try:
                        frame = graph.pull()
                    except (av.error.EOFError, av.error.BlockingIOError):
                        break
                    frame.pts, frame.time_base = n, 1 / rate
                    n += 1
                    out.mux(ost.encode(frame))
                out.mux(ost.encode())
        if n == 0:
            raise UserError(f"{video}: no video frames to make a GIF from")
        os.chmod(tmp, 0o666 & ~files.umask())
        os.replace(tmp, gif)
    finally:
        tmp.unlink(missing_ok=True)
    return gif


@contextlib.contextmanager
def gif_renderer(spec, params: dict, **render_kw):
    """A `render_at` for `fit_gif` that renders the scene once and transcodes.

    The first call renders an mp4 at that fps and size into a scratch folder;
    every later, smaller attempt is a `gif_from_video` of it (milliseconds, not
    a second manim render). Asking for more fps or pixels than the source has
    renders a new source. The scratch folder goes when the block ends.
    """
    from . import render as rd

    scratch = Path(tempfile.mkdtemp(prefix="gif-", dir=_scratch_root(rd)))
    source: dict = {}

    def render_at(fps: float, size: tuple[int, int], path: Path):
        w, h = size
        have = source.get("result")
        if have is None or fps > have.fps + 1e-6 or w > have.width or h > have.height:
            src = scratch / f"source-{len(source)}.mp4"
            have = rd.render(spec, params, **{**render_kw, "fmt": "mp4", "fps": fps,
                                              "resolution": (w, h), "out": src,
                                              "transparent": False})
            source["result"] = have
        gif_from_video(have.path, path, fps=fps, size=(w, h))
        captions = None
        if have.captions and Path(have.captions).is_file():
            captions = Path(path).with_suffix(".srt")
            shutil.copyfile(have.captions, captions)
        return rd.describe(path, captions)

    try:
        yield render_at
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _scratch_root(rd) -> Path:
    root = rd.cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    return root


def parse_budget(raw, option: str = "--gif-budget") -> int:
    """2000000, "2MB", "800 KB" -> bytes (decimal units); 0 means no budget."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*([km]?)b?\s*", str(raw), re.IGNORECASE)
    if not m:
        raise UserError(f"{option}: {raw!r} is not a size such as 2MB or 800KB")
    return int(float(m.group(1)) * {"": 1, "k": 1000, "m": 1_000_000}[
        m.group(2).lower()])


def render_within_budget(spec, params: dict, *, budget: int = GIF_BUDGET, **kw):
    """`render.render`, and for a GIF the `fit_gif` loop: (result, notes).

    What `neuroanim render -f gif` runs, so a single GIF gets the same encoder
    and size discipline as a lesson build; budget 0 means no limit.
    """
    from . import registry
    from . import render as rd
    from .theme import THEMES

    fmt = kw.get("fmt") or rd.infer_format(kw.get("out"))
    if fmt != "gif":
        return rd.render(spec, params, **kw), []
    spec = registry.get(spec) if isinstance(spec, str) else spec
    values = spec.resolve(params)
    theme = kw.get("theme", "dark")
    if theme not in THEMES:  # checked before anything is written, as render does
        raise UserError(f"--theme: {theme!r} is not one of {', '.join(THEMES)}")
    w, h, fps = rd.plan("gif", kw.get("quality", "l"), kw.get("fps"),
                        kw.get("resolution"), kw.get("transparent", False))
    spec.check_size(w, h)
    target = rd.output_path(spec, values, "gif", theme, kw.get("out"),
                            kw.get("out_dir", rd.DEFAULT_OUT_DIR))
    rd.check_writable(target.parent, create=False)  # render() creates it later
    with gif_renderer(spec, params, **kw) as render_at:
        return fit_gif(render_at, target, width=w, height=h, fps=fps,
                       budget=budget or 2**63, min_width=min(GIF_MIN_WIDTH, w))


# ------------------------------------------------------------------ finishing
def poster_name(path: Path) -> Path:
    return Path(path).with_name(files.poster_name(Path(path).name))


def finish_output(result, scene: str, data: dict) -> dict:
    """Captions as WebVTT, a poster for videos, alt text: what a course page needs.

    Returns {"alt", "captions": {"srt", "vtt"} or None, "poster": name or None},
    names relative to the file's folder, ready for the manifest.
    """
    path = Path(result.path)
    captions = None
    srt = Path(result.captions) if result.captions else None
    if srt is not None and srt.is_file():
        vtt = write_vtt(srt, srt.with_suffix(".vtt"))
        captions = {"srt": srt.name, "vtt": vtt.name}
    poster = None
    if result.fmt in VIDEO_FORMATS:
        poster = make_poster(path, poster_name(path)).name
    return {"alt": alt_text(scene, data), "captions": captions, "poster": poster}


# ----------------------------------------------------------------- preview page
def human_size(n: int | float | None) -> str:
    """Bytes in decimal units (1 MB = 1,000,000), the units GIF budgets use."""
    if n is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)


def _url(name: str) -> str:
    return quote(name.replace(os.sep, "/"))


def _a(value) -> str:
    return html.escape(str(value), quote=True)


VTT_MAX = 5_000_000  # bytes: far beyond any lesson's captions


def _data_url(out_dir: Path, name: object) -> str | None:
    """A captions file of the output folder as a data: URL, or None.

    `name` comes from a manifest, which anyone may have edited: only a plain
    `.vtt` name of a regular file inside `out_dir` is ever opened.
    """
    path = files.regular_file(out_dir, name)
    if path is None or path.suffix != ".vtt":
        return None
    try:
        raw = files.read_bytes(path, VTT_MAX)
    except OSError:
        return None
    return "data:text/vtt;base64," + base64.b64encode(raw).decode("ascii")


_FORMAT_ORDER = {f: i for i, f in enumerate(("mp4", "webm", "mov", "gif", "png"))}
_THEME_ORDER = {"light": 0, "dark": 1}
_BACKGROUNDS = {"dark": "#111318", "light": "#FFFFFF"}


def _figures(manifest: dict) -> dict[str, list[tuple[str, dict]]]:
    """Outputs grouped by figure in manifest order, each group sorted for display."""
    groups: dict[str, list[tuple[str, dict]]] = {}
    for name, entry in (manifest.get("outputs") or {}).items():
        groups.setdefault(str(entry.get("figure") or entry.get("scene") or name),
                          []).append((name, entry))
    for items in groups.values():
        items.sort(key=lambda it: (_FORMAT_ORDER.get(it[1].get("format"), 9),
                                   _THEME_ORDER.get(it[1].get("theme"), 2), it[0]))
    return groups


def _fmt(entry: dict, name: str) -> str:
    return str(entry.get("format") or Path(name).suffix.lstrip(".")).lower()


def _media(out_dir: Path, name: str, entry: dict) -> str:
    """The figure as a course page shows it (tracks inlined as data: URLs)."""
    fmt = _fmt(entry, name)
    alt = entry.get("alt") or ""
    size = ""
    if entry.get("width") and entry.get("height"):
        size = f' width="{int(entry["width"])}" height="{int(entry["height"])}"'
    if files.regular_file(out_dir, name) is None:
        return f'<p class="missing">{_a(name)} is missing: run the build again</p>'
    if fmt in BROWSER_VIDEO:
        poster = entry.get("poster")
        attrs = f' poster="{_a(_url(poster))}"' if poster else ""
        track = ""
        caps = entry.get("captions") or {}
        if caps.get("vtt"):
            src = _data_url(out_dir, caps.get("vtt"))
            if src:
                track = (f'<track kind="captions" srclang="en" label="English" '
                         f'src="{src}" default>')
        return (f'<video controls preload="metadata" playsinline{size}{attrs} '
                f'aria-label="{_a(alt)}"><source src="{_a(_url(name))}" '
                f'type="{BROWSER_VIDEO[fmt]}">{track}</video>')
    if fmt in ("gif", "png"):
        return f'<img src="{_a(_url(name))}" alt="{_a(alt)}"{size}>'
    poster = entry.get("poster")
    img = (f'<img src="{_a(_url(poster))}" alt="{_a(alt)}"{size}>' if poster else "")
    return (f'{img}<p class="download"><a href="{_a(_url(name))}">{_a(name)}</a>: '
            f'an editing format browsers do not play</p>')


def _facts(entry: dict, name: str) -> str:
    fmt = _fmt(entry, name)
    bits = [fmt.upper(), str(entry.get("theme") or "")]
    if entry.get("width") and entry.get("height"):
        bits.append(f'{entry["width"]}×{entry["height"]}')
    if fmt != "png" and entry.get("duration"):
        bits.append(f'{float(entry["duration"]):.1f} s')
    if fmt != "png" and entry.get("fps"):
        bits.append(f'{float(entry["fps"]):g} fps')
    bits.append(human_size(entry.get("bytes")))
    return " · ".join(_a(b) for b in bits if b)


Snippet = tuple[str, list[tuple[str, str]]]  # (label, [(language, code), ...])


def _snippets(items: list[tuple[str, dict]]) -> list[Snippet]:
    """Copy-paste embeds for one figure, with plain relative paths (what a course
    site serves): stills and GIFs switch theme with <picture>; a video cannot
    switch its poster and captions by media query, so each theme gets its own."""
    out: list[Snippet] = []
    by_fmt: dict[str, dict[str, tuple[str, dict]]] = {}
    for name, entry in items:
        theme = entry.get("theme") or "dark"
        by_fmt.setdefault(_fmt(entry, name), {})[theme] = (name, entry)
    for fmt, kind in (("gif", "GIF"), ("png", "Still")):
        variants = by_fmt.get(fmt) or {}
        if "light" in variants and "dark" in variants:
            (light, le), (dark, _) = variants["light"], variants["dark"]
            code = (f'<picture>\n  <source srcset="{_a(_url(dark))}" '
                    f'media="(prefers-color-scheme: dark)">\n  '
                    f'<img src="{_a(_url(light))}" alt="{_a(le.get("alt") or "")}"'
                    f'{_dims(le)}>\n</picture>')
            out.append((f"{kind}: light page, dark when the reader prefers dark "
                        "(Markdown: light only)",
                        [("HTML", code), ("Markdown", _md_image(light, le))]))
            continue
        for theme, (n, e) in sorted(variants.items()):
            code = f'<img src="{_a(_url(n))}" alt="{_a(e.get("alt") or "")}"{_dims(e)}>'
            out.append((f"{kind}, {theme}", [("HTML", code),
                                             ("Markdown", _md_image(n, e))]))
    videos: dict[str, list[tuple[str, dict]]] = {}
    for name, entry in items:
        if _fmt(entry, name) in BROWSER_VIDEO:
            videos.setdefault(entry.get("theme") or "dark", []).append((name, entry))
    for theme in sorted(videos, key=lambda t: _THEME_ORDER.get(t, 2)):
        out.append((f"Video for a {theme} page", _video_snippet(videos[theme])))
    return out


def _video_snippet(vids: list[tuple[str, dict]]) -> list[tuple[str, str]]:
    """One <video> with every browser format as a <source> (webm first: smaller)."""
    order = list(BROWSER_VIDEO)
    vids = sorted(vids, key=lambda it: order.index(_fmt(it[1], it[0])))
    first = vids[0][1]
    alt = first.get("alt") or ""
    poster = next((e["poster"] for _, e in vids if e.get("poster")), None)
    vtt = next((e["captions"]["vtt"] for _, e in vids
                if (e.get("captions") or {}).get("vtt")), None)
    lines = [f'<video controls preload="metadata" playsinline{_dims(first)}'
             + (f' poster="{_a(_url(poster))}"' if poster else "")
             + f' aria-label="{_a(alt)}">']
    lines += [f'  <source src="{_a(_url(n))}" type="{BROWSER_VIDEO[_fmt(e, n)]}">'
              for n, e in vids]
    if vtt:
        lines.append(f'  <track kind="captions" srclang="en" label="English" '
                     f'src="{_a(_url(vtt))}" default>')
    lines.append("</video>")
    code = [("HTML", "\n".join(lines))]
    if poster:  # Markdown has no video: the poster, linking to the most playable file
        code.append(("Markdown", f"[![{_md_text(alt)}]({_url(poster)})]"
                                 f"({_url(vids[-1][0])})"))
    return code


def _dims(entry: dict) -> str:
    if entry.get("width") and entry.get("height"):
        return f' width="{int(entry["width"])}" height="{int(entry["height"])}"'
    return ""


def _md_text(text: str) -> str:
    return re.sub(r"([\[\]\\])", r"\\\1", text.replace("\n", " "))


def _md_image(name: str, entry: dict) -> str:
    return f"![{_md_text(entry.get('alt') or '')}]({_url(name)})"


def _tile(out_dir: Path, name: str, entry: dict) -> str:
    """One output on the background of its theme, with its facts and notes."""
    theme = entry.get("theme") or "dark"
    notes = "".join(f"<li>{_a(n)}</li>" for n in entry.get("notes") or [])
    return (
        f'<figure class="output" data-output="{_a(name)}" '
        f'data-format="{_a(_fmt(entry, name))}">'
        f'<div class="stage" style="background:{_BACKGROUNDS.get(theme, "none")}">'
        f'{_media(out_dir, name, entry)}</div>'
        f'<figcaption><a class="file" href="{_a(_url(name))}">{_a(name)}</a>'
        f'<span class="facts">{_facts(entry, name)}</span>'
        + (f'<ul class="notes">{notes}</ul>' if notes else "")
        + "</figcaption></figure>")


def _embed(items: list[tuple[str, dict]], ids: Iterator[int]) -> str:
    """The figure's snippets, each language in a code block with a copy button."""
    rows = []
    for label, codes in _snippets(items):
        blocks = []
        for lang, code in codes:
            sid = f"snippet-{next(ids)}"
            blocks.append(
                f'<div class="code"><div class="code-head"><span>{lang}</span>'
                f'<button type="button" class="copy" data-target="{sid}">Copy</button>'
                f'</div><pre><code id="{sid}">{_a(code)}</code></pre></div>')
        rows.append(f'<div class="snippet"><h3>{_a(label)}</h3>'
                    f'<div class="codes">{"".join(blocks)}</div></div>')
    if not rows:
        return ""
    return (f'<details class="embed" open><summary>Embed</summary>{"".join(rows)}'
            "</details>")


def _section(out_dir: Path, fig: str, items: list[tuple[str, dict]],
             ids: Iterator[int]) -> tuple[str, str]:
    """(nav link, section) for one figure."""
    anchor = "fig-" + re.sub(r"[^A-Za-z0-9_-]+", "-", fig)
    first = items[0][1]
    title = first.get("title") or fig
    opts = ", ".join(
        f"{k} {' '.join(map(str, v)) if isinstance(v, list | tuple) else v}"
        for k, v in (first.get("options") or {}).items())
    scene = _a(first.get("scene") or "?")
    sub = f"<code>{_a(fig)}</code> · scene <code>{scene}</code>"
    sub += f" · {_a(opts)}" if opts else ""
    alt = first.get("alt") or ""
    section = (
        f'<section class="figure" id="{_a(anchor)}"><h2>{_a(title)}</h2>'
        f'<p class="sub">{sub}</p>'
        + (f'<p class="alt"><strong>Alt text</strong> {_a(alt)}</p>' if alt else "")
        + '<div class="outputs">'
        + "".join(_tile(out_dir, n, e) for n, e in items) + "</div>"
        + _embed(items, ids) + "</section>")
    return f'<a href="#{_a(anchor)}">{_a(title)}</a>', section


def render_index(out_dir: Path, manifest: dict) -> str:
    """The preview page's HTML for `manifest` (outputs relative to `out_dir`)."""
    groups = _figures(manifest)
    outputs = manifest.get("outputs") or {}
    total = sum(int(e.get("bytes") or 0) for e in outputs.values())
    made = max((str(e.get("made") or "") for e in outputs.values()), default="")
    head = (f"{len(groups)} figure{'s' * (len(groups) != 1)} · {len(outputs)} "
            f"file{'s' * (len(outputs) != 1)} · {human_size(total)}")
    head += f" · manim {_a(manifest['manim'])}" if manifest.get("manim") else ""
    head += f" · last made {_a(made)}" if made else ""
    ids = itertools.count(1)
    parts = [_section(Path(out_dir), fig, items, ids) for fig, items in groups.items()]
    body = "\n".join(sec for _, sec in parts) or (
        '<p class="empty">No figures yet: run <code>neuroanim build</code>.</p>')
    title = manifest.get("title") or "Lesson figures"
    return _PAGE.format(
        title=_a(f"{title} · preview"), h1=_a(title), head=head,
        nav=" ".join(link for link, _ in parts), body=body, css=_CSS, js=_JS)


def write_index(out_dir: Path, manifest: dict) -> Path:
    """Write `out_dir/index.html` (atomically) for every output in `manifest`."""
    out_dir = Path(out_dir)
    path = out_dir / "index.html"
    publish(path, render_index(out_dir, manifest).encode("utf-8"))
    return path


MANIFEST_MAX = 64_000_000  # bytes


def load_manifest(path: Path, warn: Callable[[str], None] | None = None) -> dict:
    """Read a manifest.json for the preview; UserError names the file.

    Records that a build would not have written (a poster or captions path
    outside the folder, fields of the wrong type) are left out, with a warning.
    """
    path = Path(path)
    try:
        doc = json.loads(files.read_bytes(path, MANIFEST_MAX).decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: not a readable manifest ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("outputs", {}), dict):
        raise UserError(f"{path}: field 'outputs' must be an object of outputs")
    if warn is None:
        import sys

        def warn(msg: str) -> None:
            print(msg, file=sys.stderr)

    doc["outputs"] = files.trusted_outputs(doc.get("outputs") or {}, path, warn)
    for key in ("title", "manim"):
        if not isinstance(doc.get(key), str | None):
            doc[key] = None
    return doc


def preview(out_dir: Path, open_browser: bool = True) -> tuple[Path, bool]:
    """Rewrite `out_dir/index.html` from its manifest and open it: (path, opened).

    Without a manifest an existing page is opened as is. Opening needs a
    graphical session: on a headless machine (no DISPLAY on Linux) nothing is
    launched and the caller prints the path instead.
    """
    import sys
    import webbrowser

    out_dir = Path(out_dir)
    manifest = out_dir / "manifest.json"
    page = out_dir / "index.html"
    if os.path.lexists(manifest):
        page = write_index(out_dir, load_manifest(manifest))
    elif not page.is_file():
        raise UserError(f"{out_dir}: no manifest.json or index.html; run "
                        f"`neuroanim build` first")
    page = page.resolve()
    graphical = sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if not (open_browser and graphical):
        return page, False
    try:
        return page, bool(webbrowser.open(page.as_uri()))
    except webbrowser.Error:
        return page, False


_CSS = """
:root{color-scheme:light dark;--bg:#f6f7f9;--card:#fff;--text:#1b1f27;--muted:#5b6472;
--line:#dde1e7;--code:#f1f3f7;--accent:#0b63c4}
@media (prefers-color-scheme:dark){:root{--bg:#0c0e12;--card:#171a21;--text:#eceff4;
--muted:#a0a8b8;--line:#2a303b;--code:#10131a;--accent:#6cb4ff}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);
font:15px/1.5 system-ui,-apple-system,"Segoe UI","DejaVu Sans",sans-serif}
header{padding:28px 32px 12px;max-width:1280px;margin:auto}
h1{margin:0 0 4px;font-size:26px}
.lead{margin:0;color:var(--muted)}
nav{margin-top:12px;display:flex;flex-wrap:wrap;gap:6px 14px}
nav a{color:var(--accent);text-decoration:none}
main{max-width:1280px;margin:auto;padding:0 32px 48px}
.figure{background:var(--card);border:1px solid var(--line);border-radius:12px;
padding:20px 22px;margin:18px 0}
h2{margin:0;font-size:20px}
.sub{margin:2px 0 10px;color:var(--muted)}
code{font:13px/1.4 ui-monospace,"DejaVu Sans Mono",monospace}
.alt{margin:0 0 14px;max-width:80ch}
.alt strong{font-size:12px;text-transform:uppercase;letter-spacing:.05em;
color:var(--muted);margin-right:6px}
.outputs{display:grid;gap:16px;
grid-template-columns:repeat(auto-fill,minmax(300px,1fr))}
.output{margin:0;min-width:0}
.stage{border:1px solid var(--line);border-radius:8px;overflow:hidden;
display:flex;align-items:center;justify-content:center}
.stage img,.stage video{display:block;width:100%;height:auto}
figcaption{margin-top:6px;font-size:13px;display:flex;flex-direction:column;gap:2px}
figcaption .file{color:var(--text);font-weight:600;text-decoration:none;
overflow-wrap:anywhere}
.facts{color:var(--muted)}
.notes{margin:4px 0 0;padding-left:18px;color:var(--muted)}
.missing,.download{padding:24px;margin:0;color:#8a93a3}
.embed{margin-top:16px}
.embed summary{cursor:pointer;font-weight:600;margin-bottom:6px}
.snippet h3{font-size:13px;font-weight:600;margin:12px 0 6px;color:var(--muted)}
.codes{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:10px}
.codes .code:only-child{grid-column:1/-1}
.code{border:1px solid var(--line);border-radius:8px;overflow:hidden;min-width:0}
.code-head{display:flex;justify-content:space-between;align-items:center;
padding:4px 8px 4px 12px;background:var(--code);font-size:12px;color:var(--muted)}
.code pre{margin:0;padding:10px 12px;overflow-x:auto;white-space:pre-wrap;
word-break:break-word}
button.copy{font:inherit;font-size:12px;padding:3px 12px;border-radius:6px;
border:1px solid var(--line);background:var(--card);color:var(--text);cursor:pointer}
button.copy:hover{border-color:var(--accent)}
.empty{color:var(--muted)}
"""

_JS = """
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button.copy");
  if (!button) return;
  const text = document.getElementById(button.dataset.target).textContent;
  let copied = false;
  try {
    await navigator.clipboard.writeText(text);
    copied = true;
  } catch (_) {
    const area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    copied = document.execCommand("copy");
    area.remove();
  }
  button.textContent = copied ? "Copied" : "Select and copy";
  setTimeout(() => { button.textContent = "Copy"; }, 1500);
});
"""

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<header>
<h1>{h1}</h1>
<p class="lead">{head}</p>
<p class="lead">Each figure as a course page shows it, light variants on white and
dark on dark. Snippets use paths relative to this folder.</p>
<nav>{nav}</nav>
</header>
<main>
{body}
</main>
<script>{js}</script>
</body>
</html>
"""
