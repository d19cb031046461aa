"""The command forms the README shows, each tied to the test that runs it (README lines are checked against these).

A form is a command as the README writes it, with paths as ``{placeholders}``. Tests in this folder build their
command lines from these constants (adding only options that shorten a run or place its output: see
``SHORTENING_OPTIONS``), so what the README shows and what the tests run cannot drift apart unnoticed.
"""

from __future__ import annotations

import re
import shlex
from typing import Dict, List, Sequence, Tuple

DATAGEN_STATIC = "datagen synthetic --output-dir {data} --seed 3"
DATAGEN_DYNAMIC = "datagen synthetic --output-dir {data} --seed 3 --dynamic"
DATAGEN_CLEAN = "datagen synthetic --output-dir {data} --seed 3 --inconsistency none"
DATAGEN_VALIDATE = "datagen validate {data}"
DATAGEN_HELP = "datagen --help"

RIGI_PAPER = "ns-train rigi-splat --data {data}"
RIGI_CPU = "ns-train rigi-splat-cpu --data {data}"
RIGI_NO_LPIPS = "ns-train rigi-splat --data {data} --pipeline.model.lpips-lambda 0"
RIGI_SINGLE = "ns-train rigi-splat --data {data} --pipeline.model.dual-model False"
RIGI_DETACHED = (
    "ns-train rigi-splat --data {data} --pipeline.model.uncertainty-lambda 5 --pipeline.model.detach-uncertainty True"
)
E4D_PAPER = "ns-train efficient4d --data {data}"
E4D_CPU = "ns-train efficient4d-cpu --data {data}"
E4D_NO_CONFIDENCE = "ns-train efficient4d --data {data} --pipeline.model.use-confidence False"
E4D_RELEASED = "ns-train efficient4d --data {data} --pipeline.datamanager.confidence-mode released"

VIEWER = "ns-viewer --load-config {config}"
EVAL = "ns-eval --load-config {config} --output-path {json}"

# Forms run by the tests in this folder (each test names its form through the constants above).
RUN_HERE: Tuple[str, ...] = (
    DATAGEN_STATIC, DATAGEN_DYNAMIC, DATAGEN_CLEAN, DATAGEN_VALIDATE, DATAGEN_HELP,
    RIGI_PAPER, RIGI_CPU, RIGI_NO_LPIPS, RIGI_SINGLE, RIGI_DETACHED,
    E4D_PAPER, E4D_CPU, E4D_NO_CONFIDENCE, E4D_RELEASED,
    VIEWER, EVAL,
)  # fmt: skip

# Forms run by tests elsewhere: the named test file must spell every option of the form.
RUN_ELSEWHERE: Dict[str, str] = {
    "ns-export gaussian-splat --load-config {config} --output-dir {out}": "tests/rigi_ns/test_end_to_end.py",
    "e4d-export --load-config {config} --output-dir {out} --num-times 16 --turntable": (
        "tests/efficient4d_ns/test_end_to_end.py"
    ),
    "datagen convert grid --input {grid} --output-dir {out}": "tests/datagen/test_cli.py",
    "asset-export --load-config {config} --output-dir {out}": "tests/rigi_ns/test_mesh_end_to_end.py",
    "ns-export tsdf --load-config {config} --output-dir {out} --texture-method tsdf": (
        "tests/rigi_ns/test_mesh_end_to_end.py"
    ),
    "e4d-export --load-config {config} --output-dir {out} --up y": "tests/efficient4d_ns/test_end_to_end.py",
    "splat-web --load-config {config} --output-dir {out}": "tests/splatweb/test_end_to_end.py",
    "make test": "Makefile",  # the command that runs this suite
    # stage 1: SV3D with tiny random networks; SyncDreamer-T replaced by the FakeGenerator (the real ones need weights)
    "datagen image-to-3d {image} --output-dir {out} --weights {weights}": "tests/generators/test_sv3d_command.py",
    "datagen convert-sv3d-weights {checkpoint} {out}": "tests/generators/test_sv3d_command.py",
    "datagen video-to-4d {video} --output-dir {out} --checkpoint {ckpt} --clip-weights {clip}": (
        "tests/datagen/test_generate_cli.py"
    ),
    "datagen image-to-4d {image} --output-dir {out} --checkpoint {ckpt} --clip-weights {clip} --svd-weights {svd}": (
        "tests/datagen/test_image_to_4d.py"
    ),
    "image-to-asset {image} --output-dir {out} --weights {weights}": "tests/nsglue/test_one_command.py",
    "image-to-asset {image} --output-dir {out} --weights {weights} --method rigi-splat-cpu --max-num-iterations 1000": (
        "tests/nsglue/test_one_command.py"
    ),
    "video-to-asset {video} --output-dir {out} --checkpoint {ckpt} --clip-weights {clip}": (
        "tests/nsglue/test_one_command.py"
    ),
    "video-to-asset {video} --output-dir {out} --checkpoint {ckpt} --clip-weights {clip} --method efficient4d-cpu": (
        "tests/nsglue/test_one_command.py"
    ),
}

