"""Driving viser's web client in a real, headless Chromium (Debian's package) through playwright."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from typing import Iterator, Optional

import numpy as np

INSTALL_HINT = (
    "needs Chromium and playwright: `sudo apt-get install chromium` (scripts/system_deps.sh installs it when run as "
    "root) and `pip install -e '.[dev]'`; or point $CHROMIUM at a Chromium binary"
)


def chromium_path() -> Optional[str]:
    """The Chromium binary to drive: $CHROMIUM, else Debian's ``chromium`` (or ``chromium-browser``) on PATH."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@contextmanager
def viewer_page(url: str, executable: str) -> Iterator:
    """A page of ``url`` in headless Chromium, once viser's client says it is connected."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: containers and root shells have no user namespaces; SwiftShader: WebGL without a GPU
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=["--no-sandbox", "--enable-unsafe-swiftshader", "--use-angle=swiftshader"],
        )
        try:
            page = browser.new_page(viewport={"width": 800, "height": 600})
            page.set_default_timeout(180_000)  # a loaded 2-core machine renders slowly
            page.goto(url)
            page.get_by_text("Connected", exact=True).wait_for()
            yield page
        finally:
            browser.close()


def zoom_out(page, clicks: int = 8) -> None:
    """Scroll the 3D view away from the object (viser's start camera sits inside it), as a user would."""
    box = viewport_box(page)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(clicks):
        page.mouse.wheel(0, 400)
        page.wait_for_timeout(150)


def viewport_box(page) -> dict:
    """Bounding box of the visible 3D view: the largest canvas, left of the control panel that overlays it."""
    boxes = [box for box in (c.bounding_box() for c in page.locator("canvas").all()) if box]
    box = dict(max(boxes, key=lambda box: box["width"] * box["height"]))
    panel_left = page.get_by_text("Connected", exact=True).bounding_box()["x"] - 40  # the panel's status line
    box["width"] = min(box["width"], panel_left - box["x"])
    return box


def viewport_pixels(page) -> np.ndarray:
    """[H, W, 3] uint8 screenshot of the 3D view."""
    import imageio.v3 as iio

    return iio.imread(page.screenshot(clip=viewport_box(page)))[..., :3]


def settled_viewport(page, wait_ms: int = 2000, stable_checks: int = 3, rounds: int = 60) -> np.ndarray:
    """The 3D view once it has not changed for ``stable_checks`` screenshots ``wait_ms`` apart.

    nerfstudio first sends a coarse frame and refines it when the camera rests; on a slow machine a refined frame
    can take seconds, so one unchanged pair of screenshots is not enough.
    """
    previous, stable = viewport_pixels(page), 0
    for _ in range(rounds):
        page.wait_for_timeout(wait_ms)
        current = viewport_pixels(page)
        stable = stable + 1 if view_change(previous, current) < 0.05 else 0
        if stable >= stable_checks:
            return current
        previous = current
    raise AssertionError(f"the 3D view kept changing for {rounds * wait_ms / 1000:.0f} s")


def object_fraction(pixels: np.ndarray, tolerance: int = 30) -> float:
    """Fraction of the view's central half that differs from the background (the view's corner colour)."""
    height, width = pixels.shape[:2]
    corners = np.concatenate([pixels[:8, :8], pixels[:8, -8:]]).reshape(-1, 3)  # top corners: no axes gizmo there
    background = np.median(corners, axis=0)
    centre = pixels[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4].astype(int)
    return float((np.abs(centre - background).max(axis=-1) > tolerance).mean())


def view_change(before: np.ndarray, after: np.ndarray) -> float:
    """Mean change (grey levels, largest channel) between two views over their central half, where the object is."""
    height, width = before.shape[:2]
    centre = (slice(height // 4, 3 * height // 4), slice(width // 4, 3 * width // 4))
    return float(np.abs(after[centre].astype(int) - before[centre].astype(int)).max(axis=-1).mean())


def hide_training_cameras(page) -> None:
    """Press the viewer's "Hide Train Cams" button, so that the view holds the render alone."""
    page.get_by_role("button", name="Hide Train Cams").click()


def dropdown_options(page, label: str) -> list:
    """The options a viser dropdown called ``label`` lists when clicked open."""
    page.get_by_label(label, exact=True).click()
    options = page.get_by_role("option")
    options.first.wait_for()
    texts = options.all_inner_texts()
    page.keyboard.press("Escape")
    return texts


def slider(page, label: str):
    """The slider handle of the viser control called ``label``."""
    row = page.get_by_text(label, exact=True).locator("xpath=ancestor::div[.//*[@role='slider']][1]")
    return row.locator("[role='slider']").first
