"""SyncDreamer's denoiser: time and viewpoint embeddings, the spatial/frustum volumes, the image condition and the
noise prediction with classifier-free or decomposed guidance (the released ``SyncMultiviewDiffusion`` and
``UNetWrapper``, without the VAE and CLIP, which live beside it)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from diffusers.models.embeddings import get_timestep_embedding
from jaxtyping import Float
from torch import Tensor, nn

from datagen.generators.syncdreamer.cameras import REFERENCE_IMAGE_SIZE, syncdreamer_cameras
from datagen.generators.syncdreamer.spatial_volume import SpatialVolumeNet
from datagen.generators.syncdreamer.unet import DepthWiseAttentionUNet, UNetSizes

LATENT_SCALE = 0.18215
"""SD VAE latent scale. The input view's latent enters the UNet divided by it again (zero123's quirk), so it
arrives unscaled while the noisy target arrives scaled."""

TARGET_ELEVATION_DEG = 30.0
"""Elevation of SyncDreamer's 16 target views."""

DECOMPOSED_CONCAT_FACTOR = 4.0
"""The released decomposed guidance multiplies the input-view latent by 4 in its volume-free branch."""


@dataclass(frozen=True)
class SyncDreamerConfig:
    """Sizes of the networks; defaults are the released model's, ``tiny()`` gives fast random stand-ins."""

    image_size: int = 256
    """Image size (the latent is 1/8)."""
    view_num: int = 16
    """Target views per frame."""
    time_embed_dim: int = 256
    """Time embedding of the volume networks."""
    view_feature_dim: int = 16
    """Channels of each noisy view's features before unprojection."""
    view_run_dim: int = 16
    """Channels inside the noisy-view encoder."""
    spatial_volume_size: int = 32
    """Samples per axis of the spatial volume."""
    frustum_volume_depth: int = 48
    """Depth samples of a frustum volume."""
    unet: UNetSizes = field(default_factory=UNetSizes)
    """Noise predictor sizes (context_dim is also the CLIP embedding size)."""
    vae_channels: tuple[int, ...] = (128, 256, 512, 512)
    """Channels of the VAE's four levels (SD's VAE)."""
    vae_norm_groups: int = 32
    """GroupNorm groups of the VAE."""

    @staticmethod
    def tiny() -> SyncDreamerConfig:
        """Small enough to sample 16 views of a few frames on a CPU in seconds."""
        # volume_dims[3] = 16: GroupNorm(8) needs two values per group at the 1^3 bottom of the 3D UNets
        unet = UNetSizes(
            sample_size=8,
            model_channels=8,
            channel_mult=(1, 1, 1, 1),
            num_heads=2,
            context_dim=16,
            norm_groups=4,
            volume_dims=(8, 8, 8, 16),
        )
        return SyncDreamerConfig(
            image_size=64,
            time_embed_dim=16,
            view_feature_dim=4,
            view_run_dim=8,
            spatial_volume_size=8,
            frustum_volume_depth=8,
            unet=unet,
            vae_channels=(8, 8, 8, 8),
            vae_norm_groups=4,
        )


