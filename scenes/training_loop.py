"""Card of the training-loop scene: the five-stage cycle told as tuning a guitar.

What it replays (`LoopData`), how it is prepared and described; the drawing is
`training_loop_draw.py`. No manim here.
"""

from __future__ import annotations

from dataclasses import dataclass

from neuroanim import core
from neuroanim.alt import num, point, trend
from neuroanim.options import (
    LESSON_SEED,
    NEURON_FILE_DECIDES,
    neuron_params,
    neuron_run,
)
from neuroanim.params import Param
from neuroanim.spec import SceneSpec
from neuroanim.wording import Strings

# Every word the scene shows, captions or says, by key; numbers come in through
# {placeholders}, formatted by the caller so they follow the language.
WORDS = Strings({
    "title": "The training loop",
    "subtitle": "is like tuning a guitar",
    "subtitle.step": "one real step, one example",
    "subtitle.many": "many steps",
    # The five stage boxes: name, what it does, its guitar counterpart
    "stage.forward": "Forward pass",
    "stage.forward.what": "make a prediction",
    "stage.forward.guitar": "pluck",
    "stage.error": "Measure error",
    "stage.error.what": "the loss",
    "stage.error.guitar": "listen",
    "stage.backward": "Trace backwards",
    "stage.backward.what": "the gradient",
    "stage.backward.guitar": "which way to turn",
    "stage.adjust": "Adjust",
    "stage.adjust.what": "w − lr × gradient",
    "stage.adjust.guitar": "turn the peg",
    "stage.repeat": "Repeat",
    "stage.repeat.what": "again and again",
    "stage.repeat.guitar": "pluck again",
    # The tuner
    "tuner.in_tune": "in tune",
    "tuner.far_off": "far off",
    "tuner.note": "needle: the neuron's loss (mean squared error)",
    "readout.epoch": "epoch",
    "readout.loss": "loss",
    # What the guitarist does, under the neck
    "say.pluck": "pluck",
    "say.listen": "listen",
    "say.which_way_to_turn": "which way to turn?",
    "say.turn_a_little": "turn the peg a little",
    "say.pluck_again": "pluck again",
    "say.which_way": "which way?",
    "say.turn": "turn",
    "say.keep_tuning": "keep tuning",
    "say.in_tune": "in tune",
    "say.still_off": "still off",
    # The real step, row by row (the drawing adds " = " and the number)
    "step.inputs": "inputs x",
    "step.target": "target",
    "step.weights": "weights w",
    "step.bias": "bias b",
    "step.sum": "weighted sum z = w·x + b",
    "step.prediction": "prediction = sigmoid(z)",
    "step.error": "error = prediction − target",
    "step.loss": "loss = error²",
    "step.grad_w": "gradient dL/dw",
    "step.grad_b": "gradient dL/db",
    "step.lr": "learning rate lr",
    "step.w_new": "new w = w − lr × dL/dw",
    "step.b_new": "new b = b − lr × dL/db",
    "step.repeat.per_example": "then the next input, with the new weights",
    "step.repeat.batch.1": "this run works out all four inputs' gradients",
    "step.repeat.batch.2": "and adjusts once per epoch, by their mean",
    # Captions
    "caption.intro": "Training is like tuning a guitar.",
    "caption.forward": "Forward pass: a prediction. Pluck the string.",
    "caption.error": "Measure the error: the loss. Read the needle.",
    "caption.backward": "Trace backwards: which way should each weight go?",
    "caption.adjust": "Adjust: nudge each weight. Turn the peg a little.",
    "caption.repeat.closer": "Repeat: pluck again. The needle is closer.",
    "caption.repeat.away": "Repeat: pluck again. The needle moved away.",
    "caption.rounds.batch": "The needle shows the neuron's real loss after each "
                            "update: {losses}.",
    "caption.rounds.per_example": "The needle shows the neuron's real loss after "
                                  "each epoch of updates: {losses}.",
    "caption.step.forward": "One real step, input {input}. Forward pass: sum, "
                            "then sigmoid.",
    "caption.step.error": "Measure the error: prediction minus target, squared.",
    "caption.step.backward": "Trace backwards: the gradient of the loss for each "
                             "weight.",
    "caption.step.adjust": "Adjust: step each weight against its gradient.",
    "caption.step.repeat.per_example": "Repeat: the next example, with the new "
                                       "weights.",
    "caption.step.repeat.batch": "Repeat for every example; this run averages "
                                 "their gradients.",
    "caption.many.learned": "Many steps: after {epochs} epochs the loss went from "
                            "{first} to {last}, and the neuron has learned {gate}.",
    "caption.many.failed": "Many steps: after {epochs} epochs the loss went from "
                           "{first} to {last}, and the neuron still gets some "
                           "answers wrong.",
    # Alt text
    "alt.step": "The training loop (forward, error, backward, adjust, repeat) on one "
                "real step of a neuron learning {gate}: for inputs {x} with target "
                "{target} it predicts {prediction} (z = {z}); error {error}, squared "
                "error {loss}; gradients {grad_w1} and {grad_w2} for the weights, "
                "{grad_b} for the bias; with learning rate {lr} the weights go from "
                "{w1} and {w2} to {w1_new} and {w2_new}, the bias from {b} to "
                "{b_new}.",
    "alt.many": "Repeated for {epochs} epochs, the loss {trend}.",
}, de={
    "title": "Die Trainingsschleife",
    "subtitle": "ist wie das Stimmen einer Gitarre",
    "subtitle.step": "ein echter Schritt, ein Beispiel",
    "subtitle.many": "viele Schritte",
    "stage.forward": "Vorwärtsdurchlauf",
    "stage.forward.what": "eine Vorhersage treffen",
    "stage.forward.guitar": "zupfen",
    "stage.error": "Fehler messen",
    "stage.error.what": "der Verlust",
    "stage.error.guitar": "hinhören",
    "stage.backward": "Rückwärtsdurchlauf",
    "stage.backward.what": "der Gradient",
    "stage.backward.guitar": "wohin drehen",
    "stage.adjust": "Anpassen",
    "stage.adjust.what": "w − lr × Gradient",
    "stage.adjust.guitar": "den Wirbel drehen",
    "stage.repeat": "Wiederholen",
    "stage.repeat.what": "immer wieder",
    "stage.repeat.guitar": "nochmal zupfen",
    "tuner.in_tune": "gestimmt",
    "tuner.far_off": "weit daneben",
    "tuner.note": "Nadel: der Verlust des Neurons (mittlerer quadratischer Fehler)",
    "readout.epoch": "Epoche",
    "readout.loss": "Verlust",
    "say.pluck": "zupfen",
    "say.listen": "hinhören",
    "say.which_way_to_turn": "in welche Richtung drehen?",
    "say.turn_a_little": "den Wirbel ein wenig drehen",
    "say.pluck_again": "nochmal zupfen",
    "say.which_way": "welche Richtung?",
    "say.turn": "drehen",
    "say.keep_tuning": "weiter stimmen",
    "say.in_tune": "gestimmt",
    "say.still_off": "noch verstimmt",
    "step.inputs": "Eingaben x",
    "step.target": "Ziel",
    "step.weights": "Gewichte w",
    "step.bias": "Bias b",
    "step.sum": "gewichtete Summe z = w·x + b",
    "step.prediction": "Vorhersage = sigmoid(z)",
    "step.error": "Fehler = Vorhersage − Ziel",
    "step.loss": "Verlust = Fehler²",
    "step.grad_w": "Gradient dL/dw",
    "step.grad_b": "Gradient dL/db",
    "step.lr": "Lernrate lr",
    "step.w_new": "neues w = w − lr × dL/dw",
    "step.b_new": "neues b = b − lr × dL/db",
    "step.repeat.per_example": "dann die nächste Eingabe, mit den neuen Gewichten",
    "step.repeat.batch.1": "dieser Lauf berechnet die Gradienten aller vier Eingaben",
    "step.repeat.batch.2": "und passt einmal pro Epoche an, um ihren Mittelwert",
    "caption.intro": "Training ist wie das Stimmen einer Gitarre.",
    "caption.forward": "Vorwärtsdurchlauf: eine Vorhersage. Die Saite zupfen.",
    "caption.error": "Fehler messen: der Verlust. Die Nadel ablesen.",
    "caption.backward": "Rückwärtsdurchlauf: In welche Richtung soll sich jedes "
                        "Gewicht bewegen?",
    "caption.adjust": "Anpassen: jedes Gewicht ein wenig verschieben. Den Wirbel "
                      "ein wenig drehen.",
    "caption.repeat.closer": "Wiederholen: nochmal zupfen. Die Nadel ist näher dran.",
    "caption.repeat.away": "Wiederholen: nochmal zupfen. Die Nadel hat sich "
                           "entfernt.",
    "caption.rounds.batch": "Die Nadel zeigt den echten Verlust des Neurons nach "
                            "jeder Anpassung: {losses}.",
    "caption.rounds.per_example": "Die Nadel zeigt den echten Verlust des Neurons "
                                  "nach jeder Epoche voller Anpassungen: {losses}.",
    "caption.step.forward": "Ein echter Schritt, Eingabe {input}. "
                            "Vorwärtsdurchlauf: Summe, dann Sigmoid.",
    "caption.step.error": "Fehler messen: Vorhersage minus Ziel, quadriert.",
    "caption.step.backward": "Rückwärtsdurchlauf: der Gradient des Verlusts für "
                             "jedes Gewicht.",
    "caption.step.adjust": "Anpassen: jedes Gewicht gegen seinen Gradienten "
                           "verschieben.",
    "caption.step.repeat.per_example": "Wiederholen: das nächste Beispiel, mit den "
                                       "neuen Gewichten.",
    "caption.step.repeat.batch": "Wiederholen für jedes Beispiel; dieser Lauf "
                                 "mittelt ihre Gradienten.",
    "caption.many.learned": "Viele Schritte: Nach {epochs} Epochen liegt der "
                            "Verlust bei {last} statt anfangs {first}, und das "
                            "Neuron hat {gate} gelernt.",
    "caption.many.failed": "Viele Schritte: Nach {epochs} Epochen liegt der "
                           "Verlust bei {last} statt anfangs {first}, und das "
                           "Neuron gibt noch manche Antworten falsch.",
    "alt.step": "Die Trainingsschleife (vorwärts, Fehler, rückwärts, anpassen, "
                "wiederholen) an einem echten Schritt eines Neurons, das {gate} "
                "lernt: Für die Eingaben {x} mit dem Ziel {target} sagt es "
                "{prediction} vorher (z = {z}); Fehler {error}, quadrierter Fehler "
                "{loss}; Gradienten {grad_w1} und {grad_w2} für die Gewichte, "
                "{grad_b} für den Bias; mit der Lernrate {lr} gehen die Gewichte "
                "von {w1} und {w2} auf {w1_new} und {w2_new}, der Bias von {b} auf "
                "{b_new}.",
    "alt.many": "Das wiederholt sich {epochs} Epochen lang; der Verlust {trend}.",
})


