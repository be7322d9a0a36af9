"""The render pipeline, checked by decoding what it wrote (PyAV, Pillow)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

import tests.tiny_scene as tiny
from neuroanim import render as rd
from neuroanim import theme
from neuroanim.errors import UserError

W, H, FPS = 160, 90, 5
pytestmark = pytest.mark.render


def frames_for(seconds: float, fps: float) -> int:
    """Frames manim draws for the tiny scene: one per 1/fps of each play, rounded up."""
    return sum(math.ceil(t * fps - 1e-9) for t in (seconds, tiny.DONE_SECONDS))


def render_tiny(out_dir: Path, fmt: str, params: dict | None = None, **kw):
    kw.setdefault("resolution", f"{W}x{H}")
    kw.setdefault("fps", FPS)
    return rd.render("tiny", params or {}, fmt=fmt, out_dir=out_dir, **kw)


def decode(path: Path, codec: str | None = None) -> tuple[av.VideoStream, list]:
    """Every frame of a video, decoded (with `codec` forcing a decoder, e.g. alpha)."""
    with av.open(str(path)) as c:
        st = c.streams.video[0]
        info = {"codec": st.codec_context.name, "pix_fmt": st.codec_context.pix_fmt,
                "width": st.codec_context.width, "height": st.codec_context.height}
        if codec:
            ctx = av.CodecContext.create(codec, "r")
            # demux ends with an empty packet, which flushes the decoder
            frames = [f for pkt in c.demux(st) for f in ctx.decode(pkt)]
        else:
            frames = list(c.decode(st))
    return info, frames


def cache_leftovers() -> list[Path]:
    root = rd.cache_dir()
    return sorted(root.glob(f"{rd.SCRATCH_PREFIX}*")) if root.is_dir() else []


# ------------------------------------------------------------------- formats
@pytest.mark.parametrize("fmt, codec", [("mp4", "h264"), ("webm", "vp9"),
                                        ("mov", "h264")])
def test_video_formats_decode_at_the_asked_size_and_frame_count(tmp_path, fmt, codec):
    res = render_tiny(tmp_path, fmt)
    info, frames = decode(res.path)
    want = frames_for(1.0, FPS)
    assert res.path == tmp_path / f"tiny.{fmt}", res.path
    assert info["codec"] == codec, f"{fmt}: codec {info['codec']}, want {codec}"
    assert (info["width"], info["height"]) == (W, H), info
    assert len(frames) == want, f"{fmt}: decoded {len(frames)} frames, want {want}"
    assert all(f.width == W and f.height == H for f in frames), "frame size varies"
    assert res.frames == want and (res.width, res.height) == (W, H), res
    assert res.duration == pytest.approx(want / FPS, abs=1e-6), res
    assert res.fps == FPS and res.bytes == res.path.stat().st_size, res


@pytest.mark.parametrize("fps", [10, 20, 25])
def test_gif_loops_forever_with_exact_frame_delays(tmp_path, fps):
    res = render_tiny(tmp_path, "gif", fps=fps)
    with Image.open(res.path) as im:
        assert im.info.get("loop") == 0, f"loop flag {im.info.get('loop')}, want 0"
        delays = []
        for i in range(im.n_frames):
            im.seek(i)
            delays.append(im.info["duration"])
        size = im.size
    assert size == (W, H), size
    assert len(delays) == frames_for(1.0, fps), f"{len(delays)} GIF frames at {fps}"
    assert set(delays) == {1000 / fps}, f"delays {sorted(set(delays))} at {fps} fps"
    assert res.duration == pytest.approx(sum(delays) / 1000), res


def test_gif_defaults_to_20_fps_whatever_the_quality(tmp_path):
    res = rd.render("tiny", {}, fmt="gif", resolution=f"{W}x{H}", out_dir=tmp_path)
    with Image.open(res.path) as im:
        im.seek(1)
        delay = im.info["duration"]
    assert delay == 50, f"default GIF frame delay {delay} ms, want 50 (20 fps)"
    for q in rd.QUALITIES:
        assert rd.plan("gif", q, None, None, False)[2] == 20, q


def test_png_is_the_last_frame_opaque_without_transparent(tmp_path):
    res = render_tiny(tmp_path, "png")
    with Image.open(res.path) as im:
        assert im.size == (W, H), im.size
        rgba = np.asarray(im.convert("RGBA"))
    assert rgba[..., 3].min() == 255, "an opaque still has transparent pixels"
    assert (res.frames, res.duration) == (1, 0.0), res
    # The last frame shows the "done" text: light pixels inside the circle.
    bg = np.array(Image.new("RGB", (1, 1), theme.DARK.background).getpixel((0, 0)))
    centre = rgba[2 * H // 5: 3 * H // 5, 2 * W // 5: 3 * W // 5, :3].astype(int)
    assert (np.abs(centre - bg).sum(-1) > 150).any(), "no text in the last frame"


# --------------------------------------------------------------- transparency
def test_transparent_webm_carries_alpha(tmp_path):
    res = render_tiny(tmp_path, "webm", transparent=True)
    _, frames = decode(res.path, codec="libvpx-vp9")
    assert frames[0].format.name == "yuva420p", frames[0].format.name
    alpha = np.stack([f.to_ndarray(format="rgba")[..., 3] for f in frames])
    assert alpha.min() == 0, "no transparent pixel"
    assert alpha[-1].max() > 0, "the last frame is empty"


def test_transparent_mov_carries_alpha(tmp_path):
    res = render_tiny(tmp_path, "mov", transparent=True)
    info, frames = decode(res.path)
    assert "a" in info["pix_fmt"], f"mov pixel format {info['pix_fmt']} has no alpha"
    alpha = frames[-1].to_ndarray(format="rgba")[..., 3]
    assert alpha.min() == 0 and alpha.max() > 0, (alpha.min(), alpha.max())


def test_transparent_png_has_transparent_pixels(tmp_path):
    res = render_tiny(tmp_path, "png", transparent=True)
    with Image.open(res.path) as im:
        assert im.mode == "RGBA", im.mode
        alpha = np.asarray(im)[..., 3]
    assert alpha.min() == 0 and alpha.max() > 0, (alpha.min(), alpha.max())


@pytest.mark.parametrize("fmt", ["mp4", "gif"])
def test_transparent_is_refused_where_the_format_has_no_alpha(tmp_path, fmt):
    with pytest.raises(UserError, match=rf"^--transparent: {fmt} cannot carry alpha"):
        render_tiny(tmp_path, fmt, transparent=True)
    assert not any(tmp_path.iterdir()), "a refused render wrote something"


# ------------------------------------------------------------ sizes and rates
@pytest.mark.parametrize("q, want", [("l", (854, 480, 15)), ("m", (1280, 720, 30)),
                                     ("h", (1920, 1080, 60)), ("k", (3840, 2160, 60))])
def test_quality_presets_are_manims(q, want):
    assert rd.plan("mp4", q, None, None, False) == want, q


def test_fps_and_resolution_override_the_preset():
    assert rd.plan("mp4", "h", 24, "640x360", False) == (640, 360, 24.0)
    assert rd.plan("webm", "l", None, (320, 180), False) == (320, 180, 15.0)
    assert rd.plan("gif", "k", 50, None, False) == (3840, 2160, 50.0)


@pytest.mark.parametrize("fps", [51, 60, 120])
def test_gif_never_above_50_fps(fps):
    with pytest.raises(UserError, match=r"^--fps: .*at most 50"):
        rd.plan("gif", "l", fps, None, False)


@pytest.mark.parametrize("fps", [0, -5, 121, float("nan"), "fast"])
def test_bad_fps_is_refused(fps):
    with pytest.raises(UserError, match=r"^--fps: "):
        rd.plan("mp4", "l", fps, None, False)


@pytest.mark.parametrize("text", ["0x-3", "abc", "854", "854x480x2", "161x90",
                                  "160x91", "8x8", "1.5x2", "-160x90", "99999x99999",
                                  (161, 90), (0, 90)])
def test_bad_resolutions_are_refused(text):
    with pytest.raises(UserError, match=r"^--resolution: "):
        rd.parse_resolution(text)


@pytest.mark.parametrize("text, want", [("854x480", (854, 480)),
                                        ("1280X720", (1280, 720)),
                                        (" 160x90 ", (160, 90)), ((16, 16), (16, 16))])
def test_good_resolutions_parse(text, want):
    assert rd.parse_resolution(text) == want, text


def test_unknown_format_quality_and_theme_are_refused(tmp_path):
    with pytest.raises(UserError, match=r"^--format: 'avi' is not one of mp4"):
        render_tiny(tmp_path, "avi")
    with pytest.raises(UserError, match=r"^--quality: 'x'"):
        render_tiny(tmp_path, "mp4", quality="x")
    with pytest.raises(UserError, match=r"^--theme: 'pink'"):
        render_tiny(tmp_path, "mp4", theme="pink")
    assert not any(tmp_path.iterdir()), "a refused render wrote something"


# --------------------------------------------------------------------- names
def test_default_names():
    assert rd.default_name("tiny", "", "dark", "mp4") == "tiny.mp4"
    got = rd.default_name("tiny", "seconds2", "light", "gif")
    assert got == "tiny-seconds2-light.gif", got


def test_rendered_names_carry_variant_and_theme(tmp_path):
    res = render_tiny(tmp_path, "png", {"seconds": "2"}, theme="light")
    assert res.path == tmp_path / "tiny-seconds2-light.png", res.path
    assert res.path.is_file(), res.path


def test_output_to_a_file_a_folder_and_a_new_folder(tmp_path):
    spec, values = tiny.SPEC, tiny.SPEC.resolve({})
    f = rd.output_path(spec, values, "gif", "dark", tmp_path / "fig.gif")
    assert f == tmp_path / "fig.gif", f
    d = rd.output_path(spec, values, "gif", "light", tmp_path)
    assert d == tmp_path / "tiny-light.gif", d
    new = rd.output_path(spec, values, "mp4", "dark", f"{tmp_path}/new/")
    assert new == tmp_path / "new" / "tiny.mp4", new


@pytest.mark.parametrize("name, words", [("fig.gif", "ends in .gif"),
                                         ("fig", "has no extension")])
def test_output_with_the_wrong_extension_is_refused(tmp_path, name, words):
    with pytest.raises(UserError, match=rf"^-o: .*{words}, but the format is mp4"):
        render_tiny(tmp_path, "mp4", out=tmp_path / name)
    assert not any(tmp_path.iterdir()), "a refused render wrote something"


def test_format_follows_the_output_extension(tmp_path):
    res = rd.render("tiny", {}, out=tmp_path / "x.webm", resolution=f"{W}x{H}", fps=FPS)
    assert res.fmt == "webm" and decode(res.path)[0]["codec"] == "vp9", res


def test_an_output_folder_under_a_file_is_refused_before_anything(tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder")
    with pytest.raises(UserError, match=r"^-o: .*notes.txt is a file, not a folder"):
        render_tiny(tmp_path, "mp4", out=blocker / "sub" / "x.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_missing_trajectory_file_is_named_by_its_option(tmp_path):
    out = tmp_path / "renders"
    with pytest.raises(UserError, match=r"^--trajectory: .*nope.json.*does not exist"):
        rd.render("and-gate", {"trajectory": str(tmp_path / "nope.json")}, fmt="png",
                  out_dir=out)
    assert not out.exists(), "the output folder was created for a refused render"


# ------------------------------------------------------------- atomic writes
@pytest.mark.parametrize("failure, exc", [("error", RuntimeError),
                                          ("interrupt", KeyboardInterrupt),
                                          ("wrapped", KeyboardInterrupt)])
@pytest.mark.parametrize("fail", [1, 2])
def test_a_failed_render_keeps_the_previous_file(tmp_path, fail, failure, exc):
    good = render_tiny(tmp_path, "mp4")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert set(before) == {"tiny.mp4", "tiny.srt"}, set(before)
    with pytest.raises(exc):
        render_tiny(tmp_path, "mp4", out=good.path,
                    params={"fail": fail, "failure": failure})
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before, f"files changed or appeared: {set(after) ^ set(before)}"
    assert cache_leftovers() == [], f"scratch left behind: {cache_leftovers()}"


@pytest.mark.parametrize("fmt", ["mp4", "gif", "png"])
def test_a_failed_first_render_leaves_nothing(tmp_path, fmt):
    with pytest.raises(RuntimeError, match="deliberate failure"):
        render_tiny(tmp_path, fmt, {"fail": 1})
    assert list(tmp_path.iterdir()) == [], list(tmp_path.iterdir())
    assert cache_leftovers() == [], cache_leftovers()


def test_a_failed_rename_leaves_no_part_file(tmp_path, monkeypatch):
    good = render_tiny(tmp_path, "mp4")
    before = good.path.read_bytes()

    def broken(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rd.os, "replace", broken)
    with pytest.raises(OSError, match="No space"):
        render_tiny(tmp_path, "mp4", {"seconds": "0.4"}, out=good.path)
    assert good.path.read_bytes() == before, "the previous file was damaged"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.mp4", "tiny.srt"]


def test_scratch_goes_to_the_cache_never_the_output_folder(tmp_path):
    tiny.SEEN.clear()
    render_tiny(tmp_path, "mp4")
    cache = rd.cache_dir().resolve()
    dirs = [Path(d).resolve() for d in tiny.SEEN[-1]["dirs"]]
    assert all(cache in d.parents for d in dirs), f"manim dirs outside {cache}: {dirs}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.mp4", "tiny.srt"]
    assert cache_leftovers() == [], cache_leftovers()


def test_scratch_of_a_killed_process_is_swept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    stale = rd.cache_dir() / f"{rd.SCRATCH_PREFIX}{dead}-deadbeef"
    (stale / "videos").mkdir(parents=True)
    render_tiny(tmp_path, "png")
    assert not stale.exists(), "a dead process's scratch folder was kept"


# ------------------------------------------------------------------ captions
def test_captions_land_beside_the_video(tmp_path):
    res = render_tiny(tmp_path, "webm", {"seconds": "1.2"}, out=tmp_path / "a.webm")
    assert res.captions == tmp_path / "a.srt", res.captions
    text = res.captions.read_text()
    want = (f"1\n00:00:00,000 --> 00:00:01,200\n{tiny.CIRCLE_CAPTION}\n\n"
            f"2\n00:00:01,200 --> 00:00:01,600\n{tiny.DONE_CAPTION}\n")
    assert text.strip() == want.strip(), text
    still = render_tiny(tmp_path, "png")
    assert still.captions is None, "a still has no captions"


# ------------------------------------------------------ state between renders
def test_renders_in_a_row_keep_their_own_size_theme_and_config(tmp_path):
    import manim

    keys = ["pixel_width", "pixel_height", "frame_rate", "frame_width", "media_dir",
            "format", "background_color", "transparent", "disable_caching",
            "progress_bar", "verbosity", "output_file"]
    config_before = {k: manim.config[k] for k in keys}
    theme_before = theme._current
    runs = [("dark", 160, 90), ("light", 192, 108), ("dark", 128, 72),
            ("light", 160, 90)]
    tiny.SEEN.clear()
    for name, w, h in runs:
        res = render_tiny(tmp_path, "png", theme=name, resolution=(w, h))
        with Image.open(res.path) as im:
            assert im.size == (w, h), f"{name} {w}x{h}: got {im.size}"
            corner = im.convert("RGB").getpixel((0, 0))
        want = Image.new("RGB", (1, 1), theme.get(name).background).getpixel((0, 0))
        assert corner == want, f"{name}: background {corner}, want {want}"
    assert [s["theme"] for s in tiny.SEEN] == [r[0] for r in runs], tiny.SEEN
    after = {k: manim.config[k] for k in keys}
    assert after == config_before, f"manim config changed: {after}"
    assert theme._current is theme_before, "the active theme was not restored"


def test_a_failed_render_restores_theme_and_config(tmp_path):
    import manim

    width, theme_before = manim.config.pixel_width, theme._current
    with pytest.raises(RuntimeError):
        render_tiny(tmp_path, "png", {"fail": 1}, theme="light")
    assert manim.config.pixel_width == width, manim.config.pixel_width
    assert theme._current is theme_before, theme._current


def test_set_default_does_not_leak_out_of_a_render(tmp_path):
    from manim import Text

    Text.set_default(color="#FF0000")
    try:
        render_tiny(tmp_path, "png")
        assert Text("x").color.to_hex().upper() != "#FF0000", \
            "a changed Text default survived the render"
    finally:
        Text.set_default()


def test_describe_reads_a_file_it_did_not_write(tmp_path):
    path = tmp_path / "ref.mp4"
    with av.open(str(path), "w") as c:
        st = c.add_stream("libx264", rate=10)
        st.width, st.height, st.pix_fmt = 64, 48, "yuv420p"
        for i in range(12):
            img = np.full((48, 64, 3), i * 20, np.uint8)
            for pkt in st.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(pkt)
        for pkt in st.encode():
            c.mux(pkt)
    res = rd.describe(path)
    assert (res.width, res.height, res.frames) == (64, 48, 12), res
    assert res.fps == 10 and res.duration == pytest.approx(1.2, abs=0.01), res
    assert res.bytes == os.path.getsize(path), res
