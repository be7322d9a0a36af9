"""Video to GIF with a palette of its own (PyAV only).

Below both `render` (whose GIFs are an mp4 transcoded) and `gif` (whose budget
loop transcodes one render at smaller sizes), so neither imports the other back.
"""

from __future__ import annotations

import itertools
import os
from fractions import Fraction
from pathlib import Path

from . import files
from .errors import UserError


def gif_from_video(video: Path, gif: Path, *, fps: float,
                   size: tuple[int, int] | None = None) -> Path:
    """Transcode a video to a looping GIF with its own 256-colour palette, atomically.

    manim 0.22 builds its palette and then hands the encoder `rgb8`, a fixed
    3-3-2 palette: colours shift and every flat background is dithered into
    noise, so its GIFs come out ~30x larger. Here palettegen reads every frame
    first (`PaletteStats`), then `gif_with_palette` maps them onto it, both
    streaming: frames are resampled to `fps` (exact centisecond delays when
    100/fps is whole) and scaled with Lanczos to `size`.
    """
    import av

    video = Path(video)
    with av.open(str(video)) as inp:
        ist = inp.streams.video[0]
        w, h = ist.codec_context.width, ist.codec_context.height
        stats = PaletteStats(w, h)
        for frame in inp.decode(ist):
            stats.push(frame.reformat(format="rgba"))
    palette = stats.close()
    if palette is None:
        raise UserError(f"{video}: no video frames to make a GIF from")
    return gif_with_palette(video, gif, palette, fps=fps, size=size)


PALETTEGEN = "stats_mode=full"
PALETTEUSE = "dither=bayer:bayer_scale=5:diff_mode=rectangle"


class PaletteStats:
    """palettegen fed frame by frame (in a pass's sink thread): the palette of a
    GIF known when the last frame is drawn, so only paletteuse is left after."""

    def __init__(self, width: int, height: int) -> None:
        import av

        self._av = av
        self.graph = av.filter.Graph()
        src = self.graph.add_buffer(width=width, height=height, format="rgba",
                                    time_base=Fraction(1, 1000))
        gen = self.graph.add("palettegen", PALETTEGEN)
        sink = self.graph.add("buffersink")
        src.link_to(gen)
        gen.link_to(sink)
        self.graph.configure()
        self.n = 0
        self.palette = None

    def push(self, frame) -> None:
        frame.pts = self.n
        self.n += 1
        self.graph.push(frame)

    def close(self):
        """The 16x16 palette frame (or None when no frame came)."""
        av = self._av
        if self.n == 0:
            return None
        self.graph.push(None)
        while True:
            try:
                got = self.graph.pull()
            except (av.error.EOFError, av.error.BlockingIOError):
                break
            self.palette = got
        return self.palette


def gif_with_palette(video: Path, gif: Path, palette, *, fps: float,
                     size: tuple[int, int] | None = None) -> Path:
    """`gif_from_video` with the palette known already: one streaming pass.

    Frames are resampled to `fps`, scaled with Lanczos to `size`, mapped onto
    `palette` (a palettegen frame) and encoded as they are decoded, so memory
    stays at a few frames however long the clip.
    """
    import av

    video, gif = Path(video), Path(gif)
    rate = Fraction(fps).limit_denominator(1000)
    tmp = files.temp_beside(gif)
    n = 0
    try:
        with av.open(str(video)) as inp, av.open(str(tmp), "w", format="gif") as out:
            ist = inp.streams.video[0]
            w, h = size or (ist.codec_context.width, ist.codec_context.height)
            graph = av.filter.Graph()
            src = graph.add_buffer(template=ist)
            pal = graph.add_buffer(width=palette.width, height=palette.height,
                                   format=palette.format.name,
                                   time_base=Fraction(1, 1000))
            chain = [src, graph.add("fps", f"fps={rate}"),
                     graph.add("scale", f"{w}:{h}:flags=lanczos")]
            for a, b in itertools.pairwise(chain):
                a.link_to(b)
            use = graph.add("paletteuse", PALETTEUSE)
            sink = graph.add("buffersink")
            chain[-1].link_to(use, 0, 0)
            pal.link_to(use, 0, 1)
            use.link_to(sink)
            graph.configure()
            frame = av.VideoFrame.from_ndarray(palette.to_ndarray(),
                                               format=palette.format.name)
            frame.pts = 0
            pal.push(frame)
            pal.push(None)
            ost = out.add_stream("gif", rate=rate)
            ost.width, ost.height, ost.pix_fmt = w, h, "pal8"

            def drain() -> None:
                nonlocal n
                while True:
                    try:
                        got = sink.pull()
                    except (av.error.EOFError, av.error.BlockingIOError):
                        return
                    got.pts, got.time_base = n, 1 / rate
                    n += 1
                    out.mux(ost.encode(got))

            for f in inp.decode(ist):
                src.push(f)
                drain()
            src.push(None)
            drain()
            out.mux(ost.encode())
        if n == 0:
            raise UserError(f"{video}: no video frames to make a GIF from")
        os.chmod(tmp, 0o666 & ~files.umask())
        os.replace(tmp, gif)
    finally:
        tmp.unlink(missing_ok=True)
    return gif
