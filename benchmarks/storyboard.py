"""`render --storyboard` against the scene's draft render, per built-in scene.

Both in one process with manim imported and the scene drawn once before (the
process-wide text caches warm, as in a `serve` worker), each timed as the
minimum of RUNS: the storyboard (a pass with animations skipped, painting
only its keyframes, composed into one PNG) and the draft render (428x240 at
10 fps, mp4 and its still, as `--draft` makes them). Target: storyboard <= 0.25
x the draft render, for every scene.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

RUNS = 3


def best(fn) -> float:
    times = []
    for _ in range(RUNS):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    import manim  # noqa: F401  (imported once, as in a worker)

    from neuroanim import lesson, pipeline, registry, storyboard

    work = Path(tempfile.mkdtemp(prefix="neuroanim-storyboard-bench-"))
    w, h = lesson.DRAFT_SIZE
    print(f"{'scene':<18} {'storyboard':>10} {'draft':>8} {'ratio':>7}  panels")
    worst = 0.0
    for name in ("training-loop", "loss-and-epochs", "gradient-descent", "and-gate",
                 "layers"):
        spec = registry.get(name)
        values = spec.resolve({})
        data = registry.prepare(spec, values)
        wants = [pipeline.Want("mp4", work / f"{name}.mp4", w, h, lesson.DRAFT_FPS),
                 pipeline.Want("png", work / f"{name}.png", w, h, lesson.DRAFT_FPS)]

        def draft(spec=spec, values=values, data=data, wants=wants):
            pipeline.make_outputs(spec, values, wants, theme="dark", budget=0,
                                  progress=False, data=data, draft=True)

        panels = []

        def board(spec=spec, values=values, data=data, name=name, panels=panels):
            _, n = storyboard.make(spec, values, data, work / f"{name}-board.png",
                                   w=w, h=h, theme="dark")
            panels.append(n)

        draft()  # warm: text caches, and the storyboard's remembered timeline
        board()
        sb, dr = best(board), best(draft)
        worst = max(worst, sb / dr)
        print(f"{name:<18} {sb:>9.2f}s {dr:>7.2f}s {sb / dr:>7.3f}  {panels[-1]}")
    print(f"worst ratio {worst:.3f} (target <= 0.25)")


if __name__ == "__main__":
    main()
