"""Card of the loss-and-epochs scene: one example's squared error, the mean over
four examples, epochs as laps. It replays the same `LoopData` as training-loop.
"""

from __future__ import annotations

from neuroanim.alt import loss, num, point, trend
from neuroanim.options import NEURON_FILE_DECIDES
from neuroanim.spec import SceneSpec

from .training_loop import LoopData, loop_params, prepare


def alt(data: LoopData) -> str:
    run, st = data.run, data.step
    marks = [e for e in (10, 100, 1000, 10_000) if e < run.epochs]
    along = ", ".join(f"{loss(run.loss[e])} after {e}" for e in marks)
    return (f"Loss and epochs for a neuron learning {run.gate}: for inputs "
            f"{point(st.x)} it predicts {num(st.prediction, True)} where the target "
            f"is {num(st.target)}, an error of {num(st.error)} and a squared error of "
            f"{num(st.loss, True)}. The loss, the mean of the squared errors over the "
            f"4 examples of one epoch, {trend(run.loss[0], run.loss[-1])} over "
            f"{run.epochs} epochs" + (f" ({along})" if along else "") + ".")


SCENE = SceneSpec(
    name="loss-and-epochs",
    description="What loss (mean squared error) and an epoch are, from a real neuron run.",
    params=loop_params(),
    prepare=prepare,
    draw="loss_and_epochs_draw:LossAndEpochs",
    alt=alt,
    file_decides=NEURON_FILE_DECIDES,
)
