#!/usr/bin/env python3
"""Render a digest HTML file to PNG with headless Chromium, to see the mail as a reader would (not run in CI).

    agent digest --since 2025-03-03 --format html --out digest.html
    python tools/render_digest_png.py digest.html -o digest.png

Needs Debian's `chromium` package. Chromium gets a throw-away profile and no network chatter, and the page
is loaded from a file: URL, so a digest that still referenced anything external would show a gap.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)


def find_chromium(explicit: str | None) -> str:
    for name in ([explicit] if explicit else []) + ["chromium", "chromium-browser", "google-chrome"]:
        path = shutil.which(name) if name else None
        if path:
            return path
    raise SystemExit("chromium not found: install Debian's `chromium` package (apt-get install chromium)")


def render(html: Path, png: Path, *, width: int, height: int, chromium: str, timeout: float) -> None:
    with tempfile.TemporaryDirectory(prefix="digest-png-") as profile:
        cmd = [
            chromium,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={png.resolve()}",
            html.resolve().as_uri(),
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0 or not png.exists():
        sys.stderr.write(result.stderr[-2000:])
        raise SystemExit(f"chromium failed (exit {result.returncode}); no screenshot written")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path, help="the digest HTML (agent digest --format html --out FILE)")
    parser.add_argument("-o", "--out", type=Path, help="PNG to write (default: next to the HTML)")
    parser.add_argument("--width", type=int, default=720, help="viewport width in CSS pixels (default 720)")
    parser.add_argument("--height", type=int, default=1600, help="viewport height; the shot is this tall (default 1600)")
    parser.add_argument("--chromium", help="path to the browser binary")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before giving up (default 60)")
    args = parser.parse_args(argv)
    if not args.html.is_file():
        parser.error(f"{args.html}: no such file")
    png = args.out or args.html.with_suffix(".png")
    render(args.html, png, width=args.width, height=args.height, chromium=find_chromium(args.chromium),
           timeout=args.timeout)
    print(f"wrote {png} ({png.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
