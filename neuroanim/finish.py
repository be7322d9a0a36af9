"""Finishing an output: what a course page needs beside each rendered file."""

from __future__ import annotations

from pathlib import Path

from .alt import alt_text
from .captions import write_vtt
from .files import VIDEO_FORMATS
from .posters import make_poster, poster_name


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
