"""Perturbed-attention guidance (PAG) on SV3D's UNet: identity self-attention on chosen spatial layers.

diffusers' ``PAGCFGIdentitySelfAttnProcessor2_0`` splits an attention call's batch into three equal blocks
``[uncond, cond, perturbed]``: the first two attend normally, the third replaces attention by ``to_out(to_v(x))``.
The caller must therefore stack the three branches as whole blocks on the batch axis (never interleaved per video)
and triple every conditioning tensor. Only *spatial* self-attentions (``transformer_blocks.N.attn1``, batch =
videos x frames) are eligible: a pattern like ``mid_block`` would otherwise also select the temporal self-attention
(``temporal_transformer_blocks.N.attn1``, built without cross-attention), which PAG is not meant to perturb.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from datagen.user_errors import UserError

SPATIAL_SELF_ATTENTION = re.compile(r"(?<!temporal_)transformer_blocks\.\d+\.attn1$")
"""Module names of the UNet's spatial self-attentions (and no temporal one)."""


def pag_layer_names(unet: torch.nn.Module, pattern: str) -> list[str]:
    """Names of the spatial self-attention modules whose name matches ``pattern`` (``re.search``).

    Raises:
        UserError: the pattern is not a regular expression, or selects no spatial self-attention.
    """
    try:
        selector = re.compile(pattern)
    except re.error as error:
        raise UserError(f"pag_layers={pattern!r}: not a regular expression ({error}); e.g. 'mid_block'") from None
    names = [name for name, _ in unet.named_modules() if SPATIAL_SELF_ATTENTION.search(name) and selector.search(name)]
    if not names:
        raise UserError(
            f"pag_layers={pattern!r} selects no spatial self-attention of the SV3D UNet; use e.g. 'mid_block', "
            "'up_blocks.1' or '.' (all)"
        )
    return names


@contextmanager
def perturbed_attention(unet: torch.nn.Module, names: list[str]) -> Iterator[None]:
    """Within the block, the named attentions run diffusers' CFG+PAG processor; their processors are restored after."""
    from diffusers.models.attention_processor import PAGCFGIdentitySelfAttnProcessor2_0

    modules = dict(unet.named_modules())
    saved = {name: modules[name].processor for name in names}
    processor = PAGCFGIdentitySelfAttnProcessor2_0()
    try:
        for name in names:
            modules[name].processor = processor  # set directly: set_attn_processor wants every layer's processor
        yield
    finally:
        for name, original in saved.items():
            modules[name].processor = original
