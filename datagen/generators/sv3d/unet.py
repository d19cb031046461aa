"""SV3D's video UNet: diffusers' spatio-temporal UNet with SV3D's per-frame camera embedding.

SV3D (``sv3d_p``) conditions every frame on its own vector ``[cond_aug (256) | polar (512) | azimuth (512)]`` of
sinusoids (cos first, no input scaling), which goes through ``add_embedding`` per frame and is added to the timestep
embedding. diffusers' ``UNetSpatioTemporalConditionModel.forward`` builds that embedding once per video from three
256-wide ids and repeats it over the frames, inline, so this subclass re-runs the same trunk (unchanged blocks and
weights) with the per-frame embedding instead. Everything else, including the weights' names, is diffusers'.
"""

from __future__ import annotations

from typing import Any

import torch
from diffusers import UNetSpatioTemporalConditionModel
from diffusers.models.embeddings import get_timestep_embedding
from jaxtyping import Float

COND_AUG_WIDTH = 256
"""Sinusoid width of the conditioning-noise level in the per-frame vector."""
ANGLE_WIDTH = 512
"""Sinusoid width of the polar angle and of the azimuth in the per-frame vector."""
SGM_RESBLOCK_NORM_EPS = 1e-5
"""GroupNorm epsilon of sgm's residual blocks (``GroupNorm32``)."""
VECTOR_WIDTH = COND_AUG_WIDTH + 2 * ANGLE_WIDTH
"""Width of the per-frame vector (1280): ``projection_class_embeddings_input_dim`` of the UNet config."""


def sinusoids(values: torch.Tensor, width: int) -> torch.Tensor:
    """sgm's ``timestep_embedding``: ``[cos(v f) | sin(v f)]``, ``f = 10000^(-k / (width / 2))``; float32.

    Args:
        values: [N] raw values (radians, noise level), any float dtype (cast to float32 like sgm).

    Returns:
        [N, width] float32.
    """
    return get_timestep_embedding(values.float(), width, flip_sin_to_cos=True, downscale_freq_shift=0)


def camera_vector(
    cond_aug: Float[torch.Tensor, " n"], polar_rad: Float[torch.Tensor, " n"], azimuth_rad: Float[torch.Tensor, " n"]
) -> Float[torch.Tensor, "n 1280"]:
    """SV3D's per-frame conditioning vector ``[cond_aug (256) | polar (512) | azimuth (512)]`` (float32)."""
    return torch.cat(
        [sinusoids(cond_aug, COND_AUG_WIDTH), sinusoids(polar_rad, ANGLE_WIDTH), sinusoids(azimuth_rad, ANGLE_WIDTH)],
        dim=1,
    )


_Parent: Any = UNetSpatioTemporalConditionModel  # diffusers' models are untyped for mypy: treat the base as Any


