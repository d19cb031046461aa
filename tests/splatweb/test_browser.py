"""The page in a real browser (headless Chromium): no console errors, upright, and the same picture as our renderer.

Each test builds a tiny asset from known Gaussians, writes the page with `write_page`, serves it from a local
thread and reads back the canvas. The reference is `splatcore.rasterize` rendering the page's own .splat file from
the camera the page reports, over the page's background. Tolerance: over the pixels where either image shows the
asset, the mean absolute difference is at most 3/255 and fewer than 1 % of them differ by more than 16/255 in any
channel (measured: 1.2/255 and at most 0.1 %; the page blends in 8 bits, cuts each splat at 2.83σ instead of 3σ and sorts
whole splats rather than per tile).
"""

import json

import numpy as np
import pytest
import torch

from splatcore.orient import reorient_splats, up_rotation
from splatcore.ply import SplatPly
from splatcore.rasterize import rasterize
from splatcore.splat_format import SH_C0, read_splat
from splatweb.page import BACKGROUND, Frame, write_page
from tests.splatweb.browser import canvas_pixels, launch_or_skip, serve, settle

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
)
pytestmark = pytest.mark.browser

MEAN_TOLERANCE = 3 / 255
OUTLIER_LEVEL = 16 / 255
OUTLIER_FRACTION = 0.01
VIEWPORT = {"width": 200, "height": 150}


def marked_asset(seed: int = 0, red_y: float = 0.0) -> SplatPly:
    """Dataset frame (+z up): a bluish body, a red cap at +z (shifted to `red_y`), a green nose towards +x."""
    rng = np.random.default_rng(seed)
    parts = [(90, [0, 0, 0], 0.18, [-0.8, -0.2, 1.2]), (30, [0, red_y, 0.45], 0.06, [2.2, -1.6, -1.6]),
             (20, [0.3, 0, 0], 0.05, [-1.5, 2.0, -1.5])]  # fmt: skip
    means, colours = [], []
    for count, centre, spread, dc in parts:
        means.append(rng.normal(0, spread, (count, 3)) + centre)
        colours.append(np.tile(dc, (count, 1)) + rng.normal(0, 0.15, (count, 3)))
    n = sum(p[0] for p in parts)
    quats = rng.normal(size=(n, 4))
    return SplatPly(
        means=np.concatenate(means).astype(np.float32),
        sh_dc=np.concatenate(colours).astype(np.float32),
        sh_rest=np.zeros((n, 0, 3), np.float32),
        opacity_logits=rng.uniform(0.0, 3.0, n).astype(np.float32),
        log_scales=np.log(rng.uniform(0.02, 0.07, (n, 3))).astype(np.float32),
        quats=(quats / np.linalg.norm(quats, axis=1, keepdims=True)).astype(np.float32),
    )


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as playwright:
        browser = launch_or_skip(playwright)
        yield browser
        browser.close()


def open_page(browser, url: str):
    page = browser.new_page(viewport=VIEWPORT)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    page.goto(url)
    settle(page)
    return page, errors


def our_render(splat_file, camera: dict, up: str = "-y") -> np.ndarray:
    """[H, W, 3] render of a .splat file (stored `up`-up; the page turns it to its −y up view) from the page's camera."""
    splats = reorient_splats(read_splat(splat_file), up, "-y")
    view = np.array(camera["view"], np.float64).reshape(4, 4).T  # column-major → world-to-camera (OpenCV axes)
    width, height = camera["width"], camera["height"]
    k = torch.tensor([[camera["fx"], 0, width / 2], [0, camera["fy"], height / 2], [0, 0, 1]], dtype=torch.float32)
    image, _, _ = rasterize(
        torch.from_numpy(splats.means), torch.from_numpy(splats.quats), torch.from_numpy(np.exp(splats.log_scales)),
        torch.sigmoid(torch.from_numpy(splats.opacity_logits)),
        torch.from_numpy(np.clip(0.5 + SH_C0 * splats.sh_dc, 0, 1)), torch.from_numpy(view).float()[None], k[None],
        width, height, backgrounds=torch.tensor([BACKGROUND], dtype=torch.float32) / 255,
    )  # fmt: skip
    return image[0].numpy()


def compare(shot: np.ndarray, ours: np.ndarray) -> tuple[float, float]:
    """(mean absolute difference, fraction above OUTLIER_LEVEL) over the pixels where either shows the asset."""
    background = np.asarray(BACKGROUND) / 255
    assert shot.shape == ours.shape
    np.testing.assert_allclose(shot[0, 0], background, atol=1.5 / 255)  # the corner is empty in both
    mask = (np.abs(shot - background).max(-1) > 2 / 255) | (np.abs(ours - background).max(-1) > 2 / 255)
    assert mask.mean() > 0.05, "the asset fills too little of the view to compare"
    diff = np.abs(shot - ours)[mask]
    return float(diff.mean()), float((diff.max(-1) > OUTLIER_LEVEL).mean())


