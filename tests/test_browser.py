"""The preview page and the embed snippets in a real headless Chromium."""

from __future__ import annotations

import functools
import shutil
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.test_web import build_small_set, parse_page, read_vtt

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).parent / "artifacts"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--mute-audio", "--hide-scrollbars")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("browser-set")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEUROANIM_CACHE", str(out.parent / "cache-browser-set"))
        manifest = build_small_set(out)
    return out, manifest


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    drv = chromium(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield drv
    finally:
        drv.quit()


def chromium(profile: Path, window: str | None = "1280,900"):
    """Headless Debian Chromium with a fresh profile, its console log kept."""
    for exe in (CHROMIUM, CHROMEDRIVER):
        assert Path(exe).is_file(), (
            f"{exe} missing: `make test` installs Debian's chromium and "
            "chromium-driver (scripts/setup-debian.sh chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    if window:
        opts.add_argument(f"--window-size={window}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv.set_page_load_timeout(30)
    return drv


def wait_for(drv, script: str, timeout: float = 15.0):
    """Poll a JS expression until truthy; return its last value."""
    end = time.monotonic() + timeout
    while True:
        value = drv.execute_script(script)
        if value or time.monotonic() > end:
            return value
        time.sleep(0.1)


MEDIA_READY = """
return [...document.images].every(i => i.complete)
    && [...document.querySelectorAll('video')].every(v => v.readyState >= 1 || v.error);
"""

MEDIA_STATE = """
return {
  images: [...document.images].map(i => ({
    src: i.getAttribute('src'), current: i.currentSrc, width: i.naturalWidth})),
  videos: [...document.querySelectorAll('video')].map(v => ({
    output: v.closest('[data-output]') && v.closest('[data-output]').dataset.output,
    src: v.currentSrc, ready: v.readyState, duration: v.duration,
    error: v.error && v.error.code})),
  outputs: [...document.querySelectorAll('[data-output]')].map(e => e.dataset.output),
};
"""

# Show every track (mode 'hidden' loads cues without drawing them), then report.
TRACKS_ON = """
for (const t of document.querySelectorAll('video track')) t.track.mode = 'hidden';
"""
TRACKS_STATE = """
return [...document.querySelectorAll('video')].flatMap(v =>
  [...v.querySelectorAll('track')].map(t => ({
    output: v.closest('[data-output]') ? v.closest('[data-output]').dataset.output
                                       : v.querySelector('source').getAttribute('src'),
    src: t.getAttribute('src'), state: t.readyState,
    cues: t.track.cues ? [...t.track.cues].map(c => [
      Math.round(c.startTime * 1000), Math.round(c.endTime * 1000), c.text]) : null})));
"""


def fresh(drv) -> None:
    """A blank page and an empty console log: the browser is shared by the
    module's tests, and a page whose server has gone (the served-site test)
    logs failed requests after its test ended; they belong to no later test."""
    drv.get("about:blank")
    drv.get_log("browser")


def severe(drv) -> list[str]:
    return [e["message"] for e in drv.get_log("browser") if e["level"] == "SEVERE"]


def check_media(drv, manifest: dict, folder: Path, *, expect_outputs: bool = True):
    """Every image decoded, every video has metadata of the right length, every
    track parsed cues equal to its .vtt file; returns the media state."""
    assert wait_for(drv, MEDIA_READY), "media did not finish loading in 15 s"
    state = drv.execute_script(MEDIA_STATE)
    assert state["images"], "no images on the page"
    for img in state["images"]:
        assert img["width"] > 0, f"image not decoded: {img['src']}"
    assert state["videos"], "no videos on the page"
    for v in state["videos"]:
        assert v["error"] is None and v["ready"] >= 1, f"video without metadata: {v}"
        name = v["output"] or Path(v["src"]).name
        want = manifest["outputs"][name]["duration"]
        assert abs(v["duration"] - want) <= 0.1 * want, \
            f"{name}: browser duration {v['duration']:.3f} s, manifest {want} s"
    drv.execute_script(TRACKS_ON)
    assert wait_for(drv, "return [...document.querySelectorAll('video track')]"
                         ".every(t => t.readyState >= 2);"), "tracks did not load"
    tracks = drv.execute_script(TRACKS_STATE)
    assert tracks, "no <track> elements"
    for t in tracks:
        assert t["state"] == 2 and t["cues"], f"track parsed no cues: {t['output']}"
        vtt = manifest["outputs"][Path(t["output"]).name]["captions"]["vtt"]
        want = [list(c) for c in read_vtt((folder / vtt).read_text())]
        assert t["cues"] == want, f"{t['output']}: browser cues {t['cues']} != {want}"
    if expect_outputs:
        assert sorted(state["outputs"]) == sorted(manifest["outputs"]), state["outputs"]
    return state


def test_preview_page_from_disk(built, driver):
    out, manifest = built
    fresh(driver)
    driver.get((out / "index.html").as_uri())
    state = check_media(driver, manifest, out)
    assert len(state["videos"]) == 4 and len(state["images"]) == 4, state

    # The copy button copies (clipboard, or the select-and-copy fallback).
    button = driver.find_element("css selector", "button.copy")
    button.click()
    assert wait_for(driver, "return document.querySelector('button.copy')"
                            ".textContent !== 'Copy';", 5), "copy button did nothing"
    assert severe(driver) == [], f"console errors: {severe(driver)}"

    # A full-page screenshot for people to look at.
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(height + 120, 6000))
    wait_for(driver, MEDIA_READY)
    # Let the first frames arrive, so the shot shows posters, not loading spinners.
    wait_for(driver, "return [...document.querySelectorAll('video')]"
                     ".every(v => v.readyState >= 2);", 5)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "preview.png"
    assert driver.save_screenshot(str(shot)), "screenshot failed"
    assert shot.stat().st_size > 10_000, "screenshot is empty"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture()
def served(built, tmp_path):
    """The build served over http://127.0.0.1 on a free port, with a page made of
    the copy-paste snippets exactly as the preview page shows them."""
    out, manifest = built
    site = tmp_path / "site"
    shutil.copytree(out, site)
    snippets = parse_page((out / "index.html").read_text()).snippets
    html_snippets = [s for s in snippets if s.startswith("<")]
    (site / "snippets.html").write_text(
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<link rel=icon href='data:,'><title>snippets</title></head><body>"
        + "\n".join(html_snippets) + "</body></html>")
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", manifest, site, html_snippets
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_snippets_work_on_a_served_course_page(served, driver):
    base, manifest, site, snippets = served
    fresh(driver)
    assert any(s.startswith("<picture>") for s in snippets), "no <picture> snippet"
    for scheme in ("light", "dark"):
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
            "features": [{"name": "prefers-color-scheme", "value": scheme}]})
        driver.get(f"{base}/snippets.html")
        state = check_media(driver, manifest, site, expect_outputs=False)
        shown = {Path(i["current"]).name for i in state["images"]}
        suffix = "-light" if scheme == "light" else ""
        assert shown == {f"circle{suffix}.gif", f"circle{suffix}.png"}, \
            f"prefers-color-scheme {scheme} showed {shown}"
        tracks = driver.execute_script(TRACKS_STATE)
        assert all(not t["src"].startswith("data:") for t in tracks), \
            "snippet tracks should be plain .vtt paths"
        assert severe(driver) == [], f"console errors: {severe(driver)}"
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    fresh(driver)  # leave the page before its server stops


def test_page_shows_sizes_durations_and_alt_text(built, driver):
    from neuroanim.page import human_size

    out, manifest = built
    fresh(driver)
    driver.get((out / "index.html").as_uri())
    for name, entry in manifest["outputs"].items():
        tile = driver.find_element("css selector", f'[data-output="{name}"]').text
        assert name in tile and human_size(entry["bytes"]) in tile, tile
        if entry["format"] != "png":
            assert f"{entry['duration']:.1f} s" in tile, f"{name}: no duration: {tile}"
    body = driver.find_element("tag name", "body").text
    assert all(e["alt"] in body for e in manifest["outputs"].values()), "alt hidden"
    assert severe(driver) == [], f"console errors: {severe(driver)}"