class SV3DUNet(_Parent):
    """``UNetSpatioTemporalConditionModel`` whose added embedding is SV3D's per-frame camera vector.

    Same config and weights as the parent (``projection_class_embeddings_input_dim = 1280``); only the way
    ``added_time_ids`` become an embedding differs (see the module docstring), and the residual blocks' group norms
    use sgm's epsilon (see :meth:`use_sgm_norm_eps`).
    """

    def use_sgm_norm_eps(self) -> None:
        """Set the residual blocks' GroupNorm epsilon to sgm's 1e-5 (diffusers builds them with 1e-6).

        sgm's ``ResBlock`` normalises with ``GroupNorm32`` (torch's default eps 1e-5), spatial and temporal alike;
        its transformers' ``GroupNorm(eps=1e-6)`` already agree. Measured on the tiny parity model: UNet output
        max |diff| to sgm 5.9e-5 with diffusers' epsilon, 1.1e-7 with sgm's.
        """
        for name, module in self.named_modules():
            if isinstance(module, torch.nn.GroupNorm) and ".resnets." in f".{name}":
                module.eps = SGM_RESBLOCK_NORM_EPS
        self._sgm_norm_eps = True

    def frame_embedding(
        self, timestep: Float[torch.Tensor, " b"], added_time_ids: Float[torch.Tensor, "b f 3"], dtype: torch.dtype
    ) -> Float[torch.Tensor, "bf c"]:
        """``time_embedding(t) + add_embedding(camera_vector)`` per frame.

        Args:
            timestep: [B] the network's noise input (EDM ``c_noise = ln(sigma) / 4``).
            added_time_ids: [B, F, 3] per frame ``(cond_aug, polar_rad, azimuth_rad)``.
            dtype: dtype of the embedding (the UNet's).

        Returns:
            [B*F, 4*C0] embedding, batch-major (video b's frames are rows b*F ... b*F+F-1).
        """
        batch, frames = added_time_ids.shape[:2]
        emb = self.time_embedding(self.time_proj(timestep).to(dtype))
        flat = added_time_ids.reshape(batch * frames, 3)
        vector = camera_vector(flat[:, 0], flat[:, 1], flat[:, 2]).to(dtype)
        return emb.repeat_interleave(frames, dim=0) + self.add_embedding(vector)

    def forward(
        self,
        sample: Float[torch.Tensor, "b f c h w"],
        timestep: torch.Tensor | float,
        encoder_hidden_states: Float[torch.Tensor, "b n d"],
        added_time_ids: Float[torch.Tensor, "b f 3"],
        return_dict: bool = False,
    ) -> tuple[torch.Tensor]:
        """The network output (v-prediction) for ``sample`` = ``[c_in x | image latent]`` on the channel axis.

        Args:
            sample: [B, F, 8, h, w] scaled noisy latents and the conditioning image latent.
            timestep: scalar or [B] ``c_noise``.
            encoder_hidden_states: [B, 1, D] CLIP image embedding (shared by the frames of a video).
            added_time_ids: [B, F, 3] per frame ``(cond_aug, polar_rad, azimuth_rad)``.
            return_dict: unsupported (kept for the parent's signature); the result is always a tuple.

        Returns:
            ``([B, F, 4, h, w],)``
        """
        if not getattr(self, "_sgm_norm_eps", False):
            self.use_sgm_norm_eps()
        batch, frames = sample.shape[:2]
        timesteps = torch.as_tensor(timestep, device=sample.device)
        if timesteps.ndim == 0:
            timesteps = timesteps[None]
        emb = self.frame_embedding(timesteps.expand(batch), added_time_ids, sample.dtype)
        hidden = sample.flatten(0, 1)
        context = encoder_hidden_states.repeat_interleave(frames, dim=0)
        indicator = torch.zeros(batch, frames, dtype=sample.dtype, device=sample.device)
        out = self._trunk(hidden, emb, context, indicator)
        return (out.reshape(batch, frames, *out.shape[1:]),)

    def _trunk(
        self, sample: torch.Tensor, emb: torch.Tensor, context: torch.Tensor, indicator: torch.Tensor
    ) -> torch.Tensor:
        """diffusers' down/mid/up path of ``UNetSpatioTemporalConditionModel.forward``, unchanged: [B*F, 8, h, w]."""
        upsample_factor = 2**self.num_upsamplers
        forward_upsample_size = any(s % upsample_factor != 0 for s in sample.shape[-2:])
        sample = self.conv_in(sample)
        residuals: tuple[torch.Tensor, ...] = (sample,)
        for block in self.down_blocks:
            if getattr(block, "has_cross_attention", False):
                sample, res = block(
                    hidden_states=sample, temb=emb, encoder_hidden_states=context, image_only_indicator=indicator
                )
            else:
                sample, res = block(hidden_states=sample, temb=emb, image_only_indicator=indicator)
            residuals += res
        sample = self.mid_block(
            hidden_states=sample, temb=emb, encoder_hidden_states=context, image_only_indicator=indicator
        )
        upsample_size = None
        for i, block in enumerate(self.up_blocks):
            res = residuals[-len(block.resnets) :]
            residuals = residuals[: -len(block.resnets)]
            if i < len(self.up_blocks) - 1 and forward_upsample_size:
                upsample_size = residuals[-1].shape[2:]
            if getattr(block, "has_cross_attention", False):
                sample = block(
                    hidden_states=sample,
                    temb=emb,
                    res_hidden_states_tuple=res,
                    encoder_hidden_states=context,
                    upsample_size=upsample_size,
                    image_only_indicator=indicator,
                )
            else:
                sample = block(
                    hidden_states=sample,
                    temb=emb,
                    res_hidden_states_tuple=res,
                    upsample_size=upsample_size,
                    image_only_indicator=indicator,
                )
        return self.conv_out(self.conv_act(self.conv_norm_out(sample)))
