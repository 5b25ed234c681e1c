"""Open results/report.html in headless Chromium and save a screenshot (a real-browser check of the report).

    .venv/bin/python scripts/report_screenshot.py [--report results/report.html]
        [--out results/report_screenshot.png] [--size 1400,1800]

The report opens on the findings page (workflow/report/workflow.rst includes
results/report/findings_fragment.html): the screenshot shows its first screen, and the script prints
the headings the browser rendered (from `chromium --dump-dom`) after the screenshot's path.

Uses Debian's `chromium` (apt-get install chromium). Exits 0 and prints the screenshot path when the
browser rendered the page; exits 1 when Chromium is missing or wrote no image. No network: the report
is self-contained, and background networking, updates and sync are switched off.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


def screenshot(
    report: Path, out: Path, *, browser: str, size: str = "1400,1800", timeout: float = 120
) -> Path:
    """Render ``report`` with headless Chromium into ``out`` (PNG); RuntimeError when nothing is written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="ohevidence-chromium-") as profile:
        command = [
            *_base_command(browser, profile, size),
            f"--screenshot={out.resolve()}",
            report.resolve().as_uri(),
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if not out.is_file() or out.stat().st_size == 0:
        raise RuntimeError(
            f"{browser} wrote no screenshot (exit {result.returncode}): {result.stderr[-500:]}"
        )
    return out


def _base_command(browser: str, profile: str, size: str) -> list[str]:
    return [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--window-size={size}",
        "--virtual-time-budget=8000",
        "--hide-scrollbars",
    ]


def dump_dom(report: Path, *, browser: str, timeout: float = 120) -> str:
    """The DOM after the page's scripts ran (`--dump-dom`): what the browser shows, as HTML text."""
    with tempfile.TemporaryDirectory(prefix="ohevidence-chromium-") as profile:
        command = [*_base_command(browser, profile, "1400,1800"), "--dump-dom", report.resolve().as_uri()]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if not result.stdout.strip():
        raise RuntimeError(f"{browser} dumped no DOM (exit {result.returncode}): {result.stderr[-500:]}")
    return result.stdout


def rendered(dom: str) -> str:
    """A dumped DOM without its <script> elements: only what the page rendered (the Snakemake report
    also carries the findings as a string in a script, which must not count as rendered)."""
    return re.sub(r"<script\b.*?</script>", "", dom, flags=re.S | re.I)


def headings(dom: str) -> list[str]:
    """The text of the rendered <h1>-<h3> headings of a dumped DOM, in order."""
    found = re.findall(r"<h[123][^>]*>(.*?)</h[123]>", rendered(dom), re.S)
    return [re.sub(r"<[^>]+>", "", h).strip() for h in found]


def non_blank_fraction(png: Path) -> float:
    """Share of the screenshot's pixels that differ from its commonest colour (0: a blank page)."""
    import matplotlib.image as mpimg
    import numpy as np

    pixels = (mpimg.imread(png)[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    background = colours[np.argmax(counts)].astype(int)  # the commonest colour
    return float(np.mean(np.any(np.abs(pixels.astype(int) - background) > 12, axis=-1)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--report", default="results/report.html")
    parser.add_argument("--out", default="results/report_screenshot.png")
    parser.add_argument("--size", default="1400,1800", help="window width,height in pixels")
    args = parser.parse_args(argv)
    browser = find_chromium()
    if browser is None:
        print("chromium not found (apt-get install chromium)", file=sys.stderr)
        return 1
    if not Path(args.report).is_file():
        print(f"{args.report} not found: run `make run` first", file=sys.stderr)
        return 1
    try:
        path = screenshot(Path(args.report), Path(args.out), browser=browser, size=args.size)
        dom = dump_dom(Path(args.report), browser=browser)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(path)
    print(f"non-blank pixels: {non_blank_fraction(path):.1%}")
    for heading in headings(dom):
        print(f"heading: {heading}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