def red_rows_and_cols(image: np.ndarray) -> tuple[float, float, float]:
    """Mean row and column of the red pixels, mean row of the other object pixels."""
    red = (image[..., 0] > 0.55) & (image[..., 1] < 0.35) & (image[..., 2] < 0.35)
    other = (np.abs(image - np.asarray(BACKGROUND) / 255).max(-1) > 0.05) & ~red
    assert red.sum() > 10 and other.sum() > 10
    rows, cols = np.nonzero(red)
    return rows.mean(), cols.mean(), np.nonzero(other)[0].mean()


@pytest.mark.parametrize("up", ["-y", "z"])
def test_3d_page_loads_upright_and_matches_our_render(browser, tmp_path, up):
    write_page(tmp_path / "page", [Frame(marked_asset())], "tiny marked asset", up=up)
    with serve(tmp_path / "page") as url:
        page, errors = open_page(browser, url + "/index.html")
        assert page.locator("#name").inner_text() == "tiny marked asset"
        assert page.locator("#count").inner_text() == "140"
        assert page.locator("#timebar").is_hidden()
        camera = page.evaluate("splatPage.camera()")
        shot = canvas_pixels(page)
        page.close()
    assert errors == []
    # the camera looks from azimuth 0 (the dataset's +x), a little above: check it in the dataset frame
    view = np.array(camera["view"]).reshape(4, 4).T
    target = json.loads((tmp_path / "page" / "manifest.json").read_text())["view"]["target"]
    offset = up_rotation("-y").T @ (-view[:3, :3].T @ view[:3, 3] - target)  # −y up view frame → dataset frame
    elevation = np.degrees(np.arcsin(offset[2] / np.linalg.norm(offset)))
    assert offset[0] > 0 and abs(offset[1]) < 1e-3 * offset[0] and elevation == pytest.approx(15.0, abs=0.1)
    red_row, _, other_row = red_rows_and_cols(shot)
    assert red_row < other_row - 10  # the red cap (+z) is at the top of the picture
    ours = our_render(tmp_path / "page" / "frames" / "t000.splat", camera, up)
    mean, outliers = compare(shot, ours)
    print(
        f"3D page ({up} up files) vs splatcore: mean |diff| {mean * 255:.2f}/255, {outliers:.2%} of pixels > {OUTLIER_LEVEL * 255:.0f}/255"
    )
    assert mean < MEAN_TOLERANCE and outliers < OUTLIER_FRACTION


def test_4d_page_slider_and_play(browser, tmp_path):
    times = [0.0, 0.5, 1.0]
    frames = [Frame(marked_asset(red_y=-0.4 + 0.8 * t), t) for t in times]  # the cap slides along +y
    write_page(tmp_path / "page", frames, "tiny moving asset")
    with serve(tmp_path / "page") as url:
        page, errors = open_page(browser, url + "/index.html?autoplay=0")
        page.wait_for_function("splatPage.allLoaded", timeout=20000)
        assert "0.000 (1 / 3)" in page.locator("#time").inner_text()
        first = canvas_pixels(page)
        page.locator("#slider").fill("2")
        settle(page)
        assert page.evaluate("splatPage.timeIndex") == 2
        assert "1.000 (3 / 3)" in page.locator("#time").inner_text()
        camera = page.evaluate("splatPage.camera()")
        last = canvas_pixels(page)
        page.locator("#play").click()  # play sweeps the times, pause stops it
        page.wait_for_function("splatPage.timeIndex !== 2", timeout=10000)
        page.locator("#play").click()
        assert page.evaluate("splatPage.playing") is False
        page.close()
    assert errors == []
    # the camera is on +x looking at −x with +z up, so +y of the dataset is screen right: the cap moved right
    _, first_col, _ = red_rows_and_cols(first)
    _, last_col, _ = red_rows_and_cols(last)
    assert last_col > first_col + 20
    for shot, index in ((first, 0), (last, 2)):
        mean, outliers = compare(shot, our_render(tmp_path / "page" / "frames" / f"t{index:03d}.splat", camera))
        print(
            f"4D page at t={times[index]}: mean |diff| {mean * 255:.2f}/255, {outliers:.2%} > {OUTLIER_LEVEL * 255:.0f}/255"
        )
        assert mean < MEAN_TOLERANCE and outliers < OUTLIER_FRACTION
    # and the render did change with the slider
    assert np.abs(first - last).max(-1).mean() > 0.01