@dataclass(frozen=True)
class LoopData:
    """One neuron run and the dissected step the scene walks through.

    run       the recorded run (every epoch): the needle reads its loss, the peg
              turns by each recorded update
    step      `dissect_step(run, 0, example)`: the numbers of every stage
    examples  `dissect_step(run, 0, i)` for i = 0..3: the four squared errors
              whose mean is `run.loss[0]`
    """

    run: core.NeuronRun
    step: core.TrainingStep
    examples: tuple[core.TrainingStep, ...]


def loop_params(seed: int = LESSON_SEED) -> tuple[Param, ...]:
    """The neuron's options, the dissected example, then `trajectory`."""
    *run, traj = neuron_params(seed=seed)
    example = Param("example", "int", 3, "training example (0-3) of the dissected step",
                    low=0, high=3)
    return (*run, example, traj)


def prepare(values: dict) -> LoopData:
    run = neuron_run(values)
    examples = tuple(core.dissect_step(run, 0, i) for i in range(4))
    return LoopData(run, examples[int(values["example"])], examples)


def alt(data: LoopData) -> str:
    run, st = data.run, data.step
    step = WORDS("alt.step", gate=run.gate, x=point(st.x), target=num(st.target),
                 prediction=num(st.prediction, True), z=num(st.z),
                 error=num(st.error), loss=num(st.loss, True),
                 grad_w1=num(st.grad_w[0]), grad_w2=num(st.grad_w[1]),
                 grad_b=num(st.grad_b), lr=num(st.lr, tiny=True),
                 w1=num(st.w[0]), w2=num(st.w[1]), w1_new=num(st.w_new[0]),
                 w2_new=num(st.w_new[1]), b=num(st.b), b_new=num(st.b_new))
    many = WORDS("alt.many", epochs=run.epochs,
                 trend=trend(run.loss[0], run.loss[-1]))
    return f"{step} {many}"


SCENE = SceneSpec(
    name="training-loop",
    description="The five-stage training cycle, told as tuning a guitar, with a real step.",
    params=loop_params(),
    prepare=prepare,
    draw="training_loop_draw:TrainingLoop",
    alt=alt,
    words=WORDS,
    file_decides=NEURON_FILE_DECIDES,
)
