"""The one pipeline: (scene, options, output settings) -> every finished file.

`neuroanim render`, a lesson build's workers and the Python API all call `make`:
the video or still (a GIF fitted to its byte budget), its poster, `.srt` and
`.vtt` captions, and the alt text, each written atomically beside the output.
The interactive page (`neuroanim.interactive`) needs no drawing: it is written
from the same data.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import files, gif, interactive, registry
from . import progress as bars
from . import render as rd
from .captions import write_vtt
from .errors import UserError
from .files import VIDEO_FORMATS
from .posters import make_poster, poster_name, write_poster
from .spec import SceneSpec
from .theme import THEMES


@dataclass(frozen=True)
class Finished:
    """A rendered output and what a course page needs beside it.

    `captions` holds {"srt", "vtt"} file names and `poster` a file name, both in
    the output's folder (None when the format has none); `notes` say what the
    GIF budget changed.
    """

    result: rd.RenderResult
    alt: str
    captions: dict | None = None
    poster: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.result.path

    def manifest_fields(self) -> dict:
        return {"alt": self.alt, "captions": self.captions, "poster": self.poster}

    def _repr_html_(self) -> str:  # Jupyter: the video with poster, or the image
        # by name: display code is in no output's key (`build.code_files`)
        return importlib.import_module("neuroanim.notebook").finished_html(self)


@dataclass(frozen=True)
class Want:
    """One file a pass should make: format, final path, size and rate."""

    fmt: str
    path: Path
    width: int
    height: int
    fps: float
    drawn_at: float | None = None  # a GIF's pass rate, when the build pinned it


def make(scene: str | SceneSpec, params: dict | None = None, *, fmt: str | None = None,
         quality: str = "l", theme: str = "dark", transparent: bool = False,
         out: Any = None, out_dir: Any = rd.DEFAULT_OUT_DIR, fps: float | None = None,
         resolution: Any = None, budget: int = gif.GIF_BUDGET, verbose: bool = False,
         progress: bool | None = None, data: Any = None) -> Finished:
    """Render `scene` with `params` to one file and finish it for a course page.

    Every check runs before anything is written; a GIF steps down to fit
    `budget` bytes (0: no limit). `data` skips `prepare` when the caller holds
    the scene's data already.
    """
    fmt = rd.infer_format(out) if fmt is None else str(fmt).lower()
    return make_all(scene, params, formats=(fmt,), quality=quality, theme=theme,
                    transparent=transparent, out=out, out_dir=out_dir, fps=fps,
                    resolution=resolution, budget=budget, verbose=verbose,
                    progress=progress, data=data)[0]


def make_all(scene: str | SceneSpec, params: dict | None = None, *,
             formats: tuple[str, ...] = ("mp4",), quality: str = "l",
             theme: str = "dark", transparent: bool = False, out: Any = None,
             out_dir: Any = rd.DEFAULT_OUT_DIR, fps: float | None = None,
             resolution: Any = None, budget: int = gif.GIF_BUDGET,
             verbose: bool = False, progress: bool | None = None,
             data: Any = None) -> list[Finished]:
    """Every format of one figure, drawn as few times as `render.passes` allows.

    `out` (a file) only with one format. Each format gets the quality's size
    and rate unless `resolution`/`fps` say otherwise (GIFs start at 20 fps).
    """
    spec = registry.get(scene) if isinstance(scene, str) else scene
    values = spec.resolve(params)
    if theme not in THEMES:
        raise UserError(f"--theme: {theme!r} is not one of {', '.join(THEMES)}")
    wants = []
    for f in formats:
        w, h, rate = rd.plan(f, quality, fps, resolution, transparent)
        spec.check_size(w, h)
        if f in rd.UNDRAWN:
            interactive.check(spec)
        wants.append(Want(f, rd.output_path(spec, values, f, theme, out, out_dir),
                          w, h, rate))
    option = "-o" if out is not None else "output folder"
    for want in wants:
        rd.check_writable(want.path.parent, option, create=False)  # before training
    if data is None:
        data = registry.prepare(spec, values)
    return make_outputs(spec, values, wants, theme=theme, transparent=transparent,
                        budget=budget, verbose=verbose, progress=progress, data=data)


def make_outputs(spec: SceneSpec, values: dict, wants: list[Want], *, theme: str,
                 transparent: bool = False, budget: int = gif.GIF_BUDGET,
                 verbose: bool = False, progress: bool | None = None,
                 data: Any = None, draft: bool = False) -> list[Finished]:
    """Make `wants` (checked already) in as few drawings of the scene as possible.

    Videos of one size and rate are encoded from the same frames, a GIF keeps
    every k-th frame of a pass at k times its rate, stills are the last frame;
    see `render.passes`; an interactive page is written from `data` alone. Each
    file lands atomically, results in `wants` order. A `draft`'s still is the
    last frame of a pass of its size, when there is one (no second drawing).
    """
    for want in wants:
        rd.check_writable(want.path.parent)
        if want.fmt in rd.UNDRAWN:
            interactive.check(spec)
    groups, stills = rd.passes([(w.fmt, w.width, w.height, w.fps, w.drawn_at)
                                 for w in wants])
    results: dict[int, tuple] = {}
    with contextlib.ExitStack() as scratches:
        # a pass's videos drain their encoders' last frames while the rest of
        # the figure is made (GIFs, later passes, stills, interactive pages)
        draining: list[tuple] = []  # (close, abort) of each pass's videos
        try:
            for (w, h, rate), members in groups:
                mine = [i for i in stills if draft and (wants[i].width,
                                                        wants[i].height) == (w, h)]
                stills = [i for i in stills if i not in mine]
                registry.guarded(
                    spec, _one_pass, spec, values, data, wants, members, draining,
                    results, scratch=scratches.enter_context(rd.scratch_dir()), w=w,
                    h=h, fps=rate, theme=theme, transparent=transparent,
                    budget=budget, verbose=verbose, progress=progress, stills=mine,
                    poster=not draft)
            for i in stills:
                want = wants[i]
                res = registry.guarded(spec, rd.render, spec, values, fmt="png",
                                       theme=theme, transparent=transparent,
                                       out=want.path,
                                       resolution=(want.width, want.height),
                                       data=data, verbose=verbose)
                results[i] = (res, [])
            for i, want in enumerate(wants):
                if want.fmt in rd.UNDRAWN:
                    t0 = time.perf_counter()
                    path, size = registry.guarded(spec, interactive.write, spec, values,
                                                  data, theme, want.path)
                    results[i] = (rd.RenderResult(
                        path, want.fmt, size, want.width, want.height, 0.0, 0, 0.0,
                        seconds=round(time.perf_counter() - t0, 3)), [])
            while draining:
                close, _ = draining[0]
                results |= registry.guarded(spec, close)
                draining.pop(0)  # only once closed: an interrupt meanwhile aborts it
        except BaseException:
            for _, abort in draining:
                abort()
            raise
    return [finish(spec, results[i][0], data, results[i][1], poster=not draft,
                   pixels=results[i][2] if len(results[i]) > 2 else None)
            for i in range(len(wants))]


def _one_pass(spec, values, data, wants, members, draining: list, out: dict, *,
              scratch, w, h, fps, theme, transparent, budget, verbose, progress,
              stills=(), poster=False) -> None:
    """Draw once for `members` [(index, k)] of `wants` into the `scratch` folder.

    The GIFs and stills go into `out` ({index: (result, notes)}), made while
    the videos' encoders drain their last frames. `(close, abort)` of the
    videos is appended to `draining` as soon as they are drawn: `close()`
    waits for them, places them and returns theirs, with the poster's pixels
    (picked from the pass) after the notes when `poster`; `abort()` drops
    them. `stills` (indices of pngs) are the pass's last frame.
    """
    started = time.perf_counter()
    videos = [(i, wants[i].fmt, scratch / f"out-{i}.{wants[i].fmt}")
              for i, k in members if wants[i].fmt != "gif"]
    gifs = [(i, k, scratch / f"frames-{i}.bin")
            for i, k in members if wants[i].fmt == "gif"]
    if progress is None:
        progress = sys.stderr.isatty()
    bar = None
    if progress:  # one bar for the whole pass (manim's are per animation)
        bar = bars.Bar(bars.total(spec, values, data, w=w, h=h, fps=fps,
                                  theme=theme), spec.name)
    try:
        drawn = rd.draw(spec, values, data, scratch, w=w, h=h, fps=fps,
                        theme=theme, transparent=transparent,
                        videos=[(f, p) for _, f, p in videos],
                        gifs=[(k, p) for _, k, p in gifs], verbose=verbose,
                        progress=False, keep_last=bool(stills),
                        on_frame=bar.update if bar else None,
                        poster=poster and bool(videos), defer_videos=True)
    except BaseException:
        if bar is not None:
            bar.abandon()
        raise
    srt = drawn.srt
    t_drawn = time.perf_counter()

    def close() -> dict[int, tuple]:
        drawn.close_videos()
        t_videos = time.perf_counter()
        placed_videos = {}
        for i, _, path in videos:
            target = wants[i].path
            placed = [(path, target)]
            if srt is not None:
                shutil.copyfile(srt, path.with_suffix(".srt"))
                placed.append((path.with_suffix(".srt"), target.with_suffix(".srt")))
            files.place(placed)
            res = rd.describe(target, target.with_suffix(".srt") if srt else None)
            placed_videos[i] = (dataclasses.replace(
                res, seconds=round(t_videos - started, 3)), [], drawn.poster)
        return placed_videos

    draining.append((close, drawn.abort_videos))  # the caller aborts them on error
    if bar is not None:
        bar.close()
        bars.remember(spec, values, fps, bar.done)
    for i, _, inter in gifs:
        want = wants[i]
        t0 = time.perf_counter()
        res, notes = gif.fit_gif(
            gif.transcoder(inter, scratch, srt, drawn.palettes[inter]),
            want.path, width=want.width,
            height=want.height, fps=want.fps, budget=budget or 2**63,
            min_width=min(gif.GIF_MIN_WIDTH, want.width))
        seconds = t_drawn - started + time.perf_counter() - t0
        out[i] = (dataclasses.replace(res, seconds=round(seconds, 3)), notes)
    for i in stills:
        from PIL import Image

        png = scratch / f"still-{i}.png"
        pixels = drawn.last if transparent else drawn.last[..., :3]
        Image.fromarray(pixels).save(png, optimize=False, compress_level=1)
        files.place([(png, wants[i].path)])
        out[i] = (dataclasses.replace(rd.describe(wants[i].path),
                                      seconds=round(t_drawn - started, 3)), [])


def finish(spec: SceneSpec, result: rd.RenderResult, data: Any,
           notes: list[str] | None = None, poster: bool = True,
           pixels: Any = None) -> Finished:
    """Captions as WebVTT, a poster for videos (not for a draft: the player
    shows its first frame), the alt text from the data. The poster is `pixels`
    when the pass picked them, else the video's telling frame, decoded."""
    path = Path(result.path)
    captions = None
    srt = Path(result.captions) if result.captions else None
    if srt is not None and srt.is_file():
        vtt = write_vtt(srt, srt.with_suffix(".vtt"))
        captions = {"srt": srt.name, "vtt": vtt.name}
    made = None
    if poster and result.fmt in VIDEO_FORMATS:
        target = poster_name(path)
        made = (make_poster(path, target) if pixels is None
                else write_poster(pixels, target)).name
    alt = registry.guarded(spec, spec.alt_text, data)
    return Finished(result, alt, captions, made, list(notes or []))
