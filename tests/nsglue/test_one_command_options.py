"""The one-command pipelines' options: generator settings pass through unprefixed, ns-train options as NAME=VALUE."""

from __future__ import annotations

import dataclasses
import re

import pytest

from datagen.generators.sv3d.settings import SV3DSettings
from datagen.generators.syncdreamer.settings import SyncDreamerSettings
from datagen.user_errors import UserError
from nsglue import one_command


@pytest.mark.parametrize(
    ("main", "settings"), [(one_command.image_main, SV3DSettings), (one_command.video_main, SyncDreamerSettings)]
)
def test_generator_settings_are_options(main, settings, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for name in [f.name for f in dataclasses.fields(settings)] + ["max_num_iterations", "train_option", "method"]:
        assert re.search(f"--{name.replace('_', '-')}[ ,]", text), name


def test_train_options():
    assert one_command.train_options(("pipeline.model.lpips-lambda=0", "--vis=viewer")) == [
        "--pipeline.model.lpips-lambda", "0", "--vis", "viewer",
    ]  # fmt: skip
    with pytest.raises(UserError, match="NAME=VALUE"):
        one_command.train_options(("pipeline.model.lpips-lambda",))


def test_bad_input_is_one_line(tmp_path, capsys):
    args = [str(tmp_path / "none.png"), "--output-dir", str(tmp_path / "o"), "--weights", "w"]
    assert one_command.image_main(args) == 1
    assert capsys.readouterr().err.startswith(f"image-to-asset: error: {tmp_path / 'none.png'}: no such image file")
    args = [str(tmp_path / "none.mp4"), "--output-dir", str(tmp_path / "o"), "--checkpoint", "c"]
    assert one_command.video_main(args) == 1
    assert "no such video file or folder" in capsys.readouterr().err
    assert not (tmp_path / "o" / "summary.json").exists()
