"""Convert Stability's single-file ``sv3d_p.safetensors`` (sgm key names) into the diffusers-format directory we load.

Layout written (``unet/`` with :class:`~datagen.generators.sv3d.unet.SV3DUNet`'s config)::

    OUT/unet/{config.json, diffusion_pytorch_model.safetensors}     sgm model.diffusion_model.*
    OUT/vae/{config.json, diffusion_pytorch_model.safetensors}      conditioner.embedders.1.encoder.{encoder,quant_conv}
                                                                    + first_stage_model.decoder (no post_quant_conv)
    OUT/image_encoder/{config.json, model.safetensors}              conditioner.embedders.0.open_clip.model.visual
    OUT/sv3d.json                                                   what was converted, from which file

Architecture numbers are read from the tensors' shapes; the two that shapes cannot give are parameters
(attention head widths: 64 channels per UNet head, 80 per ViT-H-14 head). The directory is written under a temporary
name next to ``output_dir`` and renamed into place, so a failed conversion leaves nothing behind (with ``overwrite``,
an earlier conversion stays in place until the new one is complete).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from datagen.user_errors import UserError

if TYPE_CHECKING:
    import torch

UNET_PREFIX = "model.diffusion_model."
CLIP_PREFIX = "conditioner.embedders.0.open_clip.model.visual."
VAE_ENCODER_PREFIX = "conditioner.embedders.1.encoder."
VAE_DECODER_PREFIX = "first_stage_model.decoder."
VAE_SCALING_FACTOR = 0.18215
"""Latent scale of SV3D's (SD 2.x) VAE: sgm decodes ``z / 0.18215``."""
MARKER = "sv3d.json"
"""File naming the converted checkpoint inside the output directory."""

_RESNET = {
    "in_layers.0": "norm1",
    "in_layers.2": "conv1",
    "emb_layers.1": "time_emb_proj",
    "out_layers.0": "norm2",
    "out_layers.3": "conv2",
    "skip_connection": "conv_shortcut",
}


def _resnet_key(rest: str) -> str:
    """sgm VideoResBlock sub-key -> diffusers SpatioTemporalResBlock sub-key."""
    if rest.startswith("time_mixer."):
        return rest
    block = "spatial_res_block"
    if rest.startswith("time_stack."):
        block, rest = "temporal_res_block", rest[len("time_stack.") :]
    for old, new in _RESNET.items():
        if rest.startswith(old + "."):
            return f"{block}.{new}{rest[len(old) :]}"
    raise KeyError(rest)


def _attention_key(rest: str) -> str:
    """sgm SpatialVideoTransformer sub-key -> diffusers TransformerSpatioTemporalModel sub-key."""
    if rest.startswith("time_stack."):
        return "temporal_transformer_blocks." + rest[len("time_stack.") :]
    match = re.match(r"time_pos_embed\.([02])\.(.*)", rest)
    if match:
        return f"time_pos_embed.linear_{1 if match.group(1) == '0' else 2}.{match.group(2)}"
    return rest


