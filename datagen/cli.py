"""The `datagen` command: make, convert and check datasets.

datagen synthetic --output-dir DIR [--dynamic]   procedural object with ground truth (no GPU, no weights)
datagen convert frames|video|grid|matrix ...     generator output -> dataset
datagen convert blender --input DIR ...          Blender / NeRF-synthetic layout -> dataset
datagen validate DIR                             check a dataset, naming the file and field of every problem
datagen interpolate DIR --output-dir OUT         4D dataset -> 4K-3 timestamps (flow midpoints, twice)
datagen image-to-3d IMAGE --output-dir DIR      SV3D: one picture -> 3D dataset (63 views on 3 orbits)
datagen video-to-4d VIDEO --output-dir DIR      SyncDreamer-T: one clip -> 4D dataset (4K-3 times x 16 views)
datagen image-to-4d IMAGE --output-dir DIR      Stable Video Diffusion clip, then video-to-4d
datagen convert-sv3d-weights CKPT OUT_DIR       Stability's SV3D checkpoint -> the diffusers folder --weights takes
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Union

import tyro

from datagen.convert import ConvertBlender, ConvertFrames, ConvertGrid, ConvertMatrix, ConvertVideo
from datagen.dataset import DatasetError, dataset_notes
from datagen.generate_cli import ConvertSV3DWeights, ImageTo3D, ImageTo4D, VideoTo4D
from datagen.images import ConvertError
from datagen.interpolate_dataset import Interpolate
from datagen.options import check_options
from datagen.synthetic.command import Synthetic
from datagen.validate import summarize_dataset, validate_dataset

LEGACY_SPELLINGS = {"--out": "--output-dir"}
"""Options renamed for consistency across commands; the old spelling still works but is not shown in --help."""


@dataclass
class Validate:
    """Check a dataset against the contract; prints every problem with its file and field (exit 1), else a summary."""

    data_dir: tyro.conf.Positional[Path]
    """Dataset directory (holding transforms.json)."""
    check_pixels: bool = True
    """Decode every image (finds truncated files); off: read only the image headers."""

    def main(self) -> int:
        problems = validate_dataset(self.data_dir, check_pixels=self.check_pixels, progress=True)
        for note in dataset_notes(self.data_dir):
            print(f"note: {note}", file=sys.stderr)
        if problems:
            for problem in problems:
                inside = problem.file != str(self.data_dir)  # else the directory itself is the problem
                print(f"{self.data_dir}/{problem}" if inside else str(problem), file=sys.stderr)
            print(f"FAILED: {len(problems)} problem(s) in {self.data_dir}", file=sys.stderr)
            return 1
        print(f"OK: {summarize_dataset(self.data_dir)} ({self.data_dir})")
        return 0


@dataclass
class Convert:
    """Turn what a generator wrote (frames, an orbit video, a SyncDreamer grid, a 4D image matrix) into a dataset."""

    kind: Union[
        Annotated[ConvertFrames, tyro.conf.subcommand("frames")],
        Annotated[ConvertVideo, tyro.conf.subcommand("video")],
        Annotated[ConvertGrid, tyro.conf.subcommand("grid")],
        Annotated[ConvertMatrix, tyro.conf.subcommand("matrix")],
        Annotated[ConvertBlender, tyro.conf.subcommand("blender")],
    ]
    """What the input is."""

    def main(self) -> int:
        self.kind.main()
        return 0


Commands = Union[
    Annotated[Synthetic, tyro.conf.subcommand("synthetic")],
    Annotated[Convert, tyro.conf.subcommand("convert")],
    Annotated[Validate, tyro.conf.subcommand("validate")],
    Annotated[Interpolate, tyro.conf.subcommand("interpolate")],
    Annotated[ImageTo3D, tyro.conf.subcommand("image-to-3d")],
    Annotated[VideoTo4D, tyro.conf.subcommand("video-to-4d")],
    Annotated[ImageTo4D, tyro.conf.subcommand("image-to-4d")],
    Annotated[ConvertSV3DWeights, tyro.conf.subcommand("convert-sv3d-weights")],
]


def main(args: list[str] | None = None) -> int:
    """Parse ``args`` (default: sys.argv) and run the command; returns the exit status."""
    args = [_current_spelling(arg) for arg in (sys.argv[1:] if args is None else args)]
    command = tyro.cli(Commands, args=args, prog="datagen", config=(tyro.conf.OmitSubcommandPrefixes,))
    try:
        check_options(command)
        result = command.main()
    except (ConvertError, DatasetError, FileExistsError, ValueError) as error:  # messages name file and fix
        print(f"datagen: error: {error}", file=sys.stderr)
        return 1
    return result if isinstance(result, int) else 0


def _current_spelling(arg: str) -> str:
    """``--out`` / ``--out=DIR`` as ``--output-dir`` / ``--output-dir=DIR``; every other argument unchanged."""
    name, sep, value = arg.partition("=")
    return LEGACY_SPELLINGS.get(name, name) + sep + value if name in LEGACY_SPELLINGS else arg


def entrypoint() -> None:
    """Console script `datagen`."""
    sys.exit(main())
