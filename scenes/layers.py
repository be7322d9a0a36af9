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
from neuroanim.interactive.twins import MLPTwin
from neuroanim.options import MLP_FILE_DECIDES, mlp_params, mlp_run
from neuroanim.spec import SceneSpec
from neuroanim.wording import Strings, fmt, language, pair, plain

LO, HI = -0.25, 1.25  # the input square on screen, as the and-gate scene's
INPUT_NAMES = ("(0, 0)", "(0, 1)", "(1, 0)", "(1, 1)")  # in English; `input_names()`
INPUTS = ((0, 0), (0, 1), (1, 0), (1, 1))

WORDS = Strings({
    # on screen: the title, the diagram, its key and the output's panel
    "title.learn": "Two layers learn {gate}",
    "title.try": "Two layers try to learn {gate}",
    "layer.inputs": "inputs",
    "layer.hidden": "hidden",
    "layer.output": "output",
    "node.output": "out",
    "key.positive": "weight > 0: towards yes",
    "key.negative": "weight < 0: towards no",
    "key.width": "thicker: larger weight",
    "panel.title": "the output over all inputs",
    "chart.epoch": "epoch (log scale)",
    "chart.loss": "loss",
    "readout.epoch": "epoch",
    "table.input": "input",
    "table.target": "target",
    "table.output": "output",
    # captions (the last one is the ending's headline)
    "caption.network": "Two inputs, {hidden} hidden neurons, one output: a network "
                       "learning {gate}",
    "caption.lines": "Each hidden neuron draws one straight line; the output combines "
                     "them",
    "caption.training": "Training: every weight, picture and output, epoch by epoch",
    # the ending, from the final numbers (`explain`)
    "ending.learned": "{gate} learned: {right} of 4 right",
    "ending.not_learned": "{gate} not learned: {right} of 4 right",
    "ending.never": "{neuron} never fires",
    "ending.fires": "{neuron} fires for {inputs}",
    "ending.fires_only": "{neuron} fires for {input} only",
    "ending.like": "{line} (like {gate})",
    "ending.no_input": "{neuron} fires for no input",
    "ending.more": "... and {count} more hidden neurons",
    "ending.all_no": "The output says no to every input.",
    "ending.all_yes": "The output says yes to every input.",
    "ending.many": "Combining all {hidden}, the output says yes for {inputs}.",
    "ending.exactly_one": "The output says yes when exactly one of h1, h2 fires.",
    "ending.yes_when": "The output says yes when {conditions}.",
    "fire.neither": "neither fires",
    "fire.none": "none fires",
    "fire.one": "{neuron} fires",
    "fire.several": "{neurons} fire",
    "fire.but_not": "{firing} but not {quiet}",
    "join.and": "{first} and {second}",
    "join.or": "{first} or {second}",
    "join.or_else": "{first}, or {second}",
    "ending.stuck": "Stuck: the loss stalls near {loss}; try another seed.",
    "ending.falling": "Still falling ({loss}): try more epochs.",
    # alt text
    "alt": "A network of {hidden} hidden neurons and one output learning {gate} "
           "(learning rate {lr}, seed {seed}): after {epochs} epochs the loss "
           "{trend}; outputs {outputs}: {verdict}.",
    "alt.output": "{value} for {input}",
    "alt.learned": "it learned {gate}, {right} of 4 right: the hidden neurons each "
                   "draw a straight line and the output combines them",
    "alt.not_learned": "it has not learned {gate}: {right} of 4 right",
}, de={
    "title.learn": "Zwei Schichten lernen {gate}",
    "title.try": "Zwei Schichten versuchen, {gate} zu lernen",
    "layer.inputs": "Eingaben",
    "layer.hidden": "verdeckt",
    "layer.output": "Ausgabe",
    "node.output": "y",
    "key.positive": "Gewicht > 0: Richtung Ja",
    "key.negative": "Gewicht < 0: Richtung Nein",
    "key.width": "dicker: größeres Gewicht",
    "panel.title": "die Ausgabe für alle Eingaben",
    "chart.epoch": "Epoche (log. Skala)",
    "chart.loss": "Verlust",
    "readout.epoch": "Epoche",
    "table.input": "Eingabe",
    "table.target": "Ziel",
    "table.output": "Ausgabe",
    "caption.network": "Zwei Eingaben, {hidden} verdeckte Neuronen, eine Ausgabe: ein "
                       "Netz lernt {gate}",
    "caption.lines": "Jedes verdeckte Neuron zieht eine Gerade; die Ausgabe kombiniert "
                     "sie",
    "caption.training": "Training: jedes Gewicht, jedes Bild und jede Ausgabe, Epoche "
                        "für Epoche",
    "ending.learned": "{gate} gelernt: {right} von 4 richtig",
    "ending.not_learned": "{gate} nicht gelernt: {right} von 4 richtig",
    "ending.never": "{neuron} feuert nie",
    "ending.fires": "{neuron} feuert bei {inputs}",
    "ending.fires_only": "{neuron} feuert nur bei {input}",
    "ending.like": "{line} (wie {gate})",
    "ending.no_input": "{neuron} feuert bei keiner Eingabe",
    "ending.more": "... und {count} weitere verdeckte Neuronen",
    "ending.all_no": "Die Ausgabe sagt zu jeder Eingabe Nein.",
    "ending.all_yes": "Die Ausgabe sagt zu jeder Eingabe Ja.",
    "ending.many": "Aus allen {hidden} zusammen sagt die Ausgabe Ja bei {inputs}.",
    "ending.exactly_one": "Die Ausgabe sagt Ja, wenn genau eines von h1, h2 feuert.",
    "ending.yes_when": "Die Ausgabe sagt Ja, wenn {conditions}.",
    "fire.neither": "keines von beiden feuert",
    "fire.none": "keines feuert",
    "fire.one": "{neuron} feuert",
    "fire.several": "{neurons} feuern",
    "fire.but_not": "{firing}, aber nicht {quiet}",
    "join.and": "{first} und {second}",
    "join.or": "{first} oder {second}",
    "join.or_else": "{first}, oder {second}",
    "ending.stuck": "Festgefahren: Der Verlust bleibt bei {loss} stehen; einen anderen "
                    "Seed versuchen.",
    "ending.falling": "Sinkt noch ({loss}): mehr Epochen versuchen.",
    "alt": "Ein Netz aus {hidden} verdeckten Neuronen und einer Ausgabe lernt {gate} "
           "(Lernrate {lr}, Seed {seed}): Der Verlust {trend} in {epochs} Epochen; "
           "Ausgaben {outputs}: {verdict}.",
    "alt.output": "{value} bei {input}",
    "alt.learned": "es hat {gate} gelernt, {right} von 4 richtig: Jedes verdeckte "
                   "Neuron zieht eine Gerade, und die Ausgabe kombiniert sie",
    "alt.not_learned": "es hat {gate} nicht gelernt: {right} von 4 richtig",
})
"""Every word the scene shows, captions and says; numbers come in formatted by
the caller (`fmt`, `pair`, the alt helpers), so they follow the language too."""


