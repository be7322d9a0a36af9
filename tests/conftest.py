"""Shared test set-up: manim's frame comparison on Debian's cairo, isolated caches."""

from __future__ import annotations

import pytest

import tests.tiny_scene  # noqa: F401  (registers the "tiny" test scene)

TINY = {"resolution": "160x90", "fps": 5}  # end-to-end renders stay fast


def pytest_addoption(parser):
    parser.addoption("--set_test", action="store_true", default=False,
                     help="write control frames for frames_comparison tests")
    parser.addoption("--show_diff", action="store_true", default=False,
                     help="show a diff when a frames_comparison test fails")


def pytest_configure(config):
    # manim skips every frame test when cairo < 1.18; Debian 12 ships 1.16 and the
    # control data is made on that same image, so compare anyway.
    import manim.utils.testing.frames_comparison as fc

    fc.MIN_CAIRO_VERSION = 0
    # Text built outside a render (block and helper tests) goes to manim's
    # default media/texts: keep that out of the checkout.
    import tempfile

    from manim import config as manim_config

    manim_config.media_dir = tempfile.mkdtemp(prefix="neuroanim-test-media-")


@pytest.fixture(autouse=True)
def _isolate(tmp_path_factory, monkeypatch):
    """Scratch files in a per-session cache; the theme reset after every test."""
    from neuroanim import theme

    monkeypatch.setenv("NEUROANIM_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    before = theme._current
    yield
    theme._current = before
