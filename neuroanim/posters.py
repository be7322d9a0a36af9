"""Posters: a PNG of a video's telling frame, picked by how much is drawn."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import files
from .errors import UserError


def _content(rgb: np.ndarray) -> float:
    """How much is drawn: mean distance of the pixels from the border's colour.

    The border's median colour is the background, so a black or faded-out frame
    scores ~0 and a frame full of curves and text scores high, on either theme.
    """
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])  # (P, 3)
    bg = np.median(border, axis=0)
    return float(np.abs(rgb.astype(np.float32) - bg).mean())


class Picker:
    """`telling_frame` for frames as they are drawn: a pass picks its videos'
    poster from its own pixels, so no video is decoded for it.

    Scores a ~160-pixel-wide subsample of each frame (as `telling_frame`
    scores a 160x90 scaled copy) and keeps the last frame within 10% of the
    fullest so far. `best` is that frame's RGBA pixels (None before any).
    """

    def __init__(self, width: int, height: int) -> None:
        self.step = (max(1, height // 90), max(1, width // 160))
        self.best = None
        self.peak = 0.0

    def push(self, pixels: np.ndarray) -> None:
        sy, sx = self.step
        score = _content(pixels[::sy, ::sx, :3])
        self.peak = max(self.peak, score)
        if score >= 0.9 * self.peak:
            self.best = pixels


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
        small = frame.to_ndarray(format="rgb24", width=160, height=90)
        score = _content(small)
        peak = max(peak, score)
        if score >= 0.9 * peak:
            best, best_score = n, score
        n += 1
    if best is None:
        raise UserError(f"{video_path}: no video frames to make a poster from")
    # A decoded frame kept past later decodes (or past the container's close) may
    # share a buffer the decoder reuses: the same video gave two posters. Decode
    # again to the chosen frame and convert it while it is the current one.
    for i, frame in enumerate(_frames(Path(video_path))):
        if i == best:
            return frame.to_ndarray(format="rgba"), best_score, n
    raise UserError(f"{video_path}: frame {best} vanished on the second decode")


def make_poster(video_path: Path, poster_path: Path) -> Path:
    """A PNG of the video's telling frame (see `telling_frame`), written atomically.

    Opaque videos give an RGB poster; a transparent webm/mov keeps its alpha so the
    poster sits on the course page exactly as the video will.
    """
    rgba, _, _ = telling_frame(video_path)
    return write_poster(rgba, poster_path)


def write_poster(rgba: np.ndarray, poster_path: Path) -> Path:
    """RGBA pixels as a poster PNG (RGB when fully opaque), written atomically."""
    import io

    from PIL import Image

    img = Image.fromarray(rgba)
    if rgba[..., 3].min() == 255:
        img = img.convert("RGB")
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    files.atomic_write(Path(poster_path), buf.getvalue())
    return Path(poster_path)


def poster_name(path: Path) -> Path:
    return Path(path).with_name(files.poster_name(Path(path).name))
