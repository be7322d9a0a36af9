"""The four-row truth tables of two-input logic gates."""

from __future__ import annotations

import numpy as np

INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])  # (4, 2)

_TARGETS = {
    "AND": [0, 0, 0, 1],
    "OR": [0, 1, 1, 1],
    "NAND": [1, 1, 1, 0],
    "NOR": [1, 0, 0, 0],
    "XOR": [0, 1, 1, 0],
}
GATES = tuple(_TARGETS)


def gate_data(gate: str) -> tuple[np.ndarray, np.ndarray]:
    """(inputs (4, 2), targets (4,)) for `gate` (case-insensitive)."""
    key = gate.upper()
    if key not in _TARGETS:
        raise KeyError(f"unknown gate {gate!r}; choose from {', '.join(GATES)}")
    return INPUTS.copy(), np.asarray(_TARGETS[key], dtype=float)
