"""Telling a Hugging Face hub id from a local path, the one rule every weights option (``--weights``,
``--svd-weights``) uses."""

from __future__ import annotations

from pathlib import Path


def looks_like_hub_id(weights: str) -> bool:
    """``owner/name`` that is not a local path (and whose first part is no local directory either, so a mistyped
    ``weights/sv3d`` beside an existing ``weights/`` is reported as a missing folder, not looked up on the hub)."""
    parts = weights.split("/")
    return (
        len(parts) == 2
        and all(parts)
        and not weights.startswith((".", "~"))
        and not Path(weights).exists()
        and not Path(parts[0]).is_dir()
    )
