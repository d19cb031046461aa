"""Time-synchronous spatial volumes (Efficient4D, eq. 8, 9 and 14): smooth each frame's volume over its neighbours.

At every denoising step SyncDreamer-T replaces the spatial feature volume of frame i by a normalised weighted sum of
the volumes of frames i-k..i+k, ``V~_i = sum_j w_{i,j} V_j / sum_j w_{i,j}``. The weight vector depends on the
number of frames N (eq. 14); at the ends of a clip only the frames that exist are used and the row is renormalised,
while a looping clip (``cyclic``) wraps around. Two frames use eq. (9), ``V~_i = (1 - w) V_i + w V_{3-i}`` with the
paper's w = 0.25.

The released code (``get_w`` in Efficient4D's ``sync_dreamer.py``) differs from the paper for some N: it uses
hand-written matrices for N = 3 and 4, and for N = 5 and 6 an ``if`` that should be an ``elif`` overwrites the
(1, 1, 6, 1, 1) kernel with the 7-tap one (and the cyclic case crashes). We follow the paper; the two agree for
N = 1, 2 and N >= 7.
"""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor

TWO_FRAME_WEIGHT = 0.25
"""Eq. (9): the share of the other frame's volume when the clip has two frames."""


def paper_kernel(num_frames: int) -> tuple[float, ...]:
    """The paper's weight vector ``(w_-k, ..., w_0, ..., w_k)`` for a clip of ``num_frames >= 3`` (eq. 14)."""
    if num_frames < 3:
        raise ValueError(f"eq. (14) covers 3 or more frames, got {num_frames}; use smoothing_weights for fewer")
    if num_frames < 5:
        return (1.5, 7.0, 1.5)
    if num_frames < 7:
        return (1.0, 1.0, 6.0, 1.0, 1.0)
    if num_frames < 13:
        return (1.0, 1.0, 1.0, 6.0, 1.0, 1.0, 1.0)
    return (1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 14.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0)


def smoothing_weights(
    num_frames: int, cyclic: bool = False, two_frame_weight: float = TWO_FRAME_WEIGHT
) -> Float[Tensor, "N N"]:
    """Row-normalised smoothing matrix: row i holds the weights of every frame's volume in frame i's new volume.

    Args:
        num_frames: N, the number of frames denoised together (>= 1).
        cyclic: the clip loops, so frame 0 neighbours frame N-1 (otherwise the kernel is cut at the ends and the
            row renormalised).
        two_frame_weight: w of eq. (9) for N = 2.

    Returns:
        [N, N] float64, every row summing to 1.
    """
    if num_frames < 1:
        raise ValueError(f"num_frames={num_frames}: need at least one frame")
    if num_frames == 1:
        return torch.ones(1, 1, dtype=torch.float64)
    if num_frames == 2:
        w = float(two_frame_weight)
        return torch.tensor([[1.0 - w, w], [w, 1.0 - w]], dtype=torch.float64)
    kernel = torch.tensor(paper_kernel(num_frames), dtype=torch.float64)
    half = len(kernel) // 2
    index = torch.arange(num_frames)
    offset = index[None, :] - index[:, None]  # j - i
    if cyclic:  # signed distance around the loop, in [-N/2, N/2]
        offset = (offset + num_frames // 2) % num_frames - num_frames // 2
    inside = offset.abs() <= half
    weights = torch.where(
        inside, kernel[(offset + half).clamp(0, len(kernel) - 1)], torch.zeros((), dtype=kernel.dtype)
    )
    return weights / weights.sum(dim=1, keepdim=True)


def smooth_volumes(volumes: Float[Tensor, "N *volume"], weights: Float[Tensor, "N N"]) -> Float[Tensor, "N *volume"]:
    """Eq. (8): ``V~_i = sum_j weights[i, j] V_j / sum_j weights[i, j]`` (rows are renormalised here too).

    Args:
        volumes: one spatial volume per frame, e.g. [N, C, D, H, W].
        weights: [N, N] weights (``smoothing_weights`` or any non-negative matrix with positive row sums).

    Returns:
        The smoothed volumes, same shape and dtype as ``volumes``.
    """
    if weights.shape != (volumes.shape[0], volumes.shape[0]):
        raise ValueError(f"weights {tuple(weights.shape)} do not fit {volumes.shape[0]} frames")
    weights = weights.to(device=volumes.device, dtype=torch.float64)
    weights = (weights / weights.sum(dim=1, keepdim=True)).to(volumes.dtype)
    return torch.einsum("ij,j...->i...", weights, volumes)
