"""Options shared by scenes that replay the same kind of run, and `train`'s own.

A neuron run, a two-layer network's run (mlp) and a descent run are asked for
the same way everywhere: by a scene's card, by `neuroanim train`, by an
author's scene. Declaring the options and the run they produce once here keeps
their names, ranges and messages identical. numpy only.
"""

from __future__ import annotations

from . import core
from . import trajectory as traj_io
from .core import mlp
from .errors import UserError
from .params import Param

# Seed 36 starts the neuron at prediction 0.304 for input (1, 1), target 1: the
# lesson's own example ("the correct answer is 1.0 and the network predicts 0.3"),
# so the first-half scenes can show it from a real run. It learns AND like seed 0.
LESSON_SEED = 36
NEURON_FILE_DECIDES = ("gate", "lr", "epochs", "seed", "mode")
MLP_FILE_DECIDES = ("gate", "hidden", "lr", "epochs", "seed", "mode")
DESCENT_FILE_DECIDES = ("lr", "preset", "landscape", "w0", "steps")


# -------------------------------------------------------------------- neuron
def neuron_params(seed: int = 0, trajectory: bool = True) -> tuple[Param, ...]:
    """gate, lr, epochs, seed, mode (and `trajectory`, a file to replay instead)."""
    ps = [
        Param("gate", "choice", "AND", "logic gate the neuron learns", choices=core.GATES),
        Param("lr", "float", core.DEFAULT_LR, "learning rate", low=0, low_open=True,
              high=1000),
        Param("epochs", "int", core.DEFAULT_EPOCHS, "training epochs", low=1,
              high=core.MAX_EPOCHS),
        Param("seed", "int", seed, "seed of the random initial weights", low=0,
              high=2**32 - 1),
        Param("mode", "choice", "batch", "one update per epoch (batch) or per example",
              choices=core.MODES),
    ]
    if trajectory:
        ps.append(Param("trajectory", "path", None,
                        "replay a neuron file (.json or .npz) from `neuroanim train "
                        "neuron` instead of training"))
    return tuple(ps)


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


# ----------------------------------------------------------------------- mlp
def mlp_params(seed: int = mlp.DEFAULT_SEED, trajectory: bool = True) -> tuple[Param, ...]:
    """gate, hidden, lr, epochs, seed, mode (and `trajectory`, a file to replay)."""
    ps = [
        Param("gate", "choice", "XOR", "logic gate the network learns",
              choices=core.GATES),
        Param("hidden", "int", mlp.DEFAULT_HIDDEN, "neurons in the hidden layer",
              low=mlp.MIN_HIDDEN, high=mlp.MAX_HIDDEN),
        Param("lr", "float", mlp.DEFAULT_LR, "learning rate", low=0, low_open=True,
              high=1000),
        Param("epochs", "int", mlp.DEFAULT_EPOCHS, "training epochs", low=1,
              high=mlp.MAX_EPOCHS),
        Param("seed", "int", seed, "seed of the random initial weights", low=0,
              high=2**32 - 1),
        Param("mode", "choice", "batch", "one update per epoch (batch) or per example",
              choices=mlp.MODES),
    ]
    if trajectory:
        ps.append(Param("trajectory", "path", None,
                        "replay a network file (.json or .npz) from `neuroanim train "
                        "mlp` instead of training"))
    return tuple(ps)


def mlp_run(values: dict) -> mlp.MLPRun:
    """The network run the options ask for: loaded from a file, or trained now."""
    if values.get("trajectory"):
        return traj_io.load(values["trajectory"], expect="mlp")
    try:
        return mlp.train_mlp(
            values["gate"], hidden=int(values["hidden"]), lr=values["lr"],
            epochs=int(values["epochs"]), seed=int(values["seed"]),
            mode=values["mode"],
        )
    except ValueError as exc:
        raise UserError(str(exc)) from None


# ------------------------------------------------------------------- descent
def descent_params(multiple: bool = True) -> tuple[Param, ...]:
    """lr, preset, landscape, w0, steps (and `trajectory` files to replay).

    `multiple`: several learning rates side by side (a scene); `train` takes one.
    """
    many = dict(multiple=True, default=()) if multiple else dict(default=None)
    ps = [
        Param("lr", "float", help="learning rate; repeat for side-by-side panels "
              "(default: the four presets)" if multiple else
              "learning rate (default: the good preset's)",
              low=0, low_open=True, high=1000, **many),
        Param("preset", "choice", help="a learning-rate preset derived from the "
              "curvature", choices=core.PRESETS, **many),
        Param("landscape", "choice", core.DEFAULT_LANDSCAPE, "loss landscape",
              choices=tuple(core.LANDSCAPES)),
        Param("w0", "float", None, "starting weight (default: the landscape's; "
              "within 50 plot widths of the minimum)"),
        Param("steps", "int", 30, "gradient-descent steps", low=1, high=500),
    ]
    if multiple:
        ps.append(Param("trajectory", "path", (), "replay descent files (.json or "
                        ".npz) from `neuroanim train descent`, one per panel",
                        multiple=True))
    return tuple(ps)


def check_start(ls: core.Landscape, w0: float | None) -> None:
    """`--w0` within the landscape's bound, said with the range that is allowed."""
    if w0 is not None and abs(w0 - ls.w_min) > ls.bound:
        raise UserError(
            f"--w0: {w0:g} is too far out; on {ls.name} keep it within {ls.bound:g} "
            f"of the minimum {ls.w_min:g} (from {ls.w_min - ls.bound:g} to "
            f"{ls.w_min + ls.bound:g})")


def descents(values: dict) -> tuple[str, list[core.Descent], list[str | None]]:
    """(landscape, one Descent per panel, the preset each came from or None)."""
    files = values.get("trajectory") or ()
    if files:
        runs = [traj_io.load(f, expect="descent") for f in files]
        names = {r.landscape for r in runs}
        if len(names) > 1:
            raise UserError(f"--trajectory: files use different landscapes "
                            f"({', '.join(sorted(names))})")
        return runs[0].landscape, runs, [None] * len(runs)
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
        raise UserError(f"--lr/--preset: at most 4 learning rates side by side, "
                        f"got {len(lrs)}")
    check_start(ls, values.get("w0"))
    try:
        runs = [core.descend(ls, values.get("w0"), lr, int(values["steps"]))
                for lr in lrs]
    except ValueError as exc:  # e.g. a start so far out the landscape overflows
        raise UserError(f"--w0: {exc}") from None
    return ls.name, runs, presets
