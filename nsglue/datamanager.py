"""A `FullImageDatamanager` that never pins memory without a CUDA driver."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Literal, Type

import torch
from nerfstudio.data.datamanagers.full_images_datamanager import FullImageDatamanager, FullImageDatamanagerConfig
from nerfstudio.data.datasets.base_dataset import InputDataset


@dataclass
class CpuSafeFullImageDatamanagerConfig(FullImageDatamanagerConfig):
    """Full-image datamanager whose image cache works on machines without CUDA."""

    _target: Type = field(default_factory=lambda: CpuSafeFullImageDatamanager)
    cache_images: Literal["cpu", "gpu"] = "gpu"
    """Cache images on the training device ("gpu", which is the CPU on a CPU machine) or in pinned host memory
    ("cpu"). Without a CUDA driver "cpu" falls back to plain host memory, since pinning raises there."""


class CpuSafeFullImageDatamanager(FullImageDatamanager[InputDataset]):
    """nerfstudio's datamanager; the "cpu" cache (forced above 500 images) skips pinning when CUDA is absent."""

    config: CpuSafeFullImageDatamanagerConfig

    def _load_images(self, split, cache_images_device) -> List[Dict[str, torch.Tensor]]:
        if cache_images_device == "cpu" and not torch.cuda.is_available():
            # "gpu" moves tensors to self.device, which is the CPU here: same place, no pin_memory().
            cache_images_device = "gpu"
        return super()._load_images(split, cache_images_device)
