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
    return (f"The training loop (forward, error, backward, adjust, repeat) on one real "
            f"step of a neuron learning {run.gate}: for inputs {point(st.x)} with "
            f"target {num(st.target)} it predicts {num(st.prediction, True)} "
            f"(z = {num(st.z)}); error {num(st.error)}, squared error "
            f"{num(st.loss, True)}; gradients {num(st.grad_w[0])} and "
            f"{num(st.grad_w[1])} for the weights, {num(st.grad_b)} for the bias; "
            f"with learning rate {num(st.lr, tiny=True)} the weights go from "
            f"{num(st.w[0])} and {num(st.w[1])} to {num(st.w_new[0])} and "
            f"{num(st.w_new[1])}, the bias from {num(st.b)} to {num(st.b_new)}. "
            f"Repeated for {run.epochs} epochs, the loss "
            f"{trend(run.loss[0], run.loss[-1])}.")


SCENE = SceneSpec(
    name="training-loop",
    description="The five-stage training cycle, told as tuning a guitar, with a real step.",
    params=loop_params(),
    prepare=prepare,
    draw="training_loop_draw:TrainingLoop",
    alt=alt,
    file_decides=NEURON_FILE_DECIDES,
)
