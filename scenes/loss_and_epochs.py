"""Card of the loss-and-epochs scene: one example's squared error, the mean over
four examples, epochs as laps. It replays the same `LoopData` as training-loop.
"""

from __future__ import annotations

from neuroanim.alt import loss, num, point, trend
from neuroanim.options import NEURON_FILE_DECIDES
from neuroanim.spec import SceneSpec
from neuroanim.wording import Strings

from .training_loop import LoopData, loop_params, prepare

WORDS = Strings({
    # Titles: the title stays, the subtitle beside it names the stage
    "title": "Loss and epochs",
    "subtitle.one": "how wrong is one guess?",
    "subtitle.mean": "mean squared error",
    "subtitle.epochs": "epochs: laps over the data",
    # One example: the rows beside the scale, the marks on it
    "one.input": "input {input}",
    "one.prediction": "prediction {prediction}",
    "one.target": "target {target}",
    "one.gap": "gap {gap}",
    "one.loss": "loss = gap² = {loss}",
    "mark.prediction": "prediction",
    "mark.target": "target",
    "square": "gap²",
    # The mean: three rows under each example's square, then the average
    "mean.target": "{input} → target {target}",
    "mean.prediction": "prediction {prediction}",
    "mean.square": "gap² {square}",
    "mean.loss": "loss = ({squares}) / 4 = {loss}",
    "mean.note": "lower is better; 0 means every prediction is right",
    # Epochs: the track, the lap readouts, the loss chart
    "finish": "start / finish",
    "lap.epoch": "epoch",
    "lap.loss": "loss",
    "axis.epoch": "epoch",
    "axis.loss": "loss",
    # Captions, one per stage
    "caption.one": "Loss for one example: for the input {input}, our neuron guesses "
                   "{prediction}; the right answer is {target}.",
    "caption.square": "The gap, squared, is this example's loss: a square whose side "
                      "is the gap. Big misses count much more.",
    "caption.each": "Each of the four training examples has its own squared gap.",
    "caption.mean": "Their average is the loss, the mean squared error. Lower is "
                    "better; 0 means every prediction is right.",
    "caption.epoch.batch": "One epoch: the neuron sees all four examples once, like "
                           "one lap of a track. Here the weights change after all "
                           "four, once per lap.",
    "caption.epoch.per_example": "One epoch: the neuron sees all four examples once, "
                                 "like one lap of a track. Here the weights change "
                                 "after each one, four times per lap.",
    "caption.many.falls": "Many epochs, too fast to watch: the loss falls from "
                          "{first} to {last} after {epochs} epochs.",
    "caption.many.goes": "Many epochs, too fast to watch: the loss goes from "
                         "{first} to {last} after {epochs} epochs.",
    # Alt text
    "alt.example": "Loss and epochs for a neuron learning {gate}: for inputs {input} "
                   "it predicts {prediction} where the target is {target}, an error "
                   "of {error} and a squared error of {square}.",
    "alt.loss": "The loss, the mean of the squared errors over the 4 examples of one "
                "epoch, {trend} over {epochs} epochs.",
    "alt.loss.marks": "The loss, the mean of the squared errors over the 4 examples "
                      "of one epoch, {trend} over {epochs} epochs ({marks}).",
    "alt.mark": "{loss} after {epochs}",
}, de={
    "title": "Verlust und Epochen",
    "subtitle.one": "wie falsch liegt eine Vorhersage?",
    "subtitle.mean": "mittlerer quadratischer Fehler",
    "subtitle.epochs": "Epochen: Runden über die Daten",
    "one.input": "Eingabe {input}",
    "one.prediction": "Vorhersage {prediction}",
    "one.target": "Ziel {target}",
    "one.gap": "Abstand {gap}",
    "one.loss": "Verlust = Abstand² = {loss}",
    "mark.prediction": "Vorhersage",
    "mark.target": "Ziel",
    "square": "Abstand²",
    "mean.target": "{input} → Ziel {target}",
    "mean.prediction": "Vorhersage {prediction}",
    "mean.square": "Abstand² {square}",
    "mean.loss": "Verlust = ({squares}) / 4 = {loss}",
    "mean.note": "niedriger ist besser; 0 heißt: jede Vorhersage stimmt",
    "finish": "Start / Ziel",
    "lap.epoch": "Epoche",
    "lap.loss": "Verlust",
    "axis.epoch": "Epoche",
    "axis.loss": "Verlust",
    "caption.one": "Verlust für ein Beispiel: Für die Eingabe {input} schätzt unser "
                   "Neuron {prediction}; die richtige Antwort ist {target}.",
    "caption.square": "Der Abstand zum Quadrat ist der Verlust dieses Beispiels: ein "
                      "Quadrat mit dem Abstand als Seite. Große Fehler zählen viel "
                      "mehr.",
    "caption.each": "Jedes der vier Trainingsbeispiele hat seinen eigenen "
                    "quadrierten Abstand.",
    "caption.mean": "Ihr Durchschnitt ist der Verlust, der mittlere quadratische "
                    "Fehler. Niedriger ist besser; 0 heißt: jede Vorhersage stimmt.",
    "caption.epoch.batch": "Eine Epoche: Das Neuron sieht alle vier Beispiele "
                           "einmal, wie eine Runde auf der Laufbahn. Hier ändern "
                           "sich die Gewichte nach allen vieren, einmal pro Runde.",
    "caption.epoch.per_example": "Eine Epoche: Das Neuron sieht alle vier Beispiele "
                                 "einmal, wie eine Runde auf der Laufbahn. Hier "
                                 "ändern sich die Gewichte nach jedem einzelnen, "
                                 "viermal pro Runde.",
    "caption.many.falls": "Viele Epochen, zu schnell zum Zuschauen: Der Verlust "
                          "sinkt in {epochs} Epochen von {first} auf {last}.",
    "caption.many.goes": "Viele Epochen, zu schnell zum Zuschauen: Der Verlust geht "
                         "in {epochs} Epochen von {first} auf {last}.",
    "alt.example": "Verlust und Epochen für ein Neuron, das {gate} lernt: Für die "
                   "Eingaben {input} sagt es {prediction} voraus, wo das Ziel "
                   "{target} ist; ein Fehler von {error} und ein quadrierter Fehler "
                   "von {square}.",
    "alt.loss": "Der Verlust, der Mittelwert der quadrierten Fehler über die 4 "
                "Beispiele einer Epoche, {trend}, im Lauf von {epochs} Epochen.",
    "alt.loss.marks": "Der Verlust, der Mittelwert der quadrierten Fehler über die 4 "
                      "Beispiele einer Epoche, {trend}, im Lauf von {epochs} Epochen "
                      "({marks}).",
    "alt.mark": "{loss} nach {epochs}",
})


def alt(data: LoopData) -> str:
    run, st = data.run, data.step
    example = WORDS("alt.example", gate=run.gate, input=point(st.x),
                    prediction=num(st.prediction, True), target=num(st.target),
                    error=num(st.error), square=num(st.loss, True))
    marks = [WORDS("alt.mark", loss=loss(run.loss[e]), epochs=e)
             for e in (10, 100, 1000, 10_000) if e < run.epochs]
    over = {"trend": trend(run.loss[0], run.loss[-1]), "epochs": run.epochs}
    lost = WORDS("alt.loss.marks", marks=", ".join(marks), **over) if marks else \
        WORDS("alt.loss", **over)
    return f"{example} {lost}"


SCENE = SceneSpec(
    name="loss-and-epochs",
    description="What loss (mean squared error) and an epoch are, from a real neuron run.",
    params=loop_params(),
    prepare=prepare,
    draw="loss_and_epochs_draw:LossAndEpochs",
    alt=alt,
    words=WORDS,
    file_decides=NEURON_FILE_DECIDES,
)
