"""GIF size budgets: one render, transcoded down a ladder of fps and sizes."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from . import files
from .errors import UserError
from .page import human_size
from .transcode import gif_from_video, gif_with_palette

GIF_BUDGET = 2_000_000
GIF_FALLBACK_FPS = 10  # exact 10 cs frame delays
GIF_MIN_WIDTH = 320
_SKIP_FACTOR = 1.5  # skip a GIF attempt predicted at more than this times the budget
_LOSSY_SKIP = 1.15  # ... for a stronger compression of the same frames (a good guess)
GIFSICLE = "gifsicle"
LOSSY = (0, 30, 60)  # gifsicle --lossy levels tried before fps or size drop
# What each level leaves of the palette GIF's bytes, measured on the and-gate GIF
# at 854x480 (2.60 MB -> 1.59 MB at 30): for guessing which attempts to skip.
_SHRINK = {0: 1.0, 30: 0.62, 60: 0.59}


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
    """Make a GIF within `budget` bytes: compression first, then fps, then size.

    `render_at(fps, (w, h), path, lossy)` makes one attempt at `path`, a
    temporary name beside `out` (`lossy` 0: the palette alone; above: gifsicle's
    lossy LZW at that level); the first attempt within budget is renamed to
    `out` (its .srt too), so `out` never holds an over-budget file and a failure
    leaves the previous `out` untouched. At each fps and size the lossy levels
    `LOSSY` are tried in turn. Attempts predicted (from the last one, scaled by
    frames, pixels and compression) at over 1.5x the budget are skipped, over
    1.15x for a stronger compression of the same frames; the smallest is always
    tried. Returns (result at `out`, notes of what was done).
    """
    out = Path(out)
    if budget <= 0:
        raise UserError(f"{out.name}: the GIF budget must be positive, got {budget}")
    levels = LOSSY if lossy_available() else (0,)
    steps = gif_ladder(width, height, fps, min_width)
    attempts = [(f, size, lv) for f, size in steps for lv in levels]
    tried: list[tuple[float, int, int, int, int]] = []  # (fps, w, h, lossy, bytes)
    temps: list[Path] = []
    try:
        for i, (f, (w, h), lv) in enumerate(attempts):
            if tried and i < len(attempts) - 1:
                lf, lw, lh, ll, lb = tried[-1]
                guess = lb * (f / lf) * (w * h) / (lw * lh) * _SHRINK[lv] / _SHRINK[ll]
                same = (f, w, h) == (lf, lw, lh)
                if guess > (_LOSSY_SKIP if same else _SKIP_FACTOR) * budget:
                    continue
            tmp = files.temp_beside(out, ".fit.gif")  # exclusive: no planted link
            temps.append(tmp)
            result = render_at(f, (w, h), tmp, lv)
            size = Path(result.path).stat().st_size
            tried.append((f, w, h, lv, size))
            if size <= budget:
                return _keep(result, out, tried, budget)
        f, w, h, lv, size = tried[-1]
        raise GifBudgetError(
            f"{human_size(size)} even at {w}x{h} and {f:g} fps"
            + (f" with lossy compression {lv}" if lv else "")
            + f", over the {human_size(budget)} GIF budget; shorten the figure, "
            "raise the budget, or use mp4/webm"
        )
    finally:
        for t in temps:
            t.unlink(missing_ok=True)
            t.with_suffix(".srt").unlink(missing_ok=True)


def _keep(result, out: Path, tried: list, budget: int):
    """Rename the winning attempt (and its captions) to `out`; describe the steps."""
    os.chmod(result.path, 0o666 & ~files.umask())  # attempts are private temp files
    os.replace(result.path, out)
    captions = None
    if result.captions and Path(result.captions).is_file():
        captions = out.with_suffix(".srt")
        os.replace(result.captions, captions)
    kept = dataclasses.replace(result, path=out, captions=captions)
    notes = []
    if len(tried) > 1:
        f0, w0, h0, _, b0 = tried[0]
        f, w, h, lv, b = tried[-1]
        steps = [f"lossy compression {lv}"] if lv else []
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


def lossy_available() -> bool:
    return shutil.which(GIFSICLE) is not None


@lru_cache(maxsize=1)
def gifsicle_version() -> str:
    """What the key records: lossy GIF bytes depend on gifsicle's version."""
    if not lossy_available():
        return "missing"
    try:
        out = subprocess.run([GIFSICLE, "--version"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.splitlines()[0].strip() if out else "unknown"


def compress(src: Path, dst: Path, lossy: int) -> Path:
    """gifsicle's lossy LZW (-O2 --lossy=N): ~40% smaller, no visible loss at 30."""
    cmd = [GIFSICLE, "--no-warnings", "-O2", f"--lossy={int(lossy)}",
           "-o", str(dst), str(src)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"gifsicle failed ({done.returncode}): "
                           f"{done.stderr.strip()[:200]}")
    return dst


def transcoder(source: Path, scratch: Path, captions: Path | None = None,
               palette=None):
    """A `render_at` for `fit_gif` making every attempt from one pass's frames.

    `source` is the frame file a pass wrote, `palette` the palette
    gathered while it was drawn (every attempt maps onto it: fewer frames or
    pixels of the same pictures have the same colours); each fps and size
    gets its palette GIF once (kept in `scratch`), and each lossy level is
    gifsicle run on it: no attempt draws the scene again.
    """
    made: dict[tuple, Path] = {}

    def render_at(fps: float, size: tuple[int, int], path: Path, lossy: int = 0):
        from . import render as rd

        key = (float(fps), tuple(size))
        if key not in made:
            dst = scratch / f"p{len(made)}.gif"
            made[key] = gif_from_video(source, dst, fps=fps, size=size) \
                if palette is None else \
                gif_with_palette(source, dst, palette, fps=fps, size=size)
        if lossy:
            compress(made[key], Path(path), lossy)
        else:
            shutil.copyfile(made[key], path)
        srt = None
        if captions is not None and Path(captions).is_file():
            srt = Path(path).with_suffix(".srt")
            shutil.copyfile(captions, srt)
        return rd.describe(path, srt)

    return render_at


@contextlib.contextmanager
def gif_renderer(spec, params: dict, **render_kw):
    """A `render_at` for `fit_gif` that draws the scene once, at the first fps asked.

    The scene is drawn into a frame file in a scratch folder; every
    attempt is a `transcoder` step from it. Asking for more fps or pixels than
    the frame file has draws it again. The scratch folder goes when the block
    ends.
    """
    from . import registry
    from . import render as rd

    spec = registry.get(spec) if isinstance(spec, str) else spec
    values = spec.resolve(params)
    data = render_kw.get("data")
    if data is None:
        data = registry.prepare(spec, values)
    scratch = Path(tempfile.mkdtemp(prefix="gif-", dir=_scratch_root(rd)))
    have: dict = {}

    def render_at(fps: float, size: tuple[int, int], path: Path, lossy: int = 0):
        w, h = size
        if not have or fps > have["fps"] + 1e-6 or w > have["w"] or h > have["h"]:
            n = len(have.get("all", ()))
            inter = scratch / f"frames-{n}.bin"
            drawn = rd.draw(spec, values, data, scratch, w=w, h=h, fps=fps,
                            theme=render_kw.get("theme", "dark"), gifs=[(1, inter)],
                            verbose=render_kw.get("verbose", False),
                            progress=render_kw.get("progress"))
            have.update(fps=fps, w=w, h=h, all=[*have.get("all", ()), inter],
                        make=transcoder(inter, scratch, drawn.srt,
                                        drawn.palettes[inter]))
        return have["make"](fps, size, path, lossy)

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
