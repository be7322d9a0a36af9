"""`Text` without the general SVG parser: Pango's own output read directly.

manim turns a `Text` into outlines by having Pango write an SVG and parsing it
with svgelements: ~60 ms a line at 854x480, most of it parsing the same glyph
paths again for every use and building a group per element. Pango (through
Cairo's SVG surface) writes one narrow dialect: glyphs as `<symbol>`s holding a
`<path>` of absolute M/L/C/Z commands, placed by `<use x= y=>` inside `<g>`s
styled `fill:rgb(r%,g%,b%);fill-opacity:a;`. `FastText` reads that dialect
with one regular expression per glyph, builds each glyph's points once per
file, and gives manim the same submobjects, point for point, that
svgelements would have (tests compare them on many strings). Any file outside
the dialect goes to manim's own parser.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
from manim import RIGHT, Text, VMobject
from manim.mobject.svg.svg_mobject import VMobjectFromSVGPath

SVG = "{http://www.w3.org/2000/svg}"
HREF = "{http://www.w3.org/1999/xlink}href"
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_TOKEN = re.compile(r"([MLCZ])([^MLCZ]*)")
_STYLE = re.compile(r"^fill:rgb\(([\d.]+)%,([\d.]+)%,([\d.]+)%\);fill-opacity:([\d.]+);$")


_PATHS: dict[str, np.ndarray] = {}  # glyph path -> points, kept per process
_PATHS_KEPT = 5000


class Unsupported(ValueError):
    """The file is outside Pango's dialect: parse it the general way."""


def path_points(d: str) -> np.ndarray:
    """An absolute M/L/C/Z path as manim's cubic points (y still down), the
    way `VMobjectFromSVGPath.handle_commands` builds them."""
    out: list = []
    start = pen = None
    rest = _TOKEN.sub("", d).strip()
    if rest:
        raise Unsupported(f"path commands {rest[:20]!r}")
    for cmd, args in _TOKEN.findall(d):
        nums = [float(x) for x in _NUMBER.findall(args)]
        if cmd == "M":
            if len(nums) != 2:
                raise Unsupported("M with other than one point")
            start = pen = (nums[0], nums[1])
        elif cmd == "L":
            if len(nums) % 2 or not nums or pen is None:
                raise Unsupported("bad L")
            for i in range(0, len(nums), 2):
                end = (nums[i], nums[i + 1])
                out.append((pen, end, None))
                pen = end
        elif cmd == "C":
            if len(nums) % 6 or not nums or pen is None:
                raise Unsupported("bad C")
            for i in range(0, len(nums), 6):
                c1, c2, end = (nums[i], nums[i + 1]), (nums[i + 2], nums[i + 3]), \
                    (nums[i + 4], nums[i + 5])
                out.append((pen, end, (c1, c2)))
                pen = end
        else:  # Z
            if nums or pen is None:
                raise Unsupported("bad Z")
            if np.hypot(pen[0] - start[0], pen[1] - start[1]) > 0.0001:
                out.append((pen, start, None))
            pen = start
    pts = np.empty((4 * len(out), 3))
    pts[:, 2] = 0.0
    for i, (a, b, ctrl) in enumerate(out):
        a_, b_ = np.array(a), np.array(b)
        pts[4 * i, :2] = a_
        pts[4 * i + 3, :2] = b_
        if ctrl is None:  # a line as manim writes one: thirds of the way
            pts[4 * i + 1, :2] = (a_ + a_ + b_) / 3
            pts[4 * i + 2, :2] = (a_ + b_ + b_) / 3
        else:
            pts[4 * i + 1, :2] = ctrl[0]
            pts[4 * i + 2, :2] = ctrl[1]
    return pts


