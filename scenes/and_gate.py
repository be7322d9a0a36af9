"""Card of the and-gate scene: a neuron learns a logic gate; its output grid
converges beside the loss curve, and the ending explains the final weights.

What it replays (`GateData`), how it is prepared and described, and the words
of its ending; the drawing is `and_gate_draw.py`. No manim here.
"""

from __future__ import annotations

from dataclasses import dataclass

from neuroanim import core
from neuroanim.alt import num, outputs, setting, trend
from neuroanim.interactive.twins import NeuronTwin
from neuroanim.options import NEURON_FILE_DECIDES, neuron_params, neuron_run
from neuroanim.params import Param
from neuroanim.spec import SceneSpec
from neuroanim.wording import Strings, fmt

LO, HI = -0.25, 1.25  # the input square on screen: the four corners sit inside it
FLAT = 0.02  # |z| below this everywhere on screen: output 0.50 +- 0.005, no boundary

WORDS = Strings({
    # on screen: the title, the truth table and the keys beside the grid
    "title.learns": "A neuron learns {gate}",
    "title.tries": "A neuron tries to learn {gate}",
    "table.target": "target",
    "table.output": "output",
    "key.target_one": "target 1",
    "key.target_zero": "target 0",
    "key.output": "neuron output",
    "key.boundary": "boundary: output {level}",
    "counter.epoch": "epoch",
    "chart.epoch": "epoch (log scale)",
    "chart.loss": "loss",
    "readout.loss": "loss",
    "note.above": "no boundary in view: output above {level}",
    "note.below": "no boundary in view: output below {level}",
    "note.flat": "no boundary: output {level} everywhere",
    # captions of the four steps (the last one is the ending's headline)
    "caption.task": "The task: {gate} of two inputs",
    "caption.start": "Epoch 0: random weights; the output grid and its boundary",
    "caption.training": "Training: grid, boundary, outputs and loss, epoch by epoch",
    # the ending, from the final numbers (`explain`)
    "ending.learned": "{gate} learned: {right} of 4 right",
    "ending.not_learned": "{gate} not learned: {right} of 4 right",
    "ending.both_positive": "w1, w2 positive: each input pushes towards yes",
    "ending.both_negative": "w1, w2 negative: each input pushes towards no",
    "ending.w1_yes_w2_no": "w1 pushes towards yes, w2 pushes towards no",
    "ending.w1_no_w2_yes": "w1 pushes towards no, w2 pushes towards yes",
    "ending.bias_positive": "b positive: with no input the answer is yes",
    "ending.bias_negative": "b negative: with no input the answer is no",
    "ending.one_input": "one input: {sum} → {answer}",
    "ending.x1_alone": "x1 alone: {sum} → {answer}",
    "ending.x2_alone": "x2 alone: {sum} → {answer}",
    "ending.both": "both: {sum} → {answer}",
    "answer.yes": "yes",
    "answer.no": "no",
    "ending.no_line.1": "No single straight line puts the 1s",
    "ending.no_line.2": "on one side and the 0s on the other,",
    "ending.stalls": "so the loss stalls near {loss}.",
    "ending.cannot_reach": "so the loss cannot reach 0 (now {loss}).",
    "ending.still_wrong": "Still wrong after {epochs} epochs:",
    "ending.try_more": "try more epochs or a larger learning rate.",
    "ending.flat": "Its output is {level} everywhere.",
    # alt text
    "alt": "A neuron learning {gate} {setting}: after {epochs} epochs the loss "
           "{trend}; weights {w1} and {w2}, bias {b}; {outputs}: {verdict}, "
           "{right} of 4 right.",
    "alt.learned": "it learned the gate",
    "alt.inseparable": "it cannot learn it, as no single line separates {gate}'s "
                       "1s from 0s",
    "alt.not_yet": "it has not learned the gate yet",
}, de={
    "title.learns": "Ein Neuron lernt {gate}",
    "title.tries": "Ein Neuron versucht, {gate} zu lernen",
    "table.target": "Ziel",
    "table.output": "Ausgabe",
    "key.target_one": "Ziel 1",
    "key.target_zero": "Ziel 0",
    "key.output": "Ausgabe des Neurons",
    "key.boundary": "Grenze: Ausgabe {level}",
    "counter.epoch": "Epoche",
    "chart.epoch": "Epoche (log. Skala)",
    "chart.loss": "Verlust",
    "readout.loss": "Verlust",
    "note.above": "keine Grenze im Bild: Ausgabe über {level}",
    "note.below": "keine Grenze im Bild: Ausgabe unter {level}",
    "note.flat": "keine Grenze: Ausgabe überall {level}",
    "caption.task": "Die Aufgabe: {gate} mit zwei Eingaben",
    "caption.start": "Epoche 0: zufällige Gewichte; das Ausgabegitter und seine Grenze",
    "caption.training": "Training: Gitter, Grenze, Ausgaben und Verlust, Epoche für "
                        "Epoche",
    "ending.learned": "{gate} gelernt: {right} von 4 richtig",
    "ending.not_learned": "{gate} nicht gelernt: {right} von 4 richtig",
    "ending.both_positive": "w1, w2 positiv: jede Eingabe schiebt Richtung Ja",
    "ending.both_negative": "w1, w2 negativ: jede Eingabe schiebt Richtung Nein",
    "ending.w1_yes_w2_no": "w1 schiebt Richtung Ja, w2 Richtung Nein",
    "ending.w1_no_w2_yes": "w1 schiebt Richtung Nein, w2 Richtung Ja",
    "ending.bias_positive": "b positiv: ohne Eingabe lautet die Antwort Ja",
    "ending.bias_negative": "b negativ: ohne Eingabe lautet die Antwort Nein",
    "ending.one_input": "eine Eingabe: {sum} → {answer}",
    "ending.x1_alone": "nur x1: {sum} → {answer}",
    "ending.x2_alone": "nur x2: {sum} → {answer}",
    "ending.both": "beide: {sum} → {answer}",
    "answer.yes": "Ja",
    "answer.no": "Nein",
    "ending.no_line.1": "Keine einzelne Gerade legt die 1en",
    "ending.no_line.2": "auf eine Seite und die 0en auf die andere,",
    "ending.stalls": "daher bleibt der Verlust bei {loss} stehen.",
    "ending.cannot_reach": "daher kann der Verlust 0 nicht erreichen (jetzt {loss}).",
    "ending.still_wrong": "Nach {epochs} Epochen noch falsch:",
    "ending.try_more": "mehr Epochen oder eine größere Lernrate versuchen.",
    "ending.flat": "Seine Ausgabe ist überall {level}.",
    "alt": "Ein Neuron lernt {gate} {setting}: Der Verlust {trend} in {epochs} "
           "Epochen; Gewichte {w1} und {w2}, Bias {b}; {outputs}: {verdict}, "
           "{right} von 4 richtig.",
    "alt.learned": "es hat das Gatter gelernt",
    "alt.inseparable": "es kann es nicht lernen, denn keine einzelne Gerade trennt "
                       "die 1en von den 0en bei {gate}",
    "alt.not_yet": "es hat das Gatter noch nicht gelernt",
})
"""Every word the scene shows, captions and says; numbers come in formatted by
the caller (`fmt`, `plain`, the alt helpers), so they follow the language too."""


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


