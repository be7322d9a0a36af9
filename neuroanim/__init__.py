"""neuroanim: turn a neural network's real training run into lesson animations."""

from __future__ import annotations

__version__ = "0.1.0"
