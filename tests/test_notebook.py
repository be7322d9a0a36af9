"""Notebook display: renders and lesson figures show themselves (`_repr_html_`),
`neuroanim.show` renders a draft; the HTML parsed and its data: URLs decoded."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

import av
import pytest
from PIL import Image

import neuroanim
from neuroanim import build, notebook, pipeline
from neuroanim import lesson as lessons
from tests.test_sites import Tree
from tests.test_web import read_vtt

pytestmark = pytest.mark.render


def data(url: str) -> bytes:
    """The bytes of a base64 data: URL (and that it is one)."""
    head, _, body = url.partition(",")
    assert head.startswith("data:") and head.endswith(";base64"), url[:40]
    return base64.b64decode(body)


def video_info(raw: bytes) -> tuple[int, int, float]:
    with av.open(io.BytesIO(raw)) as box:
        st = box.streams.video[0]
        return st.codec_context.width, st.codec_context.height, float(st.average_rate)


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> pipeline.Finished:
    out = tmp_path_factory.mktemp("notebook")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEUROANIM_CACHE", str(out.parent / "cache-notebook"))
        return pipeline.make("tiny", {"seconds": 0.4}, fmt="mp4", resolution="160x90",
                             fps=5, out_dir=out)


def test_a_finished_video_shows_with_poster_captions_and_alt(finished):
    fig = Tree(finished._repr_html_()).root
    (video,) = fig.all("video")
    assert {"controls", "playsinline"} <= set(video.attrs)
    assert video.attrs["aria-label"] == finished.alt and finished.alt
    (source,) = video.all("source")
    assert data(source.attrs["src"]) == finished.path.read_bytes()
    assert source.attrs["type"] == "video/mp4"
    poster = Image.open(io.BytesIO(data(video.attrs["poster"])))
    assert poster.size == (160, 90) and poster.format == "PNG"
    (track,) = video.all("track")
    vtt = data(track.attrs["src"]).decode()
    assert vtt == (finished.path.parent / finished.captions["vtt"]).read_text()
    assert read_vtt(vtt), "the captions have cues"
    assert track.attrs["srclang"] == "en" and "default" in track.attrs


def test_a_render_result_shows_the_file_and_a_still_its_alt(finished, tmp_path):
    html = finished.result._repr_html_()  # a bare RenderResult: poster found beside it
    (video,) = Tree(html).root.all("video")
    assert data(video.all("source")[0].attrs["src"]) == finished.path.read_bytes()
    assert data(video.attrs["poster"]) == (
        finished.path.parent / finished.poster).read_bytes()
    still = pipeline.make("tiny", {"seconds": 0.4}, fmt="png", resolution="160x90",
                          out_dir=tmp_path)
    (img,) = Tree(still._repr_html_()).root.all("img")
    assert img.attrs["alt"] == still.alt and still.alt
    assert Image.open(io.BytesIO(data(img.attrs["src"]))).size == (160, 90)


def test_a_big_file_is_linked_by_its_path_from_the_notebook(finished, monkeypatch):
    monkeypatch.setattr(notebook, "INLINE_MAX", 100)
    monkeypatch.chdir(finished.path.parent.parent)
    (video,) = Tree(finished._repr_html_()).root.all("video")
    src = video.all("source")[0].attrs["src"]
    assert not src.startswith("data:") and not os.path.isabs(src)
    assert Path(src).resolve() == finished.path.resolve()


def test_show_renders_a_small_draft_and_displays_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    shown = []
    monkeypatch.setattr(notebook, "_display", lambda obj: shown.append(obj) or True)
    assert neuroanim.show("tiny", seconds=0.4) is None
    (fin,) = shown
    assert fin.path.parent.resolve() == (tmp_path / notebook.DRAFT_DIR).resolve()
    assert fin.poster and fin.captions
    (video,) = Tree(fin._repr_html_()).root.all("video")
    assert video_info(data(video.all("source")[0].attrs["src"])) == (428, 240, 10.0)
    # Outside IPython the draft's path is printed instead.
    monkeypatch.setattr(notebook, "_display", lambda obj: False)
    neuroanim.show("tiny", seconds=0.4)
    assert capsys.readouterr().out.strip() == str(fin.path)


def test_a_lesson_figure_shows_its_build_or_else_a_draft(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lesson = lessons.loads('''
        [[figure]]
        name = "circle"
        scene = "tiny"
        title = "A circle"
        formats = ["mp4"]
        resolution = "160x90"
        fps = 5
        options = { seconds = 0.4 }
    ''', "lesson.toml", base=tmp_path)
    figure = lesson.figure("circle")
    draft = Tree(figure._repr_html_()).root
    (video,) = draft.all("video")
    assert video_info(data(video.all("source")[0].attrs["src"]))[:2] == (428, 240)
    assert draft.all("figcaption")[0].text() == "A circle"
    assert (tmp_path / notebook.DRAFT_DIR / "circle.mp4").is_file()
    report = build.build(lesson, tmp_path / "renders", jobs=1)
    assert report.ok, report.failed
    fig = Tree(figure._repr_html_()).root.all("figure")[0]
    (video,) = fig.all("video")
    built = tmp_path / "renders" / "circle.mp4"
    assert data(video.all("source")[0].attrs["src"]) == built.read_bytes()
    assert fig.all("figcaption")[0].text() == "A circle"
    assert video.all("track"), "the built captions"
