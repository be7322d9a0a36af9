"""Every registered scene renders with LaTeX made unusable (no Tex, no latex binary)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import tests.tiny_scene  # noqa: F401  (registers "tiny")
from neuroanim import registry
from neuroanim import render as rd

pytestmark = pytest.mark.render
TEX_TOOLS = ("latex", "pdflatex", "xelatex", "lualatex", "dvisvgm", "dvipng")


class LatexUsed(AssertionError):
    """Raised by the patched tex writer: a scene asked manim for LaTeX."""


@pytest.fixture
def no_latex(tmp_path, monkeypatch) -> Path:
    """LaTeX unusable: manim's tex writer raises and fake tools come first on PATH.

    The fake tools fail and leave a mark, so even a subprocess call that bypasses
    manim's writer is caught (an absent binary alone might go unnoticed if a
    caller swallowed the error). Returns the mark file, which must stay absent.
    """
    import manim.mobject.text.tex_mobject as tex_mobject
    import manim.utils.tex_file_writing as tfw

    def refuse(*args, **kwargs):
        raise LatexUsed(f"LaTeX requested for {str(args[0])[:60]!r}")

    monkeypatch.setattr(tfw, "tex_to_svg_file", refuse)
    monkeypatch.setattr(tex_mobject, "tex_to_svg_file", refuse)  # imported by name
    bin_dir, mark = tmp_path / "fake-bin", tmp_path / "latex-was-called"
    bin_dir.mkdir()
    for tool in TEX_TOOLS:
        exe = bin_dir / tool
        exe.write_text(f"#!/bin/sh\necho {tool} >> '{mark}'\nexit 1\n")
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return mark


def test_the_guard_catches_latex(no_latex):
    """The fixture must really stop LaTeX, or every test below proves nothing."""
    from manim import MathTex

    with pytest.raises(LatexUsed):
        MathTex(r"\frac{1}{2}")


@pytest.mark.parametrize("name", list(registry.scenes()))
def test_scene_renders_its_last_frame_without_latex(name, no_latex, tmp_path):
    res = rd.render(name, {}, fmt="png", resolution="320x180", out_dir=tmp_path)
    assert res.path.is_file() and (res.width, res.height) == (320, 180), res
    assert not no_latex.exists(), f"{name} ran {no_latex.read_text().split()}"


@pytest.mark.parametrize("name", list(registry.scenes()))
def test_scene_renders_every_frame_without_latex(name, no_latex, tmp_path):
    """A whole (tiny, 2 fps) video: text built mid-animation by updaters too."""
    res = rd.render(name, {}, fmt="mp4", resolution="128x72", fps=2, out_dir=tmp_path)
    assert res.frames >= 1 and (res.width, res.height) == (128, 72), res
    assert not no_latex.exists(), f"{name} ran {no_latex.read_text().split()}"
