"""Depth-wise attention: a UNet feature map attends, pixel by pixel, over the depth samples of a frustum volume."""

from __future__ import annotations

from jaxtyping import Float
from torch import Tensor, nn


class DepthAttention(nn.Module):
    """Each pixel's query attends over the D depth samples of the context at the same pixel (softmax over D)."""

    def __init__(self, query_dim: int, context_dim: int, heads: int, dim_head: int, output_bias: bool = True):
        super().__init__()
        inner_dim = dim_head * heads
        self.scale = dim_head**-0.5
        self.heads = heads
        self.dim_head = dim_head
        self.to_q = nn.Conv2d(query_dim, inner_dim, 1, 1, bias=False)
        self.to_k = nn.Conv3d(context_dim, inner_dim, 1, 1, bias=False)
        self.to_v = nn.Conv3d(context_dim, inner_dim, 1, 1, bias=False)
        self.to_out = nn.Conv2d(inner_dim, query_dim, 1, 1, bias=output_bias)

    def forward(self, x: Float[Tensor, "B Cq h w"], context: Float[Tensor, "B Cc D h w"]) -> Float[Tensor, "B Cq h w"]:
        hn, hd = self.heads, self.dim_head
        b, _, h, w = x.shape
        d = context.shape[2]
        q = self.to_q(x).reshape(b, hn, hd, 1, h, w)
        k = self.to_k(context).reshape(b, hn, hd, d, h, w)
        v = self.to_v(context).reshape(b, hn, hd, d, h, w)
        attn = ((q * k).sum(2) * self.scale).softmax(dim=2)  # b, hn, d, h, w
        out = (v * attn.unsqueeze(2)).sum(3)  # b, hn, hd, h, w
        return self.to_out(out.reshape(b, hn * hd, h, w))


class DepthTransformer(nn.Module):
    """Residual depth attention block: ``x + proj_out(attn(proj_in(x), proj_context(volume)))``.

    The released model uses 4 heads of ``context_dim / 2`` channels; ``proj_out``'s last conv is zero-initialised
    in training, so the block starts as the identity.
    """

    def __init__(self, dim: int, n_heads: int, d_head: int, context_dim: int):
        super().__init__()
        inner_dim = n_heads * d_head
        self.proj_in = nn.Sequential(nn.Conv2d(dim, inner_dim, 1, 1), nn.GroupNorm(8, inner_dim), nn.SiLU())
        self.proj_context = nn.Sequential(
            nn.Conv3d(context_dim, context_dim, 1, 1, bias=False), nn.GroupNorm(8, context_dim), nn.ReLU()
        )
        self.depth_attn = DepthAttention(inner_dim, context_dim, n_heads, d_head, output_bias=False)
        self.proj_out = nn.Sequential(
            nn.GroupNorm(8, inner_dim),
            nn.ReLU(),
            nn.Conv2d(inner_dim, inner_dim, 3, 1, 1, bias=False),
            nn.GroupNorm(8, inner_dim),
            nn.ReLU(),
            nn.Conv2d(inner_dim, dim, 3, 1, 1, bias=False),
        )

    def forward(self, x: Float[Tensor, "B C h w"], context: Float[Tensor, "B Cc D h w"]) -> Float[Tensor, "B C h w"]:
        return self.proj_out(self.depth_attn(self.proj_in(x), self.proj_context(context))) + x
