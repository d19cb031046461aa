"""Score distillation (SDS) for Efficient4D: not built yet, so asking for it is refused at once.

SDS needs an image-conditioned novel-view diffusion model (the paper uses SyncDreamer/Zero123-style models
conditioned on the input video frame). Until the guidance term exists, a positive ``sds_lambda`` is an error raised
when the option is parsed (and again when a saved config builds the model), before the datamanager computes
anything and before any diffusion weights are read, so that no run starts with a term silently missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from datagen.user_errors import UserError


class SdsNotAvailableError(UserError):
    """SDS was asked for, but this release computes no SDS term."""


def require_no_sds(sds_lambda: float, sds_model_path: Optional[Path] = None) -> None:
    """Raise :class:`SdsNotAvailableError` when ``sds_lambda`` asks for SDS; reads no file and loads no model."""
    if sds_lambda > 0:
        given = f" (--pipeline.model.sds-model-path {sds_model_path} is not read)" if sds_model_path else ""
        raise SdsNotAvailableError(
            f"--pipeline.model.sds-lambda {sds_lambda:g}: the SDS term of Efficient4D is not implemented in this "
            f"release{given}; train with --pipeline.model.sds-lambda 0 (the default)"
        )
