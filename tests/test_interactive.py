"""Interactive twins: the widget pages replay the recorded runs the videos replay."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from neuroanim import core, interactive, lesson, pipeline, registry
from neuroanim import render as rd
from neuroanim.cli import main
from neuroanim.core import mlp
from neuroanim.errors import UserError
from neuroanim.interactive import twins

AXE = Path(__file__).parent / "js" / "node_modules" / "axe-core" / "axe.min.js"
# Tiny runs: every epoch is shown, so the browser tests are quick.
FIGURES = {
    "descent": ("gradient-descent", {"steps": 12}),
    "clip": ("gradient-descent", {"lr": [0.5], "steps": 12}),
    "neuron": ("and-gate", {"epochs": 60}),
    "mlp": ("layers", {"epochs": 120, "gate": "XOR", "hidden": 2, "seed": 1}),
}


def model_of(text: str) -> dict:
    """The page's inlined runs, read as strict JSON (NaN or Infinity would raise)."""
    raw = re.search(r'<script type="application/json" id="model">(.*?)</script>',
                    text, re.S).group(1)

    def bad(token):
        raise ValueError(f"non-strict JSON constant {token}")

    return json.loads(raw, parse_constant=bad)


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("widgets")
    made = {}
    for key, (scene, params) in FIGURES.items():
        for theme in ("dark", "light"):
            fin = pipeline.make(scene, params, fmt="interactive", theme=theme,
                                out=out / f"{key}-{theme}.html")
            made[f"{key}-{theme}"] = fin.path
    return made


# -------------------------------------------------------------- the pages
@pytest.mark.parametrize("scene", ["gradient-descent", "and-gate", "layers"])
def test_a_default_figure_page_is_one_file_within_the_budget(scene, tmp_path):
    fin = pipeline.make(scene, {}, fmt="interactive", out=tmp_path / "w.html")
    text = fin.path.read_text(encoding="utf-8")
    assert fin.result.fmt == "interactive" and fin.result.bytes == fin.path.stat().st_size
    assert fin.result.bytes <= interactive.MAX_BYTES, f"{scene}: {fin.result.bytes} bytes"
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=\"(?!data:)", text), (
        "everything must be inlined: no file or network fetch")
    assert "http://" not in text and "https://" not in text
    doc = model_of(text)
    assert doc["schema"] == interactive.SCHEMA and doc["scene"] == scene
    assert fin.alt == registry.get(scene).alt_text(registry.prepare(
        registry.get(scene), registry.get(scene).resolve({})))


def test_identical_inputs_give_identical_bytes(tmp_path):
    a = pipeline.make("and-gate", {"epochs": 30}, fmt="interactive", out=tmp_path / "a.html")
    b = pipeline.make("and-gate", {"epochs": 30}, fmt="interactive", out=tmp_path / "b.html")
    assert a.path.read_bytes() == b.path.read_bytes()


def test_the_theme_becomes_css_custom_properties(pages):
    from neuroanim import theme

    for name, th in (("dark", theme.DARK), ("light", theme.LIGHT)):
        text = pages[f"neuron-{name}"].read_text()
        assert f"--background: {th.background};" in text
        assert f"--heat-2: {th.heat[2]};" in text and f"--lr-3: {th.lr_colors[3]};" in text


def test_the_file_is_named_html_and_html_means_interactive(tmp_path):
    spec = registry.get("and-gate")
    path = rd.output_path(spec, spec.resolve({}), "interactive", "light", None, tmp_path)
    assert path.name == "and-gate-light.html"
    assert rd.infer_format("figure.html") == "interactive"
    with pytest.raises(UserError, match=r"give a \.html file name"):
        rd.output_path(spec, spec.resolve({}), "interactive", "dark", "x.mp4")


def test_a_scene_without_a_twin_is_one_line_naming_those_with_one(tmp_path):
    with pytest.raises(UserError) as err:
        pipeline.make("training-loop", {}, fmt="interactive", out_dir=tmp_path)
    msg = str(err.value)
    assert "\n" not in msg and "training-loop has no interactive twin" in msg
    assert "and-gate, gradient-descent, layers" in msg
    res = CliRunner().invoke(main, ["render", "loss-and-epochs", "-f", "interactive",
                                    "-o", str(tmp_path) + "/"])
    assert res.exit_code == 2 and "no interactive twin" in res.output
    assert not list(tmp_path.iterdir()), "nothing is written"


