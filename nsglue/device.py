"""Machine defaults that let `ns-train` run where there is no CUDA device, without extra flags."""

from __future__ import annotations

from typing import Literal

from nerfstudio.configs.base_config import MachineConfig


def default_device_type() -> Literal["cuda", "cpu"]:
    """``"cuda"`` when a CUDA device is visible, else ``"cpu"`` (nerfstudio 1.1.5 defaults to cuda blindly)."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def default_machine_config() -> MachineConfig:
    """A :class:`MachineConfig` on the best available device, for a method's `TrainerConfig(machine=...)`."""
    return MachineConfig(device_type=default_device_type())
