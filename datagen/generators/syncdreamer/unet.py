"""SyncDreamer's noise predictor: the zero123 / SD-1.x UNet (diffusers ``UNet2DConditionModel``) with depth-wise
attention to the frustum volume after the mid block and after every layer of the three upper decoder levels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from diffusers import UNet2DConditionModel
from jaxtyping import Float
from torch import Tensor, nn

from datagen.generators.syncdreamer.depth_attention import DepthTransformer

DEPTH_HEADS = 4
"""Heads of every depth attention block (of ``volume_dim / 2`` channels each)."""


@dataclass(frozen=True)
class UNetSizes:
    """Sizes of the noise predictor; the defaults are the released model's."""

    sample_size: int = 32
    """Latent size (image size / 8)."""
    model_channels: int = 320
    """Channels of the first level."""
    channel_mult: tuple[int, ...] = (1, 2, 4, 4)
    """Channel multiplier of the four levels."""
    num_heads: int = 8
    """Cross-attention heads."""
    context_dim: int = 768
    """Size of the (projected CLIP) context."""
    norm_groups: int = 32
    """GroupNorm groups of the UNet."""
    volume_dims: tuple[int, ...] = (64, 128, 256, 512)
    """Channels of the frustum volume's four scales (finest first)."""

    def diffusers_config(self) -> dict:
        """``UNet2DConditionModel`` config equal to the LDM UNet (in_channels 8: noisy target + input latent)."""
        return {
            "sample_size": self.sample_size,
            "in_channels": 8,
            "out_channels": 4,
            "down_block_types": ("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
            "up_block_types": ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
            "block_out_channels": tuple(self.model_channels * m for m in self.channel_mult),
            "layers_per_block": 2,
            "attention_head_dim": self.num_heads,  # SD-1 configs give the head *count* here
            "cross_attention_dim": self.context_dim,
            "norm_num_groups": self.norm_groups,
            "norm_eps": 1e-5,
            "use_linear_projection": False,
            "flip_sin_to_cos": True,
            "freq_shift": 0,
        }


class DepthWiseAttentionUNet(nn.Module):
    """UNet2DConditionModel + depth attention to the frustum features (keyed by width).

    Depth attention runs after the mid block and after each (resnet, cross-attention) layer of up blocks 1..3, or
    after the upsampler for a block's last layer (the released ``DepthWiseAttention``'s output blocks 3..11).
    """

    def __init__(self, sizes: UNetSizes = UNetSizes()):
        super().__init__()
        self.unet: Any = UNet2DConditionModel(**sizes.diffusers_config())
        d0, d1, d2, d3 = sizes.volume_dims
        ch = [sizes.model_channels * m for m in sizes.channel_mult]
        self.middle_conditions = DepthTransformer(ch[2], DEPTH_HEADS, d3 // 2, context_dim=d3)
        # (query channels, volume dims) after up_blocks[1] (3 layers), [2], [3], as the released code lists them
        layout = [(ch[2], d2), (ch[2], d2), (ch[2], d1), (ch[1], d1), (ch[1], d1), (ch[1], d0)]
        layout += [(ch[0], d0)] * 3
        self.output_conditions = nn.ModuleList(
            DepthTransformer(dim, DEPTH_HEADS, vd // 2, context_dim=vd) for dim, vd in layout
        )

    def forward(
        self,
        sample: Float[Tensor, "B 8 h w"],
        timesteps: Tensor,
        context: Float[Tensor, "B 1 C"],
        volume: dict[int, Tensor],
    ) -> Float[Tensor, "B 4 h w"]:
        u: Any = self.unet
        emb = u.time_embedding(u.time_proj(timesteps).to(sample.dtype))
        h = u.conv_in(sample)
        skips: tuple[Tensor, ...] = (h,)
        for down in u.down_blocks:
            if getattr(down, "has_cross_attention", False):
                h, res = down(h, emb, encoder_hidden_states=context)
            else:
                h, res = down(h, emb)
            skips += res
        h = u.mid_block(h, emb, encoder_hidden_states=context)
        h = self.middle_conditions(h, volume[h.shape[-1]])
        conditions = iter(self.output_conditions)
        for index, up in enumerate(u.up_blocks):
            attentions = getattr(up, "attentions", None)
            for layer, resnet in enumerate(up.resnets):
                h = resnet(torch.cat([h, skips[-1]], 1), emb)
                skips = skips[:-1]
                if attentions is not None:
                    h = attentions[layer](h, encoder_hidden_states=context, return_dict=False)[0]
                if layer == len(up.resnets) - 1 and up.upsamplers is not None:
                    for upsampler in up.upsamplers:
                        h = upsampler(h)
                if index > 0:
                    h = next(conditions)(h, volume[h.shape[-1]])
        return u.conv_out(u.conv_act(u.conv_norm_out(h)))