def test_the_default_lessons_ask_for_the_twins():
    ch2 = lesson.default()
    asked = {f.name for f in ch2.figures if "interactive" in f.formats}
    assert asked == {"ball-learning-rates", "ball-lr-0.5", "and-gate"}
    ch3 = lesson.loads(lesson.builtin_text("chapter-3"), "chapter-3.toml")
    assert "interactive" in ch3.figure("layers-xor").formats
    for fig in (*ch2.figures, *ch3.figures):
        if "interactive" in fig.formats:
            assert registry.get(fig.scene).twin is not None, fig.name


# ------------------------------------------------- the runs and their numbers
def test_the_slider_offers_24_recorded_rates_from_crawling_to_diverging(pages):
    doc = model_of(pages["descent-dark"].read_text())
    runs = doc["runs"]
    lrs = [r["lr"] for r in runs]
    assert len(runs) == twins.DESCENT_RUNS and lrs == sorted(lrs)
    ls = core.get_landscape("bowl")
    assert {core.preset_lr(ls, p) for p in core.PRESETS} <= set(lrs)
    assert runs[0]["status"] == "crawling" and runs[-1]["status"] == "diverged"
    assert runs[doc["start"]]["preset"] == "good"
    clip = model_of(pages["clip-dark"].read_text())
    assert clip["runs"][clip["start"]]["lr"] == 0.5


def test_every_recorded_run_reproduces_with_neuroanim_train(pages, tmp_path):
    doc = model_of(pages["descent-dark"].read_text())
    for run in (doc["runs"][0], doc["runs"][-1]):
        out = tmp_path / "d.json"
        args = run["command"].split()[1:] + ["-o", str(out)]
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 0, res.output
        again = json.loads(out.read_text())
        assert again["w"] == run["w"] and again["loss"] == run["loss"], run["command"]
    gate = model_of(pages["neuron-dark"].read_text())["runs"][-1]
    out = tmp_path / "n.json"
    res = CliRunner().invoke(main, gate["command"].split()[1:] + ["-o", str(out)])
    assert res.exit_code == 0, res.output
    again = json.loads(out.read_text())
    assert [b for b in again["b"]] == gate["b"], gate["command"]


def test_the_numbers_shown_are_the_videos_readouts(pages, tmp_path):
    from neuroanim.scenes.gradient_descent_draw import GradientDescent, lane_name

    from tests import test_scene_and_gate as ag
    from tests import test_scene_layers as ly

    doc = model_of(pages["descent-dark"].read_text())
    for r in doc["runs"]:
        run = core.descend("bowl", None, r["lr"], 12)
        rows = dict(GradientDescent._panel_rows(run))
        for k in range(run.n_steps + 1):
            assert r["w_text"][k] == rows["w"](k) and r["loss_text"][k] == rows["loss"](k)
        assert lane_name(run, None) == "lr " + r["lr_text"]

    scene = ag.built(tmp_path, {"epochs": 60, "grid": 8})  # the grid: not a number
    run = next(r for r in model_of(pages["neuron-dark"].read_text())["runs"]
               if r["gate"] == "AND" and r["lr"] == 2.0)
    for k in (0, 1, 7, 33, 60):
        ag.show(scene, run["epoch"][k])
        assert scene.counter.text == run["epoch_text"][k]
        for field in ("loss", "w1", "w2", "b"):
            assert scene.readouts[field].text == run[f"{field}_text"][k], (field, k)

    layers = model_of(pages["mlp-dark"].read_text())
    scene = ly.built(tmp_path, FIGURES["mlp"][1])
    for k in (0, 5, 120):
        ly.show(scene, layers["epoch"][k])
        assert scene.counter.value.text == layers["epoch_text"][k]
        assert [v.text for v in scene.pred_values] == layers["outputs_text"][k]


def test_more_epochs_than_the_budget_show_a_subset_dense_early():
    shown = twins.frame_epochs(2000, 100)
    assert shown[0] == 0 and shown[-1] == 2000 and len(shown) <= 101
    assert np.all(np.diff(shown) > 0) and shown[10] < 20
    assert list(twins.frame_epochs(50, 100)) == list(range(51))


