"""A frame consumer in a thread of its own (`Sink`), and the frame a pass hands
every sink (`Frame`). Below `encode` (the pass's encoders) and `transcode`
(the GIF post pass's encoder thread)."""

from __future__ import annotations

import contextlib
import queue
import threading

QUEUE_FRAMES = 8  # per sink: ~13 MB at 854x480; drawing waits when a sink lags
ABORT_WAIT = 10.0  # seconds `Sink.abort` waits for a sink thread to stop


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
        import numpy as np

        if pix_fmt not in self.SHARED:
            return av.VideoFrame.from_ndarray(self.pixels, format="rgba")
        with self._lock:
            planes = self._planes.get(pix_fmt)
            if planes is None:
                pixels = self.pixels if self.pixels.flags.c_contiguous \
                    else np.ascontiguousarray(self.pixels)
                rgba = av.VideoFrame.from_numpy_buffer(pixels, format="rgba")
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
        self._ended = False
        self._thread = threading.Thread(target=self._run, name=f"sink-{name}",
                                        daemon=True)
        self._thread.start()

    # called by the drawing thread
    def put(self, pixels, repeat: int = 1) -> None:
        if self.error is not None:
            self.close()  # raises the sink's error
        self._queue.put((pixels, repeat))

    def end(self) -> None:
        """No more frames: the sink finishes its file in its own thread while
        the caller goes on (`close` waits for it)."""
        if not self._ended and self._thread.is_alive():
            self._queue.put(None)
            self._ended = True

    def close(self) -> None:
        """Finish the file; re-raises what went wrong in the sink's thread."""
        self.end()
        self._thread.join()
        if self.error is not None:
            raise RuntimeError(f"encoding {self.name} failed: {self.error}") \
                from self.error

    def abort(self) -> None:
        """Stop without finishing (the pass failed or was interrupted)."""
        self._stop = True
        self._ended = True
        with contextlib.suppress(queue.Full):
            while True:  # make room for the end marker
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
            self._queue.put_nowait(None)
        self._thread.join(ABORT_WAIT)
        if self._thread.is_alive():  # still finishing its file: two threads must
            return  # not close one container (it lies in a scratch folder anyway)
        with contextlib.suppress(Exception):
            self.discard()

    # the sink's thread
    def _run(self) -> None:
        ended = False  # the end marker came (a failing `finish` waits for no other)
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
            ended = True
            if not self._stop:
                self.finish()
        except BaseException as exc:  # reported to the drawing thread
            self.error = exc
            while not ended and self._queue.get() is not None:  # keep the
                pass  # producer unblocked until it ends

    def consume(self, pixels, repeat: int) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        raise NotImplementedError

    def discard(self) -> None:
        pass
