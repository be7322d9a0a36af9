"""A tiny registered scene for exercising the render pipeline end to end."""

from __future__ import annotations

from manim import (
    LEFT,
    RIGHT,
    Circle,
    Create,
    FadeIn,
    RoundedRectangle,
    Square,
    VGroup,
    config,
    linear,
)

from neuroanim.draw import NeuroScene, tx
from neuroanim.params import Param
from neuroanim.registry import register
from neuroanim.spec import SceneSpec

CIRCLE_CAPTION = "a circle"
DONE_CAPTION = "done"
DONE_SECONDS = 0.4  # run time of the second play; the first takes `seconds`

# What each Tiny render saw while constructing (tests read it to check that
# manim's scratch folder, frame size and theme were set for that render).
SEEN: list[dict] = []
SCRATCH_DIRS = ("media_dir", "video_dir", "images_dir", "partial_movie_dir",
                "text_dir", "tex_dir", "log_dir", "sections_dir")


def _prepare(values: dict) -> dict:
    return {key: values[key] for key in ("seconds", "fail", "failure")}


SPEC = register(SceneSpec(
    name="tiny",
    draw="tiny_scene:Tiny",
    description="A circle drawn in a given time (test scene).",
    params=(
        Param("seconds", "float", 1.0, "how long the circle takes", low=0.2, high=10),
        Param("fail", "int", 0, "fail after this many plays (0: never; 1 is mid-way, "
              "2 after the last play, before the file is assembled)", low=0, high=2),
        Param("failure", "choice", "error", "what the failure is: an exception, "
              "Ctrl-C, or Ctrl-C wrapped in an exception (as manim's encoder does)",
              choices=("error", "interrupt", "wrapped")),
    ),
    prepare=_prepare,
))


class Tiny(NeuroScene):
    spec_name = "tiny"

    def construct(self):
        SEEN.append({
            "dirs": [str(config.get_dir(d)) for d in SCRATCH_DIRS],
            "pixel_width": config.pixel_width,
            "pixel_height": config.pixel_height,
            "theme": self.theme.name,
        })
        # Draw the circle
        c = Circle(color=self.theme.accent)
        self.play(Create(c), run_time=self.data["seconds"], subcaption=CIRCLE_CAPTION)
        self._maybe_fail(1)
        # Say it is done
        self.play(FadeIn(tx("done")), run_time=DONE_SECONDS, subcaption=DONE_CAPTION)
        self._maybe_fail(2)

    def _maybe_fail(self, plays: int) -> None:
        if self.data["fail"] != plays:
            return
        if self.data["failure"] == "interrupt":
            raise KeyboardInterrupt
        if self.data["failure"] == "wrapped":
            raise RuntimeError("Failed to open video segment") from KeyboardInterrupt()
        raise RuntimeError(f"deliberate failure after {plays} play(s)")


register(SceneSpec(
    name="fades",
    draw="tiny_scene:Fades",
    description="A panel with words on it fades in, then two shapes apart (test scene).",
    params=(),
    prepare=lambda values: {},
))


class Fades(NeuroScene):
    """Fades for `raster.Fader`: overlapping members (words on a panel), then
    members that overlap nothing."""

    spec_name = "fades"

    def construct(self):
        panel = RoundedRectangle(width=6, height=2.5, corner_radius=0.3,
                                 fill_color="#3366AA", fill_opacity=0.8,
                                 stroke_color="#FFCC00", stroke_width=4)
        words = tx("on a panel", 40).move_to(panel)
        self.play(FadeIn(VGroup(panel, words)), run_time=1, rate_func=linear)
        self.wait(0.2)
        apart = VGroup(Circle(0.6, fill_color="#CC3344", fill_opacity=1, stroke_width=0)
                       .shift(5 * LEFT),
                       Square(1.0, fill_color="#33CC88", fill_opacity=0.6, stroke_width=0)
                       .shift(5 * RIGHT))
        self.play(FadeIn(apart), run_time=1)
