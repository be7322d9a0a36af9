"""Every word a built-in scene shows, captions or says comes from its strings
table; longer words (40 % longer English, German) still fit the frame."""

from __future__ import annotations

import re

import pytest

from neuroanim import registry, wording
from neuroanim.wording import Strings, speaking
from tests.scene_checks import checked, constructed, text_blocks

BUILT_IN = sorted(n for n, s in registry.scenes().items() if s.source == "built-in")
MARK = "¤"  # prefixed to every string of a table: a word without it did not come from it
WORD = re.compile(r"[^\W\d_]{2,}")  # two letters in a row: a word, not a number or w


def spec(name):
    return registry.get(name)


def marked(words: Strings) -> dict[str, str]:
    return {k: MARK + v for k, v in words.defaults.items()}


def scene_with(name: str, lang: str = "en", text: dict | None = None,
               params: dict | None = None, theme: str = "dark"):
    s = spec(name)
    with speaking(lang, text):
        return constructed(checked(s.scene_class()), params, theme), s


def test_every_built_in_scene_has_a_table_and_a_german_translation():
    assert BUILT_IN == ["and-gate", "gradient-descent", "layers", "loss-and-epochs",
                        "training-loop"]
    for name in BUILT_IN:
        words = spec(name).words
        assert len(words) >= 5, f"{name}: {len(words)} strings"
        assert "de" in words.languages, f"{name} has no German words"
        de = words.translations["de"]
        assert set(de) == set(words), f"{name}: German misses {set(words) - set(de)}"
        for key, text in words.defaults.items():
            assert wording.placeholders(de[key]) == wording.placeholders(text), key


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_word_on_screen_in_captions_and_alt_comes_from_the_table(name):
    s = spec(name)
    with speaking("en", marked(s.words)):
        scene = constructed(s.scene_class(), None)
        alt = s.alt_text(scene.data)
    shown = [b.text for b in text_blocks(*scene.mobjects)]
    shown += [c.content for c in scene.renderer.file_writer.subcaptions]
    loose = [t for t in shown if WORD.search(t) and MARK not in t]
    assert not loose, f"{name}: words not from its table: {loose[:8]}"
    assert MARK in alt, f"{name}: alt text not from its table: {alt!r}"


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_string_40_percent_longer_stays_in_the_frame_and_apart(name):
    scene, s = scene_with(name, "en", s_longer(name))
    assert not scene.problems, f"{name}: " + "\n".join(scene.problems[:10])


@pytest.mark.parametrize("name", BUILT_IN)
def test_german_stays_in_the_frame_and_apart(name):
    scene, s = scene_with(name, "de")
    assert not scene.problems, f"{name}: " + "\n".join(scene.problems[:10])
    shown = " ".join(b.text for b in text_blocks(*scene.mobjects))
    english = [v for k, v in s.words.defaults.items()
               if WORD.search(v) and s.words.translations["de"][k] != v and v in shown
               and len(v) > 3]
    assert not english, f"{name}: English left in the German frame: {english[:5]}"


def s_longer(name: str) -> dict[str, str]:
    return spec(name).words.longer(1.4)


def test_numbers_follow_the_language():
    with speaking("de"):
        assert wording.fmt(0.304) == "0,304"
        assert wording.fmt(-1.5, 2, sign=True) == "−1,50"
        assert wording.readable(1234.5) == "1.234,5"
    assert wording.fmt(0.304) == "0.304" and wording.readable(1234.5) == "1,234.5"


def test_overrides_are_checked_against_keys_and_placeholders():
    words = Strings({"title": "Gradient descent", "bounced": "bounced ({steps} steps)"})
    assert words.problems({"title": "Abstieg"}) == []
    [unknown] = words.problems({"titel": "x"})
    assert "titel" in unknown and "title, bounced" in unknown
    [missing] = words.problems({"bounced": "bounced"})
    assert "{steps}" in missing and "missing" in missing
    [extra] = words.problems({"bounced": "{steps} {stepz}"})
    assert "{stepz}" in extra and "{steps}" in extra
    [broken] = words.problems({"bounced": "{steps"})
    assert "malformed" in broken
    with speaking("en", {"bounced": "hüpft {steps}×"}):
        assert words("bounced", steps=3) == "hüpft 3×"
    assert words("bounced", steps=3) == "bounced (3 steps)"


# ----------------------------------------------------------- through builds
TINY_WORDS = '''
[defaults]
resolution = "160x90"
fps = 5

[[figure]]
name = "ring"
scene = "tiny-words"
title = "A ring"
formats = ["mp4", "png"]
'''


@pytest.fixture
def tiny_words():
    from tests import tiny_words  # registers the scene
    return tiny_words


def build_lesson(tmp_path, text: str, *args: str):
    from click.testing import CliRunner

    from neuroanim.cli import main
    path = tmp_path / "lesson.toml"
    path.write_text(text, encoding="utf-8")
    return CliRunner().invoke(main, ["build", str(path), "-o", str(tmp_path / "out"),
                                     "-j", "1", *args])


def manifest(tmp_path) -> dict:
    import json
    return json.loads((tmp_path / "out" / "manifest.json").read_text())["outputs"]


