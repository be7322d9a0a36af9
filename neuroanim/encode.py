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
from fractions import Fraction
from pathlib import Path

from .sink import Frame, Sink

CONTAINER_OPTIONS = {"fflags": "+bitexact"}  # no random IDs, no version strings
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


def feed_class(sinks: list[Sink], later: tuple[Sink, ...] = ()):
    """A manim SceneFileWriter class that sends every frame to `sinks`.

    It writes no partial movies, joins nothing and caches nothing; subcaptions
    are collected as manim does (the caller writes the .srt). When the scene
    ends, every sink is told so at once and waited for, but those in `later`
    (the caller closes them: a video's encoder still draining its lookahead
    while the GIF post pass runs). Built on demand: importing manim costs a
    second.
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
            for sink in self.sinks:  # all finish their files at once
                sink.end()
            for sink in self.sinks:
                if sink not in later:
                    sink.close()

        def save_image(self, pixels) -> None:  # a pass with no play: no frames
            pass

    return FrameFeed