def input_names() -> list[str]:
    """The four inputs as the language writes pairs: (0, 1) in English, (0; 1) in
    German (`INPUT_NAMES` in English)."""
    return [pair(x, plain) for x in INPUTS]


def _join(key: str, items: list[str]) -> str:
    """Items joined pairwise by a `join.*` template: "h1 and h2 and h3"."""
    out = items[0]
    for item in items[1:]:
        out = WORDS(key, first=out, second=item)
    return out
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


def _fires_for(neuron: str, on) -> str:
    """"h1 fires for (0, 1), (1, 0)": the inputs a hidden neuron fires for."""
    names = [input_names()[n] for n in range(4) if on[n]]
    if not names:
        return WORDS("ending.no_input", neuron=neuron)
    if len(names) == 1:
        return WORDS("ending.fires_only", neuron=neuron, input=names[0])
    return WORDS("ending.fires", neuron=neuron, inputs=", ".join(names))


def _combination(run: mlp.MLPRun) -> str:
    """When the output says yes, in terms of which hidden neurons fire."""
    on = fires(run)
    yes = run.predictions[-1] > 0.5
    seen: dict[tuple, bool] = {}
    for n in range(4):
        seen.setdefault(tuple(bool(v) for v in on[:, n]), bool(yes[n]))
    pats = [p for p, v in seen.items() if v]
    if not pats:
        return WORDS("ending.all_no")
    if len(pats) == len(seen):
        return WORDS("ending.all_yes")
    h = run.hidden_size
    if h > 3:  # too many neurons to name: say which inputs get a yes
        said = [input_names()[n] for n in range(4) if yes[n]]
        return WORDS("ending.many", hidden=h, inputs=", ".join(said))

    def words(p):
        firing = [f"h{j + 1}" for j in range(h) if p[j]]
        quiet = [f"h{j + 1}" for j in range(h) if not p[j]]
        if not firing:
            return WORDS("fire.neither" if h == 2 else "fire.none")
        if len(firing) == 1:
            text = WORDS("fire.one", neuron=firing[0])
        else:
            text = WORDS("fire.several", neurons=_join("join.and", firing))
        if quiet:  # h <= 3 here
            text = WORDS("fire.but_not", firing=text, quiet=_join("join.or", quiet))
        return text

    # each of two neurons alone, the other quiet: "exactly one fires"
    exactly_one = h == 2 and len(pats) == 2 and all(sum(p) == 1 for p in pats)
    if exactly_one:
        return WORDS("ending.exactly_one")
    return WORDS("ending.yes_when",
                 conditions=_join("join.or_else", [words(p) for p in pats]))


