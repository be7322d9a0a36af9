"""Helpers the scene tests share: building scenes, layout checks, decoding files."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import av
import pytest
from manim import Mobject, tempconfig
from PIL import Image

from neuroanim import theme

ROOT = Path(__file__).resolve().parents[1]
TINY = {"resolution": "160x90", "fps": 5}  # end-to-end renders stay fast


@pytest.fixture
def dark():
    theme.use("dark")


@pytest.fixture
def light():
    theme.use("light")


def constructed(cls: type, params: dict | None = None, theme_name: str = "dark",
                size: tuple[int, int] = (854, 480)):
    """`cls(params)` after construct(), one frame per play, nothing written.

    A fresh media folder each time: manim caches Text SVGs by content, not by pixel
    size, and a tiny canvas clips long lines, so a shared cache (or one shared by
    pytest-xdist workers) would leak clipped text.
    """
    w, h = size
    media = tempfile.mkdtemp(prefix="scene-media-")
    before = theme._current
    theme.use(theme_name)
    cfg = {"pixel_width": w, "pixel_height": h, "frame_height": 8.0,
           "frame_width": 8.0 * w / h, "frame_rate": 5, "dry_run": True,
           "disable_caching": True, "verbosity": "ERROR", "progress_bar": "none",
           "media_dir": media}
    try:
        with tempconfig(cfg):
            scene = cls(params=params, skip_animations=True)
            scene.render()
    finally:
        theme._current = before
        shutil.rmtree(media, ignore_errors=True)
    return scene


def checked(cls: type) -> type:
    """`cls` recording, after every play, any text that leaves the frame or
    overlaps other text in `.problems` (one frame per play: each end state)."""

    class Checked(cls):
        def play(self, *args, **kwargs):
            super().play(*args, **kwargs)
            blocks = text_blocks(*self.mobjects)
            self.problems.extend(layout_problems(blocks, self.half_w, self.half_h,
                                                 f"t={self.time:.1f}"))

        def construct(self):
            self.problems: list[str] = []
            super().construct()

    return Checked


def text_blocks(*roots: Mobject) -> list[Mobject]:
    """Every visible piece of text under `roots`: a Text, a baked `label` or a
    GlyphNumber (each has a string `.text`) counts as one block."""
    out, seen = [], set()

    def walk(m):
        if id(m) in seen:
            return
        seen.add(id(m))
        if isinstance(getattr(m, "text", None), str):
            # a wrapped block is a VGroup of lines: its own fill says nothing
            opacity = max((s.get_fill_opacity() for s in m.family_members_with_points()),
                          default=0.0)
            if opacity > 0.05 and m.width > 1e-3:
                out.append(m)
            return
        for s in m.submobjects:
            walk(s)

    for m in roots:
        walk(m)
    return out


def box(m: Mobject) -> tuple[float, float, float, float]:
    """(left, right, bottom, top) of `m`."""
    (x0, y0, _), (x1, y1, _) = m.get_corner([-1, -1, 0]), m.get_corner([1, 1, 0])
    return x0, x1, y0, y1


def overlaps(a, b, tol: float = 0.01) -> bool:
    """Do boxes a and b share more than `tol` in both directions?"""
    return (a[0] < b[1] - tol and b[0] < a[1] - tol
            and a[2] < b[3] - tol and b[2] < a[3] - tol)


def layout_problems(blocks: list[Mobject], half_w: float, half_h: float,
                    when: str = "", margin: float = 0.05) -> list[str]:
    """Blocks closer than `margin` to the frame's edge or beyond it, and every
    overlapping pair, one line each."""
    boxes = [(m, box(m)) for m in blocks]
    bad = [f"{when}: {m!r} leaves the frame {b}" for m, b in boxes
           if b[0] < -half_w + margin or b[1] > half_w - margin
           or b[2] < -half_h + margin or b[3] > half_h - margin]
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1:]:
            if overlaps(ba, bb):
                bad.append(f"{when}: {a!r} overlaps {b!r}")
    return bad


def shown_value(text: str) -> float:
    """A number as drawn ('−0.421', '2', '−1,234.5', '1.67×10⁵') back to a float."""
    t = text.replace("−", "-").replace(",", "")
    if "×10" in t:
        mant, exp = t.split("×10")
        return float(mant) * 10.0 ** int(exp.translate(str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹",
                                                                     "0123456789")))
    return float(t)


def parse_srt(path: Path) -> list[tuple[float, float, str]]:
    def secs(t: str) -> float:
        h, m, s = t.replace(",", ".").split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    out = []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        lines = block.splitlines()
        start, end = lines[1].split(" --> ")
        out.append((secs(start), secs(end), " ".join(lines[2:])))
    return out


def gif_frames(path: Path) -> tuple[tuple[int, int], int | None, list[int]]:
    """(size, loop count, each frame's delay in ms) of a GIF, read by Pillow."""
    with Image.open(path) as im:
        delays = []
        for i in range(im.n_frames):
            im.seek(i)
            delays.append(im.info["duration"])
        return im.size, im.info.get("loop"), delays


def check_plain_manim_render(script: str, cls: str, tmp_path: Path) -> None:
    """`manim render -s -ql scenes/<script> <cls>` works with the scene's defaults."""
    cmd = [sys.executable, "-m", "manim", "render", "-s", "-ql", "--disable_caching",
           "--media_dir", str(tmp_path), f"scenes/{script}", cls]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    pngs = list(tmp_path.rglob("*.png"))
    assert pngs, f"manim wrote no PNG: {done.stdout[-500:]}"
    with Image.open(pngs[0]) as im:
        assert im.size == (854, 480), im.size


def check_captioned_video(res, captions: list[str],
                          seconds: tuple[float, float]) -> None:
    """A 160x90 mp4 at 5 fps lasting `seconds` (low, high), a non-blank last
    frame, and an .srt beside it whose cues are `captions`, in order, inside
    the video."""
    with av.open(str(res.path)) as c:
        st = c.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(st)]
        assert (st.codec_context.width, st.codec_context.height) == (160, 90)
        duration = float(c.duration / 1e6)
    assert seconds[0] <= duration <= seconds[1], f"{duration:.1f} s, want {seconds}"
    assert abs(len(frames) - duration * 5) <= 2, f"{len(frames)} frames in {duration}"
    assert frames[-1].std() > 10, "last frame is blank"
    assert res.captions and res.captions.is_file(), "no .srt beside the video"
    cues = parse_srt(res.captions)
    assert [text for *_, text in cues] == captions, "captions differ"
    for (s0, e0, _), (s1, _, _) in zip(cues, cues[1:], strict=False):
        assert s0 < e0 <= s1 + 1e-6, f"cues overlap or run backwards: {cues}"
    assert cues[-1][1] <= duration + 0.1, "a caption outlasts the video"
