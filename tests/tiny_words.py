"""A tiny registered scene with a strings table and a German translation, for
exercising text overrides and languages through whole builds quickly."""

from __future__ import annotations

from manim import Circle, Create, FadeIn

from neuroanim.draw import NeuroScene, tx
from neuroanim.params import Param
from neuroanim.registry import register
from neuroanim.spec import SceneSpec
from neuroanim.wording import Strings, fmt

WORDS = Strings({
    "title": "A circle",
    "caption.draw": "drawing a circle of radius {radius}",
    "caption.done": "done",
    "alt": "A circle of radius {radius} is drawn.",
}, de={
    "title": "Ein Kreis",
    "caption.draw": "ein Kreis mit Radius {radius} entsteht",
    "caption.done": "fertig",
    "alt": "Ein Kreis mit Radius {radius} wird gezeichnet.",
})

SPEC = register(SceneSpec(
    name="tiny-words",
    draw="tiny_words:TinyWords",
    description="A circle and a title from a strings table (test scene).",
    params=(Param("radius", "float", 1.5, "the circle's radius", low=0.5, high=3),),
    prepare=lambda values: {"radius": values["radius"]},
    alt=lambda data: WORDS("alt", radius=fmt(data["radius"], 2)),
    words=WORDS,
))


class TinyWords(NeuroScene):
    spec_name = "tiny-words"

    def construct(self):
        r = self.data["radius"]
        self.title = tx(WORDS("title"), 40).to_edge([0, 1, 0])
        self.play(FadeIn(self.title), Create(Circle(radius=r, color=self.theme.accent)),
                  run_time=0.6, subcaption=WORDS("caption.draw", radius=fmt(r, 2)))
        self.play(self.title.animate.scale(1.0), run_time=0.4,
                  subcaption=WORDS("caption.done"))
