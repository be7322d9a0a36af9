"""neuroanim: turn a neural network's real training run into lesson animations."""

from __future__ import annotations

__version__ = "0.1.0"


def show(scene, **options):
    """Render a draft of `scene` with `options` and display it (in Jupyter).

    Example: ``neuroanim.show("gradient-descent", lr=0.5)``.
    """
    from .notebook import show as _show

    return _show(scene, **options)
