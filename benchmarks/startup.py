"""Start-up costs, as ratios to a bare `python -c "import numpy, click"` in the same run.

`neuroanim list` and a no-op build of the default lesson, and of a lesson using
an author's scene from its own scenes/ folder, must each stay under 2x that
baseline: none of them may import manim. Also times the rebuild after one edit
of the author's scene file (only its figure re-renders). Minimum of N runs, as
these machines are noisy.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
RUNS = 9


def best(cmd: list[str], cwd: Path, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True)
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="neuroanim-startup-"))
    try:
        na = str(BIN / "neuroanim")
        subprocess.run([na, "build", "-o", "out", "-j", "2"], cwd=work, check=True,
                       stdout=subprocess.DEVNULL)
        author = work / "course"
        shutil.copytree(ROOT / "examples", author)
        lesson = author / "lesson.toml"
        subprocess.run([na, "build", str(lesson), "-o", "out2"], cwd=work, check=True,
                       stdout=subprocess.DEVNULL)
        bare = best([sys.executable, "-c", "import numpy, click"], work)
        rows = {
            "neuroanim list": best([na, "list"], work),
            "no-op build, default lesson": best([na, "build", "-o", "out"], work),
            "no-op build, author scene": best([na, "build", str(lesson), "-o", "out2"],
                                              work),
        }
        print(f"bare `python -c 'import numpy, click'`: {bare * 1000:.0f} ms")
        for name, t in rows.items():
            print(f"{name:<32} {t * 1000:6.0f} ms  {t / bare:4.2f}x  (target < 2x)")
        card = next(p for p in (author / "scenes").glob("*.py")
                    if not p.stem.endswith("_draw"))
        card.write_text(card.read_text() + "\n# an edit\n")
        t = time.perf_counter()
        out = subprocess.run([na, "build", str(lesson), "-o", "out2"], cwd=work,
                             check=True, capture_output=True, text=True).stdout
        edit = time.perf_counter() - t
        rendered = out.count(" done ")
        print(f"{'rebuild after one edit':<32} {edit * 1000:6.0f} ms  {edit / bare:4.2f}x  "
              f"({rendered} output(s) re-rendered)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
