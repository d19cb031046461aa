"""`splat-web`: one command from a run (or a folder of splat files) to a web page that plays it.

splat-web --load-config outputs/anim/efficient4d/<time>/config.yml --output-dir web/anim
splat-web --input exports/anim --output-dir web/anim          # PLYs (e.g. e4d-export's) or .splat files
python -m http.server -d web/anim 8000                        # then open http://localhost:8000
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

import tyro

from datagen.user_errors import UserError, show_without_traceback
from splatcore.orient import UpAxis
from splatweb.page import page_size_bytes, write_page
from splatweb.sources import frames_from_folder, frames_from_run


@dataclass
class SplatWeb:
    """Write DIR/index.html and its assets: a page that shows a Gaussian asset upright, with orbit controls and,
    for a 4D asset, a time slider with play/pause. Serve DIR with any static web server (no network needed)."""

    output_dir: Path
    """Folder for index.html, manifest.json, frames/*.splat and the vendored viewer library."""
    load_config: Optional[Path] = None
    """A rigi-splat or efficient4d run's config.yml (outputs/<name>/<method>/<timestamp>/config.yml)."""
    input: Optional[Path] = None
    """Instead of a run: a folder of .ply or .splat files (one per time, in name order; times from times.json if
    present), or one such file."""
    input_up: Optional[Literal["z", "y", "-y"]] = None
    """Up axis of the --input files; default: what each PLY's `comment Vertical Axis` says, else z for PLYs and -y
    for .splat files."""
    up: UpAxis = "-y"
    """Up axis of the page's .splat files: -y (INRIA, gsplat.js, SuperSplat), y (three.js) or z. The page shows the
    asset upright whichever is chosen."""
    num_times: int = 16
    """Times sampled over [0, T] from an efficient4d run."""
    name: Optional[str] = None
    """Title shown on the page (default: the run's experiment and method, or the input folder's name)."""
    fps: float = 8.0
    """Playback speed of a 4D asset, times per second."""

    def main(self) -> Path:
        """Write the page; returns the path of index.html."""
        if (self.load_config is None) == (self.input is None):
            raise UserError("give exactly one of --load-config CONFIG (a training run) or --input FOLDER (splat files)")
        if self.num_times < 1:
            raise UserError(f"--num-times must be ≥ 1, got {self.num_times}")
        if not self.fps > 0:
            raise UserError(f"--fps must be > 0, got {self.fps}")
        source_up: UpAxis
        if self.load_config is not None:
            frames, name = frames_from_run(self.load_config, self.num_times)
            source_up = "z"  # the dataset contract's world
        else:
            assert self.input is not None  # exactly one of the two, checked above
            frames, source_up, name = frames_from_folder(self.input, self.input_up)
        index = write_page(self.output_dir, frames, self.name or name, source_up, self.up, self.fps)
        count = max(f.splats.count for f in frames)
        size = page_size_bytes(self.output_dir) / 2**20
        print(f"Wrote {index} ({len(frames)} time(s), up to {count:,} Gaussians, {size:.1f} MiB)")
        print(f"View it: python -m http.server -d {self.output_dir} 8000, then open http://localhost:8000")
        return index


def entrypoint() -> None:
    """Console script `splat-web`."""
    show_without_traceback(UserError)
    tyro.extras.set_accent_color("bright_yellow")
    tyro.cli(SplatWeb).main()


if __name__ == "__main__":
    entrypoint()
