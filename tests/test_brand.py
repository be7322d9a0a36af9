"""Authors' themes: checked colours and fonts, WCAG contrast, and their colours
and font in the pixels of a render."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from neuroanim import theme
from neuroanim.cli import main
from neuroanim.render import render

BRAND = {"base": "light", "background": "#FFF4E0", "accent": "#C0008A",
         "font": "DejaVu Serif"}


def wcag(a: str, b: str) -> float:
    """WCAG 2.x contrast, written out again from the definition."""
    def lum(h):
        c = [int(h[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_a_theme_table_is_a_base_with_changes():
    t, problems = theme.from_table("brand", BRAND)
    assert problems == [] and t.name == "brand"
    assert (t.background, t.accent, t.font) == ("#FFF4E0", "#C0008A", "DejaVu Serif")
    assert t.text == theme.LIGHT.text and t.heat == theme.LIGHT.heat
    short, _ = theme.from_table("b", {"base": "dark", "accent": "#fe0"})
    assert short.accent == "#FFEE00"


@pytest.mark.parametrize("table, says", [
    ({"accent": "#123456"}, "base must be 'dark' or 'light'"),
    ({"base": "light", "accent": "red-ish"}, "'red-ish' is not a colour"),
    ({"base": "light", "accnet": "#123456"}, "accnet: unknown key"),
    ({"base": "light", "lr_colors": ["#111111"]}, "lr_colors must be a list of 4"),
    ({"base": "light", "font": "No Such Sans 9"},
     "font 'No Such Sans 9' is not installed; `fc-list : family`"),
])
def test_bad_theme_tables_name_what_is_wrong(table, says):
    t, problems = theme.from_table("brand", table)
    assert t is None and any(says in p for p in problems), problems


def test_built_in_themes_reach_4_5_to_1_and_a_pale_text_colour_is_named():
    assert theme.legibility(theme.DARK) == [] and theme.legibility(theme.LIGHT) == []
    pale, _ = theme.from_table("pale", {"base": "light", "muted": "#8A8A8A"})
    lines = theme.legibility(pale)
    ratio = wcag("#8A8A8A", "#FFFFFF")
    assert ratio < 4.5
    assert any(f"muted #8A8A8A on background #FFFFFF has contrast {ratio:.2f}:1" in line
               for line in lines), lines
    assert all("muted" in line for line in lines)
    for a, b in (("#000000", "#FFFFFF"), ("#777777", "#FFFFFF"), ("#3FC59B", "#111318")):
        assert theme.contrast(a, b) == pytest.approx(wcag(a, b))


def test_the_theme_file_reaches_the_pixels(tmp_path):
    f = tmp_path / "brand.toml"
    f.write_text("\n".join(f'{k} = "{v}"' for k, v in BRAND.items()), encoding="utf-8")
    out = tmp_path / "b.png"
    res = CliRunner().invoke(main, ["render", "loss-and-epochs", "-f", "png",
                                    "--resolution", "428x240", "--theme-file", str(f),
                                    "-o", str(out)])
    assert res.exit_code == 0, res.output
    px = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert (px[2, 2] == [0xFF, 0xF4, 0xE0]).all(), px[2, 2]  # the brand's background
    near_accent = np.abs(px - [0xC0, 0x00, 0x8A]).sum(-1) < 30
    assert near_accent.sum() > 20, "the accent (the runner on the track) is not drawn"
    # the font: the same frame in the base theme's DejaVu Sans differs in the glyphs
    plain = render("loss-and-epochs", {}, fmt="png", theme="light",
                   out=tmp_path / "l.png", resolution=(428, 240))
    base = np.asarray(Image.open(plain.path).convert("RGB")).astype(int)
    title = (slice(5, 30), slice(5, 140))
    ink = lambda a: (np.abs(a[title] - a[2, 2]).sum(-1) > 200)  # noqa: E731
    assert (ink(px) != ink(base)).sum() > 50, "the title's glyphs did not change font"


def test_a_missing_font_is_one_line_and_exit_2(tmp_path):
    f = tmp_path / "t.toml"
    f.write_text('base = "dark"\nfont = "Comic Nonexistent"\n', encoding="utf-8")
    res = CliRunner().invoke(main, ["render", "and-gate", "-f", "png", "--theme-file",
                                    str(f), "-o", str(tmp_path / "x.png")])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "Comic Nonexistent" in lines[0] and "fc-list" in lines[0]
    assert not (tmp_path / "x.png").exists()


def test_a_low_contrast_theme_file_warns_with_the_pair_and_ratio(tmp_path):
    f = tmp_path / "pale.toml"
    f.write_text('base = "light"\nmuted = "#8A8A8A"\n', encoding="utf-8")
    res = CliRunner().invoke(main, ["render", "loss-and-epochs", "-f", "png",
                                    "--resolution", "256x144", "--theme-file", str(f),
                                    "-o", str(tmp_path / "p.png")])
    assert res.exit_code == 0, res.output
    assert "warning: theme 'pale': muted #8A8A8A on background #FFFFFF" in res.output


def test_a_lesson_theme_reaches_the_worker_and_the_page(tmp_path):
    import json

    from tests import tiny_words  # noqa: F401  (registers the scene)
    lesson = tmp_path / "lesson.toml"
    lesson.write_text('''
[defaults]
resolution = "160x90"
fps = 5

[themes.brand]
base = "dark"
background = "#203040"

[[figure]]
name = "ring"
scene = "tiny-words"
formats = ["png"]
themes = ["brand"]
''', encoding="utf-8")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["build", str(lesson), "-o", str(out), "-j", "2"])
    assert res.exit_code == 0, res.output
    px = np.asarray(Image.open(out / "ring-brand.png").convert("RGB"))
    assert (px[1, 1] == [0x20, 0x30, 0x40]).all(), px[1, 1]
    entry = json.loads((out / "manifest.json").read_text())["outputs"]["ring-brand.png"]
    assert entry["theme"] == "brand" and entry["background"] == "#203040"
    assert "background:#203040" in (out / "index.html").read_text(encoding="utf-8")
    key = entry["key"]
    lesson.write_text(lesson.read_text().replace("#203040", "#203041"))
    res = CliRunner().invoke(main, ["build", str(lesson), "-o", str(out), "-j", "1"])
    entry = json.loads((out / "manifest.json").read_text())["outputs"]["ring-brand.png"]
    assert entry["key"] != key, "a theme colour edit must re-render"
