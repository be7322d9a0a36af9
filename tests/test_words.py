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
