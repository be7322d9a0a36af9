"""The shared drawing helpers: number text, glyph layout against Text, charts."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from manim import RIGHT, Line, Scene, tempconfig

from neuroanim import draw, theme
from tests.scene_checks import layout_problems, shown_value, text_blocks


@pytest.fixture(autouse=True)
def media(tmp_path):
    """Text's SVG files go to this test's folder, in the dark theme."""
    theme.use("dark")
    with tempconfig({"media_dir": str(tmp_path), "verbosity": "ERROR"}):
        yield


def python_fixed(value: float, places: int) -> str:
    """Python's own rounding, a true minus, and no sign on a zero."""
    s = f"{value:.{places}f}"
    return (s[1:] if float(s) == 0 and s.startswith("-") else s).replace("-", "−")


# ------------------------------------------------------------------ number text
@settings(max_examples=300, deadline=None)
@given(st.floats(-1e6, 1e6), st.integers(0, 5))
def test_fmt_is_python_rounding_with_a_true_minus_and_no_negative_zero(v, places):
    s = draw.fmt(v, places)
    assert s == python_fixed(v, places), f"fmt({v}, {places}) = {s!r}"
    signed = draw.fmt(v, places, sign=True)
    assert signed == (s if s.startswith("−") else "+" + s), signed


@pytest.mark.parametrize(("value", "digits", "want"), [
    (1.0, 6, "1"), (0.0, 6, "0"), (-1.0, 6, "−1"), (0.5, 6, "0.5"), (2.0, 6, "2"),
    (1 / 60, 3, "0.0167"), (1000.0, 3, "1000"), (1e-5, 6, "0.00001")])
