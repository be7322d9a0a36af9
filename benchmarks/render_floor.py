"""Benchmark: every built-in scene at quality l against the encode floor of its frames.

For each scene, in this one process:
  render   `neuroanim.pipeline.make(scene)` to mp4 at quality l (854x480 @ 15),
           wall clock, the scene's default options
  floor    PyAV encoding the same number of ready frames of that size (the
           frames of the render's own video, decoded beforehand) with the same
           encoder settings neuroanim uses (libx264, yuv420p, crf 23, 1 thread)
  ratio    render / floor  (target: at most 2.5 for every scene)
Then one figure with formats mp4 + webm + gif against the same figure with mp4
alone (target: at most 1.4x), drawn at 20 fps so the GIF shares the pass.

    python benchmarks/render_floor.py [--runs 1] [--scenes a,b]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

TARGET = 2.5
TARGET_SHARED = 1.4


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgba") for f in c.decode(video=0)]


def floor(frames: list[np.ndarray], path: Path, fps: float) -> float:
    """Seconds PyAV takes to encode `frames` ready in memory, as neuroanim encodes."""
    from neuroanim import encode

    h, w = frames[0].shape[:2]
    t = time.perf_counter()
    c = av.open(str(path), "w", options=encode.CONTAINER_OPTIONS)
    s = c.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000),
                     options=encode.codec_options("mp4"))
    s.pix_fmt, s.width, s.height = "yuv420p", w, h
    for f in frames:
        c.mux(s.encode(av.VideoFrame.from_ndarray(f, format="rgba")))
    c.mux(s.encode())
    c.close()
    return time.perf_counter() - t


def time_make(scene: str, out: Path, formats: tuple[str, ...], **kw) -> tuple[float, list]:
    from neuroanim import pipeline

    t = time.perf_counter()
    done = pipeline.make_all(scene, {}, formats=formats, out_dir=out, **kw)
    return time.perf_counter() - t, done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1, help="timed runs (median)")
    ap.add_argument("--scenes", default="", help="comma-separated scene names")
    args = ap.parse_args()
    import manim  # noqa: F401  (imported once, outside every timing)

    from neuroanim import registry

    names = [s for s in args.scenes.split(",") if s] or \
        [n for n in registry.scenes() if registry.get(n).source == "built-in"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for name in names:
            walls = [time_make(name, out / f"{name}-{i}", ("mp4",))[0]
                     for i in range(args.runs)]
            path = next((out / f"{name}-0").glob("*.mp4"))
            frames = decoded(path)
            fl = statistics.median(floor(frames, out / "floor.mp4", 15)
                                   for _ in range(args.runs))
            rows.append((name, len(frames), statistics.median(walls), fl))
            del frames
        print(f"every built-in scene at quality l (854x480 @ 15 fps), median of "
              f"{args.runs} run(s)")
        print(f"  {'scene':<18} {'frames':>6} {'render s':>9} {'floor s':>8} "
              f"{'ratio':>6}")
        for name, n, wall, fl in rows:
            ok = "met" if wall / fl <= TARGET else "MISSED"
            print(f"  {name:<18} {n:>6} {wall:9.2f} {fl:8.2f} {wall / fl:6.2f}  "
                  f"(target <= {TARGET}: {ok})")

        scene = "and-gate"
        # alternating, so a busy spell of the machine hits both alike
        ones, threes = [], []
        for i in range(args.runs):
            ones.append(time_make(scene, out / f"one-{i}", ("mp4",), fps=20)[0])
            threes.append(time_make(scene, out / f"three-{i}", ("mp4", "webm", "gif"),
                                    fps=20)[0])
        one, three = statistics.median(ones), statistics.median(threes)
        ok = "met" if three / one <= TARGET_SHARED else "MISSED"
        print(f"{scene} at 20 fps: mp4 alone {one:.2f} s, mp4 + webm + gif "
              f"{three:.2f} s: {three / one:.2f}x (target <= {TARGET_SHARED}: {ok})")


if __name__ == "__main__":
    main()
