"""One progress bar for a render: frames done out of the total, with an ETA.

manim's own bars run per animation (dozens a scene) and say nothing of the
whole. The total comes from the frames of the last render of the same scene,
options and rate (a small file in the cache), else from a quick pass that
skips the animations (`storyboard.timeline`). Only on a terminal.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
import time

from . import files
from . import render as rd

FRAMES = "frame-counts.json"  # in render.cache_dir()
KEPT = 500
REFRESH = 0.1  # seconds between redraws


def _key(spec, values, fps: float) -> str:
    doc = json.dumps([spec.name, {k: repr(v) for k, v in values.items()}, fps],
                     sort_keys=True)
    return hashlib.sha256(doc.encode()).hexdigest()[:24]


def _load() -> dict:
    try:
        doc = json.loads((rd.cache_dir() / FRAMES).read_text())
        return {k: int(v) for k, v in doc.items() if isinstance(v, int)}
    except (OSError, ValueError, AttributeError):
        return {}


def remember(spec, values, fps: float, frames: int) -> None:
    with contextlib.suppress(OSError):
        known = _load()
        known.pop(_key(spec, values, fps), None)
        known[_key(spec, values, fps)] = int(frames)
        keep = dict(list(known.items())[-KEPT:])
        files.atomic_write(rd.cache_dir() / FRAMES, json.dumps(keep).encode())


def total(spec, values, data, *, w: int, h: int, fps: float, theme: str) -> int:
    """The frames a pass at `fps` will write: remembered, else counted."""
    known = _load().get(_key(spec, values, fps))
    if known:
        return known
    import importlib  # by name: how a bar counts is in no output's key

    storyboard = importlib.import_module("neuroanim.storyboard")
    tl = storyboard.timeline(spec, values, data, w=w, h=h, theme=theme)
    return tl.frames(fps)


class Bar:
    """`frames [#########.......]  120/254  0:03 left` on one line of stderr."""

    def __init__(self, total: int, label: str, stream=None, width: int = 28):
        self.total, self.label, self.width = max(1, total), label, width
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()
        self.shown = 0.0
        self.done = 0

    def update(self, frames: int) -> None:
        self.done = frames
        now = time.perf_counter()
        if now - self.shown >= REFRESH:
            self.shown = now
            self._draw(now)

    def _draw(self, now: float, final: bool = False) -> None:
        total = max(self.total, self.done)  # the estimate may fall short
        frac = self.done / total
        filled = int(self.width * frac)
        spent = now - self.started
        if final:
            tail = f"{spent:.1f} s"
        elif self.done:
            left = spent * (total - self.done) / self.done
            m, s = divmod(int(left + 0.5), 60)
            tail = f"{m}:{s:02d} left"
        else:
            tail = "starting"
        line = (f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
                f"{self.done:>{len(str(total))}}/{total} frames  {tail}")
        with contextlib.suppress(OSError, ValueError):
            self.stream.write(line + "\033[K")
            self.stream.flush()

    def abandon(self) -> None:
        """Interrupted: end the line where it is."""
        with contextlib.suppress(OSError, ValueError):
            self.stream.write("\n")
            self.stream.flush()

    def close(self) -> None:
        self.total = self.done or self.total
        self._draw(time.perf_counter(), final=True)
        with contextlib.suppress(OSError, ValueError):
            self.stream.write("\n")
            self.stream.flush()
