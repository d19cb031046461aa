"""A tiny efficient4d run → `splat-web --load-config` → the page in Chromium matches our render of the slices."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.splatweb.browser import canvas_pixels, launch_or_skip, serve, settle
from tests.splatweb.test_browser import MEAN_TOLERANCE, OUTLIER_FRACTION, compare, our_render

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
)
BIN = Path(sys.executable).parent


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONPATH": str(Path.cwd())}
    result = subprocess.run(args, check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{args[0]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result


@pytest.mark.slow
@pytest.mark.browser
def test_trained_4d_run_to_page(tmp_path):
    from datagen.synthetic.inconsistency import InconsistencyConfig
    from datagen.synthetic.scenes import make_dynamic_dataset

    data = make_dynamic_dataset(
        tmp_path / "data", seed=3, resolution=32, num_times=3, inconsistency=InconsistencyConfig(level="none"),
        progress=False,
    )  # fmt: skip
    _run(
        [
            str(BIN / "ns-train"), "efficient4d-cpu", "--data", str(data), "--output-dir", str(tmp_path / "outputs"),
            "--experiment-name", "tiny-anim", "--max-num-iterations", "10", "--vis", "tensorboard",
            "--steps-per-save", "10", "--pipeline.model.num-random", "300", "--pipeline.datamanager.compute-confidence",
            "False",
        ],
        tmp_path,
    )  # fmt: skip
    config = next((tmp_path / "outputs").rglob("config.yml"))
    page_dir = tmp_path / "web"
    _run([sys.executable, "-m", "splatweb.cli", "--load-config", str(config), "--output-dir", str(page_dir),
          "--num-times", "3"], tmp_path)  # fmt: skip
    manifest = json.loads((page_dir / "manifest.json").read_text())
    assert [f["time"] for f in manifest["frames"]] == [0.0, 0.5, 1.0]
    assert manifest["name"].startswith("tiny-anim")
    with playwright_api.sync_playwright() as playwright, serve(page_dir) as url:
        browser = launch_or_skip(playwright)
        page = browser.new_page(viewport={"width": 200, "height": 150})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url + "/index.html?autoplay=0")
        page.wait_for_function("window.splatPage && (splatPage.allLoaded || splatPage.error)", timeout=30000)
        assert page.locator("#name").inner_text() == manifest["name"]
        shots = {}
        for index in (0, 2):
            page.locator("#slider").fill(str(index))
            settle(page)
            assert page.locator("#count").inner_text() == f"{manifest['frames'][index]['count']:,}"
            camera = page.evaluate("splatPage.camera()")
            shots[index] = canvas_pixels(page)
            ours = our_render(page_dir / manifest["frames"][index]["file"], camera)
            mean, outliers = compare(shots[index], ours)
            print(f"trained run, time {index}: mean |diff| {mean * 255:.2f}/255, {outliers:.2%} outliers")
            assert mean < MEAN_TOLERANCE and outliers < OUTLIER_FRACTION
        browser.close()
    assert errors == []
    assert np.abs(shots[0] - shots[2]).max() > 0  # the slices differ
