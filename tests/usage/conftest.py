"""Shared, lazily made inputs of the command tests: one tiny dataset per kind and one training run per preset.

Session-scoped and made on first use, so the viewer, browser and eval tests reuse the runs the training tests made
(the tests carry the ``xdist_group`` marker, so with ``--dist loadgroup`` they share one worker and one copy).
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Dict, Iterator

import pytest

from tests.usage import forms
from tests.usage.tools import ServedViewer, free_port, run, serving_viewer, viewer_flags

# Only the length of training is shortened; everything else is the preset's default, viewer included.
TRAIN_ITERATIONS = 10
TINY = {"static": ["--resolution", "32"], "dynamic": ["--resolution", "32", "--num-times", "5"]}
PRESET_DATA = {
    "rigi-splat": "static",
    "rigi-splat-cpu": "static",
    "efficient4d": "dynamic",
    "efficient4d-cpu": "dynamic",
}
PRESET_FORM = {
    "rigi-splat": forms.RIGI_NO_LPIPS,  # the paper preset as the README runs it offline
    "rigi-splat-cpu": forms.RIGI_CPU,
    "efficient4d": forms.E4D_PAPER,
    "efficient4d-cpu": forms.E4D_CPU,
}


class Workspace:
    """Datasets and runs under one temporary folder, each made once."""

    def __init__(self, root: Path):
        self.root = root
        self._data: Dict[str, Path] = {}
        self._runs: Dict[str, Path] = {}
        self.logs: Dict[str, str] = {}
        self.ports: Dict[str, int] = {}
        self._viewers: Dict[str, ServedViewer] = {}
        self._stack = ExitStack()

    def dataset(self, kind: str) -> Path:
        """``datagen synthetic`` at 32 px (``kind`` static, or dynamic with 5 times)."""
        if kind not in self._data:
            form = forms.DATAGEN_STATIC if kind == "static" else forms.DATAGEN_DYNAMIC
            out = self.root / f"data-{kind}"
            run(forms.command_line(form, data=out) + TINY[kind], cwd=self.root)
            self._data[kind] = out
        return self._data[kind]

    def run_dir(self, preset: str) -> Path:
        """Folder of a finished ``ns-train`` run of ``preset`` in its default vis mode, viewer on 127.0.0.1."""
        if preset not in self._runs:
            data = self.dataset(PRESET_DATA[preset])
            port = free_port()
            words = forms.command_line(PRESET_FORM[preset], data=data) + [
                "--output-dir", self.root / "outputs", "--experiment-name", preset, "--timestamp", "run",
                "--max-num-iterations", TRAIN_ITERATIONS, *viewer_flags(port),
                "--viewer.quit-on-train-completion", "True",
            ]  # fmt: skip
            result = run(words, cwd=self.root)
            self.logs[preset] = result.stdout + result.stderr
            self.ports[preset] = port
            self._runs[preset] = self.root / "outputs" / preset / preset / "run"
        return self._runs[preset]

    def viewer(self, preset: str) -> ServedViewer:
        """``ns-viewer --load-config`` on the run of ``preset``, started once and shared (start-up costs imports)."""
        if preset not in self._viewers:
            config = self.run_dir(preset) / "config.yml"
            self._viewers[preset] = self._stack.enter_context(serving_viewer(config, cwd=self.root))
        return self._viewers[preset]

    def close(self) -> None:
        """Stop the viewers (each checks it was still alive)."""
        self._stack.close()


@pytest.fixture(scope="session")
def workspace(tmp_path_factory) -> Iterator[Workspace]:
    space = Workspace(tmp_path_factory.mktemp("usage"))
    yield space
    space.close()
