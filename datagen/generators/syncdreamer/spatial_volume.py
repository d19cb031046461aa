"""SyncDreamer's spatial volume (all 16 noisy views unprojected into one 3D feature grid) and the per-view frustum
volumes sampled from it, which condition the noise predictor."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor, nn

from datagen.generators.syncdreamer.volume_geometry import (
    frustum_points,
    project_to_grid,
    projection_matrix,
    spatial_grid,
)
from datagen.generators.syncdreamer.volume_nets import FrustumTV3DNet, NoisyTargetViewEncoder, SpatialTime3DNet


class SpatialVolumeNet(nn.Module):
    """Builds the spatial volume of a frame from its N noisy views, and frustum features from a spatial volume.

    Args:
        time_dim: size of the time embedding.
        view_dim: size of the viewpoint embedding (4).
        view_num: N, target views per frame (16).
        input_image_size: image size the intrinsics refer to (256; the latent is 1/8 of it).
        frustum_volume_depth: D, depth samples of a frustum volume (48).
        spatial_volume_size: V, samples per axis of the spatial volume (32).
        spatial_volume_length: half the side of the spatial volume's cube (0.5).
        frustum_volume_length: half the depth range of the frustum, around ``origin_depth`` (sqrt(3)/2).
        view_feature_dim: channels of each view's features before unprojection (16).
        view_run_dim: channels inside the view encoder (16).
        volume_dims: channels of the 3D UNets' four levels ((64, 128, 256, 512)).
        origin_depth: distance of the cameras to the origin (1.5).
    """

    def __init__(
        self,
        time_dim: int = 256,
        view_dim: int = 4,
        view_num: int = 16,
        input_image_size: int = 256,
        frustum_volume_depth: int = 48,
        spatial_volume_size: int = 32,
        spatial_volume_length: float = 0.5,
        frustum_volume_length: float = 0.86603,
        view_feature_dim: int = 16,
        view_run_dim: int = 16,
        volume_dims: tuple[int, ...] = (64, 128, 256, 512),
        origin_depth: float = 1.5,
    ):
        super().__init__()
        self.target_encoder = NoisyTargetViewEncoder(time_dim, view_dim, view_run_dim, view_feature_dim)
        self.spatial_volume_feats = SpatialTime3DNet(time_dim, view_feature_dim * view_num, tuple(volume_dims))
        self.frustum_volume_feats = FrustumTV3DNet(volume_dims[0], time_dim, view_dim, tuple(volume_dims))
        self.input_image_size = input_image_size
        self.frustum_volume_size = input_image_size // 8
        self.frustum_volume_depth = frustum_volume_depth
        self.spatial_volume_size = spatial_volume_size
        self.spatial_volume_length = spatial_volume_length
        self.frustum_volume_length = frustum_volume_length
        self.origin_depth = origin_depth

    def construct_spatial_volume(
        self,
        x: Float[Tensor, "B N 4 h w"],
        t_embed: Float[Tensor, "B T"],
        v_embed: Float[Tensor, "B N 4"],
        poses: Float[Tensor, "N 3 4"],
        Ks: Float[Tensor, "N 3 3"],
    ) -> Float[Tensor, "B C V V V"]:
        """Encode each noisy view, unproject it onto the grid, concatenate the N views and run the 3D UNet."""
        B, N = x.shape[:2]
        V = self.spatial_volume_size
        points = spatial_grid(V, self.spatial_volume_length, x.device).reshape(1, 3, -1).expand(B, 3, V**3)
        features = []
        for view in range(N):
            feats = self.target_encoder(x[:, view], t_embed, v_embed[:, view])
            projection = projection_matrix(
                feats.shape[-1] / self.input_image_size, Ks[view].expand(B, 3, 3), poses[view].expand(B, 3, 4)
            )
            grid = project_to_grid(points, projection, feats.shape[-1]).reshape(B, V, V * V, 2)
            sampled = F.grid_sample(feats, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
            features.append(sampled.reshape(B, -1, V, V, V))
        return self.spatial_volume_feats(torch.cat(features, 1), t_embed)

    def construct_view_frustum_volume(
        self,
        spatial_volume: Float[Tensor, "B C V V V"],
        t_embed: Float[Tensor, "B T"],
        v_embed: Float[Tensor, "B N 4"],
        poses: Float[Tensor, "N 3 4"],
        Ks: Float[Tensor, "N 3 3"],
        target_indices: Tensor,
    ) -> dict[int, Tensor]:
        """Frustum features of views ``target_indices`` [B, TN] of each frame, keyed by width, [B*TN, C, D, h, w]."""
        B, TN = target_indices.shape
        flat = target_indices.reshape(-1)
        points = frustum_points(
            self.frustum_volume_size,
            self.frustum_volume_depth,
            self.origin_depth - self.frustum_volume_length,
            self.origin_depth + self.frustum_volume_length,
            self.input_image_size,
            Ks[flat],
            poses[flat],
        )
        grid = (points / self.spatial_volume_length).permute(0, 2, 3, 4, 1)  # B*TN, D, h, w, 3
        volume = spatial_volume.repeat_interleave(TN, dim=0)
        sampled = F.grid_sample(volume, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
        v = v_embed[torch.arange(B, device=flat.device)[:, None], target_indices].reshape(B * TN, -1)
        t = t_embed.repeat_interleave(TN, dim=0)
        return self.frustum_volume_feats(sampled, t, v)