class SyncDreamerModel(nn.Module):
    """Noise prediction for the N views of B frames given each frame's input latent and CLIP embedding."""

    poses: Tensor
    """[N, 3, 4] OpenCV world-to-camera poses of the target views."""
    Ks: Tensor
    """[N, 3, 3] intrinsics at ``config.image_size``."""
    azimuth: Tensor
    """[N] azimuths in radians, wrapped to [-pi, pi)."""

    def __init__(self, config: SyncDreamerConfig = SyncDreamerConfig()):
        super().__init__()
        if config.view_num != 16:
            raise ValueError(f"view_num={config.view_num}: SyncDreamer's cameras are 16 views")
        self.config = config
        self.time_embed_dim = config.time_embed_dim
        self.time_embed = nn.Sequential(
            nn.Linear(config.time_embed_dim, config.time_embed_dim),
            nn.SiLU(),
            nn.Linear(config.time_embed_dim, config.time_embed_dim),
        )
        ctx = config.unet.context_dim
        self.cc_projection = nn.Linear(ctx + 4, ctx)
        self.spatial_volume = SpatialVolumeNet(
            time_dim=config.time_embed_dim,
            view_num=config.view_num,
            input_image_size=config.image_size,
            frustum_volume_depth=config.frustum_volume_depth,
            spatial_volume_size=config.spatial_volume_size,
            view_feature_dim=config.view_feature_dim,
            view_run_dim=config.view_run_dim,
            volume_dims=config.unet.volume_dims,
        )
        self.noise_predictor = DepthWiseAttentionUNet(config.unet)
        poses, Ks, azimuth = syncdreamer_cameras(REFERENCE_IMAGE_SIZE)
        ratio = config.image_size / REFERENCE_IMAGE_SIZE
        Ks = torch.diag(torch.tensor([ratio, ratio, 1.0])) @ Ks
        self.register_buffer("poses", poses, persistent=False)
        self.register_buffer("Ks", Ks, persistent=False)
        self.register_buffer("azimuth", azimuth, persistent=False)

    def viewpoint_embedding(self, elevation: Float[Tensor, " B"]) -> Float[Tensor, "B N 4"]:
        """zero123's relative viewpoint ``[el_in - 30 deg, sin d_az, cos d_az, 0]`` (radians) of each target view."""
        d_e = (elevation - math.radians(TARGET_ELEVATION_DEG))[:, None].expand(-1, self.config.view_num)
        d_a = (self.azimuth - self.azimuth[0])[None].expand(elevation.shape[0], -1)
        return torch.stack([d_e, torch.sin(d_a), torch.cos(d_a), torch.zeros_like(d_a)], -1)

    def embed_time(self, t: Tensor) -> Float[Tensor, "B T"]:
        """Sinusoid (cos first) of the timestep, then Linear-SiLU-Linear."""
        sinusoid = get_timestep_embedding(t, self.time_embed_dim, flip_sin_to_cos=True, downscale_freq_shift=0)
        return self.time_embed(sinusoid)

    def spatial_volumes(
        self, x_t: Float[Tensor, "B N 4 h w"], t_embed: Tensor, v_embed: Tensor
    ) -> Float[Tensor, "B C V V V"]:
        """Each frame's spatial volume from all its N noisy views."""
        return self.spatial_volume.construct_spatial_volume(x_t, t_embed, v_embed, self.poses, self.Ks)

    def predict_noise(
        self,
        x_t: Float[Tensor, "B TN 4 h w"],
        t: Tensor,
        volume: Float[Tensor, "B C V V V"],
        t_embed: Float[Tensor, "B T"],
        v_embed: Float[Tensor, "B N 4"],
        clip_embed: Float[Tensor, "B 1 E"],
        x_input: Float[Tensor, "B 4 h w"],
        views: Tensor,
        guidance: str = "decomposed",
        scales: tuple[float, ...] = (2.0, 1.0),
    ) -> Float[Tensor, "B TN 4 h w"]:
        """Guided noise prediction for views ``views`` [TN] of each frame.

        Args:
            t: [B] timesteps (one per frame).
            guidance: ``"cfg"``: ``uc + s (c - uc)`` with context, frustum features and input latent all zeroed in
                uc (scale 1: the conditional prediction alone); ``"decomposed"``: ``c + s1 (c - uc1) + s2 (c - uc2)``
                with uc1 = (context 0, volume kept, input latent 0) and uc2 = (context kept, volume 0, input
                latent x 4), as the released Efficient4D code.
        """
        B, TN = x_t.shape[:2]
        target = views[None].expand(B, TN)
        frustum = self.spatial_volume.construct_view_frustum_volume(
            volume, t_embed, v_embed, self.poses, self.Ks, target
        )
        v = v_embed[:, views].reshape(B * TN, 1, 4)
        clip = clip_embed.repeat_interleave(TN, dim=0)
        context = self.cc_projection(torch.cat([clip, v], -1))  # B*TN, 1, ctx
        concat = x_input.repeat_interleave(TN, dim=0)
        x = x_t.reshape(B * TN, *x_t.shape[2:])
        tt = t.repeat_interleave(TN, dim=0)
        if guidance == "cfg":
            (scale,) = scales
            if scale == 1.0:
                eps = self._unet(x, tt, context, frustum, concat)
            else:
                zero = {k: torch.zeros_like(f) for k, f in frustum.items()}
                eps_c, eps_u = self._unet(
                    torch.cat([x, x]),
                    torch.cat([tt, tt]),
                    torch.cat([context, torch.zeros_like(context)]),
                    {k: torch.cat([frustum[k], zero[k]]) for k in frustum},
                    torch.cat([concat, torch.zeros_like(concat)]),
                ).chunk(2)
                eps = eps_u + scale * (eps_c - eps_u)
        elif guidance == "decomposed":
            s1, s2 = scales
            eps_c, eps_u1, eps_u2 = self._unet(
                torch.cat([x, x, x]),
                torch.cat([tt, tt, tt]),
                torch.cat([context, torch.zeros_like(context), context]),
                {k: torch.cat([f, f, torch.zeros_like(f)]) for k, f in frustum.items()},
                torch.cat([concat, torch.zeros_like(concat), concat * DECOMPOSED_CONCAT_FACTOR]),
            ).chunk(3)
            eps = eps_c + s1 * (eps_c - eps_u1) + s2 * (eps_c - eps_u2)
        else:
            raise ValueError(f"guidance={guidance!r}: use 'cfg' or 'decomposed'")
        return eps.reshape(B, TN, *eps.shape[1:])

    def _unet(self, x: Tensor, t: Tensor, context: Tensor, frustum: dict[int, Tensor], concat: Tensor) -> Tensor:
        return self.noise_predictor(torch.cat([x, concat / LATENT_SCALE], 1), t, context, frustum)
