"""Every scene neuroanim can render: its name, options and the data it replays.

This module imports no manim: `neuroanim list`, option parsing and lesson-file
validation read it cheaply, and `prepare` turns resolved options into the
trajectories a scene replays (trained here, or loaded from `--trajectory`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import core
from . import trajectory as traj_io
from .errors import UserError
from .params import Param, resolve, variant


@dataclass(frozen=True)
class SceneSpec:
    name: str  # CLI name, e.g. "gradient-descent"
    module: str  # importable module holding the Scene class
    cls: str
    description: str
    params: tuple[Param, ...]
    prepare: Callable[[dict], dict]  # resolved options -> data for the scene
    # Options a `trajectory` file decides (it holds its own run): giving them
    # too would show one run while naming the file after another.
    file_decides: tuple[str, ...] = ()
    # The smallest frame the scene draws without losing text (Pango drops glyphs
    # on tiny canvases), and the aspect ratios its 16:9 layout fits: narrower
    # frames would cut its sides off, far wider ones leave no height for text.
    min_size: tuple[int, int] = (64, 36)
    aspect: tuple[float, float] = (1.77, 2.4)

    def check_size(self, width: int, height: int, option: str = "--resolution"):
        """UserError naming the scene's real limits for a frame it cannot draw."""
        mw, mh = self.min_size
        lo, hi = self.aspect
        if width < mw or height < mh:
            raise UserError(f"{option}: {width}x{height} is too small for {self.name}; "
                            f"it needs at least {mw}x{mh}")
        if not lo <= width / height <= hi:
            raise UserError(
                f"{option}: {width}x{height} has aspect ratio {width / height:.2f}, "
                f"but {self.name} is laid out for {lo:.2f} to {hi:.2f} (16:9 is "
                "1.78), e.g. 854x480 or 1280x720")

    def resolve(self, given: dict | None = None) -> dict:
        values = resolve(self.params, given, self.name)
        if values.get("trajectory") and self.file_decides:
            given = {k.replace("-", "_"): v for k, v in (given or {}).items()
                     if v is not None and v != ()}
            clash = [p.flag for p in self.params  # a default is no choice
                     if p.name in self.file_decides and p.name in given
                     and p.parse(given[p.name]) != p.default]
            if clash:
                raise UserError(
                    f"{', '.join(clash)}: the --trajectory file decides "
                    f"{'this' if len(clash) == 1 else 'these'} (it holds its own "
                    "run); drop them, or drop --trajectory to train a new run")
        return values

    def variant(self, values: dict) -> str:
        return variant(self.params, values)

    def scene_class(self):
        """Import the scene module (and so manim) and return the Scene class."""
        return getattr(importlib.import_module(self.module), self.cls)


# ---------------------------------------------------------------- shared options
# Seed 36 starts the neuron at prediction 0.304 for input (1, 1), target 1: the
# lesson's own example ("the correct answer is 1.0 and the network predicts 0.3"),
# so the first-half scenes can show it from a real run. It learns AND like seed 0.
LESSON_SEED = 36


def _neuron_params(example: bool, seed: int = 0) -> tuple[Param, ...]:
    ps = [
        Param("gate", "choice", "AND", "logic gate the neuron learns", choices=core.GATES),
        Param("lr", "float", core.DEFAULT_LR, "learning rate", low=0, low_open=True, high=1000),
        Param("epochs", "int", core.DEFAULT_EPOCHS, "training epochs", low=1, high=core.MAX_EPOCHS),
        Param("seed", "int", seed, "seed of the random initial weights", low=0,
              high=2**32 - 1),
        Param("mode", "choice", "batch", "one update per epoch (batch) or per example",
              choices=core.MODES),
    ]
    if example:
        ps.append(Param("example", "int", 3, "training example (0-3) of the dissected step",
                        low=0, high=3))
    ps.append(Param("trajectory", "path", None,
                    "replay a neuron file (.json or .npz) from `neuroanim train neuron` "
                    "instead of training"))
    return tuple(ps)


NEURON_FILE_DECIDES = ("gate", "lr", "epochs", "seed", "mode")


def neuron_params() -> tuple[Param, ...]:
    """The options of a neuron run (what `neuroanim train neuron` takes)."""
    return _neuron_params(example=False)


def neuron_run(values: dict) -> core.NeuronRun:
    """The neuron run the options ask for: loaded from a file, or trained now."""
    if values.get("trajectory"):
        return traj_io.load(values["trajectory"], expect="neuron")
    try:
        return core.train_neuron(
            values["gate"], lr=values["lr"], epochs=int(values["epochs"]),
            seed=int(values["seed"]), mode=values["mode"],
        )
    except ValueError as exc:
        raise UserError(str(exc)) from None


