"""What each widget replays: runs recorded by the core at build time, as JSON.

A scene's card declares its twin (`SceneSpec.twin`), e.g. `NeuronTwin(explain)`:
which widget draws it (`kind`, a part of widget.js) and `model(values, data)`,
the recorded runs it offers with every number it shows already formatted here,
by the formatting the video's readouts use (`READOUTS`). Nothing is trained or
formatted in the browser; it draws the recorded states and looks strings up.
numpy only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import core
from ..core import mlp
from ..core.descent import plot_window
from ..wording import (
    fmt,
    nice_step,
    nice_top,
    pair,
    plain,
    readable,
    tick_text,
    tick_values,
)

# The readouts as the videos print them (gradient_descent_draw `_panel_rows`,
# and_gate_draw `_build_chart`, layers_draw's counter and outputs): one table,
# tested against the scenes' own readouts.
READOUTS: dict[str, dict[str, Callable[[float], str]]] = {
    "descent": {"step": lambda k: str(int(k)), "w": readable, "loss": readable,
                "lr": lambda v: plain(v, 3)},
    "neuron": {"epoch": lambda e: fmt(e, 0), "loss": lambda v: fmt(v, 4),
               "w1": lambda v: fmt(v, 2, sign=True), "w2": lambda v: fmt(v, 2, sign=True),
               "b": lambda v: fmt(v, 2, sign=True), "lr": lambda v: plain(v, 3)},
    "mlp": {"epoch": lambda e: fmt(e, 0), "loss": lambda v: fmt(v, 4),
            "output": lambda v: fmt(v, 2), "lr": lambda v: plain(v, 3)},
}
LO, HI = -0.25, 1.25  # the input square the and-gate and layers scenes show
FLAT = 0.02  # the and-gate scene's: |z| below this on screen reads as no boundary
DESCENT_RUNS = 24  # learning rates on the slider, from crawling to diverging
NEURON_LRS = (0.5, 2.0, 8.0)  # besides the figure's own
CURVE_POINTS = 241
NEURON_BYTES = 150  # JSON bytes of one recorded epoch of a neuron run, about
MLP_BYTES = 40  # ... of one number of a network's epoch
DATA_BUDGET = 230_000  # bytes of runs in one page: the page's code takes the rest
# Every word a widget shows, by widget (the JS has none of its own).
WORDS = {
    "common": {"play": "Play", "pause": "Pause", "reset": "Reset", "speed": "speed",
               "lr": "learning rate", "loss": "loss", "reproduce": "Reproduce:",
               "of": "of"},
    "descent": {"drop": "Drop the Ball", "step": "step", "w": "w",
                "diverged": "diverged", "off": "off the chart",
                "lowest": "lowest loss", "preset": "preset",
                "plot": "The loss curve with the ball at the current step, its "
                        "slope and its trail"},
    "neuron": {"train": "Train", "epoch": "epoch", "gate": "gate", "w1": "w1",
               "w2": "w2", "b": "b", "x1": "x1", "x2": "x2",
               "above": "no boundary in view: output above 0.5",
               "below": "no boundary in view: output below 0.5",
               "flat": "no boundary: output 0.50 everywhere",
               "target1": "target 1", "target0": "target 0",
               "heat": "The neuron's output over the input square, its boundary "
                       "(output 0.5) and the four examples",
               "chart": "The loss at every epoch so far (epoch axis logarithmic)"},
    "mlp": {"train": "Train", "epoch": "epoch", "x1": "x1", "x2": "x2",
            "input": "input", "target": "target", "output": "output",
            "out": "out",
            "diagram": "The network: inputs, hidden neurons and the output, each "
                       "connection coloured by its weight's sign, thicker when larger",
            "heat": "The network's output over the input square, each hidden "
                    "neuron's line (where it outputs 0.5) and the four examples",
            "chart": "The loss at every epoch so far (epoch axis logarithmic)"},
}


def words(kind: str) -> dict[str, str]:
    return {**WORDS["common"], **WORDS[kind]}


def ticks(lo: float, hi: float, target: int = 4) -> list[list]:
    """[value, label] of the axis ticks between lo and hi, labelled as the scenes do."""
    step = nice_step(hi - lo, target)
    return [[float(v), tick_text(v, step)] for v in tick_values(lo, hi, step)]


def loss_ticks(loss) -> list[list]:
    """Ticks of a loss axis from 0 to a nice top above the largest loss."""
    top, step = nice_top(float(np.max(loss)), 3)
    return [[float(v), tick_text(v, step)] for v in tick_values(0.0, top, step)]


def epoch_ticks(epochs: int) -> list[list]:
    """0, 1, 10, 100... up to `epochs` (a log10(1 + epoch) axis), and the last."""
    out = [0] + [10**i for i in range(int(math.log10(max(epochs, 1))) + 1)]
    out = [e for e in out if e <= epochs]
    return [[e, fmt(e, 0)] for e in out]


def _texts(kind: str, field: str, values) -> list[str]:
    f = READOUTS[kind][field]
    return [f(float(v)) for v in np.asarray(values).ravel()]


def _floats(values) -> list[float]:
    """Full precision: json writes the shortest text that reads back the same."""
    return [float(v) for v in np.asarray(values, dtype=float).ravel()]


def _sig(values, digits: int = 6) -> list[float]:
    """Drawing-only numbers (curve samples, slopes) at `digits` significant digits."""
    return [float(f"{float(v):.{digits}g}") for v in np.asarray(values).ravel()]


def frame_epochs(epochs: int, count: int) -> np.ndarray:
    """About `count` epochs of 0..epochs, dense early where the loss falls fastest:
    the videos' schedule e(t) = k ((1 + E/k)^t - 1), k = max(1, E/400); every
    epoch when there are no more than `count`."""
    if epochs + 1 <= count:
        return np.arange(epochs + 1)
    k = max(1.0, epochs / 400)
    t = np.linspace(0.0, 1.0, count)
    shown = np.unique(np.rint(k * ((1.0 + epochs / k) ** t - 1.0)).astype(int))
    return np.unique(np.clip(np.concatenate(([0], shown, [epochs])), 0, epochs))


# ------------------------------------------------------------------ descent
def lr_grid(ls: core.Landscape, keep: list[float], n: int = DESCENT_RUNS) -> list[float]:
    """`n` learning rates from crawling (0.01/a) to diverging (1.4/a), two
    significant digits each, with every preset's and every rate in `keep` in place
    of the grid value nearest it."""
    a = ls.curvature
    grid = [float(f"{v:.2g}") for v in np.geomspace(0.01 / a, 1.4 / a, n)]
    grid = sorted(set(grid))
    musts = sorted(set([core.preset_lr(ls, p) for p in core.PRESETS] + list(keep)))
    free = [g for g in grid if all(abs(math.log(g / m)) > 1e-9 for m in musts)]
    for m in musts:
        if len(free) + len(musts) <= n or not free:
            break
        free.remove(min(free, key=lambda g: abs(math.log(g / m))))
    return sorted(set(free) | set(musts))


@dataclass(frozen=True)
class DescentTwin:
    """Drop the Ball: the ball on the figure's landscape at many learning rates."""

    kind: str = "descent"

    def model(self, values: dict, data: Any, scale: float = 1.0) -> dict:
        ls = core.get_landscape(data.landscape)
        own = list(data.runs)
        runs = own
        if not values.get("trajectory"):  # files hold their own runs, nothing else
            steps, w0 = int(values["steps"]), values.get("w0")
            mine = {r.lr: r for r in own}
            lrs = lr_grid(ls, list(mine), max(len(mine), round(DESCENT_RUNS * scale)))
            runs = [mine.get(lr) or core.descend(ls, w0, lr, steps) for lr in lrs]
        presets = {core.preset_lr(ls, p): p for p in core.PRESETS}
        window = plot_window(
            ls, own + [r for r in runs if not r.diverged])
        ws = np.linspace(window[0], window[1], CURVE_POINTS)
        first = core.preset_lr(ls, "good") if not values.get("trajectory") and \
            "good" in data.presets else own[0].lr  # the lesson drops the good ball
        start = min(range(len(runs)), key=lambda i: abs(runs[i].lr - first))
        return {
            "landscape": ls.name, "formula": ls.formula, "w_min": float(ls.w_min),
            "window": [float(v) for v in window], "words": words("descent"),
            "ticks": {"w": ticks(window[0], window[1], 6),
                      "loss": ticks(window[2], window[3], 4)},
            "curve": {"w": _sig(ws), "loss": _sig(ls.loss(ws))},
            "start": start,
            "runs": [self._run(r, presets.get(r.lr)) for r in runs],
        }

    @staticmethod
    def _run(r: core.Descent, preset: str | None) -> dict:
        return {
            "lr": float(r.lr), "lr_text": READOUTS["descent"]["lr"](r.lr),
            "preset": preset, "status": r.status, "verdict": r.verdict(),
            "steps": r.n_steps, "stopped": bool(r.stopped),
            "command": (f"neuroanim train descent --landscape {r.landscape} "
                        f"--w0 {r.w0!r} --steps {r.steps} --lr {r.lr!r}"),
            "w": _floats(r.w), "loss": _floats(r.loss), "grad": _sig(r.grad),
            "w_text": _texts("descent", "w", r.w),
            "loss_text": _texts("descent", "loss", r.loss),
        }


