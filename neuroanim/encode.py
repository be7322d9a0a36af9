"""Frames to files: encoders fed straight from the renderer, each in its own thread.

One pass of a scene draws every frame once; `FrameFeed` (manim's file writer,
replaced) hands each frame to every sink of the pass: an mp4, webm or mov
encoder, or a GIF's frame file that keeps every k-th frame. Sinks run
in threads with small bounded queues, so drawing (Python, holding the GIL) and
encoding (libav, releasing it) overlap, and no partial movie is written or
joined.

Every setting that changes the bytes is pinned here and goes into the build's
key (`settings`): one encoder thread (libx264's output depends on its thread
count), bit-exact containers (the WebM muxer writes random IDs otherwise).
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from fractions import Fraction
from pathlib import Path

CONTAINER_OPTIONS = {"fflags": "+bitexact"}  # no random IDs, no version strings
QUEUE_FRAMES = 8  # per sink: ~13 MB at 854x480; drawing waits when a sink lags
# (codec, pixel format, options) per format; a transparent variant where it differs.
# libvpx-vp9 at its defaults spends more CPU than all the rest of a render; its
# realtime mode at speed 8 costs next to nothing for ~8% more bytes on flat
# lesson frames (measured on gradient-descent at 854x480: 17.2 -> 7.2 s CPU).
CODECS: dict[tuple[str, bool], tuple[str, str, dict[str, str]]] = {
    ("mp4", False): ("libx264", "yuv420p", {"crf": "23", "threads": "1"}),
    ("mov", False): ("libx264", "yuv420p", {"crf": "23", "threads": "1"}),
    ("mov", True): ("qtrle", "argb", {}),
    ("webm", False): ("libvpx-vp9", "yuv420p",
                      {"crf": "32", "b": "0", "deadline": "realtime", "cpu-used": "8",
                       "threads": "1"}),
    ("webm", True): ("libvpx-vp9", "yuva420p",
                     {"crf": "32", "b": "0", "deadline": "realtime", "cpu-used": "8",
                      "threads": "1"}),
}
# A GIF's frames are kept exactly until its palette is known, in a frame file
# of changed rectangles (`transcode.FrameWriter`): no codec setting shapes them.


def codec_options(fmt: str, transparent: bool = False) -> dict[str, str]:
    return dict(CODECS[(fmt, transparent)][2])


def settings(fmt: str, transparent: bool = False) -> dict:
    """Everything about the encoder that shapes a file's bytes (for the key)."""
    if fmt == "gif":
        from .transcode import PALETTE_EVERY, PALETTEGEN, PALETTEUSE

        return {"frames": "changed rectangles, exact",
                "palette": [PALETTEGEN, PALETTE_EVERY, PALETTEUSE]}
    if fmt == "png":
        return {}
    codec, pix, opts = CODECS[(fmt, transparent)]
    return {"codec": codec, "pix_fmt": pix, "options": opts,
            "container": CONTAINER_OPTIONS}


def rate(fps: float) -> Fraction:
    return Fraction(fps).limit_denominator(1001)


class Frame:
    """One drawn frame as every sink of its pass sees it: the RGBA `pixels`,
    and their conversion to a video pixel format made once, by whichever
    sink's thread asks first, for all (an mp4 and a webm of one pass convert
    each frame once, not twice; a repeat of it is not converted again)."""

    __slots__ = ("pixels", "_lock", "_planes")
    SHARED = ("yuv420p",)  # formats whose planes PyAV wraps without a copy

    def __init__(self, pixels) -> None:
        self.pixels = pixels
        self._lock = threading.Lock()
        self._planes: dict[str, object] = {}

    def video_frame(self, pix_fmt: str):
        """A new `av.VideoFrame` of these pixels (its own pts) in `pix_fmt`
        where the conversion can be shared, else in RGBA for the encoder to
        convert (the same conversion either way: the encoder's own call)."""
        import av

        if pix_fmt not in self.SHARED:
            return av.VideoFrame.from_ndarray(self.pixels, format="rgba")
        with self._lock:
            planes = self._planes.get(pix_fmt)
            if planes is None:
                rgba = av.VideoFrame.from_numpy_buffer(self.pixels, format="rgba")
                planes = rgba.reformat(format=pix_fmt).to_ndarray()
                self._planes[pix_fmt] = planes
        return av.VideoFrame.from_numpy_buffer(planes, format=pix_fmt)


class Sink:
    """A consumer of frames in its own thread; errors surface in `put`/`close`.

    `put` takes a frame's RGBA pixels or a `Frame` of them; `consume` gets
    the pixels (the `Frame` is in `self.current` meanwhile)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.error: BaseException | None = None
        self.current: Frame | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
        self._stop = False
        self._thread = threading.Thread(target=self._run, name=f"sink-{name}",
                                        daemon=True)
        self._thread.start()

    # called by the drawing thread
    def put(self, pixels, repeat: int = 1) -> None:
        if self.error is not None:
            self.close()  # raises the sink's error
        self._queue.put((pixels, repeat))

    def close(self) -> None:
        """Finish the file; re-raises what went wrong in the sink's thread."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self.error is not None:
            raise RuntimeError(f"encoding {self.name} failed: {self.error}") \
                from self.error

    def abort(self) -> None:
        """Stop without finishing (the pass failed or was interrupted)."""
        self._stop = True
        with contextlib.suppress(queue.Full):
            while True:  # make room for the end marker
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
            self._queue.put_nowait(None)
        self._thread.join(10)
        with contextlib.suppress(Exception):
            self.discard()

    # the sink's thread
    def _run(self) -> None:
        try:
            while (item := self._queue.get()) is not None:
                if self.error is None and not self._stop:
                    frame, repeat = item
                    if isinstance(frame, Frame):
                        self.current = frame
                        self.consume(frame.pixels, repeat)
                    else:
                        self.current = None
                        self.consume(frame, repeat)
            if not self._stop:
                self.finish()
        except BaseException as exc:  # reported to the drawing thread
            self.error = exc
            while self._queue.get() is not None:  # keep the producer unblocked
                pass

    def consume(self, pixels, repeat: int) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        raise NotImplementedError

    def discard(self) -> None:
        pass