def explain(run: mlp.MLPRun) -> tuple[str, list[str]]:
    """The ending's headline and lines, derived from the final numbers only.

    Which inputs each hidden neuron fires for (naming the gate when its firing
    pattern is AND, OR, NAND or NOR), and when the output says yes in terms of
    them. Not learned: say so, whether the loss stalled, and what to try.
    """
    right = int(run.right.sum())
    head = WORDS("ending.learned" if run.learned else "ending.not_learned",
                 gate=run.gate, right=right)
    lines = []
    on = fires(run)
    shown = run.hidden_size if run.hidden_size <= 3 else 2
    for j in range(shown):
        name, neuron = pattern_name(on[j]), f"h{j + 1}"
        if name == "never":
            lines.append(WORDS("ending.never", neuron=neuron))
            continue
        line = _fires_for(neuron, on[j])
        if name in ("AND", "OR", "NAND", "NOR"):
            line = WORDS("ending.like", line=line, gate=name)
        lines.append(line)
    if run.hidden_size > shown:
        lines.append(WORDS("ending.more", count=run.hidden_size - shown))
    lines.append(_combination(run))
    if not run.learned:
        tail = run.loss[len(run.loss) // 2:]
        key = "ending.stuck" if tail.max() - tail.min() < 0.01 else "ending.falling"
        lines.append(WORDS(key, loss=fmt(run.loss[-1], 3)))
    return head, lines


def alt(data: LayersData) -> str:
    run = data.run
    right = int(run.right.sum())
    verdict = WORDS("alt.learned" if run.learned else "alt.not_learned",
                    gate=run.gate, right=right)
    outs = language().list_sep.join(
        WORDS("alt.output", value=fmt(p, 2), input=n)
        for p, n in zip(run.predictions[-1], input_names(), strict=True))
    return WORDS("alt", hidden=run.hidden_size, gate=run.gate, lr=num(run.lr),
                 seed=run.seed, epochs=run.epochs,
                 trend=trend(run.loss[0], run.loss[-1]), outputs=outs,
                 verdict=verdict)


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
    words=WORDS,
    file_decides=MLP_FILE_DECIDES,
    twin=MLPTwin(explain),
)