# ------------------------------------------------------------------ browser
@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    from tests.test_browser import chromium

    drv = chromium(tmp_path_factory.mktemp("chromium-twins"), window=None)
    drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 854, "height": 480, "deviceScaleFactor": 1, "mobile": False})
    try:
        yield drv
    finally:
        drv.quit()


def open_page(drv, path: Path) -> None:
    drv.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    drv.get(path.as_uri())
    from tests.test_browser import wait_for

    assert wait_for(drv, "return document.getElementById('widget').dataset.ready")


def fields(drv) -> dict:
    return drv.execute_script("""
      const root = document.getElementById('widget'), out = {};
      for (const e of root.querySelectorAll('[data-field]'))
        out[e.dataset.field] = {value: e.dataset.value, text: e.textContent};
      out._step = root.dataset.step; out._run = root.dataset.run;
      return out;""")


def scrub(drv, label: str, pos: int) -> None:
    drv.execute_script("""
      const l = [...document.querySelectorAll('label')].find(x => x.textContent === arguments[0]);
      const r = document.getElementById(l.htmlFor);
      r.value = arguments[1]; r.dispatchEvent(new Event('input', {bubbles: true}));""",
                       label, pos)


def control(drv, label: str):
    from selenium.webdriver.common.by import By

    for lab in drv.find_elements(By.TAG_NAME, "label"):
        if lab.text == label:
            return drv.find_element(By.ID, lab.get_attribute("for"))
    raise AssertionError(f"no control labelled {label!r}")


def button(drv, text: str):
    from selenium.webdriver.common.by import By

    return next(b for b in drv.find_elements(By.TAG_NAME, "button") if b.text == text)


@pytest.mark.browser
def test_every_widget_loads_from_file_without_console_errors(driver, pages):
    for name, path in pages.items():
        driver.get_log("browser")
        open_page(driver, path)
        errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
        assert not errors, f"{name}: {errors}"
        shown = fields(driver)
        assert shown["_step"] == "0" and "NaN" not in driver.find_element(
            "tag name", "body").text


@pytest.mark.browser
def test_scrubbing_the_steps_shows_the_recorded_descent(driver, pages):
    open_page(driver, pages["descent-dark"])
    doc = model_of(pages["descent-dark"].read_text())
    lr = doc["runs"][doc["start"]]["lr"]
    run = core.descend("bowl", None, lr, 12)  # the trajectory, trained again here
    for k in (3, 0, 7, 12):
        scrub(driver, "step", k)
        f = fields(driver)
        assert f["_step"] == str(k) and f["step"]["value"] == str(k)
        assert float(f["w"]["value"]) == run.w[k] and float(f["loss"]["value"]) == run.loss[k]
        assert float(f["lr"]["value"]) == lr


@pytest.mark.browser
def test_the_learning_rate_slider_switches_runs_and_a_diverged_one_shows_its_badge(
        driver, pages):
    open_page(driver, pages["descent-light"])
    doc = model_of(pages["descent-light"].read_text())
    last = len(doc["runs"]) - 1
    scrub(driver, "learning rate", last)
    f = fields(driver)
    r = doc["runs"][last]
    assert f["_run"] == str(last) and float(f["lr"]["value"]) == r["lr"]
    assert f["lr"]["text"] == r["lr_text"] and r["status"] == "diverged"
    scrub(driver, "step", 99)  # past the end: the last recorded step
    f = fields(driver)
    run = core.descend("bowl", None, r["lr"], 12)
    assert f["_step"] == str(run.n_steps) and float(f["w"]["value"]) == run.w[-1]
    badge = driver.execute_script("const b = document.querySelector('.badge');"
                                  "return b.hidden ? null : b.textContent")
    assert badge == "diverged"
    assert "NaN" not in driver.find_element("tag name", "body").text


@pytest.mark.browser
def test_the_trainer_shows_the_recorded_epochs_for_every_gate_and_rate(driver, pages):
    open_page(driver, pages["neuron-dark"])
    for gate, lr in (("AND", "2"), ("XOR", "8"), ("NOR", "0.5")):
        driver.execute_script("""
          for (const [label, v] of [['gate', arguments[0]], ['learning rate', arguments[1]]]) {
            const l = [...document.querySelectorAll('label')].find(x => x.textContent === label);
            const s = document.getElementById(l.htmlFor);
            s.value = v; s.dispatchEvent(new Event('change', {bubbles: true}));
          }""", gate, lr)
        run = core.train_neuron(gate, lr=float(lr), epochs=60, seed=0)
        for e in (0, 9, 60):
            scrub(driver, "epoch", e)
            f = fields(driver)
            assert f["gate"]["value"] == gate and float(f["lr"]["value"]) == float(lr)
            assert f["epoch"]["value"] == str(e) and f["_step"] == str(e)
            assert float(f["w1"]["value"]) == run.w[e, 0]
            assert float(f["w2"]["value"]) == run.w[e, 1]
            assert float(f["b"]["value"]) == run.b[e]
            assert float(f["loss"]["value"]) == run.loss[e]
    ending = driver.execute_script("return document.querySelector('.ending').textContent")
    assert ending.startswith("NOR"), ending