def test_plain_numbers_are_written_as_people_write_them(value, digits, want):
    assert draw.plain(value, digits) == want


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-1e300, max_value=1e300, allow_nan=False))
def test_every_readable_number_fits_nine_glyphs_and_reads_back(v):
    text = draw.readable(v)
    assert len(text) <= 9, f"{text!r} is too long for a panel readout"
    assert set(text) <= set(draw.NUMBER_GLYPHS), f"{text!r} has a glyph not drawn"
    if "×10" in text:  # half a unit in the mantissa's last shown digit
        mant, exp = text.replace("−", "-").split("×10")
        shown = len(mant.split(".")[1]) if "." in mant else 0
        power = int(exp.translate(str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")))
        tol = 0.5001 * 10.0 ** (power - shown)
    else:
        tol = 5e-4 if abs(v) < 1e3 else 0.05
    assert abs(shown_value(text) - v) <= tol, f"{text!r} does not read as {v}"


@pytest.mark.parametrize(("step", "want"), [(2.0, ["−2", "0", "2", "4"]),
                                            (2.5, ["−2.5", "0.0", "2.5", "5.0"]),
                                            (0.25, ["−0.25", "0.00", "0.25", "0.50"])])
def test_tick_labels_carry_just_the_decimals_their_step_needs(step, want):
    got = [draw.tick_text(v, step) for v in draw.tick_values(-step, 2 * step, step)]
    assert got == want


@settings(max_examples=300, deadline=None)
@given(st.floats(1e-6, 1e9), st.integers(1, 10), st.booleans())
def test_nice_steps_are_round_and_give_about_the_asked_tick_count(span, target, whole):
    step = draw.nice_step(span, target, whole)
    mantissa = step / 10.0 ** math.floor(math.log10(step) + 1e-12)
    assert min(abs(mantissa - m) for m in (1, 2, 2.5, 5, 10)) < 1e-9, step
    if whole:
        assert step >= 1 and step == round(step), f"{step} is not a whole step"
    if not whole or span / target >= 1:
        intervals = span / step
        assert target / 2.5 - 1e-9 < intervals <= target * 1.001 + 1e-9, (
            f"span {span} / step {step} = {intervals} intervals for target {target}")


@settings(max_examples=200, deadline=None)
@given(st.floats(1e-6, 1e9))
def test_nice_top_covers_the_peak_by_less_than_one_step(peak):
    top, step = draw.nice_top(peak)
    # A peak within 1e-9 steps over a tick counts as on it: 0.1 * 3 > 0.3.
    assert peak <= top + 1e-9 * step and top < peak + step, f"top {top}, peak {peak}"
    assert abs(top / step - round(top / step)) < 1e-6, f"{top} not a multiple of {step}"


# ------------------------------------------------------------- glyph outlines
def text_points(t) -> np.ndarray:
    """All outline points of a mobject, relative to its bounding box's corner."""
    pts = np.concatenate([g.points for g in t.family_members_with_points()])
    return pts - t.get_corner(np.array([-1, -1, 0]))


@pytest.mark.parametrize("s", ["0.25", "1000", "−9.50", "+6.27", "1.67×10⁵",
                               "−1,234.5"])
def test_glyph_numbers_are_laid_out_exactly_as_text(s):
    want = text_points(draw.tx(s, draw.SMALL))
    for m in (draw.number(size=draw.SMALL).set_text(s), draw.label(s, draw.SMALL)):
        inked = m.points[4:] if isinstance(m, draw.GlyphNumber) else m.points
        got = inked - np.min(inked, axis=0) * [1, 1, 0]
        assert got.shape == want.shape and np.abs(got - want).max() < 1e-6, (
            f"{type(m).__name__} {s!r}: layout differs from Text")


def test_a_glyph_number_keeps_its_fixed_end_when_moved_scaled_and_changed():
    n = draw.number(-0.001, 2, draw.SMALL, sign=True, align=RIGHT)
    assert n.text == "+0.00", n.text
    n.place([2.0, -1.0, 0]).scale(2, about_point=[0.0, 0.0, 0.0])
    anchor = n.points[0].copy()
    assert np.allclose(anchor, [4.0, -2.0, 0]), anchor
    n.set_value(123.456)
    assert n.text == "+123.46" and n.get_value() == 123.456, n.text
    assert np.allclose(n.points[0], anchor), "the pin moved"
    ink = n.points[4:]
    width = 2 * sum(n.advance[c] for c in "+123.46")  # scaled twice
    assert ink[:, 0].max() <= anchor[0] and ink[:, 0].min() >= anchor[0] - width, (
        "a right-aligned number must end at its pin")
    assert abs(n.height - 2 * draw.number(size=draw.SMALL).set_text("+123.46").height
               ) < 1e-9, "scaling is not kept by later texts"


# ------------------------------------------------------------------------- text
def test_text_line_pieces_share_one_baseline():
    line = draw.text_line(("loss = error² = ", None), ("0.178", None, "v"),
                          ("  (gap)", None, "g"))
    label, value, paren = line
    digits = [g.get_bottom()[1] for g in value]
    letters = [g.get_bottom()[1] for ch, g in zip(label.original_text, label,
                                                  strict=True) if ch in "losser"]
    assert max(digits) - min(digits) < 0.01, "digits not on one line"
    assert abs(np.median(letters) - np.median(digits)) < 0.01, (
        f"number sits {np.median(digits) - np.median(letters):+.3f} off the baseline")
    assert label.get_right()[0] < value.get_left()[0] < paren.get_left()[0], "order"
    assert line.named == {"v": value, "g": paren}
    ref = draw.text_line(("x", None))
    draw.place_line(ref, 1.0, -2.0)
    assert abs(draw.baseline(ref[0]) + 2.0) < 1e-9 and abs(ref.get_left()[0] - 1) < 1e-9


@pytest.mark.parametrize(("text", "kw"), [
    ("jumpy gaps, kind", {"disable_ligatures": True}), ("jumpy gaps, kind", {}),
    ("office find", {})])  # the last: ligatures, fewer glyphs than letters
def test_baseline_is_where_flat_letters_stand(text, kw):
    """'k', 'i', 'n', 'd' stand on the baseline; 'j', 'y', 'g', 'p', ',' hang."""
    t = draw.tx(text, draw.BODY, **kw)
    flat = [g.get_bottom()[1] for g in t[-4:]]  # k i n d / f i n d
    assert max(flat) - min(flat) < 0.005, "premise: the last four letters stand level"
    assert abs(draw.baseline(t) - np.median(flat)) < 0.01, (
        f"baseline {draw.baseline(t):.3f}, letters stand at {np.median(flat):.3f}")


def test_wrapped_text_fits_and_keeps_every_word():
    text = "bounced in, then settled after twelve steps"
    block = draw.wrap_text(text, draw.SMALL, "#FFFFFF", 2.0)
    assert len(block) > 1 and not hasattr(block, "original_text"), "not wrapped"
    assert block.width <= 2.0 + 1e-9, block.width
    assert " ".join(t.original_text for t in block) == text


# ------------------------------------------------------------------------ charts
def test_axes_ticks_sit_at_their_values_and_move_with_the_axes():
    ax = draw.axes((-2, 6, 2), (0, 12, 5), 6.0, 3.0, "weight w", "loss")
    ax.shift([1.0, -0.5, 0])  # everything must come along
    *numbers, x_name, y_name = ax.texts
    assert [m.text for m in numbers] == ["−2", "0", "2", "4", "6", "0", "5", "10"]
    for m in numbers[:5]:
        p = ax.c2p(shown_value(m.text), 0)
        assert abs(m.get_x() - p[0]) < 1e-9 and m.get_top()[1] < p[1], m.text
    for m in numbers[5:]:
        p = ax.c2p(-2, shown_value(m.text))
        assert abs(m.get_y() - p[1]) < 1e-9 and m.get_right()[0] < p[0], m.text
    assert x_name.get_top()[1] < min(m.get_bottom()[1] for m in numbers[:5])
    assert y_name.get_right()[0] < min(m.get_left()[0] for m in numbers[5:])
    lines = [m for m in ax.get_family() if isinstance(m, Line)]
    corner, right, top = ax.c2p(-2, 0), ax.c2p(6, 0), ax.c2p(-2, 12)
    for end in (right, top):  # the L on the plot's edges, not through w = 0
        assert any(np.allclose(ln.get_start(), corner)
                   and np.allclose(ln.get_end(), end) and ln.get_stroke_opacity() > 0
                   for ln in lines), f"no edge to {end}"
    assert all(line.get_stroke_opacity() == 0 for line in ax.axes), (
        "manim's own axis lines (through 0) must not show")


def test_custom_x_ticks_and_a_name_above_the_axis():
    ticks = [(0.0, "0"), (1.0, "10"), (2.0, "100")]
    ax = draw.axes((0, 2, 2), (0, 0.3, 0.1), 4.0, 2.0, "epoch", "loss",
                   y_label_above=True, x_ticks=ticks)
    shown = [m.text for m in ax.texts]
    assert shown[:3] == ["0", "10", "100"], shown
    assert shown[3:7] == ["0.0", "0.1", "0.2", "0.3"], shown
    loss = ax.texts[-1]
    assert loss.get_bottom()[1] > ax.c2p(0, 0.3)[1], "the y name is not above the axis"


# ------------------------------------------------------- the tests' layout check
def test_the_layout_check_sees_overlaps_and_text_off_the_frame():
    """The scene layout tests prove nothing unless this check can fail."""
    scene = Scene()
    hw, hh = 8.0 * 854 / 480 / 2, 4.0
    a, b = draw.tx("forward pass"), draw.tx("measure error")
    n = draw.number(1.5)
    scene.add(a, b.move_to(a.get_center() + 0.1 * RIGHT), n.move_to([0, -2, 0]))
    blocks = text_blocks(*scene.mobjects)
    assert blocks == [a, b, n], blocks
    assert any("overlaps" in p for p in layout_problems(blocks, hw, hh)), "no overlap"
    scene.remove(b)
    assert layout_problems(text_blocks(*scene.mobjects), hw, hh) == []
    n.move_to([0, -hh, 0])
    assert any("leaves the frame" in p
               for p in layout_problems(text_blocks(*scene.mobjects), hw, hh))


def test_label_outlines_do_not_depend_on_the_render_that_made_them_first(tmp_path):
    """CI once failed when a 64x36 render ran first in a worker: Pango clipped the
    ending's glyphs at that canvas and the per-process outlines kept the clipped
    line for every later 854x480 scene."""
    line = "x1 alone: 6.27 − 9.50 = −3.23 → no, and a long tail of words"
    draw._OUTLINES.clear()
    with tempconfig({"pixel_width": 64, "pixel_height": 36,
                     "text_dir": str(tmp_path / "tiny")}):
        tiny = draw.label(line, draw.TINY)
    draw._OUTLINES.clear()
    with tempconfig({"pixel_width": 854, "pixel_height": 480,
                     "text_dir": str(tmp_path / "big")}):
        big = draw.label(line, draw.TINY)
        reference = draw.tx(line, draw.TINY)
    assert np.allclose(tiny.points, big.points)
    assert tiny.width == pytest.approx(reference.width, abs=1e-6)
