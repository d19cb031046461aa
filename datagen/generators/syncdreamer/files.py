"""Where SyncDreamer's released files come from, and the check that they exist (light: no torch, so the commands
can run it before reading a clip's worth of frames or loading anything)."""

from __future__ import annotations

from pathlib import Path

from datagen.user_errors import UserError

CHECKPOINT_URL = "https://drive.google.com/file/d/1ypyD5WXxAnsWjnHgAfOAGolV0Zd9kpam/view?usp=sharing"
"""Where SyncDreamer's README points for its checkpoints (syncdreamer-pretrain.ckpt and ViT-L-14)."""
CLIP_URL = (
    "https://openaipublic.azureedge.net/clip/models/"
    "b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836/ViT-L-14.pt"
)
"""OpenAI's ViT-L/14 file (the URL the ``clip`` package downloads ``ViT-L/14`` from)."""


def check_files(checkpoint: str, clip_weights: str) -> tuple[Path, Path]:
    """Both files exist, or one ``UserError`` naming each missing file, where to get it and its option."""
    problems = []
    if not checkpoint or not Path(checkpoint).is_file():
        problems.append(
            f"SyncDreamer checkpoint not found: {checkpoint or '(none given)'}; download syncdreamer-pretrain.ckpt"
            f" (SyncDreamer README: {CHECKPOINT_URL}) and pass it with --checkpoint"
        )
    if not clip_weights or not Path(clip_weights).is_file():
        problems.append(
            f"CLIP weights not found: {clip_weights or '(none given)'}; download OpenAI's ViT-L-14.pt ({CLIP_URL},"
            f" also in SyncDreamer's checkpoint folder: {CHECKPOINT_URL}) and pass it with --clip-weights"
        )
    if problems:
        raise UserError("\n".join(problems))
    return Path(checkpoint), Path(clip_weights)
