"""FastText reads Pango's SVG itself: the same outlines manim's svgelements path gives."""

from __future__ import annotations

import numpy as np
import pytest
from manim import Text

from neuroanim import glyphs

CASES = [
    ("Loss 0.2531 after epoch 12", {}),
    ("Ärger über Größe ß – −0.5", {}),
    ("two\nlines here", {}),
    ("fi fl ffi", {}),
    ("fi fl ffi", {"disable_ligatures": True}),
    ("colour words", {"t2c": {"words": "#FF0000"}, "color": "#336699"}),
    ("Bold", {"weight": "BOLD"}),
    ("  spaced  ", {}),
    ("♪ w(x) = 0.5", {"font": "DejaVu Serif"}),
]


def _same(a, b) -> None:
    fa, fb = a.family_members_with_points(), b.family_members_with_points()
    assert len(fa) == len(fb) and len(a.submobjects) == len(b.submobjects)
    for x, y in zip(fa, fb, strict=True):
        for attr in ("points", "fill_rgbas", "stroke_rgbas", "background_stroke_rgbas"):
            p, q = getattr(x, attr), getattr(y, attr)
            assert p.shape == q.shape, attr
            assert np.allclose(p, q, rtol=0, atol=1e-9), (attr, np.abs(p - q).max())
        assert (x.stroke_width, x.background_stroke_width) == \
            (y.stroke_width, y.background_stroke_width)


@pytest.mark.parametrize(("text", "kw"), CASES)
def test_fast_text_matches_manims_parser(text, kw):
    _same(Text(text, font_size=24, **kw), glyphs.FastText(text, font_size=24, **kw))


def test_a_file_outside_pangos_dialect_goes_to_manims_parser(tmp_path, monkeypatch):
    calls = []
    real = glyphs._glyphs

    def moved(path):  # the same file with a transform on its body: not the dialect
        src = open(path).read().replace('<g id="surface', '<g transform="scale(1)" id="s', 1)
        out = tmp_path / "t.svg"
        out.write_text(src)
        try:
            return real(str(out))
        except glyphs.Unsupported:
            calls.append("fallback")
            raise

    monkeypatch.setattr(glyphs, "_glyphs", moved)
    _same(Text("Fallback 42", font_size=24), glyphs.FastText("Fallback 42", font_size=24))
    assert calls == ["fallback"]


def test_path_points_close_with_a_line_only_when_open():
    pts = glyphs.path_points("M 0 0 L 3 0 L 3 3 Z M 5 5 C 6 5 6 6 5 5 Z")
    assert pts.shape == (4 * 4, 3)  # 2 lines + closing line + 1 curve (already closed)
    np.testing.assert_allclose(pts[8:12, :2], [[3, 3], [2, 2], [1, 1], [0, 0]])
    np.testing.assert_allclose(pts[12:16, :2], [[5, 5], [6, 5], [6, 6], [5, 5]])
    with pytest.raises(glyphs.Unsupported):
        glyphs.path_points("M 0 0 l 1 1")
