"""Card of the lr-race scene: the same neuron trained at several learning rates,
their loss curves racing on one chart (the tutorial's final scene).

Written from `neuroanim new-scene lr-race` in docs/writing-scenes.md. No manim
here; the drawing is lr_race_draw.py beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from neuroanim import core
from neuroanim.errors import UserError
from neuroanim.params import Param
from neuroanim.spec import SceneSpec

GATE = "AND"
MAX_RUNS = 4  # one colour each in the theme's lr_colors


@dataclass(frozen=True)
class Race:
    """What the drawing replays: one recorded run per learning rate, same start."""

    runs: tuple[core.NeuronRun, ...]

    @property
    def winner(self) -> core.NeuronRun:
        """The run with the lowest final loss."""
        return min(self.runs, key=lambda r: r.loss[-1])


def prepare(values: dict) -> Race:
    rates = values["lr"]
    if len(rates) > MAX_RUNS:
        raise UserError(f"--lr: at most {MAX_RUNS} learning rates race, "
                        f"got {len(rates)}")
    return Race(tuple(core.train_neuron(GATE, lr=lr, epochs=values["epochs"], seed=0)
                      for lr in rates))


def _list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def alt(data: Race) -> str:
    runs, best = data.runs, data.winner
    return (f"Loss curves of a neuron learning {GATE} from the same start at "
            f"learning rates {_list([f'{r.lr:g}' for r in runs])}. After "
            f"{best.epochs} epochs the losses are "
            f"{_list([f'{r.loss[-1]:.3f}' for r in runs])}: learning rate "
            f"{best.lr:g} ends lowest.")


SCENE = SceneSpec(
    name="lr-race",
    description="One neuron, several learning rates: whose loss falls fastest?",
    params=(
        Param("lr", "float", (0.5, 2.0, 8.0), "learning rates that race (repeat "
              "--lr, at most 4)", multiple=True, low=0, low_open=True, high=100),
        Param("epochs", "int", 300, "training epochs", low=1, high=5000),
    ),
    prepare=prepare,
    draw="lr_race_draw:LrRace",
    alt=alt,
    words={
        "title": "Same neuron, different learning rates",
        "caption": "All start from the same weights; only the step size differs.",
        "ending": "Learning rate {lr} ends lowest: loss {loss}",
    },
)
