"""Open results/report.html in headless Chromium and save a screenshot (a real-browser check of the report).

    .venv/bin/python scripts/report_screenshot.py [--report results/report.html]
        [--out results/report_screenshot.png]

Uses Debian's `chromium` (apt-get install chromium). Exits 0 and prints the screenshot path when the
browser rendered the page; exits 1 when Chromium is missing or wrote no image. No network: the report
is self-contained, and background networking, updates and sync are switched off.
"""

from __future__ import annotations

import argparse
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
            f"--screenshot={out.resolve()}",
            report.resolve().as_uri(),
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if not out.is_file() or out.stat().st_size == 0:
        raise RuntimeError(
            f"{browser} wrote no screenshot (exit {result.returncode}): {result.stderr[-500:]}"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--report", default="results/report.html")
    parser.add_argument("--out", default="results/report_screenshot.png")
    args = parser.parse_args(argv)
    browser = find_chromium()
    if browser is None:
        print("chromium not found (apt-get install chromium)", file=sys.stderr)
        return 1
    if not Path(args.report).is_file():
        print(f"{args.report} not found: run `make run` first", file=sys.stderr)
        return 1
    try:
        path = screenshot(Path(args.report), Path(args.out), browser=browser)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
