"""SyncDreamer's volume networks: the noisy-view encoder, the spatial 3D UNet and the frustum 3D UNet.

Sub-module names follow the released code so that its state dict loads key for key; the sizes that the released
code hard-codes are constructor arguments here, with the released values as defaults.
"""

from __future__ import annotations

from jaxtyping import Float
from torch import Tensor, nn


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(8, channels)


class Image2DResBlockWithTV(nn.Module):
    """2D residual block with additive 1x1-conv time and viewpoint embeddings."""

    def __init__(self, dim: int, tdim: int, vdim: int):
        super().__init__()
        self.time_embed = nn.Conv2d(tdim, dim, 1, 1)
        self.view_embed = nn.Conv2d(vdim, dim, 1, 1)
        self.conv = nn.Sequential(
            _norm(dim), nn.SiLU(), nn.Conv2d(dim, dim, 3, 1, 1), _norm(dim), nn.SiLU(), nn.Conv2d(dim, dim, 3, 1, 1)
        )

    def forward(self, x: Tensor, t: Tensor, v: Tensor) -> Tensor:
        return x + self.conv(x + self.time_embed(t) + self.view_embed(v))


class NoisyTargetViewEncoder(nn.Module):
    """Features of one noisy target-view latent: [B, 4, h, w] -> [B, output_dim, h, w]."""

    def __init__(self, time_embed_dim: int = 256, viewpoint_dim: int = 4, run_dim: int = 16, output_dim: int = 16):
        super().__init__()
        self.init_conv = nn.Conv2d(4, run_dim, 3, 1, 1)
        self.out_conv0 = Image2DResBlockWithTV(run_dim, time_embed_dim, viewpoint_dim)
        self.out_conv1 = Image2DResBlockWithTV(run_dim, time_embed_dim, viewpoint_dim)
        self.out_conv2 = Image2DResBlockWithTV(run_dim, time_embed_dim, viewpoint_dim)
        self.final_out = nn.Sequential(_norm(run_dim), nn.SiLU(), nn.Conv2d(run_dim, output_dim, 3, 1, 1))

    def forward(
        self, x: Float[Tensor, "B 4 h w"], t: Float[Tensor, "B T"], v: Float[Tensor, "B V"]
    ) -> Float[Tensor, "B C h w"]:
        t = t[:, :, None, None]
        v = v[:, :, None, None]
        x = self.init_conv(x)
        x = self.out_conv0(x, t, v)
        x = self.out_conv1(x, t, v)
        x = self.out_conv2(x, t, v)
        return self.final_out(x)


class SpatialTimeBlock(nn.Module):
    """3D block: add the time embedding, GroupNorm, SiLU, 3x3x3 conv (stride 1 or 2)."""

    def __init__(self, x_in_dim: int, t_in_dim: int, out_dim: int, stride: int):
        super().__init__()
        self.t_conv = nn.Conv3d(t_in_dim, x_in_dim, 1, 1)
        self.bn = _norm(x_in_dim)
        self.silu = nn.SiLU()
        self.conv = nn.Conv3d(x_in_dim, out_dim, 3, stride=stride, padding=1)

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        return self.conv(self.silu(self.bn(x + self.t_conv(t))))


class SpatialUpTimeBlock(nn.Module):
    """3D up block: add the time embedding, GroupNorm, SiLU, stride-2 transposed conv (size x 2)."""

    def __init__(self, x_in_dim: int, t_in_dim: int, out_dim: int):
        super().__init__()
        self.t_conv = nn.Conv3d(t_in_dim, x_in_dim, 1, 1)
        self.norm = _norm(x_in_dim)
        self.silu = nn.SiLU()
        self.conv = nn.ConvTranspose3d(x_in_dim, out_dim, kernel_size=3, padding=1, output_padding=1, stride=2)

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        return self.conv(self.silu(self.norm(x + self.t_conv(t))))


class SpatialTime3DNet(nn.Module):
    """Time-conditioned 3D UNet over the spatial volume: [B, input_dim, V, V, V] -> [B, dims[0], V, V, V]."""

    def __init__(self, time_dim: int = 256, input_dim: int = 256, dims: tuple[int, ...] = (64, 128, 256, 512)):
        super().__init__()
        d0, d1, d2, d3 = dims
        dt = time_dim
        self.init_conv = nn.Conv3d(input_dim, d0, 3, 1, 1)
        self.conv0 = SpatialTimeBlock(d0, dt, d0, stride=1)
        self.conv1 = SpatialTimeBlock(d0, dt, d1, stride=2)
        self.conv2_0 = SpatialTimeBlock(d1, dt, d1, stride=1)
        self.conv2_1 = SpatialTimeBlock(d1, dt, d1, stride=1)
        self.conv3 = SpatialTimeBlock(d1, dt, d2, stride=2)
        self.conv4_0 = SpatialTimeBlock(d2, dt, d2, stride=1)
        self.conv4_1 = SpatialTimeBlock(d2, dt, d2, stride=1)
        self.conv5 = SpatialTimeBlock(d2, dt, d3, stride=2)
        self.conv6_0 = SpatialTimeBlock(d3, dt, d3, stride=1)
        self.conv6_1 = SpatialTimeBlock(d3, dt, d3, stride=1)
        self.conv7 = SpatialUpTimeBlock(d3, dt, d2)
        self.conv8 = SpatialUpTimeBlock(d2, dt, d1)
        self.conv9 = SpatialUpTimeBlock(d1, dt, d0)

    def forward(self, x: Float[Tensor, "B Cin V V V"], t: Float[Tensor, "B T"]) -> Float[Tensor, "B C V V V"]:
        t = t[:, :, None, None, None]
        x = self.init_conv(x)
        conv0 = self.conv0(x, t)
        x = self.conv1(conv0, t)
        x = self.conv2_0(x, t)
        conv2 = self.conv2_1(x, t)
        x = self.conv3(conv2, t)
        x = self.conv4_0(x, t)
        conv4 = self.conv4_1(x, t)
        x = self.conv5(conv4, t)
        x = self.conv6_0(x, t)
        x = self.conv6_1(x, t)
        x = conv4 + self.conv7(x, t)
        x = conv2 + self.conv8(x, t)
        return conv0 + self.conv9(x, t)


