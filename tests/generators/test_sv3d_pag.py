"""Perturbed-attention guidance on SV3D's UNet: which layers, what the branches compute, and on/off sampling."""

from __future__ import annotations

import pytest
import torch

from datagen.generators.sv3d.components import tiny_random_components
from datagen.generators.sv3d.pag import pag_layer_names, perturbed_attention
from datagen.generators.sv3d.sampler import Condition, denoise, sample
from datagen.generators.sv3d.schedule import edm_sigmas, triangle_guidance, v_scalings
from datagen.user_errors import UserError

FRAMES = 4


@pytest.fixture(scope="module")
def unet():
    return tiny_random_components().unet


def _condition(seed: int = 1) -> Condition:
    g = torch.Generator().manual_seed(seed)
    camera = torch.stack(
        [torch.full((FRAMES,), 1e-5), torch.rand(FRAMES, generator=g) + 1, torch.rand(FRAMES, generator=g) * 6], 1
    )
    return Condition(
        torch.randn(1, 1, 32, generator=g), torch.randn(1, 4, 4, 4, generator=g), camera, triangle_guidance(FRAMES)
    )


def test_layers_are_spatial_self_attention_only(unet):
    assert pag_layer_names(unet, "mid_block") == ["mid_block.attentions.0.transformer_blocks.0.attn1"]
    every = pag_layer_names(unet, ".")
    assert every and all("temporal" not in name and name.endswith("attn1") for name in every)
    assert "up_blocks.1.attentions.0.transformer_blocks.0.attn1" in every
    with pytest.raises(UserError, match="selects no spatial self-attention"):
        pag_layer_names(unet, "temporal_transformer_blocks")
    with pytest.raises(UserError, match="not a regular expression"):
        pag_layer_names(unet, "mid_block(")


def test_perturbed_branch_only_changes_the_third_block(unet):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(3, FRAMES, 8, 4, 4, generator=g)
    context = torch.randn(3, 1, 32, generator=g)
    camera = torch.rand(3, FRAMES, 3, generator=g)
    t = torch.full((3,), 0.3)
    layers = pag_layer_names(unet, ".")
    with torch.no_grad():
        plain = unet(x, t, context, camera)[0]
        with perturbed_attention(unet, layers):
            perturbed = unet(x, t, context, camera)[0]
        again = unet(x, t, context, camera)[0]
    torch.testing.assert_close(perturbed[:2], plain[:2], atol=1e-6, rtol=0)  # uncond and cond attend normally
    assert (perturbed[2] - plain[2]).abs().max() > 1e-3  # identity attention in the third block
    assert torch.equal(again, plain)  # processors restored


def test_pag_off_is_the_plain_sampler_bit_for_bit_and_pag_on_changes_it(unet):
    noise = torch.randn(FRAMES, 4, 4, 4, generator=torch.Generator().manual_seed(5))
    sigmas = edm_sigmas(3)
    layers = pag_layer_names(unet, "mid_block")
    plain = sample(unet, noise, sigmas, _condition())
    off = sample(unet, noise, sigmas, _condition(), pag_scale=0.0, pag_layers=layers)
    on = sample(unet, noise, sigmas, _condition(), pag_scale=3.0, pag_layers=layers)
    after = sample(unet, noise, sigmas, _condition())
    assert torch.equal(off, plain) and torch.equal(after, plain)
    assert (on - plain).abs().max() > 1e-4
    assert torch.isfinite(on).all()


def test_guidance_combines_the_three_branches_on_the_denoised_estimate_per_frame(unet):
    cond = _condition()
    x = torch.randn(FRAMES, 4, 4, 4, generator=torch.Generator().manual_seed(9))
    sigma = torch.tensor(2.0)
    c_skip, c_out, c_in, c_noise = v_scalings(sigma)
    layers = pag_layer_names(unet, "mid_block")
    with torch.no_grad(), perturbed_attention(unet, layers):
        guided = denoise(unet, x, sigma, cond, pag_scale=1.5)
        latent = cond.latent.expand(FRAMES, -1, -1, -1)
        inputs = torch.stack(
            [torch.cat([x * c_in, torch.zeros_like(latent) if k == 0 else latent], 1) for k in range(3)]
        )
        contexts = torch.cat([torch.zeros_like(cond.context), cond.context, cond.context])
        out = unet(inputs, c_noise.expand(3), contexts, cond.camera[None].expand(3, -1, -1))[0]
    d_u, d_c, d_p = (out[k] * c_out + x * c_skip for k in range(3))
    w = triangle_guidance(FRAMES)[:, None, None, None]
    torch.testing.assert_close(guided, d_u + w * (d_c - d_u) + 1.5 * (d_c - d_p), atol=1e-5, rtol=1e-5)
    assert (d_c - d_p).abs().max() > 1e-4  # the perturbed branch is not the conditional one
