"""Clean renders and pseudo-labels of one object: posing, casting, shading and perturbing, with caches.

One ray cast serves both the clean render and the label of a view unless the label shows the phantom part; the
embree scene of each (time, phantom) pose is built once and reused by every view.
"""

from __future__ import annotations

import numpy as np
from jaxtyping import Float

from datagen.cameras import Intrinsics
from datagen.synthetic.inconsistency import FramePerturbation, apply_color, apply_warp
from datagen.synthetic.objects import SyntheticObject, pose_object
from datagen.synthetic.raycast import Caster, HitBuffer, composite, shade
from datagen.synthetic.textures import Texture


class ObjectRenderer:
    """Renders one object from any camera at any time, cleanly or as a perturbed pseudo-label."""

    def __init__(self, obj: SyntheticObject, supersample: int = 2):
        """
        Args:
            obj: the object.
            supersample: sub-samples per axis on silhouette and part-boundary pixels (1 disables anti-aliasing).
        """
        if supersample < 1:
            raise ValueError(f"supersample must be >= 1, got {supersample}")
        self.obj = obj
        self.supersample = supersample
        self._casters: dict[tuple[float | None, bool], Caster] = {}
        self._variants: dict[int, tuple[Texture, ...]] = {}

    def caster(self, time: float | None, with_phantom: bool = False) -> Caster:
        """The (cached) caster of the object posed at `time` (None: rest pose)."""
        key = (None if time is None else float(time), with_phantom)
        if key not in self._casters:
            self._casters[key] = Caster(pose_object(self.obj, time, with_phantom))
        return self._casters[key]

    def release(self, time: float | None) -> None:
        """Frees the cached casters of a time once its views are done (4D renders many poses)."""
        for key in [k for k in self._casters if k[0] == (None if time is None else float(time))]:
            del self._casters[key]

    def hits(
        self,
        c2w_gl: Float[np.ndarray, "4 4"],
        intrinsics: Intrinsics,
        time: float | None = None,
        phantom: bool = False,
    ) -> HitBuffer:
        """The hit buffer of one camera (of the object with its phantom part when `phantom`)."""
        return self.caster(time, phantom).cast(c2w_gl, intrinsics, self.supersample)

    def clean(
        self, c2w_gl: Float[np.ndarray, "4 4"], intrinsics: Intrinsics, time: float | None = None
    ) -> Float[np.ndarray, "H W 4"]:
        """Ground-truth RGBA (straight alpha, float in [0, 1])."""
        hits = self.hits(c2w_gl, intrinsics, time)
        return composite(hits, shade(self.obj, hits))

    def clean_and_label(
        self,
        c2w_gl: Float[np.ndarray, "4 4"],
        intrinsics: Intrinsics,
        perturbation: FramePerturbation,
        time: float | None = None,
    ) -> tuple[Float[np.ndarray, "H W 4"], Float[np.ndarray, "H W 4"]]:
        """Ground truth and pseudo-label of one view.

        Returns:
            (clean, label), each [H, W, 4] straight-alpha RGBA float in [0, 1]; equal when the perturbation is
            the identity.
        """
        hits = self.hits(c2w_gl, intrinsics, time)
        clean = composite(hits, shade(self.obj, hits))
        if perturbation.show_phantom:
            hits = self.hits(c2w_gl, intrinsics, time, phantom=True)
        if perturbation.variant_blend > 0 or perturbation.show_phantom:
            variants = self.variants(perturbation.variant_redraw)
            label = composite(hits, shade(self.obj, hits, variants, perturbation.variant_blend))
        else:
            label = clean
        return clean, apply_warp(apply_color(label, perturbation), perturbation)

    def variants(self, redraw: int) -> tuple[Texture, ...]:
        """The invented unseen-side textures of a re-draw (cached)."""
        if redraw not in self._variants:
            self._variants[redraw] = self.obj.variant_textures(redraw)
        return self._variants[redraw]
