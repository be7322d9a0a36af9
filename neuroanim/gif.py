"""GIF size budgets: one render, transcoded down a ladder of fps and sizes."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from . import files
from .errors import UserError
from .page import human_size
from .transcode import gif_from_video

GIF_BUDGET = 2_000_000
GIF_FALLBACK_FPS = 10  # exact 10 cs frame delays
GIF_MIN_WIDTH = 320
_SKIP_FACTOR = 1.5  # skip a GIF attempt predicted at more than this times the budget


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
