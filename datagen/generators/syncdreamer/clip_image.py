"""SyncDreamer's image condition: the projected CLIP ViT-L/14 image embedding (OpenAI ``encode_image``).

The encoder is transformers' ``CLIPVisionModelWithProjection`` with OpenAI's weights mapped onto it; the
preprocessing is the released code's (bicubic resize to 224 with ``align_corners=True`` and no antialiasing, as
kornia does it, then CLIP's mean/std), which differs from transformers' ``CLIPImageProcessor``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor, nn
from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def vision_config_from_openai(state: dict[str, Tensor], prefix: str = "visual.") -> CLIPVisionConfig:
    """The transformers config of an OpenAI CLIP ViT, inferred from its weights as ``clip.build_model`` does."""
    width, _, patch, _ = state[prefix + "conv1.weight"].shape
    layers = len({k.split(".")[2] for k in state if k.startswith(prefix + "transformer.resblocks.")})
    grid = round((state[prefix + "positional_embedding"].shape[0] - 1) ** 0.5)
    return CLIPVisionConfig(
        hidden_size=width,
        intermediate_size=4 * width,
        num_hidden_layers=layers,
        num_attention_heads=width // 64,
        image_size=patch * grid,
        patch_size=patch,
        projection_dim=state[prefix + "proj"].shape[1],
        hidden_act="quick_gelu",
        layer_norm_eps=1e-5,
    )


def map_openai_clip_visual(state: dict[str, Tensor], prefix: str = "visual.") -> dict[str, Tensor]:
    """OpenAI CLIP ``visual.*`` weights -> ``CLIPVisionModelWithProjection`` state dict."""
    out = {
        "vision_model.embeddings.patch_embedding.weight": state[prefix + "conv1.weight"],
        "vision_model.embeddings.class_embedding": state[prefix + "class_embedding"],
        "vision_model.embeddings.position_embedding.weight": state[prefix + "positional_embedding"],
        "vision_model.pre_layrnorm.weight": state[prefix + "ln_pre.weight"],
        "vision_model.pre_layrnorm.bias": state[prefix + "ln_pre.bias"],
        "vision_model.post_layernorm.weight": state[prefix + "ln_post.weight"],
        "vision_model.post_layernorm.bias": state[prefix + "ln_post.bias"],
        "visual_projection.weight": state[prefix + "proj"].t(),
    }
    names = {"ln_1": "layer_norm1", "ln_2": "layer_norm2", "mlp.c_fc": "mlp.fc1", "mlp.c_proj": "mlp.fc2"}
    names["attn.out_proj"] = "self_attn.out_proj"
    block_prefix = prefix + "transformer.resblocks."
    layers = sorted({int(k[len(block_prefix) :].split(".")[0]) for k in state if k.startswith(block_prefix)})
    for i in layers:
        src, dst = f"{block_prefix}{i}.", f"vision_model.encoder.layers.{i}."
        for old, new in names.items():
            out[dst + new + ".weight"] = state[src + old + ".weight"]
            out[dst + new + ".bias"] = state[src + old + ".bias"]
        for kind in ("weight", "bias"):
            q, k, v = state[src + f"attn.in_proj_{kind}"].chunk(3, 0)
            out[dst + f"self_attn.q_proj.{kind}"] = q
            out[dst + f"self_attn.k_proj.{kind}"] = k
            out[dst + f"self_attn.v_proj.{kind}"] = v
    return {k: v.float() for k, v in out.items()}


class ClipImageEmbedder(nn.Module):
    """Images in [-1, 1] -> the projected CLIP image embedding [B, 1, projection_dim]."""

    mean: Tensor
    std: Tensor

    def __init__(self, config: CLIPVisionConfig):
        super().__init__()
        self.model = CLIPVisionModelWithProjection(config)
        self.input_size = int(config.image_size)  # type: ignore[arg-type]
        self.register_buffer("mean", torch.tensor(CLIP_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(CLIP_STD).view(1, 3, 1, 1), persistent=False)

    def preprocess(self, images: Float[Tensor, "B 3 H W"]) -> Float[Tensor, "B 3 S S"]:
        """kornia ``resize(bicubic, align_corners=True, antialias=False)``, then to [0, 1] and CLIP's mean/std."""
        size = (self.input_size, self.input_size)
        x = F.interpolate(images, size=size, mode="bicubic", align_corners=True)
        return ((x + 1.0) / 2.0 - self.mean) / self.std

    def forward(self, images: Float[Tensor, "B 3 H W"]) -> Float[Tensor, "B 1 E"]:
        return self.model(pixel_values=self.preprocess(images)).image_embeds.float().unsqueeze(1)
