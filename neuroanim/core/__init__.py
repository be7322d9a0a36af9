"""The numpy training core: landscapes, descent, a sigmoid neuron (never manim)."""

from .datasets import GATES, INPUTS, gate_data
from .descent import PRESETS, STATUSES, Descent, descend, preset_lr
from .landscapes import DEFAULT_LANDSCAPE, LANDSCAPES, Landscape, get_landscape
from .neuron import (
    DEFAULT_EPOCHS,
    DEFAULT_LR,
    MAX_EPOCHS,
    MODES,
    NeuronRun,
    TrainingStep,
    dissect_step,
    loss_and_grad,
    output_grid,
    predict,
    sigmoid,
    train_neuron,
)

__all__ = [
    "DEFAULT_EPOCHS",
    "DEFAULT_LANDSCAPE",
    "DEFAULT_LR",
    "GATES",
    "INPUTS",
    "LANDSCAPES",
    "MAX_EPOCHS",
    "MODES",
    "PRESETS",
    "STATUSES",
    "Descent",
    "Landscape",
    "NeuronRun",
    "TrainingStep",
    "descend",
    "dissect_step",
    "gate_data",
    "get_landscape",
    "loss_and_grad",
    "output_grid",
    "predict",
    "preset_lr",
    "sigmoid",
    "train_neuron",
]