# Forms no test runs, with the reason.
NOT_RUN: Dict[str, str] = {
    "splat-web --input {folder} --output-dir {out}": (
        "the folder input is tested in-process (SplatWeb(input=...) in tests/splatweb/test_cli.py)"
    ),
    "python -m http.server -d {page} 8000": (
        "a static server for the page; the browser tests serve pages with the same http.server module"
    ),
    "make demo": "the demo trains for minutes: run by hand, not by the test suite",
    "datagen convert frames --input {frames} --layout sv3d --output-dir {out}": (
        "the frames converter is tested in-process (tests/datagen/test_convert.py), not with these options"
    ),
    "datagen convert video --input {video} --layout sv3d --alpha key --output-dir {out}": (
        "the video converter is tested in-process (tests/datagen/test_convert.py), not with these options"
    ),
    "datagen convert matrix --input {matrix} --output-dir {out}": (
        "the matrix converter is tested in-process (tests/datagen/test_convert.py)"
    ),
}

# Options a test may add to a form: they shorten the run or say where its output goes, nothing else.
SHORTENING_OPTIONS = {
    "--resolution", "--num-times", "--max-num-iterations", "--output-dir", "--experiment-name", "--timestamp",
    "--viewer.websocket-host", "--viewer.websocket-port", "--viewer.quit-on-train-completion",
}  # fmt: skip

PROGRAMS = ("ns-train", "ns-viewer", "ns-eval", "ns-export", "datagen", "e4d-export", "asset-export", "splat-web")
PROGRAMS += ("python", "make", "image-to-asset", "video-to-asset")
PATH_OPTIONS = {"--data", "--out", "--input", "--output-dir", "--load-config", "--output-path", "-d"}
PATH_OPTIONS |= {"--weights", "--checkpoint", "--clip-weights", "--svd-weights"}
POSITIONAL_PATHS = {
    "validate": 1, "image-to-3d": 1, "video-to-4d": 1, "image-to-4d": 1, "convert-sv3d-weights": 2,
    "image-to-asset": 1, "video-to-asset": 1,
}  # fmt: skip
"""Words after which the next N plain arguments are paths."""


def command_line(form: str, **paths) -> List[str]:
    """``form`` with its placeholders filled, split into arguments."""
    return [part.format(**{k: str(v) for k, v in paths.items()}) for part in shlex.split(form)]


def normalise(words: Sequence[str]) -> Tuple[str, ...]:
    """A command with every path (option value or positional path argument, see ``POSITIONAL_PATHS``) replaced by
    ``PATH``."""
    out: List[str] = []
    positional = 0  # plain arguments still to be taken as paths
    for i, word in enumerate(words):
        previous = words[i - 1] if i else ""
        is_path = previous in PATH_OPTIONS or (positional > 0 and not word.startswith("-"))
        positional = POSITIONAL_PATHS.get(word, 0) if word in POSITIONAL_PATHS else max(positional - 1, 0)
        if word.startswith("-"):
            positional = 0
        out.append("PATH" if is_path or re.fullmatch(r"\{\w+\}", word) else word)
    return tuple(out)


def readme_commands(markdown: str) -> List[Tuple[int, List[str]]]:
    """(line number, words) of every command in the README's fenced ```bash blocks, comments dropped."""
    commands, in_bash = [], False
    for number, line in enumerate(markdown.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("```"):
            in_bash = stripped == "```bash" and not in_bash
            continue
        if in_bash:
            words = shlex.split(line, comments=True)
            if words:
                commands.append((number, words))
    return commands