def unet_from_sgm(state: dict[str, torch.Tensor], head_channels: int) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """sgm ``VideoUNet`` tensors (prefix stripped) -> (diffusers config, diffusers state dict).

    Raises:
        KeyError: a tensor with no diffusers counterpart (not an SV3D UNet).
    """
    indices = sorted({int(k.split(".")[1]) for k in state if k.startswith("input_blocks.")})
    downsamplers = sorted(i for i in indices if f"input_blocks.{i}.0.op.weight" in state)
    per_level = (downsamplers[0] if downsamplers else len(indices)) - 1  # res blocks per level (sgm num_res_blocks)
    levels = len(downsamplers) + 1
    stride = per_level + 1
    channels = [int(state[f"input_blocks.{1 + lv * stride}.0.out_layers.3.weight"].shape[0]) for lv in range(levels)]
    attention = [f"input_blocks.{1 + lv * stride}.1.norm.weight" in state for lv in range(levels)]
    depth = len({k.split(".")[3] for k in state if k.startswith("middle_block.1.transformer_blocks.")})
    config = {
        "sample_size": None,
        "in_channels": int(state["input_blocks.0.0.weight"].shape[1]),
        "out_channels": int(state["out.2.weight"].shape[0]),
        "down_block_types": ["CrossAttnDownBlockSpatioTemporal" if a else "DownBlockSpatioTemporal" for a in attention],
        "up_block_types": [
            "CrossAttnUpBlockSpatioTemporal" if a else "UpBlockSpatioTemporal" for a in reversed(attention)
        ],
        "block_out_channels": channels,
        "addition_time_embed_dim": 256,
        "projection_class_embeddings_input_dim": int(state["label_emb.0.0.weight"].shape[1]),
        "layers_per_block": per_level,
        "cross_attention_dim": int(state["middle_block.1.transformer_blocks.0.attn2.to_k.weight"].shape[1]),
        "transformer_layers_per_block": depth,
        "num_attention_heads": [c // head_channels for c in channels],
        "num_frames": 21,
    }
    fixed = {
        "time_embed.0.": "time_embedding.linear_1.",
        "time_embed.2.": "time_embedding.linear_2.",
        "label_emb.0.0.": "add_embedding.linear_1.",
        "label_emb.0.2.": "add_embedding.linear_2.",
        "input_blocks.0.0.": "conv_in.",
        "out.0.": "conv_norm_out.",
        "out.2.": "conv_out.",
    }
    out: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        new = next((n + key[len(o) :] for o, n in fixed.items() if key.startswith(o)), None)
        if new is None and key.startswith("middle_block.1."):
            new = "mid_block.attentions.0." + _attention_key(key[len("middle_block.1.") :])
        if new is None and key.startswith(("middle_block.0.", "middle_block.2.")):
            new = f"mid_block.resnets.{int(key[13]) // 2}.{_resnet_key(key[len('middle_block.0.') :])}"
        if new is None:
            match = re.match(r"(input|output)_blocks\.(\d+)\.(\d+)\.(.*)", key)
            if match is None:
                raise KeyError(key)
            side, i, part, rest = match.group(1), int(match.group(2)), int(match.group(3)), match.group(4)
            if side == "input":
                block, layer = divmod(i - 1, stride)
                prefix = f"down_blocks.{block}"
                if layer == per_level:  # the level's downsampler
                    new = f"{prefix}.downsamplers.0.conv.{rest[len('op.') :]}"
            else:
                block, layer = divmod(i, stride)
                prefix = f"up_blocks.{block}"
                if rest.startswith("conv."):  # Upsample, after the resnet (and attention, if any)
                    new = f"{prefix}.upsamplers.0.{rest}"
            if new is None:
                new = (
                    f"{prefix}.resnets.{layer}.{_resnet_key(rest)}"
                    if part == 0
                    else f"{prefix}.attentions.{layer}.{_attention_key(rest)}"
                )
        out[new] = tensor
    return config, out


def vae_from_sgm(
    encoder: dict[str, torch.Tensor], decoder: dict[str, torch.Tensor]
) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """sgm encoder (``encoder.*``, ``quant_conv.*``) and image decoder (``*``) -> (AutoencoderKL config, state).

    No ``post_quant_conv``: SV3D's first stage decodes the latent directly.
    """
    from diffusers.loaders.single_file_utils import convert_ldm_vae_checkpoint

    levels = len({k.split(".")[2] for k in encoder if k.startswith("encoder.down.")})
    per_level = len({k.split(".")[4] for k in encoder if k.startswith("encoder.down.0.block.")})
    channels = [int(encoder[f"encoder.down.{lv}.block.0.conv2.weight"].shape[0]) for lv in range(levels)]
    config = {
        "in_channels": int(encoder["encoder.conv_in.weight"].shape[1]),
        "out_channels": int(decoder["conv_out.weight"].shape[0]),
        "down_block_types": ["DownEncoderBlock2D"] * levels,
        "up_block_types": ["UpDecoderBlock2D"] * levels,
        "block_out_channels": channels,
        "layers_per_block": per_level,
        "latent_channels": int(decoder["conv_in.weight"].shape[1]),
        "norm_num_groups": 32,
        "sample_size": 576,
        "scaling_factor": VAE_SCALING_FACTOR,
        "use_quant_conv": True,
        "use_post_quant_conv": False,
    }
    ldm = {k: v for k, v in encoder.items() if k.startswith(("encoder.", "quant_conv."))}
    ldm.update({"decoder." + k: v for k, v in decoder.items()})
    return config, convert_ldm_vae_checkpoint(ldm, config)


def clip_from_open_clip(
    visual: dict[str, torch.Tensor], head_width: int
) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """OpenCLIP ``VisionTransformer`` tensors (``model.visual.`` stripped) -> (CLIPVisionConfig kwargs, state).

    OpenCLIP's pooled output is ``ln_post(x)[:, 0] @ proj``: transformers' ``post_layernorm`` then
    ``visual_projection`` (weight = ``proj``ᵀ).
    """
    width = int(visual["class_embedding"].shape[0])
    layers = len({k.split(".")[2] for k in visual if k.startswith("transformer.resblocks.")})
    patch = int(visual["conv1.weight"].shape[-1])
    grid = round((visual["positional_embedding"].shape[0] - 1) ** 0.5)
    config = {
        "hidden_size": width,
        "intermediate_size": int(visual["transformer.resblocks.0.mlp.c_fc.weight"].shape[0]),
        "num_hidden_layers": layers,
        "num_attention_heads": width // head_width,
        "num_channels": int(visual["conv1.weight"].shape[1]),
        "image_size": grid * patch,
        "patch_size": patch,
        "projection_dim": int(visual["proj"].shape[1]),
        "hidden_act": "gelu",
        "layer_norm_eps": 1e-5,
    }
    out = {
        "vision_model.embeddings.class_embedding": visual["class_embedding"],
        "vision_model.embeddings.position_embedding.weight": visual["positional_embedding"],
        "vision_model.embeddings.patch_embedding.weight": visual["conv1.weight"],
        "visual_projection.weight": visual["proj"].t().contiguous(),
    }
    for old, new in (("ln_pre", "pre_layrnorm"), ("ln_post", "post_layernorm")):
        for p in ("weight", "bias"):
            out[f"vision_model.{new}.{p}"] = visual[f"{old}.{p}"]
    names = {"ln_1": "layer_norm1", "ln_2": "layer_norm2", "attn.out_proj": "self_attn.out_proj"}
    names.update({"mlp.c_fc": "mlp.fc1", "mlp.c_proj": "mlp.fc2"})
    for i in range(layers):
        src, dst = f"transformer.resblocks.{i}.", f"vision_model.encoder.layers.{i}."
        for p in ("weight", "bias"):
            for old, new in names.items():
                out[f"{dst}{new}.{p}"] = visual[f"{src}{old}.{p}"]
            q, k, v = visual[f"{src}attn.in_proj_{p}"].chunk(3, dim=0)
            for name, part in zip(("q", "k", "v"), (q, k, v), strict=True):
                out[f"{dst}self_attn.{name}_proj.{p}"] = part.contiguous()
    return config, out


def _strip(state: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}


def diffusers_models(
    state: dict[str, torch.Tensor], unet_head_channels: int = 64, clip_head_width: int = 80
) -> dict[str, Any]:
    """The three diffusers/transformers models holding a full sgm sv3d_p state dict's tensors, by sub-folder name.

    The models are built on the meta device and the tensors assigned to them (no copy), strictly: every parameter
    must come from the checkpoint and every used checkpoint tensor must land in a parameter, shapes included.

    Raises:
        UserError: a part is absent, or its tensors do not form that network.
    """
    import torch
    from diffusers import AutoencoderKL
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    from datagen.generators.sv3d.unet import SV3DUNet

    parts = {p: _strip(state, p) for p in (UNET_PREFIX, CLIP_PREFIX, VAE_ENCODER_PREFIX, VAE_DECODER_PREFIX)}
    empty = [p for p, s in parts.items() if not s]
    if empty:
        raise UserError(f"no tensors under {', '.join(empty)}; this is not an sgm sv3d_p checkpoint")
    try:
        unet_config, unet_state = unet_from_sgm(parts[UNET_PREFIX], unet_head_channels)
        vae_config, vae_state = vae_from_sgm(parts[VAE_ENCODER_PREFIX], parts[VAE_DECODER_PREFIX])
        clip_config, clip_state = clip_from_open_clip(parts[CLIP_PREFIX], clip_head_width)
    except KeyError as error:
        raise UserError(f"unexpected or missing tensor {error}; this is not an sgm sv3d_p checkpoint") from None
    with torch.device("meta"):
        models: dict[str, Any] = {
            "unet": SV3DUNet(**unet_config),
            "vae": AutoencoderKL(**vae_config),
            "image_encoder": CLIPVisionModelWithProjection(CLIPVisionConfig(**clip_config)),
        }
    for name, part_state in (("unet", unet_state), ("vae", vae_state), ("image_encoder", clip_state)):
        _assign_strict(models[name], part_state, name)
    return models


def _assign_strict(model: torch.nn.Module, state: dict[str, torch.Tensor], part: str) -> None:
    try:
        missing, unexpected = model.load_state_dict(state, strict=False, assign=True)
    except RuntimeError as error:  # shape mismatches
        raise UserError(f"the {part} tensors have unexpected shapes ({str(error)[:300]}); not sv3d_p") from None
    if missing or unexpected:
        raise UserError(
            f"the {part} tensors do not match the expected network (missing {missing[:3]}, "
            f"unexpected {unexpected[:3]}); is this Stability's sv3d_p.safetensors?"
        )


def check_output_dir(output_dir: Path, overwrite: bool) -> None:
    """Refuse a non-empty ``output_dir`` unless ``overwrite`` and it is an earlier conversion (holds ``sv3d.json``).

    Raises:
        UserError: naming the directory and the way out.
    """
    if output_dir.exists() and not output_dir.is_dir():
        raise UserError(f"{output_dir}: exists and is not a directory; choose another output directory")
    if not output_dir.is_dir() or not any(output_dir.iterdir()):
        return
    if not overwrite:
        raise UserError(f"{output_dir}: exists and is not empty; choose another output directory or pass --overwrite")
    if not (output_dir / MARKER).is_file():
        raise UserError(
            f"{output_dir}: exists and holds no {MARKER}, so it is not an earlier conversion; --overwrite replaces only "
            "those: choose another output directory"
        )


def convert_sv3d_checkpoint(
    checkpoint: Path,
    output_dir: Path,
    *,
    dtype: Optional[torch.dtype | str] = None,
    unet_head_channels: int = 64,
    clip_head_width: int = 80,
    overwrite: bool = False,
) -> Path:
    """Convert ``sv3d_p.safetensors`` into a diffusers-format directory (see the module docstring); returns it.

    Args:
        checkpoint: the official single-file checkpoint.
        output_dir: directory to create (must not exist, or be empty).
        dtype: cast floating-point tensors (``torch.float16`` or ``"float16"`` halves the size); None keeps the file's.
        unet_head_channels: channels per UNet attention head (sv3d_p: 64).
        clip_head_width: channels per image-encoder attention head (OpenCLIP ViT-H-14: 80).
        overwrite: replace an existing converted directory (one holding ``sv3d.json``) as a whole, once the new one
            is complete; any other non-empty directory is still refused.

    Raises:
        UserError: missing checkpoint, a non-empty output directory (without ``overwrite``, or not an earlier
            conversion), or tensors that are not SV3D's.
    """
    import torch
    from safetensors.torch import load_file

    from splatcore.atomic import atomic_directory  # the splatcore package imports torch: not at module level

    checkpoint, output_dir = Path(checkpoint), Path(output_dir)
    if isinstance(dtype, str):
        names = {"float16": torch.float16, "fp16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}
        if dtype not in names:
            raise UserError(f"dtype={dtype!r}: choose one of {', '.join(names)}")
        dtype = names[dtype]
    if not checkpoint.is_file():
        raise UserError(
            f"{checkpoint}: no such checkpoint; download sv3d_p.safetensors from "
            "https://huggingface.co/stabilityai/sv3d (gated: accept the licence there)"
        )
    check_output_dir(output_dir, overwrite)
    state = load_file(str(checkpoint))
    if dtype is not None:
        state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}
    try:
        models = diffusers_models(state, unet_head_channels, clip_head_width)
    except UserError as error:
        raise UserError(f"{checkpoint}: {error}") from None

    with atomic_directory(output_dir, replace=overwrite) as staging:
        for name, model in models.items():
            model.save_pretrained(staging / name, safe_serialization=True)
        (staging / MARKER).write_text(
            json.dumps({"model": "sv3d_p", "source": checkpoint.name, "dtype": str(dtype or "as stored")}, indent=2)
        )
    return output_dir