@pytest.mark.browser
def test_train_plays_to_the_end_and_reset_returns_to_step_0(driver, pages):
    from tests.test_browser import wait_for

    for name, start, last in (("neuron-dark", "Train", 60), ("descent-dark", "Drop the Ball", 12),
                              ("mlp-light", "Train", 120)):
        open_page(driver, pages[name])
        control(driver, "speed").send_keys("16")
        button(driver, start).click()
        assert wait_for(driver, "return document.getElementById('widget').dataset.step"
                                f" === '{last}'", timeout=10), name
        assert button(driver, "Play").is_displayed(), "a finished run offers Play again"
        button(driver, "Reset").click()
        assert fields(driver)["_step"] == "0", name
    run = mlp.train_mlp("XOR", hidden=2, epochs=120, seed=1)
    scrub(driver, "epoch", 77)
    f = fields(driver)
    assert float(f["loss"]["value"]) == run.loss[77]
    assert [float(f[f"output-{n}"]["value"]) for n in range(4)] == \
        run.predictions[77].tolist()


@pytest.mark.browser
def test_the_widgets_work_from_the_keyboard(driver, pages):
    from selenium.webdriver.common.keys import Keys

    open_page(driver, pages["neuron-light"])
    epoch = control(driver, "epoch")
    epoch.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    assert fields(driver)["_step"] == "3"
    epoch.send_keys(Keys.END)
    assert fields(driver)["_step"] == "60"
    gate = control(driver, "gate")
    gate.send_keys("OR")
    assert fields(driver)["gate"]["value"] == "OR"
    button(driver, "Reset").send_keys(Keys.ENTER)
    assert fields(driver)["_step"] == "0"
    # every control is a native element with a name, reachable by Tab
    unnamed = driver.execute_script("""
      return [...document.querySelectorAll('input, select, button')].filter(e =>
        !(e.labels && e.labels.length) && !e.textContent.trim() || e.tabIndex < 0)
        .map(e => e.outerHTML);""")
    assert not unnamed
    label = driver.execute_script("""
      const r = document.querySelector('input[type=range]');
      return r.type === 'range' && r.labels[0].textContent;""")
    assert label == "epoch"


@pytest.mark.browser
def test_reduced_motion_still_steps_through_the_run(driver, pages):
    from tests.test_browser import wait_for

    driver.get(pages["descent-dark"].as_uri())
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "features": [{"name": "prefers-reduced-motion", "value": "reduce"}]})
    driver.refresh()
    assert wait_for(driver, "return document.getElementById('widget').dataset.ready")
    assert driver.execute_script(
        "return matchMedia('(prefers-reduced-motion: reduce)').matches")
    control(driver, "speed").send_keys("16")
    button(driver, "Drop the Ball").click()
    seen = set()
    end = time.monotonic() + 10
    while time.monotonic() < end and "12" not in seen:
        seen.add(fields(driver)["_step"])
    assert "12" in seen


@pytest.mark.browser
@pytest.mark.parametrize("name", ["descent-dark", "neuron-light", "mlp-dark", "clip-light"])
def test_axe_finds_no_serious_accessibility_violation(driver, pages, name):
    assert AXE.is_file(), "axe-core missing: run `npm install --prefix tests/js`"
    open_page(driver, pages[name])
    scrub(driver, "epoch" if "neuron" in name or "mlp" in name else "step", 5)
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    driver.set_script_timeout(30)
    result = driver.execute_async_script("""
      const done = arguments[arguments.length - 1];
      axe.run(document).then(r => done(r.violations.map(v =>
        ({id: v.id, impact: v.impact, nodes: v.nodes.length}))));""")
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name}: {bad}"
