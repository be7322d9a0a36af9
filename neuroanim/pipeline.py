"""The one pipeline: (scene, options, output settings) -> every finished file.

`neuroanim render`, a lesson build's workers and the Python API all call `make`:
the video or still (a GIF fitted to its byte budget), its poster, `.srt` and
`.vtt` captions, and the alt text, each written atomically beside the output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import gif, registry
from . import render as rd
from .captions import write_vtt
from .files import VIDEO_FORMATS
from .posters import make_poster, poster_name
from .spec import SceneSpec


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


def make(scene: str | SceneSpec, params: dict | None = None, *, fmt: str | None = None,
         quality: str = "l", theme: str = "dark", transparent: bool = False,
         out: Any = None, out_dir: Any = rd.DEFAULT_OUT_DIR, fps: float | None = None,
         resolution: Any = None, budget: int = gif.GIF_BUDGET, verbose: bool = False,
         progress: bool | None = None, data: Any = None) -> Finished:
    """Render `scene` with `params` and finish it for a course page.

    Every check runs before anything is written; a GIF steps down to fit
    `budget` bytes (0: no limit). `data` skips `prepare` when the caller holds
    the scene's data already.
    """
    spec = registry.get(scene) if isinstance(scene, str) else scene
    values = spec.resolve(params)
    if data is None:
        data = registry.prepare(spec, values)
    result, notes = registry.guarded(
        spec, gif.render_within_budget, spec, values, budget=budget, fmt=fmt,
        quality=quality, theme=theme, transparent=transparent, out=out,
        out_dir=out_dir, fps=fps, resolution=resolution, verbose=verbose,
        progress=progress, data=data)
    return finish(spec, result, data, notes)


def finish(spec: SceneSpec, result: rd.RenderResult, data: Any,
           notes: list[str] | None = None) -> Finished:
    """Captions as WebVTT, a poster for videos, the alt text from the data."""
    path = Path(result.path)
    captions = None
    srt = Path(result.captions) if result.captions else None
    if srt is not None and srt.is_file():
        vtt = write_vtt(srt, srt.with_suffix(".vtt"))
        captions = {"srt": srt.name, "vtt": vtt.name}
    poster = None
    if result.fmt in VIDEO_FORMATS:
        poster = make_poster(path, poster_name(path)).name
    alt = registry.guarded(spec, spec.alt_text, data)
    return Finished(result, alt, captions, poster, list(notes or []))