class VideoSink(Sink):
    """One video file (mp4, webm, mov), encoded as frames arrive."""

    def __init__(self, path: Path, fmt: str, width: int, height: int,
                 fps: float, transparent: bool = False) -> None:
        import av

        self.path, self.frames = Path(path), 0
        container = {"mp4": "mp4", "mov": "mov", "webm": "webm"}[fmt]
        codec, pix, opts = CODECS[(fmt, transparent)]
        self._av, self._pix = av, pix
        self._container = av.open(str(path), "w", format=container,
                                  options=CONTAINER_OPTIONS)
        try:
            self._stream = self._container.add_stream(codec, rate=rate(fps),
                                                      options=dict(opts))
            self._stream.pix_fmt, self._stream.width, self._stream.height = \
                pix, width, height
            self._stream.codec_context.flags |= av.codec.context.Flags.bitexact
        except BaseException:
            self._container.close()
            raise
        super().__init__(self.path.name)

    def consume(self, pixels, repeat: int) -> None:
        shared = self.current or Frame(pixels)
        for _ in range(repeat):
            frame = shared.video_frame(self._pix)
            frame.pts = self.frames
            self._container.mux(self._stream.encode(frame))
            self.frames += 1

    def finish(self) -> None:
        self._container.mux(self._stream.encode())
        self._container.close()

    def discard(self) -> None:
        with contextlib.suppress(Exception):
            self._container.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)


class GifFramesSink(Sink):
    """A GIF's frames kept until its palette is known: every k-th frame of the
    pass (counting repeats) into a frame file (`transcode.FrameWriter`), its
    colours counted on the way (`.palette` once closed)."""

    def __init__(self, path: Path, width: int, height: int, fps: float,
                 every: int = 1) -> None:
        from .transcode import FrameWriter, PaletteStats

        self.path, self.every, self._seen = Path(path), every, 0
        self.stats = PaletteStats(width, height)
        self.palette = None
        self.writer = FrameWriter(self.path, width, height, rate(fps / every))
        super().__init__(self.path.name)

    @property
    def frames(self) -> int:
        return self.writer.frames

    def consume(self, pixels, repeat: int) -> None:
        import av

        for _ in range(repeat):
            if self._seen % self.every == 0:
                self.writer.add(pixels)
                if self.stats.wants_next():
                    self.stats.push(av.VideoFrame.from_ndarray(pixels, format="rgba"))
                else:
                    self.stats.skip(pixels)
            self._seen += 1

    def finish(self) -> None:
        self.writer.close()
        self.palette = self.stats.close()

    def discard(self) -> None:
        self.writer.discard()


class PosterSink(Sink):
    """Picks the videos' poster from the pass's frames (`posters.Picker`)."""

    def __init__(self, width: int, height: int) -> None:
        from .posters import Picker

        self.picker = Picker(width, height)
        super().__init__("poster")

    def consume(self, pixels, repeat: int) -> None:
        self.picker.push(pixels)  # a repeat scores the same: once is enough

    def finish(self) -> None:
        pass


_frame_hook = None  # called with the frames written so far (see `on_frame`)


@contextlib.contextmanager
def on_frame(hook):
    """Call `hook(frames_so_far)` after every frame a pass writes, meanwhile.

    The progress bar of `render` and the cancel check of a build's worker; a
    hook may raise to stop the pass (its files are discarded). One per process:
    a process draws one pass at a time.
    """
    global _frame_hook
    previous, _frame_hook = _frame_hook, hook
    try:
        yield
    finally:
        _frame_hook = previous


def feed_class(sinks: list[Sink]):
    """A manim SceneFileWriter class that sends every frame to `sinks`.

    It writes no partial movies, joins nothing and caches nothing; subcaptions
    are collected as manim does (the caller writes the .srt). Built on demand:
    importing manim costs a second.
    """
    from manim.scene.scene_file_writer import SceneFileWriter

    class FrameFeed(SceneFileWriter):
        def __init__(self, settings) -> None:
            super().__init__(settings)
            self.sinks = sinks
            self.frames = 0
            self.last = None  # the last frame's pixels (a draft's still)

        def add_partial_movie_file(self, hash_animation) -> None:
            self.partial_movie_files.append(None)

        def is_already_cached(self, hash_invocation: str) -> bool:
            return False

        def begin_animation(self, allow_write: bool = False, *, animation_index: int,
                            file_path=None) -> None:
            pass

        def end_animation(self, allow_write: bool = False) -> None:
            pass

        def write_frame(self, pixels, *, repeat: int = 1) -> None:
            shared = Frame(pixels)
            for sink in self.sinks:
                sink.put(shared, repeat)
            self.frames += repeat
            self.last = pixels
            if _frame_hook is not None:
                _frame_hook(self.frames)

        def finish(self) -> None:
            for sink in self.sinks:
                sink.close()

        def save_image(self, pixels) -> None:  # a pass with no play: no frames
            pass

    return FrameFeed
