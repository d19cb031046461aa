"""Headless Chromium (Debian's, driven by playwright-python) and a local static server for the page tests."""

from __future__ import annotations

import functools
import http.server
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from tests.usage.browser import chromium_path

CHROMIUM_FLAGS = ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"]


def launch_or_skip(playwright):
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium: install Debian's `chromium` package (or set $CHROMIUM) to run the browser tests")
    return playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest's output clean
        pass


@contextmanager
def serve(root: Path):
    """Serve `root` on 127.0.0.1 (a free port) from a thread; yields the base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def settle(page, timeout_ms: int = 20000) -> None:
    """Wait until the shown time's depth order is in and a few frames have been drawn with it."""
    page.wait_for_function("window.splatPage && (window.splatPage.ready || window.splatPage.error)", timeout=timeout_ms)
    page.wait_for_function(
        "splatPage.error || (splatPage.sorted() && splatPage.frames - splatPage.shownAtFrame > 8)", timeout=timeout_ms
    )
    # a few more frames with the sorted order in place
    page.evaluate("new Promise(r => { let n = 0; const f = () => (++n > 3 ? r() : requestAnimationFrame(f)); f(); })")


def canvas_pixels(page) -> np.ndarray:
    """The canvas as the user sees it, overlays hidden: [H, W, 3] floats in 0..1."""
    import imageio.v3 as iio

    style = page.add_style_tag(content="#info, #timebar { visibility: hidden !important; }")
    page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    png = page.locator("#canvas").screenshot()
    style.evaluate("element => element.remove()")
    return iio.imread(png)[..., :3].astype(np.float64) / 255.0
