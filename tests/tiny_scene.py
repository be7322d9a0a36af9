"""A tiny registered scene for exercising the render pipeline end to end."""

from __future__ import annotations

from manim import Circle, Create, FadeIn

from neuroanim.draw import NeuroScene, tx
from neuroanim.errors import UserError
from neuroanim.params import Param
from neuroanim.registry import SceneSpec, register


def _prepare(values: dict) -> dict:
    return {"seconds": values["seconds"], "fail": values["fail"]}


SPEC = register(SceneSpec(
    name="tiny",
    module="tests.tiny_scene",
    cls="Tiny",
    description="A circle drawn in a given time (test scene).",
    params=(
        Param("seconds", "float", 1.0, "how long the circle takes", low=0.2, high=10),
        Param("fail", "int", 0, "raise after this many plays (0: never)", low=0, high=9),
    ),
    prepare=_prepare,
))


class Tiny(NeuroScene):
    spec_name = "tiny"

    def construct(self):
        c = Circle(color=self.theme.accent)
        self.play(Create(c), run_time=self.data["seconds"], subcaption="a circle")
        if self.data["fail"]:
            raise RuntimeError("deliberate failure mid-render")
        self.play(FadeIn(tx("done")), run_time=0.4, subcaption="done")
