"""Card of the gradient-descent scene: the ball on the loss valley, one panel per
learning rate. No manim here; the drawing is `gradient_descent_draw.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from neuroanim import core
from neuroanim.alt import loss, num
from neuroanim.options import DESCENT_FILE_DECIDES, descent_params, descents
from neuroanim.spec import SceneSpec


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


def _is(verdict: str) -> str:
    """"still crawling after 30 steps" reads "it is still crawling ..."."""
    return f"is {verdict}" if verdict.startswith("still") else verdict


def alt(data: DescentData) -> str:
    ls = core.get_landscape(data.landscape)
    runs = data.runs
    w0 = num(runs[0].w0)
    where = f"{ls.formula}, {ls.description}, lowest at w = {num(ls.w_min)}"
    if len(runs) == 1:
        r = runs[0]
        return (f"A ball rolls down the loss curve {where}, starting at w = {w0} with "
                f"learning rate {num(r.lr, tiny=True)}: it {_is(r.verdict())}, final "
                f"loss {loss(r.loss[-1])} at w = {num(r.w[-1])}.")
    parts = [f"{num(r.lr, tiny=True)}: {r.verdict()}, loss {loss(r.loss[-1])}"
             for r in runs]
    return (f"Balls rolling down the loss curve {where}, from w = {w0} at "
            f"{len(runs)} learning rates side by side: " + "; ".join(parts) + ".")


SCENE = SceneSpec(
    name="gradient-descent",
    description="A ball rolls down the loss valley at one or several learning rates.",
    params=descent_params(),
    prepare=prepare,
    draw="gradient_descent_draw:GradientDescent",
    alt=alt,
    file_decides=DESCENT_FILE_DECIDES,
)