class _Glyph(VMobjectFromSVGPath):
    """A glyph's outline as svgelements' path would have made it."""

    def __init__(self, points: np.ndarray, **kwargs) -> None:
        self._ready = points
        self.path_obj = None
        self.long_lines = kwargs.pop("long_lines", False)
        self.should_subdivide_sharp_curves = kwargs.pop(
            "should_subdivide_sharp_curves", False)
        self.should_remove_null_curves = kwargs.pop("should_remove_null_curves", False)
        VMobject.__init__(self, **kwargs)

    def generate_points(self):
        self.points = self._ready
        return self


def _hex(style: str) -> tuple[str, float]:
    m = _STYLE.match(style.replace(" ", ""))
    if m is None:
        raise Unsupported(f"style {style!r}")
    r, g, b, a = (float(x) for x in m.groups())
    # svgelements reads a percentage as round(p * 255 / 100)
    return "#" + "".join(f"{int(round(c * 255 / 100)) & 0xFF:02X}" for c in (r, g, b)), a


def _glyphs(path: str) -> list[tuple[np.ndarray, str, float]]:
    """[(points in px, y down, fill hex, fill opacity)] of every placed glyph."""
    root = ET.parse(path).getroot()
    if root.tag != f"{SVG}svg" or root.get("viewBox") is None:
        raise Unsupported("no svg root with a viewBox")
    w, h = root.get("width", ""), root.get("height", "")
    vb = [float(x) for x in root.get("viewBox").split()]
    if not (w.endswith("pt") and h.endswith("pt")) or vb[:2] != [0, 0] \
            or float(w[:-2]) != vb[2] or float(h[:-2]) != vb[3]:
        raise Unsupported("size and viewBox differ")
    for el in root.iter():
        if el.get("transform") is not None:
            raise Unsupported("a transform")
    symbols: dict[str, np.ndarray] = {}
    for sym in root.iter(f"{SVG}symbol"):
        kids = list(sym)
        if len(kids) != 1 or kids[0].tag != f"{SVG}path":
            raise Unsupported("a symbol that is not one path")
        style = kids[0].get("style", "").replace(" ", "")
        if style != "stroke:none;":
            raise Unsupported(f"glyph path style {style!r}")
        d = kids[0].get("d", "")
        pts = _PATHS.get(d)
        if pts is None:  # the same letters recur in every line of a scene
            pts = _PATHS[d] = path_points(d)
            if len(_PATHS) > _PATHS_KEPT:
                _PATHS.pop(next(iter(_PATHS)))
        symbols["#" + sym.get("id")] = pts
    placed: list = []
    body = [el for el in root if el.tag != f"{SVG}defs"]

    def walk(el, fill) -> None:
        tag = el.tag
        if tag == f"{SVG}g":
            if set(el.attrib) - {"id", "style"}:
                raise Unsupported("a group with other attributes")
            if el.get("style") is not None:
                fill = _hex(el.get("style"))
            for kid in el:
                walk(kid, fill)
        elif tag == f"{SVG}use":
            if set(el.attrib) - {HREF, "x", "y"} or fill is None:
                raise Unsupported("a use with other attributes")
            pts = symbols.get(el.get(HREF))
            if pts is None:
                raise Unsupported("a use of no symbol")
            if len(pts):
                moved = pts.copy()
                moved[:, 0] += float(el.get("x", 0))
                moved[:, 1] += float(el.get("y", 0))
                placed.append((moved, *fill))
        else:
            raise Unsupported(f"element {tag}")

    for el in body:
        walk(el, None)
    return placed


class FastText(Text):
    """manim's `Text`, its Pango SVG read by `_glyphs` (see the module)."""

    def generate_mobject(self):
        try:
            placed = _glyphs(str(self.get_file_path()))
        except (Unsupported, ET.ParseError, ValueError):
            return super().generate_mobject()
        mobs = []
        for pts, fill, opacity in placed:
            mob = _Glyph(pts, **self.path_string_config)
            mob.set_style(stroke_width=0, fill_color=fill, fill_opacity=opacity)
            mobs.append(mob)
        self.add(*mobs)
        self.id_to_vgroup_dict = {}
        self.flip(RIGHT)  # y up
        return self