def test_a_title_override_is_in_the_text_objects_and_the_frame(tmp_path):
    import numpy as np
    from click.testing import CliRunner
    from PIL import Image

    from neuroanim.cli import main
    s = spec("loss-and-epochs")
    with speaking("en", {"title": "What loss means"}, owner=s.words):
        scene = constructed(s.scene_class(), None)
    texts = [b.text for b in text_blocks(*scene.mobjects)]
    assert "What loss means" in texts and "Loss and epochs" not in texts
    frames = {}
    for name, extra in (("plain", []), ("over", ["--text", "title=What loss means"])):
        out = tmp_path / f"{name}.png"
        res = CliRunner().invoke(main, ["render", "loss-and-epochs", "-f", "png",
                                        "--resolution", "428x240", "-o", str(out),
                                        *extra])
        assert res.exit_code == 0, res.output
        frames[name] = np.asarray(Image.open(out).convert("L")).astype(int)
    diff = np.abs(frames["plain"] - frames["over"]) > 40
    rows, cols = np.nonzero(diff)
    assert diff.sum() > 100, "the title did not change in the frame"
    assert rows.max() < 40, "more than the title changed"  # the title's band only
    res = CliRunner().invoke(main, ["render", "loss-and-epochs", "-f", "png",
                                    "--text", "titel=x", "-o", str(tmp_path / "x.png")])
    assert res.exit_code == 2 and "unknown key 'titel'" in res.output
    assert "title" in res.output and len(res.output.strip().splitlines()) == 1


@pytest.mark.parametrize("text, says", [
    ('text = { titel = "x" }', "unknown key 'titel'; known keys: title, caption.draw"),
    ('text = { "caption.draw" = "radius {r}" }', "unknown placeholder {r}"),
    ('text = { "caption.draw" = "a circle" }', "placeholder {radius} is missing"),
    ('text = { "caption.draw" = "radius {radius" }', "malformed placeholder"),
    ('language = "fr"', "'fr' is not one of en, de"),
    ('text = { de = { title = "x" } }', "does not speak 'de'"),
])
def test_a_bad_text_or_language_is_a_lesson_error_before_anything_renders(
        tmp_path, tiny_words, text, says):
    res = build_lesson(tmp_path, TINY_WORDS + text + "\n")
    assert res.exit_code == 2, res.output
    assert says in res.output, res.output
    assert not (tmp_path / "out" / "ring.mp4").exists()


def test_a_text_edit_re_renders_and_a_title_edit_only_updates_the_page(tmp_path,
                                                                      tiny_words):
    assert build_lesson(tmp_path, TINY_WORDS).exit_code == 0
    first = manifest(tmp_path)
    assert first["ring.mp4"]["alt"] == "A circle of radius 1.50 is drawn."
    edited = TINY_WORDS + 'text = { alt = "A ring, radius {radius}." }\n'
    res = build_lesson(tmp_path, edited)
    assert res.exit_code == 0, res.output
    second = manifest(tmp_path)
    assert second["ring.mp4"]["key"] != first["ring.mp4"]["key"]
    assert second["ring.mp4"]["alt"] == "A ring, radius 1.50."
    retitled = edited.replace('title = "A ring"', 'title = "Rings and circles"')
    res = build_lesson(tmp_path, retitled)
    assert res.exit_code == 0, res.output
    third = manifest(tmp_path)
    assert all(third[n]["key"] == second[n]["key"] for n in third), "title re-rendered"
    assert all(e["title"] == "Rings and circles" for e in third.values())
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "Rings and circles" in page and ">A ring<" not in page


def test_each_language_gets_its_outputs_its_words_and_a_track(tmp_path, tiny_words):
    from tests.scene_checks import parse_srt
    res = build_lesson(tmp_path, TINY_WORDS + 'languages = ["en", "de"]\n')
    assert res.exit_code == 0, res.output
    m = manifest(tmp_path)
    assert set(m) == {"ring.mp4", "ring.png", "ring.de.mp4", "ring.de.png"}
    assert m["ring.de.mp4"]["language"] == "de" and m["ring.mp4"]["language"] == "en"
    assert m["ring.de.mp4"]["alt"] == "Ein Kreis mit Radius 1,50 wird gezeichnet."
    cues = [c for *_, c in parse_srt(tmp_path / "out" / "ring.de.srt")]
    assert cues == ["ein Kreis mit Radius 1,50 entsteht", "fertig"]
    import html
    page = html.unescape((tmp_path / "out" / "index.html").read_text(encoding="utf-8"))
    snippet = page[page.index("<video controls", page.index("Video for a dark page")):]
    snippet = snippet[:snippet.index("</video>")]
    assert '<source src="ring.mp4"' in snippet and "ring.de.mp4" not in snippet
    assert '<track kind="captions" srclang="en" label="English" src="ring.vtt" ' \
           'default>' in snippet
    assert '<track kind="captions" srclang="de" label="Deutsch" src="ring.de.vtt">' \
        in snippet


@pytest.mark.render
def test_the_german_lesson_builds(tmp_path):
    from click.testing import CliRunner

    from neuroanim.cli import main
    from neuroanim.lesson import builtin_text
    runner = CliRunner()
    res = runner.invoke(main, ["init", "--language", "de", str(tmp_path / "l.toml")])
    assert res.exit_code == 0, res.output
    text = (tmp_path / "l.toml").read_text(encoding="utf-8")
    assert text == builtin_text("chapter-2-de") and 'language = "de"' in text
    small = re.sub(r'(?m)^formats = .*$', 'formats = ["png"]', text)
    small = small.replace('quality = "l"', 'quality = "l"\nresolution = "428x240"')
    (tmp_path / "l.toml").write_text(small, encoding="utf-8")
    res = runner.invoke(main, ["build", str(tmp_path / "l.toml"), "-o",
                               str(tmp_path / "out"), "-j", "2"])
    assert res.exit_code == 0, res.output
    import json
    doc = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert doc.get("language") == "de"
    entries = doc["outputs"]
    assert entries and all(e["language"] == "de" for e in entries.values())
    assert "Lernrate" in entries["and-gate.png"]["alt"]
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="de">' in page