# ------------------------------------------------------------------- neuron
def _segment(w, b, flat: float = FLAT) -> list[float] | str:
    """Where output 0.5 crosses the square, or why it does not (as the scene says)."""
    seg = core.boundary_segment(w, b, LO, HI, flat=flat)
    if seg is not None:
        return [round(float(v), 4) for p in seg for v in p]
    if core.boundary_flat(w, b, LO, HI, flat=flat):
        return "flat"
    z = float(np.sum(w)) * (LO + HI) / 2 + float(b)
    return "above" if z > 0 else "below"


@dataclass(frozen=True)
class NeuronTwin:
    """The AND-gate trainer: every gate at a few learning rates, the figure's seed
    and epochs; `explain` is the card's ending (headline, lines) from a run."""

    explain: Callable[[Any], tuple[str, list[str]]]
    kind: str = "neuron"

    def model(self, values: dict, data: Any, scale: float = 1.0) -> dict:
        own = data.run
        runs = [own]
        if not values.get("trajectory"):
            lrs = sorted({*NEURON_LRS, float(own.lr)})
            runs = [own if (g, lr) == (own.gate, own.lr) else core.train_neuron(
                        g, lr=lr, epochs=own.epochs, seed=own.seed, mode=own.mode)
                    for g in core.GATES for lr in lrs]
        count = int(scale * DATA_BUDGET / (NEURON_BYTES * len(runs)))
        shown = frame_epochs(own.epochs, max(count, 8))
        return {"lo": LO, "hi": HI, "epochs": own.epochs, "words": words("neuron"),
                "epoch_ticks": epoch_ticks(own.epochs), "gates": list(core.GATES),
                "start": runs.index(own),
                "runs": [self._run(r, shown) for r in runs]}

    def _run(self, r: core.NeuronRun, shown: np.ndarray) -> dict:
        head, lines = self.explain(r)
        w, b = r.w[shown], r.b[shown]
        f = READOUTS["neuron"]
        return {
            "gate": r.gate, "lr": float(r.lr), "lr_text": f["lr"](r.lr),
            "status": r.status, "learned": bool(r.status == "learned"),
            "command": (f"neuroanim train neuron --gate {r.gate} --lr {r.lr!r} "
                        f"--epochs {r.epochs} --seed {r.seed} --mode {r.mode}"),
            "inputs": _floats(r.inputs), "targets": _floats(r.targets),
            "head": head, "lines": list(lines),
            "epoch": [int(e) for e in shown],
            "epoch_text": _texts("neuron", "epoch", shown),
            "w1": _floats(w[:, 0]), "w2": _floats(w[:, 1]), "b": _floats(b),
            "loss": _floats(r.loss[shown]),
            "w1_text": _texts("neuron", "w1", w[:, 0]),
            "w2_text": _texts("neuron", "w2", w[:, 1]),
            "b_text": _texts("neuron", "b", b),
            "loss_text": _texts("neuron", "loss", r.loss[shown]),
            "loss_ticks": loss_ticks(r.loss),
            "boundary": [_segment(w[i], b[i]) for i in range(len(shown))],
        }


