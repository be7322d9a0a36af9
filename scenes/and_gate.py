"""Card of the and-gate scene: a neuron learns a logic gate; its output grid
converges beside the loss curve, and the ending explains the final weights.

What it replays (`GateData`), how it is prepared and described, and the words
of its ending; the drawing is `and_gate_draw.py`. No manim here.
"""

from __future__ import annotations

from dataclasses import dataclass

from neuroanim import core
from neuroanim.alt import num, outputs, setting, trend
from neuroanim.options import NEURON_FILE_DECIDES, neuron_params, neuron_run
from neuroanim.params import Param
from neuroanim.spec import SceneSpec
from neuroanim.wording import fmt

LO, HI = -0.25, 1.25  # the input square on screen: the four corners sit inside it
FLAT = 0.02  # |z| below this everywhere on screen: output 0.50 +- 0.005, no boundary


@dataclass(frozen=True)
class GateData:
    """The neuron run the scene replays (every epoch: weights, loss, outputs)."""

    run: core.NeuronRun


def prepare(values: dict) -> GateData:
    return GateData(neuron_run(values))


def _z_text(terms: list[float]) -> str:
    """`6.27 − 9.50 = −3.23`: the weighted sum at a corner, term by term.

    The total adds the terms as shown (rounded to 2 places), so a reader's own
    sum agrees; it differs from the exact z by at most 0.015.
    """
    shown = [round(float(v), 2) for v in terms]
    out = fmt(shown[0], 2)
    for v in shown[1:]:
        out += (" − " if v < 0 else " + ") + fmt(abs(v), 2)
    return f"{out} = {fmt(round(sum(shown), 2), 2, sign=True)}"


def _push(v: float) -> str:
    return "towards yes" if v > 0 else "towards no"


def explain(run: core.NeuronRun) -> tuple[str, list[str]]:
    """The ending's headline and lines, derived from the final numbers only.

    Learned: the signs of w1, w2 and b and what they mean, then the weighted sum
    z = w1 x1 + w2 x2 + b with one input on and with both on (yes when z > 0).
    Not learned: say so; for targets no line can separate (XOR) say why and
    whether the loss stalled; otherwise that training stopped too early.
    """
    w1, w2 = (float(v) for v in run.w[-1])
    b = float(run.b[-1])
    ok = core.verdicts(run.predictions[-1], run.targets)
    right = f"{int(ok.sum())} of 4 right"
    if ok.all():
        head = f"{run.gate} learned: {right}"
        if (w1 > 0) == (w2 > 0):
            word = "positive" if w1 > 0 else "negative"
            lines = [f"w1, w2 {word}: each input pushes {_push(w1)}"]
        else:
            lines = [f"w1 pushes {_push(w1)}, w2 pushes {_push(w2)}"]
        answer = "yes" if b > 0 else "no"
        lines.append(f"b {'positive' if b > 0 else 'negative'}: "
                     f"with no input the answer is {answer}")
        singles = [("one input", [w1, b])]
        if fmt(w1, 2) != fmt(w2, 2):
            singles = [("x1 alone", [w1, b]), ("x2 alone", [w2, b])]
        for name, terms in [*singles, ("both", [w1, w2, b])]:
            lines.append(f"{name}: {_z_text(terms)} → {'yes' if sum(terms) > 0 else 'no'}")
        return head, lines
    head = f"{run.gate} not learned: {right}"
    lines = []
    if not run.separable:
        lines += ["No single straight line puts the 1s",
                  "on one side and the 0s on the other,"]
        tail = run.loss[len(run.loss) // 2:]
        if tail.max() - tail.min() < 0.01:
            lines.append(f"so the loss stalls near {fmt(run.loss[-1], 2)}.")
        else:
            lines.append(f"so the loss cannot reach 0 (now {fmt(run.loss[-1], 3)}).")
    else:
        lines += [f"Still wrong after {run.epochs} epochs:",
                  "try more epochs or a larger learning rate."]
    if core.boundary_flat(run.w[-1], run.b[-1], LO, HI, flat=FLAT):
        lines.append("Its output is 0.50 everywhere.")
    return head, lines


def alt(data: GateData) -> str:
    run = data.run
    right = int(core.verdicts(run.predictions[-1], run.targets).sum())
    if run.status == "learned":
        verdict = "it learned the gate"
    elif not run.separable:  # no line splits its 1s from its 0s
        verdict = (f"it cannot learn it, as no single line separates {run.gate}'s "
                   "1s from 0s")
    else:
        verdict = "it has not learned the gate yet"
    return (f"A neuron learning {run.gate} {setting(run)}: "
            f"after {run.epochs} epochs the loss {trend(run.loss[0], run.loss[-1])}; "
            f"weights {num(run.w[-1, 0])} and {num(run.w[-1, 1])}, bias "
            f"{num(run.b[-1])}; {outputs(run)}: {verdict}, {right} of 4 right.")


*_run, _trajectory = neuron_params()
SCENE = SceneSpec(
    name="and-gate",
    description="A neuron learns a logic gate: its output grid converges beside the "
                "loss curve.",
    params=(*_run,
            Param("grid", "int", 64, "heatmap resolution (cells per side)", low=4,
                  high=512),
            _trajectory),
    prepare=prepare,
    draw="and_gate_draw:AndGate",
    alt=alt,
    file_decides=NEURON_FILE_DECIDES,
)
