"""The numpy training core: landscapes, descent, a sigmoid neuron (never manim)."""

from .datasets import GATES, INPUTS, gate_data
from .decision import boundary_flat, boundary_segment, separable, verdicts
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
    predict_and_grad,
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
    "boundary_flat",
    "boundary_segment",
    "descend",
    "dissect_step",
    "gate_data",
    "get_landscape",
    "loss_and_grad",
    "output_grid",
    "predict",
    "predict_and_grad",
    "preset_lr",
    "separable",
    "sigmoid",
    "train_neuron",
    "verdicts",
]