# ---------------------------------------------------------------------- mlp
@dataclass(frozen=True)
class MLPTwin:
    """The layers widget: the figure's own network run, epoch by epoch."""

    explain: Callable[[Any], tuple[str, list[str]]]
    kind: str = "mlp"

    def model(self, values: dict, data: Any, scale: float = 1.0) -> dict:
        r: mlp.MLPRun = data.run
        h = r.hidden_size
        per_epoch = 4 * h + 2 + 8  # weights, biases, loss, outputs (number and text)
        shown = frame_epochs(r.epochs, max(8, int(scale * DATA_BUDGET
                                                 / (MLP_BYTES * per_epoch))))
        f = READOUTS["mlp"]
        head, lines = self.explain(r)
        hidden_lines = [[_segment(r.w1[e, j], r.b1[e, j], 0.0) for j in range(h)]
                        for e in shown]
        return {
            "lo": LO, "hi": HI, "epochs": r.epochs, "hidden": h, "words": words("mlp"),
            "epoch_ticks": epoch_ticks(r.epochs), "loss_ticks": loss_ticks(r.loss),
            "input_names": [pair(x, plain) for x in r.inputs],
            "gate": r.gate, "lr": float(r.lr), "lr_text": f["lr"](r.lr),
            "seed": r.seed, "learned": bool(r.learned),
            "command": (f"neuroanim train mlp --gate {r.gate} --hidden {h} "
                        f"--lr {r.lr!r} --epochs {r.epochs} --seed {r.seed} "
                        f"--mode {r.mode}"),
            "inputs": _floats(r.inputs), "targets": _floats(r.targets),
            "head": head, "lines": list(lines),
            "epoch": [int(e) for e in shown],
            "epoch_text": _texts("mlp", "epoch", shown),
            "loss": _floats(r.loss[shown]),
            "loss_text": _texts("mlp", "loss", r.loss[shown]),
            "w1": [_floats(r.w1[e]) for e in shown],  # (F, H*2): neuron j: 2j, 2j+1
            "b1": [_floats(r.b1[e]) for e in shown],
            "w2": [_floats(r.w2[e]) for e in shown],
            "b2": _floats(r.b2[shown]),
            "outputs": [_floats(r.predictions[e]) for e in shown],
            "outputs_text": [_texts("mlp", "output", r.predictions[e]) for e in shown],
            "hidden_lines": hidden_lines,
        }
