"""Screenshots of the documentation site in a headless browser: the home page and one API page.

Builds the site strictly (``mkdocs build --strict``), serves it on loopback, and has Chromium (Debian:
``apt-get install chromium``) render each page to a PNG, then checks that each is a real picture of the page
(a PNG of the window's size, not one flat colour). Run it and look at the files::

    python tools/site_screenshots.py --output /tmp/site-shots
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Page of the site -> file name of its screenshot.
PAGES = {"": "home.png", "api/training/": "api-training.png"}
WINDOW = (1280, 1000)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True, help="folder for the screenshots")
    parser.add_argument("--browser", default=shutil.which("chromium") or shutil.which("chromium-browser"),
                        help="the Chromium binary (default: chromium on PATH)")
    args = parser.parse_args(argv)
    if not args.browser:
        parser.error("no Chromium found: apt-get install chromium, or pass --browser")
    args.output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as site:
        subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", site], cwd=ROOT,
                       check=True)
        handler = functools.partial(QuietHandler, directory=site)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            for page, name in PAGES.items():
                target = args.output / name
                subprocess.run([args.browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--screenshot={target}",
                                f"http://127.0.0.1:{server.server_port}/{page}"], check=True, capture_output=True,
                               timeout=120)
                check(target)
                print(f"wrote {target}")
        finally:
            server.shutdown()
    return 0


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site without a log line per request."""

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the name http.server gives it
        pass


def check(path: Path) -> None:
    """A PNG of the window's size with more than one colour (a blank or error page is one flat colour)."""
    import matplotlib.image

    image = matplotlib.image.imread(path)
    if image.shape[:2] != (WINDOW[1], WINDOW[0]) or len({tuple(pixel) for pixel in image[::25, ::25].reshape(-1, image.shape[2])}) < 8:
        raise SystemExit(f"{path}: not a picture of a page (shape {image.shape})")


if __name__ == "__main__":
    raise SystemExit(main())
