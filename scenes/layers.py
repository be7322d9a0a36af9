"""Card of the layers scene: two layers of neurons learn a gate one neuron cannot.

Chapter 3's preview: 2 inputs, H hidden sigmoid neurons, one output, trained on
XOR by backpropagation. What it replays (`LayersData`), how it is prepared and
described, the bent boundary of the output (`contour_segments`) and the words
of the ending, all from the recorded numbers; the drawing is `layers_draw.py`.
No manim here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neuroanim import core
from neuroanim.alt import num, trend
from neuroanim.core import mlp
from neuroanim.options import MLP_FILE_DECIDES, mlp_params, mlp_run
from neuroanim.spec import SceneSpec
from neuroanim.wording import fmt

LO, HI = -0.25, 1.25  # the input square on screen, as the and-gate scene's
INPUT_NAMES = ("(0, 0)", "(0, 1)", "(1, 0)", "(1, 1)")
# truth tables of one neuron's possible firing patterns, to name them
PATTERNS = {(0, 0, 0, 1): "AND", (0, 1, 1, 1): "OR", (1, 1, 1, 0): "NAND",
            (1, 0, 0, 0): "NOR", (0, 1, 1, 0): "XOR", (1, 0, 0, 1): "XNOR",
            (0, 0, 1, 1): "x1", (0, 1, 0, 1): "x2", (1, 1, 0, 0): "not x1",
            (1, 0, 1, 0): "not x2", (0, 0, 1, 0): "x1 and not x2",
            (0, 1, 0, 0): "x2 and not x1", (1, 1, 0, 1): "x2 or not x1",
            (1, 0, 1, 1): "x1 or not x2", (0, 0, 0, 0): "never",
            (1, 1, 1, 1): "always"}


@dataclass(frozen=True)
class LayersData:
    """The network run the scene replays (every epoch: weights, loss, outputs)."""

    run: mlp.MLPRun


def prepare(values: dict) -> LayersData:
    return LayersData(mlp_run(values))


def output_grid(run: mlp.MLPRun, epoch: int, resolution: int) -> np.ndarray:
    """(R, R) network outputs at the cell centres of [LO, HI]^2, x2 = HI on top."""
    c = (HI - LO) / resolution
    g = np.linspace(LO + c / 2, HI - c / 2, resolution)
    x1, x2 = np.meshgrid(g, g[::-1])
    pts = np.column_stack([x1.ravel(), x2.ravel()])
    _, p = mlp.forward(*run.state(epoch), pts)
    return p.reshape(resolution, resolution)


def contour_segments(grid: np.ndarray, level: float = 0.5, lo: float = LO,
                     hi: float = HI) -> list[tuple[tuple[float, float], ...]]:
    """Pieces of the curve output = `level` over the square, by marching squares.

    `grid` (R, R) holds values at cell centres, row 0 at the top (x2 = hi). Each
    cell of four neighbouring centres the curve crosses gives one straight piece
    between the crossing points on its edges, found by linear interpolation;
    saddle cells take the pairing their centre's mean suggests. Pieces are
    ((x1, x2), (x1, x2)) in input coordinates.
    """
    r = grid.shape[0]
    c = (hi - lo) / r
    xs = lo + c / 2 + c * np.arange(r)  # column centres, left to right
    ys = hi - c / 2 - c * np.arange(r)  # row centres, top to bottom
    above = grid > level
    out = []

    def cross(p, q, vp, vq):
        t = (level - vp) / (vq - vp)
        return (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))

    count = (above[:-1, :-1].astype(int) + above[:-1, 1:] + above[1:, 1:]
             + above[1:, :-1])  # corners above the level, per cell
    for i, j in zip(*np.nonzero((count > 0) & (count < 4)), strict=True):  # cells it crosses
        corners = [(i, j), (i, j + 1), (i + 1, j + 1), (i + 1, j)]  # tl tr br bl
        flags = [above[a, b] for a, b in corners]
        pts = [(xs[b], ys[a]) for a, b in corners]
        vals = [grid[a, b] for a, b in corners]
        hits = []
        for k in range(4):
            m = (k + 1) % 4
            if flags[k] != flags[m]:
                hits.append(cross(pts[k], pts[m], vals[k], vals[m]))
        if len(hits) == 2:
            out.append((hits[0], hits[1]))
        elif len(hits) == 4:  # a saddle: pair by the centre's side
            centre = float(np.mean(vals)) > level
            if centre == flags[0]:
                out += [(hits[0], hits[1]), (hits[2], hits[3])]
            else:
                out += [(hits[3], hits[0]), (hits[1], hits[2])]
    return out


def fires(run: mlp.MLPRun, epoch: int = -1) -> np.ndarray:
    """(H, 4) bool: hidden neuron j's output over 0.5 on input n."""
    return run.hidden[epoch].T > 0.5


