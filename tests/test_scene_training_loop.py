"""The training-loop scene: real numbers at each stage, captions, layout, renders."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from manim import DecimalNumber, Text, VMobject, tempconfig
from manim.utils.testing.frames_comparison import frames_comparison
from PIL import Image

from neuroanim import core, theme
from neuroanim import trajectory as traj_io
from neuroanim.errors import UserError
from neuroanim.render import render
from scenes import training_loop as tl
from scenes.training_loop import TrainingLoop

__module_test__ = "test_scene_training_loop"
ROOT = Path(__file__).resolve().parents[1]
TINY = {"resolution": "160x90", "fps": 5}
STAGE_NAMES = ("Forward pass", "Measure the error", "Trace backwards", "Adjust",
               "Repeat")


# ------------------------------------------------------------------- helpers
class Checked(TrainingLoop):
    """The scene, checking after every play that no text leaves the frame or
    overlaps other text (one frame per play, so each stage's end state)."""

    def play(self, *args, **kwargs):
        super().play(*args, **kwargs)
        self.problems.extend(layout_problems(self, f"t={self.time:.1f}"))


def text_blocks(scene) -> list[VMobject]:
    """Every Text and DecimalNumber on screen (a number counts as one block)."""
    out, seen = [], set()

    def walk(m):
        if id(m) in seen:
            return
        seen.add(id(m))
        if isinstance(m, Text | DecimalNumber):
            if m.get_fill_opacity() > 0.05 and m.width > 1e-3:
                out.append(m)
            return
        for s in m.submobjects:
            walk(s)

    for m in scene.mobjects:
        walk(m)
    return out


def layout_problems(scene, when: str) -> list[str]:
    hw, hh = scene.half_w, scene.half_h
    boxes = []
    for m in text_blocks(scene):
        (x0, y0, _), (x1, y1, _) = m.get_corner([-1, -1, 0]), m.get_corner([1, 1, 0])
        boxes.append((m, (x0, x1, y0, y1)))
    bad = [f"{when}: {m!r} leaves the frame {b}" for m, b in boxes
           if b[0] < -hw + 0.05 or b[1] > hw - 0.05 or b[2] < -hh + 0.05
           or b[3] > hh - 0.05]
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1:]:
            if (ba[0] < bb[1] - 0.01 and bb[0] < ba[1] - 0.01
                    and ba[2] < bb[3] - 0.01 and bb[2] < ba[3] - 0.01):
                bad.append(f"{when}: {a!r} overlaps {b!r}")
    return bad


def build(params: dict | None, media: Path, theme_name: str = "dark") -> Checked:
    """Construct the scene (one frame per play, nothing written) at 854x480."""
    before = theme._current
    theme.use(theme_name)
    cfg = {"pixel_width": 854, "pixel_height": 480, "frame_height": 8.0,
           "frame_width": 8.0 * 854 / 480, "frame_rate": 5, "dry_run": True,
           "disable_caching": True, "verbosity": "ERROR", "progress_bar": "none",
           "media_dir": str(media)}  # text SVGs per test: workers must not share
    try:
        with tempconfig(cfg):
            scene = Checked(params=params, skip_animations=True)
            scene.problems = []
            scene.render()
    finally:
        theme._current = before
    return scene


def shown_value(text: str) -> float:
    """A number as drawn ('−0.421', '2') back to a float."""
    return float(text.replace("−", "-"))


def shown_pair(text: str) -> tuple[float, float]:
    a, b = text.strip("()").split(",")
    return shown_value(a), shown_value(b)


def decimal_text(number: DecimalNumber) -> str:
    return "".join(glyph.text for glyph in number.submobjects)


def reference(run: core.NeuronRun, example: int) -> dict:
    """One example's step worked out here from the recorded epoch-0 state alone."""
    x1, x2 = (float(v) for v in run.inputs[example])
    y = float(run.targets[example])
    w1, w2, b = float(run.w[0, 0]), float(run.w[0, 1]), float(run.b[0])
    z = w1 * x1 + w2 * x2 + b
    p = 1.0 / (1.0 + math.exp(-z))
    err = p - y
    dz = 2.0 * err * p * (1.0 - p)  # d(err^2)/dz
    return {"x": (x1, x2), "target": y, "w": (w1, w2), "b": b, "z": z,
            "prediction": p, "error": err, "loss": err**2,
            "grad_w": (dz * x1, dz * x2), "grad_b": dz, "lr": run.lr,
            "w_new": (w1 - run.lr * dz * x1, w2 - run.lr * dz * x2),
            "b_new": b - run.lr * dz}


def mse(run: core.NeuronRun, k: int) -> float:
    p = 1.0 / (1.0 + np.exp(-(run.inputs @ run.w[k] + run.b[k])))
    return float(np.mean((p - run.targets) ** 2))


@pytest.fixture(scope="module")
def default_scene(tmp_path_factory) -> Checked:
    return build(None, tmp_path_factory.mktemp("media"))