def _answer(z: float) -> str:
    return WORDS("answer.yes" if z > 0 else "answer.no")


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
    right = int(ok.sum())
    if ok.all():
        head = WORDS("ending.learned", gate=run.gate, right=right)
        if (w1 > 0) == (w2 > 0):
            lines = [WORDS("ending.both_positive" if w1 > 0 else "ending.both_negative")]
        else:
            lines = [WORDS("ending.w1_yes_w2_no" if w1 > 0 else "ending.w1_no_w2_yes")]
        lines.append(WORDS("ending.bias_positive" if b > 0 else "ending.bias_negative"))
        singles = [("ending.one_input", [w1, b])]
        if fmt(w1, 2) != fmt(w2, 2):
            singles = [("ending.x1_alone", [w1, b]), ("ending.x2_alone", [w2, b])]
        for key, terms in [*singles, ("ending.both", [w1, w2, b])]:
            lines.append(WORDS(key, sum=_z_text(terms), answer=_answer(sum(terms))))
        return head, lines
    head = WORDS("ending.not_learned", gate=run.gate, right=right)
    lines = []
    if not run.separable:
        lines += [WORDS("ending.no_line.1"), WORDS("ending.no_line.2")]
        tail = run.loss[len(run.loss) // 2:]
        if tail.max() - tail.min() < 0.01:
            lines.append(WORDS("ending.stalls", loss=fmt(run.loss[-1], 2)))
        else:
            lines.append(WORDS("ending.cannot_reach", loss=fmt(run.loss[-1], 3)))
    else:
        lines += [WORDS("ending.still_wrong", epochs=run.epochs),
                  WORDS("ending.try_more")]
    if core.boundary_flat(run.w[-1], run.b[-1], LO, HI, flat=FLAT):
        lines.append(WORDS("ending.flat", level=fmt(0.5, 2)))
    return head, lines


def alt(data: GateData) -> str:
    run = data.run
    right = int(core.verdicts(run.predictions[-1], run.targets).sum())
    if run.status == "learned":
        verdict = WORDS("alt.learned")
    elif not run.separable:  # no line splits its 1s from its 0s
        verdict = WORDS("alt.inseparable", gate=run.gate)
    else:
        verdict = WORDS("alt.not_yet")
    return WORDS("alt", gate=run.gate, setting=setting(run), epochs=run.epochs,
                 trend=trend(run.loss[0], run.loss[-1]), w1=num(run.w[-1, 0]),
                 w2=num(run.w[-1, 1]), b=num(run.b[-1]), outputs=outputs(run),
                 verdict=verdict, right=right)


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
    words=WORDS,
    file_decides=NEURON_FILE_DECIDES,
    twin=NeuronTwin(explain),
)
