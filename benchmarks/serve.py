"""Edit and see: from saving a one-option edit of the and-gate figure to the open
page showing the new draft, through `neuroanim serve --draft` and headless
Chromium over loopback; as a ratio to rendering that figure at quality l.

The page counts as showing the new draft when the and-gate section carries the
new version, its video has loaded its metadata and its still has decoded.
Baselines, in the same run: `neuroanim build --only and-gate --force` of the
same lesson at quality l (every format the figure asks for: mp4, gif, png,
interactive) and `neuroanim render and-gate` (one mp4 at quality l), each a
fresh process as an author would run it. Target: latency <= 0.25 x the
figure's quality-l build. Median of EDITS edits.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent
NA = str(BIN / "neuroanim")
EDITS = 5
RATES = (3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0)
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--mute-audio")

SHOWN = """
const s = [...document.querySelectorAll('section.figure')]
  .find(x => x.dataset.figure === 'and-gate');
if (!s || s.dataset.version !== arguments[0]) return false;
const v = s.querySelector('video'), i = s.querySelector('img');
return !!v && v.readyState >= 1 && (!i || (i.complete && i.naturalWidth > 0));
"""


def state(url: str) -> dict:
    with urllib.request.urlopen(url + "_neuroanim/state", timeout=5) as r:
        return json.loads(r.read())


def wait(pred, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = pred()
        if got:
            return got
        time.sleep(0.02)
    raise SystemExit(f"timed out waiting for {what}")


def set_lr(lesson: Path, lr: float) -> None:
    """The and-gate figure's table with `options = { lr = LR }`, nothing else."""
    text = lesson.read_text()
    head, rest = text.split('name = "and-gate"', 1)
    block, sep, tail = rest.partition("[[figure]]")
    block = re.sub(r"\noptions = \{[^}]*\}[^\n]*", "", block)
    title = '\ntitle = "A neuron learns the AND gate"'
    block = block.replace(title, f"{title}\noptions = {{ lr = {lr} }}", 1)
    lesson.write_text(head + 'name = "and-gate"' + block + sep + tail)


def timed(cmd: list[str], cwd: Path) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    work = Path(tempfile.mkdtemp(prefix="neuroanim-serve-bench-"))
    subprocess.run([NA, "init"], cwd=work, check=True, stdout=subprocess.DEVNULL)
    lesson = work / "lesson.toml"
    proc = subprocess.Popen([NA, "serve", "--draft", "--port", "0", "--no-open"],
                            cwd=work, stdout=subprocess.PIPE, stderr=(work / "serve.log").open("w"),
                            text=True)
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={work / 'chromium'}")
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        url = proc.stdout.readline().split()[-1]
        print(f"serve: {url} (first draft build of the lesson...)")
        wait(lambda: (s := state(url))["order"] and all(
            s["figures"].get(n, {}).get("state") == "done" for n in s["order"]),
            600, "the first build")
        drv.get(url)
        wait(lambda: drv.execute_script("return window.__neuroanim && "
                                        "window.__neuroanim.connected"), 20, "the page")
        latencies = []
        for lr in RATES[:EDITS]:
            before = state(url)["figures"]["and-gate"]["version"]
            saved = time.perf_counter()
            set_lr(lesson, lr)
            new = wait(lambda b=before: (v := state(url)["figures"]["and-gate"]
                                         ["version"]) != b and v, 120, "the rebuild")
            wait(lambda n=new: drv.execute_script(SHOWN, n), 60, "the page update")
            latencies.append(time.perf_counter() - saved)
            print(f"  lr {lr:g}: page shows the new draft {latencies[-1]:.2f} s "
                  "after the save")
            time.sleep(0.5)
    finally:
        drv.quit()
        proc.send_signal(2)
        proc.wait(60)
    set_lr(lesson, 2.0)
    figure = timed([NA, "build", "lesson.toml", "--only", "and-gate", "--force",
                    "-o", "full"], work)
    single = timed([NA, "render", "and-gate", "-o", str(work / "one.mp4")], work)
    lat = statistics.median(latencies)
    print(f"edit to page (median of {len(latencies)}): {lat:.2f} s")
    print(f"and-gate at quality l, whole figure (mp4+gif+png+interactive, fresh "
          f"process): {figure:.2f} s -> ratio {lat / figure:.3f} (target <= 0.25)")
    print(f"and-gate at quality l, one mp4 (`neuroanim render`, fresh process): "
          f"{single:.2f} s -> ratio {lat / single:.3f}")


if __name__ == "__main__":
    main()