def pattern_name(on) -> str:
    return PATTERNS[tuple(int(v) for v in on)]


def _inputs_text(on) -> str:
    names = [INPUT_NAMES[n] for n in range(4) if on[n]]
    if not names:
        return "no input"
    return ", ".join(names) + (" only" if len(names) == 1 else "")


def _combination(run: mlp.MLPRun) -> str:
    """When the output says yes, in terms of which hidden neurons fire."""
    on = fires(run)
    yes = run.predictions[-1] > 0.5
    seen: dict[tuple, bool] = {}
    for n in range(4):
        seen.setdefault(tuple(bool(v) for v in on[:, n]), bool(yes[n]))
    pats = [p for p, v in seen.items() if v]
    if not pats:
        return "The output says no to every input."
    if len(pats) == len(seen):
        return "The output says yes to every input."
    h = run.hidden_size
    if h > 3:  # too many neurons to name: say which inputs get a yes
        said = [INPUT_NAMES[n] for n in range(4) if yes[n]]
        return f"Combining all {h}, the output says yes for " + ", ".join(said) + "."

    def words(p):
        firing = [f"h{j + 1}" for j in range(h) if p[j]]
        quiet = [f"h{j + 1}" for j in range(h) if not p[j]]
        if not firing:
            return "neither fires" if h == 2 else "none fires"
        if len(firing) == 1:
            text = f"{firing[0]} fires"
        else:
            text = " and ".join(firing) + " fire"
        if quiet and h <= 3:
            text += " but not " + " or ".join(quiet)
        return text

    parts = [words(p) for p in pats]
    if len(parts) == 2 and h == 2 and all("but not" in t for t in parts):
        return "The output says yes when exactly one of h1, h2 fires."
    return "The output says yes when " + ", or ".join(parts) + "."


def explain(run: mlp.MLPRun) -> tuple[str, list[str]]:
    """The ending's headline and lines, derived from the final numbers only.

    Which inputs each hidden neuron fires for (naming the gate when its firing
    pattern is AND, OR, NAND or NOR), and when the output says yes in terms of
    them. Not learned: say so, whether the loss stalled, and what to try.
    """
    right = int(run.right.sum())
    head = (f"{run.gate} learned: {right} of 4 right" if run.learned
            else f"{run.gate} not learned: {right} of 4 right")
    lines = []
    on = fires(run)
    shown = run.hidden_size if run.hidden_size <= 3 else 2
    for j in range(shown):
        name = pattern_name(on[j])
        if name == "never":
            lines.append(f"h{j + 1} never fires")
            continue
        like = f" (like {name})" if name in ("AND", "OR", "NAND", "NOR") else ""
        lines.append(f"h{j + 1} fires for {_inputs_text(on[j])}{like}")
    if run.hidden_size > shown:
        lines.append(f"... and {run.hidden_size - shown} more hidden neurons")
    lines.append(_combination(run))
    if not run.learned:
        tail = run.loss[len(run.loss) // 2:]
        if tail.max() - tail.min() < 0.01:
            lines.append(f"Stuck: the loss stalls near {fmt(run.loss[-1], 3)}; "
                         "try another seed.")
        else:
            lines.append(f"Still falling ({fmt(run.loss[-1], 3)}): try more epochs.")
    return head, lines


def alt(data: LayersData) -> str:
    run = data.run
    right = int(run.right.sum())
    if run.learned:
        verdict = (f"it learned {run.gate}, {right} of 4 right: the hidden neurons "
                   "each draw a straight line and the output combines them")
    else:
        verdict = f"it has not learned {run.gate}: {right} of 4 right"
    outs = ", ".join(f"{fmt(p, 2)} for {n}" for p, n in
                     zip(run.predictions[-1], INPUT_NAMES, strict=True))
    return (f"A network of {run.hidden_size} hidden neurons and one output learning "
            f"{run.gate} (learning rate {num(run.lr)}, seed {run.seed}): after "
            f"{run.epochs} epochs the loss {trend(run.loss[0], run.loss[-1])}; "
            f"outputs {outs}: {verdict}.")


def single_neuron_fails(gate: str) -> bool:
    """No single straight line separates the gate's 1s from its 0s."""
    _, y = core.gate_data(gate)
    return not core.separable(y)


SCENE = SceneSpec(
    name="layers",
    description="Two layers of neurons learn XOR: each hidden neuron draws a line, "
                "the output combines them.",
    params=tuple(mlp_params()),
    prepare=prepare,
    draw="layers_draw:Layers",
    alt=alt,
    file_decides=MLP_FILE_DECIDES,
)