@pytest.fixture(scope="module")
def xor_file(tmp_path_factory) -> Path:
    """An XOR run trained one example at a time, replayed from a JSON file."""
    run = core.train_neuron("XOR", lr=0.5, epochs=300, seed=3, mode="per-example")
    return traj_io.save(run, tmp_path_factory.mktemp("xor") / "xor.json")


@pytest.fixture(scope="module")
def xor_scene(xor_file, tmp_path_factory) -> Checked:
    return build({"trajectory": str(xor_file), "example": 1},
                 tmp_path_factory.mktemp("media"), "light")


# ----------------------------------------------------------- numbers on screen
def check_numbers(scene: TrainingLoop, example: int) -> None:
    run = scene.data["run"]
    ref = reference(run, example)
    pairs = {"x", "w", "grad_w", "w_new"}
    exact = {"x", "target", "lr"}  # written in full: 1, 0, 2, 0.5
    for stage, names in {"forward": ("x", "target", "w", "b", "z", "prediction"),
                         "error": ("error", "loss"),
                         "backward": ("grad_w", "grad_b"),
                         "adjust": ("lr", "w_new", "b_new")}.items():
        assert set(scene.shown[stage]) == set(names), (
            f"stage {stage} shows {sorted(scene.shown[stage])}, want {sorted(names)}")
        for name in names:
            text = scene.shown[stage][name].text
            got = shown_pair(text) if name in pairs else (shown_value(text),)
            want = ref[name] if name in pairs else (ref[name],)
            tol = 0.0 if name in exact else 5e-4 + 1e-12  # three decimals, rounded
            for g, v in zip(got, want, strict=True):
                assert abs(g - v) <= tol, f"{stage}/{name}: shows {text!r}, value {v}"
            if name not in exact:
                assert all(re.fullmatch(r"−?\d+\.\d{3}", part) for part in
                           text.strip("()").split(",")), f"{name}: {text!r} not 3 dp"
    assert scene.reveals == list(tl.STAGE_KEYS), f"stages revealed {scene.reveals}"


def test_every_number_of_the_real_step_is_the_recorded_state_worked_out(default_scene):
    assert default_scene.data["step"].example == 3, "default example is (1, 1)"
    check_numbers(default_scene, 3)


def test_numbers_follow_the_options_and_a_replayed_file(xor_scene, xor_file):
    run = xor_scene.data["run"]
    saved = traj_io.load(xor_file, expect="neuron")
    assert np.array_equal(run.w, saved.w) and run.mode == "per-example"
    check_numbers(xor_scene, 1)


def test_readouts_end_on_the_trained_neurons_loss(default_scene, xor_scene):
    for scene in (default_scene, xor_scene):
        run = scene.data["run"]
        final = mse(run, run.epochs)
        assert decimal_text(scene.epoch) == str(run.epochs), decimal_text(scene.epoch)
        assert decimal_text(scene.loss) == f"{final:.4f}", (
            f"loss readout {decimal_text(scene.loss)} != final MSE {final:.6f}")


def test_the_peg_turns_by_the_size_of_each_recorded_update(default_scene):
    run = default_scene.data["run"]
    steps = [math.dist((*run.w[k], run.b[k]), (*run.w[k + 1], run.b[k + 1]))
             for k in range(3)]
    turned = default_scene.turned
    assert turned[0] == 0.0
    for k in range(3):
        assert turned[k + 1] - turned[k] == pytest.approx(steps[k], rel=1e-12), k
    first = default_scene.turn_scale * steps[0]
    assert first == pytest.approx(tl.FIRST_TURN), "first turn is not the set angle"


# ------------------------------------------------------------------ captions
def stage_sequence(captions: list[str]) -> list[str]:
    return [next((s for s in STAGE_NAMES if c.startswith(s)), "-") for c in captions]


def test_captions_walk_the_five_stages_twice_in_order(default_scene):
    caps = default_scene.captions
    seq = stage_sequence(caps)
    assert seq[1:6] == list(STAGE_NAMES), f"guitar round: {seq}"
    real = [i for i, c in enumerate(caps) if c.startswith("One real step")]
    assert len(real) == 1, caps
    assert stage_sequence(caps[real[0] + 1: real[0] + 5]) == list(STAGE_NAMES[1:]), seq
    assert "Forward pass" in caps[real[0]], caps[real[0]]
    run = default_scene.data["run"]
    want = ", ".join(f"{mse(run, k):.3f}" for k in range(4))
    assert want in caps[6], f"rounds caption {caps[6]!r} lacks the losses {want}"
    assert caps[-1].startswith("Many steps") and "has learned AND" in caps[-1]


def test_a_failed_run_is_not_called_learned(xor_scene):
    run = xor_scene.data["run"]
    p = 1.0 / (1.0 + np.exp(-(run.inputs @ run.w[-1] + run.b[-1])))
    assert np.any(np.round(p) != run.targets), "XOR should not be learned"
    assert "still gets some answers wrong" in xor_scene.captions[-1]
    assert "learned" not in xor_scene.captions[-1]


