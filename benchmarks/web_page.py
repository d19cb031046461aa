"""Size and load time of a `splat-web` page for a 16-time asset (headless Chromium, local server).

    python benchmarks/web_page.py                       # 5k and 50k Gaussians per time, 16 times
    python benchmarks/web_page.py --counts 2000 --times 16 --repeats 3

Load time is measured in the page: from the module starting to the first time drawn, and to all times loaded
(one `.splat` file per time, fetched in order). Served from 127.0.0.1, so network time is nearly zero: the
figures are parsing and upload cost; on a real connection add size / bandwidth. Needs Debian's chromium.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from splatcore.ply import SplatPly  # noqa: E402
from splatweb.page import Frame, page_size_bytes, write_page  # noqa: E402


def random_asset(count: int, time: float, seed: int) -> SplatPly:
    """A blob of `count` Gaussians that drifts with `time` (the density of a trained 4D slice)."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0, 0.25, (count, 3)) + [0.2 * time, 0, 0]
    quats = rng.normal(size=(count, 4))
    return SplatPly(
        means=means.astype(np.float32),
        sh_dc=rng.normal(0, 1, (count, 3)).astype(np.float32),
        sh_rest=np.zeros((count, 0, 3), np.float32),
        opacity_logits=rng.normal(0, 2, count).astype(np.float32),
        log_scales=np.log(rng.uniform(0.005, 0.03, (count, 3))).astype(np.float32),
        quats=(quats / np.linalg.norm(quats, axis=1, keepdims=True)).astype(np.float32),
    )


def measure(folder: Path, repeats: int) -> list[tuple[float, float]]:
    from playwright.sync_api import sync_playwright

    from tests.splatweb.browser import CHROMIUM_FLAGS, chromium_path, serve

    path = chromium_path()
    if path is None:
        sys.exit("no chromium found (apt-get install chromium, or set $CHROMIUM)")
    results = []
    with serve(folder) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        for _ in range(repeats):
            page = browser.new_page(viewport={"width": 640, "height": 480})
            page.goto(url + "/index.html?autoplay=0")
            page.wait_for_function("window.splatPage && (splatPage.allLoaded || splatPage.error)", timeout=120000)
            first, everything, error = page.evaluate("[splatPage.firstFrameMs, splatPage.allLoadedMs, splatPage.error]")
            if error:
                sys.exit(f"page error: {error}")
            results.append((first, everything))
            page.close()
        browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--times", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print("| Gaussians per time | times | page size (MiB) | first time drawn (ms) | all times loaded (ms) |")
    print("|---|---|---|---|---|")
    for count in args.counts:
        with tempfile.TemporaryDirectory() as tmp:
            frames = [Frame(random_asset(count, t, seed=i), t) for i, t in enumerate(np.linspace(0, 1, args.times))]
            write_page(Path(tmp), frames, f"benchmark {count}")
            size = page_size_bytes(Path(tmp)) / 2**20
            runs = measure(Path(tmp), args.repeats)
            first = min(r[0] for r in runs)
            everything = min(r[1] for r in runs)
            print(
                f"| {count:,} | {args.times} | {size:.2f} | {first:.0f} | {everything:.0f} |  (best of {args.repeats})"
            )


if __name__ == "__main__":
    main()
