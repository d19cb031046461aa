"""LPIPS through the `lpips` package, on its real pretrained backbone, with an explicit offline failure.

The `lpips` package ships its small linear heads, but the backbone (torchvision AlexNet/VGG/SqueezeNet ImageNet
weights) is downloaded by torchvision into ``$TORCH_HOME/hub/checkpoints/``. Offline, a missing backbone must stop
the run with a message saying how to provide it; it must never turn into a randomly initialised network, because a
random LPIPS trains and reports numbers that look plausible and mean nothing.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor, nn

LpipsNet = Literal["alex", "vgg", "squeeze"]

BACKBONE_FILES = {
    "alex": "alexnet-owt-7be5be79.pth",
    "vgg": "vgg16-397923af.pth",
    "squeeze": "squeezenet1_1-b8a52dc0.pth",
}
"""torchvision ImageNet checkpoint file each LPIPS backbone loads from ``torch.hub.get_dir()/checkpoints``."""

MIN_SIDE_PX = 32
"""Smallest image side fed to the network: AlexNet's strided conv and pools leave no pixels below this."""


class MissingWeightsError(FileNotFoundError):
    """A pretrained weight file is absent and cannot be downloaded; the message names the file and the fix."""


class CorruptWeightsError(ValueError):
    """A pretrained weight file is present but unreadable or holds other weights; the message names it and the fix."""


def backbone_weights_path(net: LpipsNet = "alex") -> Path:
    """Where torchvision looks for the backbone checkpoint of ``net`` (honours ``$TORCH_HOME``)."""
    if net not in BACKBONE_FILES:
        raise ValueError(f"unknown LPIPS net {net!r}; choose one of {sorted(BACKBONE_FILES)}")
    return Path(torch.hub.get_dir()) / "checkpoints" / BACKBONE_FILES[net]


def load_lpips(net: LpipsNet = "alex") -> nn.Module:
    """The LPIPS metric with its pretrained backbone and linear heads, frozen, in eval mode.

    Args:
        net: backbone name as the `lpips` package spells it.

    Returns:
        ``lpips.LPIPS`` module; call it through :func:`lpips_distance`.

    Raises:
        MissingWeightsError: the backbone checkpoint is not on disk (it would otherwise be downloaded).
        CorruptWeightsError: the checkpoint is truncated, not a checkpoint, or not the ``net`` backbone's.
    """
    path = backbone_weights_path(net)
    if not path.is_file():
        raise MissingWeightsError(
            f"LPIPS needs the pretrained {net} backbone file '{path.name}' in '{path.parent}', which is missing "
            f"and cannot be downloaded offline. Fix: copy '{path.name}' (from "
            f"https://download.pytorch.org/models/{path.name} on a connected machine) into '{path.parent}' "
            "($TORCH_HOME/hub/checkpoints/), or train without the LPIPS loss: --pipeline.model.lpips-lambda 0"
        )
    import lpips

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torchvision's deprecation note on `pretrained=`
            module = lpips.LPIPS(net=net, verbose=False)
    except Exception as error:
        reason = _checkpoint_problem(path) or (
            "it is not the {net} backbone's checkpoint"
            if isinstance(error, RuntimeError) and "state_dict" in str(error)
            else None
        )
        if reason is None:
            raise
        raise CorruptWeightsError(
            f"LPIPS backbone file '{path}' cannot be used: {reason.format(net=net)}. Fix: delete it and copy "
            f"'{path.name}' again (from https://download.pytorch.org/models/{path.name}), or train without the "
            "LPIPS loss: --pipeline.model.lpips-lambda 0"
        ) from error
    return _frozen(module)


def _checkpoint_problem(path: Path) -> str | None:
    """Why a checkpoint file cannot be read (None if ``torch.load`` reads it); memory-mapped, so cheap."""
    if path.stat().st_size == 0:
        return "it is empty (0 bytes; an interrupted copy?)"
    try:
        torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as error:  # torch raises EOFError, UnpicklingError, RuntimeError... for damaged files
        return f"it is not a readable PyTorch checkpoint ({type(error).__name__}: {str(error).splitlines()[0][:120]})"
    return None


def random_lpips_for_tests(net: LpipsNet = "alex") -> nn.Module:
    """The same LPIPS class with a randomly initialised backbone (real linear heads); for tests only."""
    import lpips

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        module = lpips.LPIPS(net=net, pnet_rand=True, verbose=False)
    return _frozen(module)


def lpips_distance(net: nn.Module, pred: Float[Tensor, "H W 3"], gt: Float[Tensor, "H W 3"]) -> Float[Tensor, ""]:
    """Mean LPIPS distance of two images in [0, 1]; differentiable w.r.t. ``pred``.

    Images smaller than :data:`MIN_SIDE_PX` are upsampled (bilinear) first, so the early low-resolution phase of
    a progressive schedule can use the term too. The network is moved to the images' device.
    """
    if pred.shape != gt.shape or pred.ndim != 3 or pred.shape[-1] != 3:
        raise ValueError(f"lpips_distance expects two [H, W, 3] images, got {tuple(pred.shape)}, {tuple(gt.shape)}")
    x = torch.stack([pred, gt]).permute(0, 3, 1, 2)  # [2, 3, H, W]
    side = min(x.shape[-2:])
    if side < MIN_SIDE_PX:
        x = F.interpolate(x, scale_factor=MIN_SIDE_PX / side, mode="bilinear", align_corners=False)
    net.to(x.device)
    return net(x[:1] * 2.0 - 1.0, x[1:] * 2.0 - 1.0).mean()


def _frozen(module: nn.Module) -> nn.Module:
    module.eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return module