def test_no_text_overlaps_or_leaves_the_frame(default_scene, xor_scene):
    for scene in (default_scene, xor_scene):
        assert not scene.problems, "\n".join(scene.problems[:10])


# ---------------------------------------------------------------- real files
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


@pytest.mark.render
def test_mp4_with_one_caption_per_stage_in_order(tmp_path, default_scene):
    res = render("training-loop", {}, fmt="mp4", out=tmp_path / "loop.mp4", **TINY)
    with av.open(str(res.path)) as c:
        st = c.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(st)]
        assert (st.codec_context.width, st.codec_context.height) == (160, 90)
        duration = float(c.duration / 1e6)
    assert 20 <= duration <= 45, f"{duration:.1f} s, want 20-45 s"
    assert abs(len(frames) - duration * 5) <= 2, f"{len(frames)} frames in {duration}"
    assert frames[-1].std() > 10, "last frame is blank"
    assert res.captions and res.captions.is_file(), "no .srt beside the video"
    cues = parse_srt(res.captions)
    assert [text for *_, text in cues] == default_scene.captions, "captions differ"
    for (s0, e0, _), (s1, _, _) in zip(cues, cues[1:], strict=False):
        assert s0 < e0 <= s1 + 1e-6, f"cues overlap or run backwards: {cues}"
    assert cues[-1][1] <= duration + 0.1, "a caption outlasts the video"


@pytest.mark.render
def test_gif_loops_at_the_asked_size_and_rate(tmp_path):
    res = render("training-loop", {"gate": "NAND", "epochs": 40, "example": 0},
                 fmt="gif", out=tmp_path / "loop.gif", resolution="160x90", fps=5)
    with Image.open(res.path) as im:
        assert im.size == (160, 90)
        assert im.info.get("loop") == 0, "GIF does not loop forever"
        delays = []
        for i in range(im.n_frames):
            im.seek(i)
            delays.append(im.info["duration"])
    assert 20 <= sum(delays) / 1000 <= 45, f"{sum(delays) / 1000:.1f} s"
    assert set(delays) == {200}, f"frame delays {set(delays)} ms, want 200 at 5 fps"


def test_bad_options_are_one_line_user_errors(tmp_path):
    with pytest.raises(UserError, match="--example"):
        render("training-loop", {"example": 4}, fmt="png", out_dir=tmp_path)
    with pytest.raises(UserError, match="missing.json"):
        render("training-loop", {"trajectory": str(tmp_path / "missing.json")},
               fmt="png", out_dir=tmp_path)


@pytest.mark.render
def test_plain_manim_command_renders_the_defaults(tmp_path):
    cmd = [sys.executable, "-m", "manim", "render", "-s", "-ql", "--disable_caching",
           "--media_dir", str(tmp_path), "scenes/training_loop.py", "TrainingLoop"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    pngs = list(tmp_path.rglob("*.png"))
    assert pngs, f"manim wrote no PNG: {done.stdout[-500:]}"
    with Image.open(pngs[0]) as im:
        assert im.size == (854, 480)


# ------------------------------------------------------ last-frame regression
@pytest.fixture
def dark():
    theme.use("dark")


@pytest.fixture
def light():
    theme.use("light")


@pytest.mark.usefixtures("dark")
@frames_comparison(base_scene=TrainingLoop)
def test_last_frame(scene):
    TrainingLoop.construct(scene)


@pytest.mark.usefixtures("light")
@frames_comparison(base_scene=TrainingLoop)
def test_last_frame_light(scene):
    TrainingLoop.construct(scene)


# ---------------------------------------------------------------- text helpers
def test_text_line_pieces_share_one_baseline():
    theme.use("dark")
    line = tl.text_line(("loss = error² = ", None), ("0.178", None, "v"),
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
    ref = tl.text_line(("x", None))
    tl.place_line(ref, 1.0, -2.0)
    assert abs(tl.baseline(ref[0]) + 2.0) < 1e-9 and abs(ref.get_left()[0] - 1) < 1e-9


def test_the_layout_check_sees_overlaps_and_text_off_the_frame():
    """The layout test above proves nothing unless its check can fail."""
    from manim import Scene

    from neuroanim.draw import tx

    class Frame(Scene):
        half_w, half_h = 8.0 * 854 / 480 / 2, 4.0

    scene = Frame()
    a, b = tx("forward pass"), tx("measure error")
    scene.add(a, b.move_to(a.get_center() + 0.1 * np.array([1, 0, 0])))
    assert any("overlaps" in p for p in layout_problems(scene, "x")), "no overlap seen"
    scene.remove(b)
    assert layout_problems(scene, "x") == []
    a.move_to([Frame.half_w, 0, 0])
    assert any("leaves the frame" in p for p in layout_problems(scene, "x"))