# ------------------------------------------------------------- gradient descent
def _prepare_descent(values: dict) -> dict:
    """One Descent per panel, with a label and the preset each came from."""
    files = values.get("trajectory") or ()
    if files:
        runs = [traj_io.load(f, expect="descent") for f in files]
        names = {r.landscape for r in runs}
        if len(names) > 1:
            raise UserError(f"--trajectory: files use different landscapes ({', '.join(sorted(names))})")
        return {"landscape": runs[0].landscape, "runs": runs,
                "presets": [None] * len(runs)}
    ls = core.get_landscape(values["landscape"])
    lrs = list(values.get("lr") or ())
    presets: list[str | None] = [None] * len(lrs)
    for p in values.get("preset") or ():
        lrs.append(core.preset_lr(ls, p))
        presets.append(p)
    if not lrs:
        presets = list(core.PRESETS)
        lrs = [core.preset_lr(ls, p) for p in presets]
    if len(lrs) > 4:
        raise UserError(f"--lr/--preset: at most 4 learning rates side by side, got {len(lrs)}")
    check_start(ls, values.get("w0"))
    try:
        runs = [core.descend(ls, values.get("w0"), lr, int(values["steps"])) for lr in lrs]
    except ValueError as exc:  # e.g. a start so far out the landscape overflows
        raise UserError(f"--w0: {exc}") from None
    return {"landscape": ls.name, "runs": runs, "presets": presets}


def check_start(ls: core.Landscape, w0: float | None) -> None:
    """`--w0` within the landscape's bound, said with the range that is allowed."""
    if w0 is not None and abs(w0 - ls.w_min) > ls.bound:
        raise UserError(
            f"--w0: {w0:g} is too far out; on {ls.name} keep it within {ls.bound:g} "
            f"of the minimum {ls.w_min:g} (from {ls.w_min - ls.bound:g} to "
            f"{ls.w_min + ls.bound:g})")


GRADIENT_DESCENT = SceneSpec(
    name="gradient-descent",
    module="scenes.gradient_descent",
    cls="GradientDescent",
    description="A ball rolls down the loss valley at one or several learning rates.",
    params=(
        Param("lr", "float", (), "learning rate; repeat for side-by-side panels "
              "(default: the four presets)", multiple=True, low=0, low_open=True, high=1000),
        Param("preset", "choice", (), "a learning-rate preset derived from the curvature",
              choices=core.PRESETS, multiple=True),
        Param("landscape", "choice", core.DEFAULT_LANDSCAPE, "loss landscape",
              choices=tuple(core.LANDSCAPES)),
        Param("w0", "float", None, "starting weight (default: the landscape's; "
              "within 50 plot widths of the minimum)"),
        Param("steps", "int", 30, "gradient-descent steps", low=1, high=500),
        Param("trajectory", "path", (), "replay descent files (.json or .npz) from "
              "`neuroanim train descent`, one per panel", multiple=True),
    ),
    prepare=_prepare_descent,
    file_decides=("lr", "preset", "landscape", "w0", "steps"),
)

AND_GATE = SceneSpec(
    name="and-gate",
    module="scenes.and_gate",
    cls="AndGate",
    description="A neuron learns a logic gate: its output grid converges beside the loss curve.",
    params=(*_neuron_params(example=False)[:-1],
            Param("grid", "int", 64, "heatmap resolution (cells per side)", low=4, high=512),
            _neuron_params(example=False)[-1]),
    prepare=lambda v: {"run": neuron_run(v)},
    file_decides=NEURON_FILE_DECIDES,
)


def _prepare_loop(values: dict) -> dict:
    """The run, the dissected step of `--example`, and all four examples' steps.

    `examples` holds `dissect_step(run, 0, i)` for i = 0..3: the four squared
    errors whose mean is the loss (the loss-and-epochs scene draws them).
    """
    run = neuron_run(values)
    examples = [core.dissect_step(run, 0, i) for i in range(4)]
    return {"run": run, "step": examples[int(values["example"])], "examples": examples}


TRAINING_LOOP = SceneSpec(
    name="training-loop",
    module="scenes.training_loop",
    cls="TrainingLoop",
    description="The five-stage training cycle, told as tuning a guitar, with a real step.",
    params=_neuron_params(example=True, seed=LESSON_SEED),
    prepare=_prepare_loop,
    file_decides=NEURON_FILE_DECIDES,
)

LOSS_AND_EPOCHS = SceneSpec(
    name="loss-and-epochs",
    module="scenes.loss_and_epochs",
    cls="LossAndEpochs",
    description="What loss (mean squared error) and an epoch are, from a real neuron run.",
    params=_neuron_params(example=True, seed=LESSON_SEED),
    prepare=_prepare_loop,
    file_decides=NEURON_FILE_DECIDES,
)

SCENES: dict[str, SceneSpec] = {
    s.name: s for s in (TRAINING_LOOP, LOSS_AND_EPOCHS, GRADIENT_DESCENT, AND_GATE)
}


def get(name: str) -> SceneSpec:
    if name not in SCENES:
        raise UserError(f"unknown scene {name!r}; choose from {', '.join(SCENES)}")
    return SCENES[name]


def register(spec: SceneSpec) -> SceneSpec:
    """Add a scene (tests and plug-ins); the name must be new."""
    if spec.name in SCENES and SCENES[spec.name] is not spec:
        raise ValueError(f"scene {spec.name!r} is already registered")
    SCENES[spec.name] = spec
    return spec


def trajectories(data: dict) -> list[Any]:
    """Every trajectory inside a prepared data dict (for hashing and alt text)."""
    out = []
    for v in data.values():
        items = v if isinstance(v, list) else [v]
        out.extend(x for x in items if isinstance(x, core.Descent | core.NeuronRun))
    return out
