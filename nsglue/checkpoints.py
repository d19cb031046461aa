"""Let nerfstudio 1.1.5 reload its own checkpoints under PyTorch >= 2.6.

nerfstudio's ``eval_setup`` (``ns-eval``, ``ns-export``, ``ns-viewer``) calls ``torch.load`` without
``weights_only``, which now defaults to True, and its ``ExponentialDecayScheduler`` stores learning rates as numpy
float64 scalars in the optimizer/scheduler state. The safe unpickler rejects those, so every checkpoint of a method
with that scheduler fails to load. Allow-listing numpy's scalar reconstructor and float dtypes (plain numbers, no
code) restores loading without turning the safe unpickler off.
"""

from __future__ import annotations


def allow_numpy_scalars_in_checkpoints() -> None:
    """Register numpy scalars/dtypes as safe globals for ``torch.load(weights_only=True)`` (idempotent)."""
    import numpy as np
    import torch

    try:
        from numpy._core.multiarray import scalar  # type: ignore[attr-defined]  # private, not in numpy's stubs
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import scalar  # type: ignore[attr-defined]
    dtype_classes = [type(np.dtype(t)) for t in (np.float64, np.float32, np.int64, np.int32)]
    torch.serialization.add_safe_globals([scalar, np.dtype, *dtype_classes])
