"""`build --base-url` and `base_url` in a lesson: the preview page's snippets
point where the course site serves the files; the page's own media stay local."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from neuroanim import lesson, page, registry
from neuroanim.cli import main

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
       b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01"
       b"\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


class Codes(HTMLParser):
    """The text of every snippet <code>, and every src of the page itself."""

    def __init__(self):
        super().__init__()
        self.codes, self.srcs, self._in = [], [], False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "code" and (a.get("id") or "").startswith("snippet-"):
            self._in = True
            self.codes.append("")
        if tag in ("img", "source", "video") and a.get("src"):
            self.srcs.append(a["src"])

    def handle_endtag(self, tag):
        if tag == "code":
            self._in = False

    def handle_data(self, data):
        if self._in:
            self.codes[-1] += data


def a_page(tmp_path: Path, base: str | None) -> Codes:
    (tmp_path / "still.png").write_bytes(PNG)
    manifest = {"title": "t", "base_url": base, "figures": ["still"], "outputs": {
        "still.png": {"figure": "still", "scene": "and-gate", "format": "png",
                      "theme": "dark", "width": 1, "height": 1, "alt": "a still",
                      "bytes": len(PNG)}}}
    parser = Codes()
    parser.feed(page.render_index(tmp_path, manifest))
    return parser


def test_snippets_point_under_the_base_url_and_the_page_stays_local(tmp_path):
    plain = a_page(tmp_path, None)
    assert any('src="still.png"' in c for c in plain.codes), plain.codes
    based = a_page(tmp_path, "https://course.example/figures/")
    html_codes = [c for c in based.codes if c.startswith("<img")]
    assert html_codes and all(
        'src="https://course.example/figures/still.png"' in c for c in html_codes)
    md = [c for c in based.codes if c.startswith("![")]
    assert md and md[0].endswith("(https://course.example/figures/still.png)"), md
    assert based.srcs == ["still.png"], "the preview page shows the local file"
    slashless = a_page(tmp_path, "/static/figs")
    assert any('src="/static/figs/still.png"' in c for c in slashless.codes)
    hostile = a_page(tmp_path, 'x" onerror="alert(1)')
    assert any('src="still.png"' in c for c in hostile.codes), (
        "a manifest's base_url is untrusted: a bad one is ignored")


def test_the_lesson_and_the_command_line_set_it_and_bad_ones_are_refused(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = ('base_url = "https://course.example/ch2/"\n'
            '[[figure]]\nname = "g"\nscene = "and-gate"\nformats = ["png"]\n')
    assert lesson.loads(text).base_url == "https://course.example/ch2/"
    with pytest.raises(lesson.LessonError, match="base_url"):
        lesson.loads(text.replace('"https://course.example/ch2/"', '"a b"'))
    with pytest.raises(lesson.LessonError, match="base_url"):
        lesson.loads(text.replace('"https://course.example/ch2/"', "5"))
    (tmp_path / "lesson.toml").write_text(text)
    res = CliRunner().invoke(main, ["build", "-n", "--base-url", "javascript:x"])
    assert res.exit_code == 2 and "--base-url" in res.output, res.output
    assert len(re.findall(r"^Error", res.output, re.M)) == 1
    registry.use(())