class FrustumTVBlock(nn.Module):
    """3D block with additive time and viewpoint embeddings."""

    def __init__(self, x_dim: int, t_dim: int, v_dim: int, out_dim: int, stride: int):
        super().__init__()
        self.t_conv = nn.Conv3d(t_dim, x_dim, 1, 1)
        self.v_conv = nn.Conv3d(v_dim, x_dim, 1, 1)
        self.bn = _norm(x_dim)
        self.silu = nn.SiLU()
        self.conv = nn.Conv3d(x_dim, out_dim, 3, stride=stride, padding=1)

    def forward(self, x: Tensor, t: Tensor, v: Tensor) -> Tensor:
        return self.conv(self.silu(self.bn(x + self.t_conv(t) + self.v_conv(v))))


class FrustumTVUpBlock(nn.Module):
    """3D up block (transposed conv, size x 2) with additive time and viewpoint embeddings."""

    def __init__(self, x_dim: int, t_dim: int, v_dim: int, out_dim: int):
        super().__init__()
        self.t_conv = nn.Conv3d(t_dim, x_dim, 1, 1)
        self.v_conv = nn.Conv3d(v_dim, x_dim, 1, 1)
        self.norm = _norm(x_dim)
        self.silu = nn.SiLU()
        self.conv = nn.ConvTranspose3d(x_dim, out_dim, kernel_size=3, padding=1, output_padding=1, stride=2)

    def forward(self, x: Tensor, t: Tensor, v: Tensor) -> Tensor:
        return self.conv(self.silu(self.norm(x + self.t_conv(t) + self.v_conv(v))))


class FrustumTV3DNet(nn.Module):
    """3D UNet over a view frustum volume; returns its features at four scales keyed by width.

    [B, in_dim, D, h, w] -> ``{w: [B, dims[0], D, h, w], w/2: [B, dims[1], D/2, ...], w/4: ..., w/8: ...}``.
    """

    def __init__(self, in_dim: int = 64, t_dim: int = 256, v_dim: int = 4, dims: tuple[int, ...] = (64, 128, 256, 512)):
        super().__init__()
        self.conv0 = nn.Conv3d(in_dim, dims[0], 3, 1, 1)
        self.conv1 = FrustumTVBlock(dims[0], t_dim, v_dim, dims[1], 2)
        self.conv2 = FrustumTVBlock(dims[1], t_dim, v_dim, dims[1], 1)
        self.conv3 = FrustumTVBlock(dims[1], t_dim, v_dim, dims[2], 2)
        self.conv4 = FrustumTVBlock(dims[2], t_dim, v_dim, dims[2], 1)
        self.conv5 = FrustumTVBlock(dims[2], t_dim, v_dim, dims[3], 2)
        self.conv6 = FrustumTVBlock(dims[3], t_dim, v_dim, dims[3], 1)
        self.up0 = FrustumTVUpBlock(dims[3], t_dim, v_dim, dims[2])
        self.up1 = FrustumTVUpBlock(dims[2], t_dim, v_dim, dims[1])
        self.up2 = FrustumTVUpBlock(dims[1], t_dim, v_dim, dims[0])

    def forward(
        self, x: Float[Tensor, "B C D h w"], t: Float[Tensor, "B T"], v: Float[Tensor, "B V"]
    ) -> dict[int, Tensor]:
        t = t[:, :, None, None, None]
        v = v[:, :, None, None, None]
        w = x.shape[-1]
        x0 = self.conv0(x)
        x1 = self.conv2(self.conv1(x0, t, v), t, v)
        x2 = self.conv4(self.conv3(x1, t, v), t, v)
        x3 = self.conv6(self.conv5(x2, t, v), t, v)
        x2 = self.up0(x3, t, v) + x2
        x1 = self.up1(x2, t, v) + x1
        x0 = self.up2(x1, t, v) + x0
        return {w: x0, w // 2: x1, w // 4: x2, w // 8: x3}
