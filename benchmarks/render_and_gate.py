"""Benchmark: the and-gate scene at 854x480@15 against an encode-only floor and matplotlib.

Three timings, each in this one process, medians over `--runs`:
  neuroanim   `neuroanim.render.render("and-gate")` to mp4 (manim, Cairo, libx264)
  floor       PyAV encoding the same number of ready-made frames of the same size
              (the frames of neuroanim's own video, decoded beforehand) with
              manim's settings: libx264, yuv420p, crf 23
  matplotlib  a FuncAnimation of the same heatmap, markers, boundary, loss line,
              dot, counter and readouts, the same size, fps and frame count, each
              frame drawn by Agg and encoded by the same PyAV/libx264 settings
Targets: neuroanim under 2.5x the floor, and at least 4x faster than matplotlib.

Run: .venv/bin/python benchmarks/render_and_gate.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

W, H, FPS = 854, 480, 15
ENCODER = {"codec": "libx264", "pix_fmt": "yuv420p", "options": {"crf": "23"}}


class Encoder:
    """mp4 through PyAV with manim's video settings."""

    def __init__(self, path: Path, width: int = W, height: int = H, fps: int = FPS):
        self.c = av.open(str(path), "w")
        self.s = self.c.add_stream(ENCODER["codec"], rate=Fraction(fps),
                                   options=ENCODER["options"])
        self.s.pix_fmt, self.s.width, self.s.height = ENCODER["pix_fmt"], width, height

    def write(self, rgba: np.ndarray) -> None:
        for pkt in self.s.encode(av.VideoFrame.from_ndarray(rgba, format="rgba")):
            self.c.mux(pkt)

    def close(self) -> None:
        for pkt in self.s.encode():
            self.c.mux(pkt)
        self.c.close()


def time_neuroanim(out_dir: Path) -> tuple[float, int, Path]:
    from neuroanim.render import render

    t = time.perf_counter()
    res = render("and-gate", {}, fmt="mp4", resolution=f"{W}x{H}", fps=FPS,
                 out=out_dir / "and-gate.mp4")
    return time.perf_counter() - t, res.frames, res.path


def decoded_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgba") for f in c.decode(video=0)]


def time_floor(frames: list[np.ndarray], out_dir: Path) -> float:
    t = time.perf_counter()
    enc = Encoder(out_dir / "floor.mp4")
    for f in frames:
        enc.write(f)
    enc.close()
    return time.perf_counter() - t


