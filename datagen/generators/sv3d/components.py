"""SV3D's three networks, from a converted directory, a hub id, or tiny random ones; missing weights fail early.

``resolve_weights`` runs before anything heavy is imported, so a wrong ``--weights`` costs no model loading.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from datagen.hub import looks_like_hub_id
from datagen.user_errors import UserError

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

TINY_RANDOM = "tiny-random"
"""``weights`` value that builds tiny randomly initialised networks: the frames are noise; for trying the plumbing."""
REQUIRED_FILES = ("unet/config.json", "vae/config.json", "image_encoder/config.json")
"""Files a converted weights directory must hold (besides the weight files they describe)."""
WHERE_TO_GET = (
    "download sv3d_p.safetensors from https://huggingface.co/stabilityai/sv3d (gated: log in and accept the "
    "licence there), convert it with `datagen convert-sv3d-weights sv3d_p.safetensors OUT_DIR`, and pass "
    "`--weights OUT_DIR`"
)


@dataclass
class SV3DComponents:
    """The networks SV3D samples with."""

    unet: Any
    """``datagen.generators.sv3d.unet.SV3DUNet``."""
    vae: Any
    """diffusers ``AutoencoderKL`` (SD 2.x VAE, no post-quant conv)."""
    image_encoder: Any
    """transformers ``CLIPVisionModelWithProjection`` (OpenCLIP ViT-H-14 image tower)."""
    weights: str
    """Where the weights came from (recorded in the dataset)."""

    @property
    def latent_factor(self) -> int:
        """Image pixels per latent pixel (8 for SV3D's VAE)."""
        return 2 ** (len(self.vae.config.block_out_channels) - 1)


def _check_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise UserError(f"SV3D weights: {folder} is not a directory; {WHERE_TO_GET}")
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise UserError(
            f"SV3D weights: {folder} lacks {', '.join(missing)} (not a converted sv3d_p directory); {WHERE_TO_GET}"
        )


def resolve_weights(weights: str) -> str:
    """The local directory to load (or ``tiny-random``); a ``UserError`` (what is missing, where to get it, the
    command) if there is none. Imports no model code.

    A hub id (``owner/name`` that is no local path) is fetched into the Hugging Face cache first (only the
    sub-folders we load); with no network or ``HF_HUB_OFFLINE=1`` that works only for an already cached copy.
    """
    if weights == TINY_RANDOM:
        return weights
    if looks_like_hub_id(weights):
        from huggingface_hub import snapshot_download

        try:
            folder = Path(snapshot_download(weights, allow_patterns=[f"{p.split('/')[0]}/*" for p in REQUIRED_FILES]))
        except Exception as error:  # offline, unknown or gated repository: all end the same way for the user
            raise UserError(
                f"SV3D weights: {weights} is no local directory and cannot be fetched from the Hugging Face hub "
                f"({type(error).__name__}); {WHERE_TO_GET}"
            ) from None
        _check_folder(folder)
        return str(folder)
    folder = Path(weights).expanduser()
    _check_folder(folder)
    return str(folder)


def load_components(weights: str, dtype: Optional[torch.dtype] = None) -> SV3DComponents:
    """Load the three networks (on CPU, in ``dtype``, default float32) from ``resolve_weights(weights)``."""
    import torch

    dtype = dtype or torch.float32
    source = resolve_weights(weights)
    if source == TINY_RANDOM:
        return tiny_random_components(dtype=dtype)
    from diffusers import AutoencoderKL
    from transformers import CLIPVisionModelWithProjection

    from datagen.generators.sv3d.unet import SV3DUNet

    try:
        unet = SV3DUNet.from_pretrained(source, subfolder="unet", torch_dtype=dtype)
        vae = AutoencoderKL.from_pretrained(source, subfolder="vae", torch_dtype=dtype)
        encoder: Any = CLIPVisionModelWithProjection.from_pretrained(source, subfolder="image_encoder")
    except (OSError, ValueError) as error:
        raise UserError(f"SV3D weights: cannot load {source} ({error}); {WHERE_TO_GET}") from None
    return SV3DComponents(unet.eval(), vae.eval(), encoder.to(dtype).eval(), weights)


TINY_UNET_CONFIG: dict[str, Any] = {
    "in_channels": 8,
    "out_channels": 4,
    "down_block_types": ["CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"],
    "up_block_types": ["UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"],
    "block_out_channels": [32, 32],
    "addition_time_embed_dim": 256,
    "projection_class_embeddings_input_dim": 1280,
    "layers_per_block": 1,
    "cross_attention_dim": 32,
    "num_attention_heads": [2, 2],
    "num_frames": 21,
}
"""A two-level, 32-channel SV3D UNet (the real one: 320/640/1280/1280 channels, 2 layers per level)."""
TINY_VAE_CONFIG: dict[str, Any] = {
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "block_out_channels": [32, 32, 32, 32],
    "layers_per_block": 1,
    "latent_channels": 4,
    "norm_num_groups": 32,
    "scaling_factor": 0.18215,
    "use_post_quant_conv": False,
}
"""An 8x VAE like SV3D's, with 32 channels."""
TINY_CLIP_CONFIG: dict[str, Any] = {
    "hidden_size": 32,
    "intermediate_size": 128,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "image_size": 224,
    "patch_size": 14,
    "projection_dim": 32,
    "hidden_act": "gelu",
    "layer_norm_eps": 1e-5,
}
"""A one-layer CLIP vision tower with a 32-wide projection (= the tiny UNet's cross-attention width)."""


def tiny_random_components(seed: int = 0, dtype: Optional[torch.dtype] = None) -> SV3DComponents:
    """Tiny networks of the real classes with seeded random weights; their frames are noise."""
    import torch

    dtype = dtype or torch.float32
    from diffusers import AutoencoderKL
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    from datagen.generators.sv3d.unet import SV3DUNet

    logger.warning("SV3D weights=%s: tiny random networks, the generated frames are noise", TINY_RANDOM)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet = SV3DUNet(**TINY_UNET_CONFIG)
        vae = AutoencoderKL(**TINY_VAE_CONFIG)
        encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(**TINY_CLIP_CONFIG))
    modules: list[Any] = [unet, vae, encoder]
    for module in modules:
        module.to(dtype).eval()
    return SV3DComponents(unet, vae, encoder, TINY_RANDOM)
