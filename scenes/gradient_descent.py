"""Card of the gradient-descent scene: the ball on the loss valley, one panel per
learning rate. No manim here; the drawing is `gradient_descent_draw.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from neuroanim import core
from neuroanim.alt import loss, num
from neuroanim.interactive.twins import DescentTwin
from neuroanim.options import DESCENT_FILE_DECIDES, descent_params, descents
from neuroanim.spec import SceneSpec
from neuroanim.wording import Strings, localise

WORDS = Strings({
    # Titles and the line under them
    "title.one": "Drop the ball: gradient descent",
    "title.many": "Drop the ball at {count} learning rates",
    "count.2": "two",
    "count.3": "three",
    "count.4": "four",
    "caption": "{formula}   ·   height = loss: how wrong the network is, "
               "lower is better",
    # Axes, marks and readouts
    "axis.weight": "weight w",
    "axis.loss": "loss",
    "axis.step": "step",
    "minimum": "lowest loss",
    "badge.diverged": "diverged",
    "badge.off": "off the chart",
    "row.step": "step",
    "row.weight": "weight w",
    "row.loss": "loss",
    "row.slope": "slope",
    "row.lr": "learning rate",
    "rule": "new w = w − {lr} × slope",
    "key.slope": "slope at the ball",
    "key.downhill": "downhill",
    # One lane's name: a preset's, or its learning rate alone
    "lane": "lr {lr}",
    "lane.preset": "{preset} · lr {lr}",
    "preset.slow": "slow",
    "preset.good": "good",
    "preset.bouncy": "bouncy",
    "preset.diverge": "diverge",
    # Verdicts, from the record (`Descent.outcome`); ".one" when it is one step
    # (the German keeps a number and its noun on one line: a no-break space)
    "verdict.flew-at-once": "flew off at the first step",
    "verdict.flew": "flew off after {steps} steps",
    "verdict.flew.one": "flew off after {steps} step",
    "verdict.unsettled": "bounced without settling for {steps} steps",
    "verdict.unsettled.one": "bounced without settling for {steps} step",
    "verdict.crawling": "still crawling after {steps} steps",
    "verdict.crawling.one": "still crawling after {steps} step",
    "verdict.bouncing": "still bouncing after {steps} steps",
    "verdict.bouncing.one": "still bouncing after {steps} step",
    "verdict.bounced": "bounced in ({steps} steps)",
    "verdict.bounced.one": "bounced in ({steps} step)",
    "verdict.bottom": "started at the bottom",
    "verdict.arrived": "arrived in {steps} steps",
    "verdict.arrived.one": "arrived in {steps} step",
    # The closing chart
    "chart.title": "The loss at every step",
    # Captions
    "caption.landscape": "The height of the curve is the loss: how wrong the "
                         "network is. Lower is better.",
    "caption.drop": "Drop the ball: the slope at the ball says which way is downhill.",
    "caption.roll": "Each step moves the weight by the learning rate times the slope.",
    "caption.verdict": "{lane}: {verdict}.",
    "caption.chart": "The loss at every step, one line per learning rate.",
    # Alt text
    "landscape.bowl": "a symmetric quadratic valley",
    "landscape.asymmetric": "a valley with a steep right wall and a gentle left slope",
    "landscape.double-well": "two valleys of different depth: where you start "
                             "decides where you end",
    "alt.where": "{formula}, {description}, lowest at w = {w_min}",
    "alt.one": "A ball rolls down the loss curve {where}, starting at w = {w0} with "
               "learning rate {lr}: it {verdict}, final loss {loss} at w = {w}.",
    "alt.still": "is {verdict}",
    "alt.part": "{lr}: {verdict}, loss {loss}",
    "alt.many": "Balls rolling down the loss curve {where}, from w = {w0} at {count} "
                "learning rates side by side: {parts}.",
}, de={
    "title.one": "Lass den Ball fallen: Gradientenabstieg",
    "title.many": "Lass den Ball fallen, bei {count} Lernraten",
    "count.2": "zwei",
    "count.3": "drei",
    "count.4": "vier",
    "caption": "{formula}   ·   Höhe = Verlust: wie falsch das Netz liegt, "
               "niedriger ist besser",
    "axis.weight": "Gewicht w",
    "axis.loss": "Verlust",
    "axis.step": "Schritt",
    "minimum": "niedrigster Verlust",
    "badge.diverged": "divergiert",
    "badge.off": "außerhalb des Bildes",
    "row.step": "Schritt",
    "row.weight": "Gewicht w",
    "row.loss": "Verlust",
    "row.slope": "Steigung",
    "row.lr": "Lernrate",
    "rule": "neues w = w − {lr} × Steigung",
    "key.slope": "Steigung am Ball",
    "key.downhill": "bergab",
    "lane": "Lernrate {lr}",
    "lane.preset": "{preset} · Lernrate {lr}",
    "preset.slow": "langsam",
    "preset.good": "gut",
    "preset.bouncy": "sprunghaft",
    "preset.diverge": "instabil",
    "verdict.flew-at-once": "fliegt beim ersten Schritt davon",
    "verdict.flew": "fliegt nach {steps}\u00a0Schritten davon",
    "verdict.flew.one": "fliegt nach {steps}\u00a0Schritt davon",
    "verdict.unsettled": "springt {steps}\u00a0Schritte lang, ohne zur Ruhe zu "
                         "kommen",
    "verdict.unsettled.one": "springt {steps}\u00a0Schritt lang, ohne zur Ruhe zu "
                             "kommen",
    "verdict.crawling": "kriecht nach {steps}\u00a0Schritten noch",
    "verdict.crawling.one": "kriecht nach {steps}\u00a0Schritt noch",
    "verdict.bouncing": "springt nach {steps}\u00a0Schritten noch",
    "verdict.bouncing.one": "springt nach {steps}\u00a0Schritt noch",
    "verdict.bounced": "pendelt sich ein ({steps}\u00a0Schritte)",
    "verdict.bounced.one": "pendelt sich ein ({steps}\u00a0Schritt)",
    "verdict.bottom": "startet schon am Tiefpunkt",
    "verdict.arrived": "kommt in {steps}\u00a0Schritten an",
    "verdict.arrived.one": "kommt in {steps}\u00a0Schritt an",
    "chart.title": "Der Verlust bei jedem Schritt",
    "caption.landscape": "Die Höhe der Kurve ist der Verlust: wie falsch das Netz "
                         "liegt. Niedriger ist besser.",
    "caption.drop": "Lass den Ball fallen: Die Steigung am Ball zeigt, wo es bergab "
                    "geht.",
    "caption.roll": "Jeder Schritt ändert das Gewicht um die Lernrate mal die "
                    "Steigung.",
    "caption.verdict": "{lane}: {verdict}.",
    "caption.chart": "Der Verlust bei jedem Schritt, eine Linie pro Lernrate.",
    "landscape.bowl": "ein symmetrisches, quadratisches Tal",
    "landscape.asymmetric": "ein Tal mit steiler rechter Wand und sanftem linkem "
                            "Hang",
    "landscape.double-well": "zwei verschieden tiefe Täler: Wo du startest, "
                             "entscheidet, wo du landest",
    "alt.where": "{formula}, {description}, am tiefsten bei w = {w_min}",
    "alt.one": "Ein Ball rollt die Verlustkurve hinab ({where}). Er startet bei "
               "w = {w0} mit der Lernrate {lr}: Er {verdict}, der Verlust am Ende "
               "ist {loss} bei w = {w}.",
    "alt.still": "{verdict}",
    "alt.part": "{lr}: {verdict}, Verlust {loss}",
    "alt.many": "Bälle rollen die Verlustkurve hinab ({where}), ab w = {w0}, bei "
                "{count} Lernraten nebeneinander: {parts}.",
})


@dataclass(frozen=True)
class DescentData:
    """The runs the panels replay, all on one landscape.

    landscape  the landscape's name (core.get_landscape)
    runs       one recorded Descent per panel, in the order given
    presets    the preset each run's learning rate came from, or None
    """

    landscape: str
    runs: tuple[core.Descent, ...]
    presets: tuple[str | None, ...]


def prepare(values: dict) -> DescentData:
    landscape, runs, presets = descents(values)
    return DescentData(landscape, tuple(runs), tuple(presets))


def verdict(run: core.Descent) -> str:
    """How `run` ended, in the words being spoken: "arrived in 12 steps"."""
    kind, steps = run.outcome()
    key = f"verdict.{kind}"
    if steps == 1 and f"{key}.one" in WORDS:
        key += ".one"
    return WORDS(key, steps=steps)


def _said(run: core.Descent) -> str:
    """The verdict as the alt text's sentence says it: "it is still crawling ..."."""
    v = verdict(run)
    return WORDS("alt.still", verdict=v) if run.outcome()[0] in ("crawling",
                                                                  "bouncing") else v


def alt(data: DescentData) -> str:
    ls = core.get_landscape(data.landscape)
    runs = data.runs
    w0 = num(runs[0].w0)
    key = f"landscape.{ls.name}"
    where = WORDS("alt.where", formula=localise(ls.formula),
                  description=WORDS(key) if key in WORDS else ls.description,
                  w_min=num(ls.w_min))
    if len(runs) == 1:
        r = runs[0]
        return WORDS("alt.one", where=where, w0=w0, lr=num(r.lr, tiny=True),
                     verdict=_said(r), loss=loss(r.loss[-1]), w=num(r.w[-1]))
    parts = [WORDS("alt.part", lr=num(r.lr, tiny=True), verdict=verdict(r),
                   loss=loss(r.loss[-1])) for r in runs]
    return WORDS("alt.many", where=where, w0=w0, count=len(runs),
                 parts="; ".join(parts))


SCENE = SceneSpec(
    name="gradient-descent",
    description="A ball rolls down the loss valley at one or several learning rates.",
    params=descent_params(),
    prepare=prepare,
    draw="gradient_descent_draw:GradientDescent",
    alt=alt,
    words=WORDS,
    file_decides=DESCENT_FILE_DECIDES,
    twin=DescentTwin(),
)