def time_matplotlib(n_frames: int, out_dir: Path) -> float:
    """The same animation as a course author would write it with FuncAnimation."""
    import logging

    import matplotlib

    matplotlib.use("Agg")
    logging.getLogger("matplotlib.animation").setLevel(logging.WARNING)
    import matplotlib.pyplot as plt
    from matplotlib.animation import AbstractMovieWriter, FuncAnimation
    from neuroanim.scenes import and_gate_draw as ag

    from neuroanim import core, theme

    class PyAVWriter(AbstractMovieWriter):
        """Grab each drawn Agg frame and encode it like manim does (no ffmpeg here)."""

        def setup(self, fig, outfile, dpi=None):
            super().setup(fig, outfile, dpi)
            self.enc = Encoder(Path(outfile))

        def grab_frame(self, **savefig_kwargs):
            self.fig.canvas.draw()
            self.enc.write(np.asarray(self.fig.canvas.buffer_rgba()))

        def finish(self):
            self.enc.close()

    th = theme.DARK
    run = core.train_neuron("AND")
    t0 = time.perf_counter()
    epochs = np.rint(ag.epoch_at(np.linspace(0, 1, n_frames), run.epochs)).astype(int)
    lut = ag.heat_lut(th.heat)
    shown = np.unique(epochs)
    grids = ag.heat_frames(run.w[shown], run.b[shown], 64, lut)
    index = {int(e): i for i, e in enumerate(shown)}

    plt.rcParams.update({"font.family": "DejaVu Sans", "text.color": th.text,
                         "axes.labelcolor": th.muted, "xtick.color": th.axis,
                         "ytick.color": th.axis, "axes.edgecolor": th.axis})
    fig = plt.figure(figsize=(W / 100, H / 100), dpi=100, facecolor=th.background)
    ax = fig.add_axes((0.3, 0.18, 0.3, 0.54), facecolor=th.background)
    img = ax.imshow(grids[0], extent=(ag.LO, ag.HI, ag.LO, ag.HI),
                    interpolation="nearest")
    for (x1, x2), t in zip(run.inputs, run.targets, strict=True):
        ax.scatter([x1], [x2], s=120, marker="s" if t else "o", zorder=3,
                   c=th.target_one if t else th.target_zero, edgecolors=th.text)
    (line,) = ax.plot([], [], color=th.text, lw=2)
    ax.set(xlabel="x1", ylabel="x2", xticks=[0, 1], yticks=[0, 1])
    counter = ax.set_title("", color=th.text, loc="left")
    lx = fig.add_axes((0.65, 0.5, 0.32, 0.38), facecolor=th.background)
    u = np.log10(1 + np.arange(run.epochs + 1))
    (curve,) = lx.plot([], [], color=th.curve)
    (dot,) = lx.plot([], [], "o", color=th.accent)
    lx.set(xlim=(0, u[-1]), ylim=(0, 0.3), xlabel="epoch (log scale)", ylabel="loss",
           xticks=np.log10([1, 2, 11, 101, 1001]),
           xticklabels=["0", "1", "10", "100", "1000"])
    readout = fig.text(0.65, 0.3, "", color=th.text, fontsize=11)
    table = [fig.text(0.04, 0.8 - 0.06 * i, "", color=th.text, fontsize=11)
             for i in range(4)]
    fig.text(0.03, 0.93, "A neuron learns AND", fontsize=18, color=th.text)

    def update(k: int):
        e = int(epochs[k])
        img.set_data(grids[index[e]])
        seg = core.boundary_segment(run.w[e], run.b[e], ag.LO, ag.HI, flat=ag.FLAT)
        line.set_data(*(np.array(seg).T if seg else ([], [])))
        curve.set_data(u[:e + 1], run.loss[:e + 1])
        dot.set_data([u[e]], [run.loss[e]])
        counter.set_text(f"epoch {e} / {run.epochs}")
        readout.set_text(f"loss {run.loss[e]:.4f}   w1 {run.w[e, 0]:+.2f}   "
                         f"w2 {run.w[e, 1]:+.2f}   b {run.b[e]:+.2f}")
        for i, txt in enumerate(table):
            x1, x2 = run.inputs[i]
            txt.set_text(f"{x1:g}  {x2:g}  {run.targets[i]:g}  {run.predictions[e, i]:.2f}")
        return img, line, curve, dot, counter, readout, *table

    anim = FuncAnimation(fig, update, frames=n_frames, blit=False)
    anim.save(str(out_dir / "matplotlib.mp4"), writer=PyAVWriter(fps=FPS))
    elapsed = time.perf_counter() - t0
    plt.close(fig)
    with av.open(str(out_dir / "matplotlib.mp4")) as c:
        got = sum(1 for _ in c.decode(video=0))
    if got != n_frames:
        sys.exit(f"matplotlib wrote {got} frames, expected {n_frames}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="timed runs of each path")
    args = ap.parse_args()
    import manim  # noqa: F401  (imported once, outside every timing)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        runs = [time_neuroanim(out) for _ in range(args.runs)]
        walls = [r[0] for r in runs]
        n = runs[0][1]
        frames = decoded_frames(runs[0][2])
        if len(frames) != n:
            sys.exit(f"decoded {len(frames)} frames, render reported {n}")
        floor = statistics.median(time_floor(frames, out) for _ in range(args.runs))
        mpl = statistics.median(time_matplotlib(n, out) for _ in range(args.runs))

    wall = statistics.median(walls)
    print(f"and-gate {W}x{H} @ {FPS} fps, {n} frames ({n / FPS:.1f} s of video), "
          f"median of {args.runs} runs")
    print(f"  neuroanim   {wall:6.2f} s  ({n / wall:5.1f} frames/s; runs "
          + ", ".join(f"{w:.2f}" for w in walls) + " s, the first with cold caches)")
    print(f"  floor       {floor:6.2f} s  ({n / floor:5.1f} frames/s) PyAV libx264 "
          "encode of the same frames")
    print(f"  matplotlib  {mpl:6.2f} s  ({n / mpl:5.1f} frames/s) FuncAnimation, Agg")
    ratio, speedup = wall / floor, mpl / wall
    print(f"  neuroanim / floor      = {ratio:4.2f}  (target < 2.5: "
          f"{'met' if ratio < 2.5 else 'MISSED'})")
    print(f"  matplotlib / neuroanim = {speedup:4.2f}  (target >= 4: "
          f"{'met' if speedup >= 4 else 'MISSED'})")


if __name__ == "__main__":
    main()
