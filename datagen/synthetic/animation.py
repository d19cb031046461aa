"""Smooth rigid part motions over normalised time t in [0, 1] (pure numpy).

A motion is a sinusoid: a rotation about an axis through a pivot, or a translation along an axis, with amplitude
`amplitude * sin(2 pi (cycles t) + phase)`. Whole cycles over [0, 1] keep the trajectories smooth, so that the
midpoints between training times (held-out test times) are well predicted by interpolation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from jaxtyping import Float

MOTION_KINDS = ("rotate", "translate")


@dataclass(frozen=True)
class Motion:
    """One sinusoidal rigid motion of a part.

    Attributes:
        kind: "rotate" (about `axis` through `pivot`, amplitude in radians) or "translate" (along `axis`,
            amplitude in object-space units).
        axis: [3] unit axis.
        pivot: [3] point on the rotation axis (ignored for translations).
        amplitude: peak angle (rad) or peak displacement.
        phase: phase in radians.
        cycles: number of whole periods over t in [0, 1].
    """

    kind: str
    axis: np.ndarray
    pivot: np.ndarray
    amplitude: float
    phase: float = 0.0
    cycles: int = 1

    def value(self, time: float) -> float:
        """The signed angle or displacement at `time`."""
        return float(self.amplitude * np.sin(2.0 * np.pi * self.cycles * time + self.phase))

    def transform(self, time: float) -> Float[np.ndarray, "4 4"]:
        """Homogeneous object-space transform at `time` (identity at zero amplitude)."""
        if self.kind == "translate":
            out = np.eye(4)
            out[:3, 3] = self.axis * self.value(time)
            return out
        if self.kind == "rotate":
            rotation = axis_angle_matrix(self.axis, self.value(time))
            out = np.eye(4)
            out[:3, :3] = rotation
            out[:3, 3] = self.pivot - rotation @ self.pivot
            return out
        raise ValueError(f"motion kind {self.kind!r} is not one of {MOTION_KINDS}")

    def scaled(self, center: Float[np.ndarray, "3"], scale: float) -> Motion:
        """The same motion after the object is mapped by p -> (p - center) * scale."""
        amplitude = self.amplitude * scale if self.kind == "translate" else self.amplitude
        return Motion(self.kind, self.axis, (self.pivot - center) * scale, amplitude, self.phase, self.cycles)


def axis_angle_matrix(axis: Float[np.ndarray, "3"], angle: float) -> Float[np.ndarray, "3 3"]:
    """Rodrigues' rotation matrix for a rotation by `angle` radians about the unit `axis` (right-handed)."""
    x, y, z = np.asarray(axis, dtype=np.float64) / np.linalg.norm(axis)
    cross = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    return np.eye(3) + np.sin(angle) * cross + (1.0 - np.cos(angle)) * (cross @ cross)


def rotation_between(source: Float[np.ndarray, "3"], target: Float[np.ndarray, "3"]) -> Float[np.ndarray, "3 3"]:
    """The smallest rotation taking direction `source` onto direction `target`."""
    a = np.asarray(source, dtype=np.float64) / np.linalg.norm(source)
    b = np.asarray(target, dtype=np.float64) / np.linalg.norm(target)
    axis = np.cross(a, b)
    sin_angle, cos_angle = np.linalg.norm(axis), float(np.dot(a, b))
    if sin_angle < 1e-9:
        if cos_angle > 0:
            return np.eye(3)
        # Opposite directions: turn half a circle about any axis perpendicular to `a`.
        perpendicular = np.cross(a, [1.0, 0.0, 0.0] if abs(a[0]) < 0.9 else [0.0, 1.0, 0.0])
        return axis_angle_matrix(perpendicular, np.pi)
    return axis_angle_matrix(axis, float(np.arctan2(sin_angle, cos_angle)))


def pose_transforms(
    motions: list[tuple[Motion, ...]], parents: list[int | None], time: float | None
) -> list[Float[np.ndarray, "4 4"]]:
    """Object-space transform of every part at `time`: its parent's transform after its own motions.

    Args:
        motions: per part, the motions applied in order (in the part's rest pose).
        parents: per part, the index of an earlier part it is attached to, or None.
        time: normalised time in [0, 1]; None means the rest pose (all identities).

    Returns:
        One [4, 4] transform per part mapping rest-pose points to posed points.
    """
    transforms: list[np.ndarray] = []
    for index, (own, parent) in enumerate(zip(motions, parents, strict=True)):
        local = np.eye(4)
        if time is not None:
            for motion in own:
                local = motion.transform(time) @ local
        if parent is not None:
            if parent >= index:
                raise ValueError(f"part {index} names parent {parent}; parents must come before their children")
            local = transforms[parent] @ local
        transforms.append(local)
    return transforms
