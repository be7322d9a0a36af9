"""Video to GIF with a palette of its own (PyAV only).

Below both `render` (whose GIFs are an mp4 transcoded) and `gif` (whose budget
loop transcodes one render at smaller sizes), so neither imports the other back.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from fractions import Fraction
from pathlib import Path

from . import files
from .errors import UserError
from .sink import Sink


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

    video = Path(video)
    with _frames_of(video) as (w, h, _, frames):
        stats = PaletteStats(w, h)
        for frame in frames:
            stats.push(frame.reformat(format="rgba"))
    palette = stats.close()
    if palette is None:
        raise UserError(f"{video}: no video frames to make a GIF from")
    return gif_with_palette(video, gif, palette, fps=fps, size=size)


PALETTEGEN = "stats_mode=full"
PALETTEUSE = "dither=bayer:bayer_scale=5:diff_mode=rectangle"


PALETTE_EVERY = 4  # palettegen reads every 4th frame (and the last)


class PaletteStats:
    """palettegen fed frame by frame (in a pass's sink thread): the palette of a
    GIF known when the last frame is drawn, so only paletteuse is left after.

    It reads every `PALETTE_EVERY`-th frame and the last: counting a frame's
    colours costs more than encoding it, and a lesson's colours stay on screen
    for many frames (one seen only in skipped frames maps to its nearest).
    """

    def __init__(self, width: int, height: int, every: int = PALETTE_EVERY) -> None:
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
        self.every = every
        self.n = 0  # frames seen
        self.read = 0  # frames counted
        self.pending = None  # the last frame seen, when not counted yet
        self.palette = None

    def wants_next(self) -> bool:
        """Whether the next frame is one it counts (else `skip` it)."""
        return self.n % self.every == 0

    def push(self, frame) -> None:
        if self.wants_next():
            self._count(frame)
            self.pending = None
        else:
            self.pending = frame
        self.n += 1

    def skip(self, pixels) -> None:
        """A frame not counted (RGBA pixels), unless it turns out to be the last."""
        self.pending = pixels
        self.n += 1

    def _count(self, frame) -> None:
        frame.pts = self.read
        self.read += 1
        self.graph.push(frame)

    def close(self):
        """The 16x16 palette frame (or None when no frame came)."""
        av = self._av
        if self.n == 0:
            return None
        if self.pending is not None:
            last = self.pending
            if not isinstance(last, av.VideoFrame):
                last = av.VideoFrame.from_ndarray(last, format="rgba")
            self._count(last)
            self.pending = None
        self.graph.push(None)
        while True:
            try:
                got = self.graph.pull()
            except (av.error.EOFError, av.error.BlockingIOError):
                break
            self.palette = got
        return self.palette


class _Frames:
    """Iterates av.VideoFrames; `format` is their pixel format."""

    def __init__(self, it, fmt: str) -> None:
        self._it, self.format = it, fmt

    def __iter__(self):
        return self._it


@contextlib.contextmanager
def _frames_of(path: Path):
    """(width, height, time base, frames) of a video or a frame file."""
    import av

    if is_frame_file(path):
        w, h, rate, ch = _frame_file_head(path)
        fmt = "rgba" if ch == 4 else "rgb24"

        def gen():
            for i, a in enumerate(read_frames(path, fresh=False)):
                f = av.VideoFrame.from_ndarray(a, format=fmt)  # a copy
                f.pts, f.duration, f.time_base = i, 1, 1 / rate  # the fps filter
                # keeps the last frame only when it knows how long it lasts
                yield f

        yield w, h, 1 / rate, _Frames(gen(), fmt)
        return
    with av.open(str(path)) as inp:
        ist = inp.streams.video[0]
        cc = ist.codec_context
        yield cc.width, cc.height, ist.time_base, _Frames(inp.decode(ist), cc.pix_fmt)


def _ahead(items, depth: int = 8):
    """Iterate `items` with a thread of its own producing up to `depth` ahead;
    its error is raised here, where it would have been."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def hand(item) -> bool:
        """Queue `item` unless the consumer stopped; whether it was queued."""
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in items:
                if not hand((item, None)):
                    return
            hand((done, None))
        except BaseException as exc:  # handed to the consumer
            hand((done, exc))

    worker = threading.Thread(target=run, name="frames-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item, exc = q.get()
            if item is done:
                if exc is not None:
                    raise exc
                return
            yield item
    finally:
        stop.set()
        worker.join(5)


class _GifEncoder(Sink):
    """GIF frames encoded and muxed in a thread of their own."""

    def __init__(self, out, stream) -> None:
        self.out, self.stream = out, stream
        super().__init__("gif")

    def consume(self, frame, repeat: int) -> None:
        self.out.mux(self.stream.encode(frame))

    def finish(self) -> None:
        self.out.mux(self.stream.encode())


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
        with _frames_of(video) as (iw, ih, time_base, frames), \
                av.open(str(tmp), "w", format="gif") as out:
            w, h = size or (iw, ih)
            graph = av.filter.Graph()
            src = graph.add_buffer(width=iw, height=ih, format=frames.format,
                                   time_base=time_base)
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

            encoder = _GifEncoder(out, ost)

            def drain() -> None:
                nonlocal n
                while True:
                    try:
                        got = sink.pull()
                    except (av.error.EOFError, av.error.BlockingIOError):
                        return
                    got.pts, got.time_base = n, 1 / rate
                    n += 1
                    encoder.put(got)

            # three stages at once: frames read ahead in one thread, mapped
            # onto the palette here, encoded in another (libav drops the GIL)
            try:
                with contextlib.closing(_ahead(frames)) as ahead:
                    for f in ahead:
                        src.push(f)
                        drain()
                src.push(None)
                drain()
            except BaseException:
                encoder.abort()
                raise
            encoder.close()
        if n == 0:
            raise UserError(f"{video}: no video frames to make a GIF from")
        os.chmod(tmp, 0o666 & ~files.umask())
        os.replace(tmp, gif)
    finally:
        tmp.unlink(missing_ok=True)
    return gif


def gif_timing(path: Path) -> tuple[int, int, list[int]]:
    """(width, height, [delay of each frame in ms]) read from a GIF's blocks.

    Walks the file's structure (screen descriptor, extensions, image
    descriptors) without decoding a pixel: what a player times, at a fraction
    of what seeking through every frame with Pillow costs. UserError for a file
    that is not a well-formed GIF.
    """
    data = Path(path).read_bytes()

    def bad(why: str) -> UserError:
        return UserError(f"{path}: not a readable GIF ({why})")

    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        raise bad("no GIF header")
    width, height = int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    pos = 13
    if data[10] & 0x80:
        pos += 3 << ((data[10] & 7) + 1)

    def skip_blocks(pos: int) -> int:
        while True:
            if pos >= len(data):
                raise bad("truncated data")
            size = data[pos]
            pos += 1 + size
            if size == 0:
                return pos

    delays: list[int] = []
    delay = 0
    while True:
        if pos >= len(data):
            raise bad("no trailer")
        kind = data[pos]
        if kind == 0x3B:
            return width, height, delays
        if kind == 0x21:
            if pos + 2 >= len(data):
                raise bad("truncated extension")
            if data[pos + 1] == 0xF9 and data[pos + 2] >= 4 and pos + 7 <= len(data):
                delay = int.from_bytes(data[pos + 4:pos + 6], "little") * 10
            pos = skip_blocks(pos + 2)
        elif kind == 0x2C:
            if pos + 10 > len(data):
                raise bad("truncated image descriptor")
            packed = data[pos + 9]
            pos += 10
            if packed & 0x80:
                pos += 3 << ((packed & 7) + 1)
            pos = skip_blocks(pos + 1)  # past the LZW code size
            delays.append(delay)
            delay = 0
        else:
            raise bad(f"unknown block 0x{kind:02x} at byte {pos}")


# ---------------------------------------------------------------- GIF frames
# A pass keeps a GIF's frames until its palette is known. Lesson frames change
# in small places: each frame is stored as the rectangle where it differs from
# the one before, zstd-compressed at level 1 (a still frame is one record).
# Cheaper to write and read back than any lossless video codec here, and
# exact; zstd is ~5x faster than zlib's fastest level on these frames, both
# ways (0.09 s against 0.37 s to write the and-gate GIF's 339, 0.13 against
# 0.70 s to read them), at 3/4 of the bytes.
FRAMES_MAGIC = b"neuroanim-frames 3\n"
_HEAD = "<IIIII"  # width, height, rate numerator, rate denominator, channels
_REC = "<BIIIII"  # kind (0 same, 1 changed rectangle), y, x, h, w, bytes


class FrameWriter:
    """Writes RGB(A) frames to a frame file (see `read_frames`), one at a time.

    Frames keep their channels (a pass's RGBA stays RGBA: dropping alpha is a
    strided copy dearer than compressing the fourth byte)."""

    def __init__(self, path: Path, width: int, height: int, rate: Fraction) -> None:
        import struct

        self._struct = struct
        self.path, self.width, self.height, self.rate = Path(path), width, height, rate
        import zstandard

        self._file = open(self.path, "wb")  # noqa: SIM115  (closed in close)
        self._zstd = zstandard.ZstdCompressor(level=1)
        self._prev = None
        self.channels = 0
        self.frames = 0

    def add(self, pixels) -> None:
        import numpy as np

        pack = self._struct.pack
        if not self.channels:
            self.channels = pixels.shape[2]
            self._file.write(FRAMES_MAGIC + pack(
                _HEAD, self.width, self.height, self.rate.numerator,
                self.rate.denominator, self.channels))
        elif pixels.shape[2] != self.channels:
            raise ValueError(f"a frame of {pixels.shape[2]} channels in a frame "
                             f"file of {self.channels}")
        now = pixels.view(np.uint32).reshape(pixels.shape[:2]) \
            if pixels.shape[2] == 4 and pixels.flags.c_contiguous else None
        if self._prev is None:
            y0, y1, x0, x1 = 0, self.height, 0, self.width
        else:
            if now is not None and self._prev[1] is not None:
                changed = now != self._prev[1]
            else:
                changed = (pixels != self._prev[0]).any(axis=2)
            rows = np.flatnonzero(changed.any(axis=1))
            if not len(rows):
                self._file.write(pack(_REC, 0, 0, 0, 0, 0, 0))
                self.frames += 1
                return
            y0, y1 = rows[0], rows[-1] + 1
            cols = np.flatnonzero(changed[y0:y1].any(axis=0))
            x0, x1 = cols[0], cols[-1] + 1
        crop = np.ascontiguousarray(pixels[y0:y1, x0:x1])
        blob = self._zstd.compress(crop.data)
        self._file.write(pack(_REC, 1, y0, x0, y1 - y0, x1 - x0, len(blob)))
        self._file.write(blob)
        self._prev = (pixels, now)
        self.frames += 1

    def close(self) -> None:
        if not self.channels:  # no frame came: a valid empty file all the same
            self._file.write(FRAMES_MAGIC + self._struct.pack(
                _HEAD, self.width, self.height, self.rate.numerator,
                self.rate.denominator, 3))
        self._file.close()

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)


def is_frame_file(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(len(FRAMES_MAGIC)) == FRAMES_MAGIC


def frame_file_info(path: Path) -> tuple[int, int, Fraction]:
    """(width, height, rate) of a frame file."""
    w, h, rate, _ = _frame_file_head(path)
    return w, h, rate


def _frame_file_head(path: Path) -> tuple[int, int, Fraction, int]:
    import struct

    with open(path, "rb") as f:
        f.seek(len(FRAMES_MAGIC))
        w, h, num, den, ch = struct.unpack(_HEAD, f.read(struct.calcsize(_HEAD)))
    return w, h, Fraction(num, den), ch


def read_frames(path: Path, fresh: bool = True):
    """The (H, W, C) uint8 frames of a frame file (C its frames' channels: 4
    for a pass's RGBA), in order (a repeat is the same array again; a changed
    frame is a new one; with `fresh` False it is the same array updated in
    place, for a reader that copies each frame before taking the next)."""
    import struct

    import numpy as np
    import zstandard

    unzstd = zstandard.ZstdDecompressor().decompress
    w, h, _, ch = _frame_file_head(path)
    rec = struct.calcsize(_REC)
    frame = None
    with open(path, "rb") as f:
        f.seek(len(FRAMES_MAGIC) + struct.calcsize(_HEAD))
        while head := f.read(rec):
            kind, y, x, hh, ww, size = struct.unpack(_REC, head)
            if kind == 1:
                crop = np.frombuffer(unzstd(f.read(size)), np.uint8)
                if frame is None:
                    frame = np.zeros((h, w, ch), np.uint8)
                elif fresh:
                    frame = frame.copy()
                frame[y:y + hh, x:x + ww] = crop.reshape(hh, ww, ch)
            elif frame is None:
                raise ValueError(f"{path}: a frame file starting with a repeat")
            yield frame
