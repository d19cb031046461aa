"""Score distillation (SDS) guidance for Efficient4D: start-up checks and loading of a local diffusers model.

SDS needs an image-conditioned novel-view diffusion model (the paper uses SyncDreamer/Zero123-style models
conditioned on the input video frame). Weights are never downloaded: the user passes a local diffusers folder.
This release validates and loads it; the SDS gradient itself is not implemented, which is reported at start-up
(not mid-training) so that a long run never starts with a term silently missing.
"""

from pathlib import Path
from typing import Any, Optional


def check_sds_model_path(path: Optional[Path]) -> Path:
    """Validate `--pipeline.model.sds-model-path`; returns the folder or raises a ValueError/FileNotFoundError."""
    if path is None:
        raise ValueError(
            "sds_lambda > 0 needs --pipeline.model.sds-model-path: a local diffusers folder (with model_index.json) "
            "of an image-conditioned diffusion model. Weights are not downloaded. Or set --pipeline.model.sds-lambda 0."
        )
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(
            f"SDS model folder {path} does not exist; pass a local diffusers folder or sds-lambda 0"
        )
    if not (path / "model_index.json").is_file():
        raise ValueError(f"{path} has no model_index.json: it is not a diffusers pipeline folder (sds_model_path)")
    return path


def load_sds_pipeline(path: Path, device: str = "cpu") -> Any:
    """Load the diffusers pipeline at `path` offline (local files only) onto `device`."""
    from diffusers import DiffusionPipeline

    pipeline = DiffusionPipeline.from_pretrained(str(check_sds_model_path(path)), local_files_only=True)
    return pipeline.to(device)


def require_sds_support(path: Optional[Path]) -> None:
    """Start-up gate used by the model: valid path, loadable model, then a clear 'not implemented' message."""
    load_sds_pipeline(check_sds_model_path(path))
    raise NotImplementedError(
        "The SDS term of Efficient4D is not implemented in this release (its model loads, but no guidance is "
        "computed); train with --pipeline.model.sds-lambda 0."
    )
