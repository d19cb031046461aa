"""Seeded procedural objects: a body with head, eyes, limbs and back parts, each with its own texture and motion.

The layout is built in canonical units around a convex body at the origin, then normalised: for still objects the
rest pose fits a sphere of radius `STATIC_RADIUS` (fills the SV3D frame the way SV3D's own subjects do); for
animated ones every pose over t in [0, 1] fits the cube [-DYNAMIC_HALF_EXTENT, DYNAMIC_HALF_EXTENT]^3 (SyncDreamer
framing). The front - eyes, and no tail/spikes/handle - faces +x, the input view's direction (azimuth 0).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import trimesh
from jaxtyping import Float, Int

from datagen.synthetic.animation import Motion, pose_transforms, rotation_between
from datagen.synthetic.textures import Texture, evaluate_texture, random_texture, solid_texture, variant_texture

STATIC_RADIUS = 0.85
"""Bounding-sphere radius of a still object (SV3D framing: radius 4.0, FOV 33.8 deg sees half-width ~1.2)."""
DYNAMIC_HALF_EXTENT = 0.45
"""Half-extent of the cube holding every pose of an animated object (SyncDreamer framing)."""


@dataclass(frozen=True)
class Part:
    """One rigid primitive of an object.

    Attributes:
        name: what it is ("body", "head", "leg", ...).
        mesh: rest-pose mesh in object space.
        texture: its procedural texture (evaluated at rest-pose positions).
        parent: index of the part it is attached to (moves with it), or None.
        motions: its own motions, applied before the parent's.
    """

    name: str
    mesh: trimesh.Trimesh
    texture: Texture
    parent: int | None = None
    motions: tuple[Motion, ...] = ()


@dataclass(frozen=True)
class SyntheticObject:
    """An object made of parts, plus a phantom part that only some pseudo-labels show.

    Attributes:
        seed: the seed it was made from.
        parts: its parts, parents before children.
        phantom: an extra part (attached to the body) for the "extra limb" inconsistency.
        radius: the normalisation target (`STATIC_RADIUS` or `DYNAMIC_HALF_EXTENT`), sets object-space scales.
        canonical_scale: the normalisation's scale factor; textures take positions divided by it, so a seed's
            patterns look the same relative to the object in both framings.
        variant_seed: seed of the back-side texture variants.
    """

    seed: int
    parts: tuple[Part, ...]
    phantom: Part
    radius: float = 1.0
    canonical_scale: float = 1.0
    variant_seed: int = 0

    def variant_textures(self, redraw: int = 0) -> tuple[Texture, ...]:
        """Per part, the texture a generator would invent for the unseen side; `redraw` selects another draw."""
        rng = np.random.default_rng([self.variant_seed, redraw])
        return tuple(variant_texture(part.texture, rng) for part in self.parts + (self.phantom,))

    def rest_mesh(self) -> trimesh.Trimesh:
        """All parts (without the phantom) in the rest pose, one mesh with per-vertex albedo colours."""
        meshes = []
        for part in self.parts:
            mesh = part.mesh.copy()
            albedo = evaluate_texture(part.texture, mesh.vertices / self.canonical_scale)
            assert isinstance(mesh.visual, trimesh.visual.ColorVisuals)  # parts are built untextured
            mesh.visual.vertex_colors = np.concatenate([albedo * 255, np.full((len(albedo), 1), 255)], axis=1)
            meshes.append(mesh)
        combined = trimesh.util.concatenate(meshes)
        assert isinstance(combined, trimesh.Trimesh)
        return combined


@dataclass(frozen=True)
class PosedMesh:
    """Every part of an object at one time, concatenated for ray casting.

    Attributes:
        vertices: [V, 3] posed object-space (world) positions.
        faces: [F, 3] vertex indices.
        rest_vertices: [V, 3] the same vertices in the rest pose (textures are looked up there).
        vertex_normals: [V, 3] posed unit vertex normals (meshes are split at sharp edges, so interpolating them
            shades round parts smoothly and keeps box and cap edges crisp).
        face_part: [F] index of the part owning each face (len(parts) for the phantom).
    """

    vertices: Float[np.ndarray, "V 3"]
    faces: Int[np.ndarray, "F 3"]
    rest_vertices: Float[np.ndarray, "V 3"]
    vertex_normals: Float[np.ndarray, "V 3"]
    face_part: Int[np.ndarray, "F"]


def pose_object(obj: SyntheticObject, time: float | None = None, with_phantom: bool = False) -> PosedMesh:
    """Poses every part at `time` (None: rest pose) and concatenates them; the phantom follows the body."""
    parts = list(obj.parts) + ([obj.phantom] if with_phantom else [])
    transforms = pose_transforms([p.motions for p in parts], [p.parent for p in parts], time)
    vertices, faces, rest, vertex_normals, face_part = [], [], [], [], []
    offset = 0
    for index, (part, transform) in enumerate(zip(parts, transforms, strict=True)):
        rotation, translation = transform[:3, :3], transform[:3, 3]
        mesh = part.mesh
        vertices.append(mesh.vertices @ rotation.T + translation)
        rest.append(np.asarray(mesh.vertices))
        vertex_normals.append(mesh.vertex_normals @ rotation.T)
        faces.append(mesh.faces + offset)
        part_index = index if index < len(obj.parts) else len(obj.parts)
        face_part.append(np.full(len(mesh.faces), part_index))
        offset += len(mesh.vertices)
    return PosedMesh(
        vertices=np.concatenate(vertices),
        faces=np.concatenate(faces),
        rest_vertices=np.concatenate(rest),
        vertex_normals=np.concatenate(vertex_normals),
        face_part=np.concatenate(face_part),
    )


def _sphere(center, radius) -> trimesh.Trimesh:
    return trimesh.creation.icosphere(subdivisions=3, radius=radius).apply_translation(center)


def _capsule(start, end, radius) -> trimesh.Trimesh:
    """A capsule whose axis runs from `start` to `end` (caps included beyond both)."""
    start, end = np.asarray(start, dtype=np.float64), np.asarray(end, dtype=np.float64)
    axis = end - start
    mesh = trimesh.creation.capsule(height=float(np.linalg.norm(axis)), radius=radius, count=[16, 16])
    transform = np.eye(4)
    transform[:3, :3] = rotation_between(np.array([0.0, 0.0, 1.0]), axis)
    transform[:3, 3] = (start + end) / 2
    return mesh.apply_transform(transform)


def _cone(base, direction, radius, height) -> trimesh.Trimesh:
    transform = np.eye(4)
    transform[:3, :3] = rotation_between(np.array([0.0, 0.0, 1.0]), direction)
    transform[:3, 3] = base
    return trimesh.creation.cone(radius=radius, height=height, sections=16).apply_transform(transform)


def _unit(vector) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float64)
    return vector / np.linalg.norm(vector)


def _body(rng: np.random.Generator) -> trimesh.Trimesh:
    """A convex body centred at the origin (so every ray from the origin leaves it exactly once)."""
    kind = rng.choice(["ellipsoid", "capsule", "box", "cylinder"])
    if kind == "ellipsoid":
        mesh = trimesh.creation.icosphere(subdivisions=3, radius=1.0)
        return mesh.apply_scale(rng.uniform([0.38, 0.4, 0.42], [0.5, 0.55, 0.6]))
    if kind == "capsule":
        return trimesh.creation.capsule(height=rng.uniform(0.25, 0.5), radius=rng.uniform(0.32, 0.4))
    if kind == "box":
        return trimesh.creation.box(extents=rng.uniform([0.55, 0.65, 0.65], [0.8, 0.95, 1.0]))
    return trimesh.creation.cylinder(radius=rng.uniform(0.32, 0.45), height=rng.uniform(0.6, 0.95), sections=32)


def _surface_point(body: trimesh.Trimesh, direction) -> np.ndarray:
    """Where the ray from the origin along `direction` leaves the convex `body` (exact for convex polyhedra)."""
    direction = _unit(direction)
    normals, corners = body.face_normals, body.triangles[:, 0]
    facing = normals @ direction
    distances = np.where(facing > 1e-9, np.einsum("fi,fi->f", normals, corners) / np.maximum(facing, 1e-9), np.inf)
    return direction * distances.min()


def make_object(seed: int, animated: bool = False) -> SyntheticObject:
    """Builds the object of a seed: distinct part layout, palette and textures per seed.

    Args:
        seed: any integer; the same seed always gives the same object.
        animated: normalise for the 4D framing (all poses inside the `DYNAMIC_HALF_EXTENT` cube) instead of the
            3D one (rest pose inside a `STATIC_RADIUS` sphere). The layout and textures do not depend on it.

    Returns:
        The normalised object.
    """
    rng = np.random.default_rng(seed)
    hue = rng.uniform()
    body_texture = random_texture(rng, base_hue=hue)
    limb_texture = random_texture(rng, base_hue=hue + 0.33)
    accent_texture = random_texture(rng, base_hue=hue + 0.66)
    body = _body(rng)
    bob = Motion("translate", _UP, np.zeros(3), rng.uniform(0.03, 0.06), rng.uniform(0, 2 * np.pi))
    parts: list[Part] = [Part("body", body, body_texture, None, (bob,))]
    _add_head_and_eyes(rng, parts, body, accent_texture, limb_texture)
    limb_radius = _add_limbs(rng, parts, body, limb_texture)
    _add_back_parts(rng, parts, body, accent_texture, limb_texture)

    # The phantom: an extra limb on the side or back, only in the views a generator gets wrong.
    side = rng.choice([-1.0, 1.0])
    phantom_dir = _unit([rng.uniform(-1.0, 0.1), side * rng.uniform(0.4, 1.0), rng.uniform(-0.3, 0.8)])
    attach = _surface_point(body, phantom_dir)
    end = attach + _unit(phantom_dir + rng.normal(scale=0.25, size=3)) * rng.uniform(0.35, 0.55)
    phantom = Part("phantom", _capsule(attach, end, limb_radius), accent_texture, 0)
    variant_seed = int(rng.integers(2**31))
    return _normalise(SyntheticObject(seed, tuple(parts), phantom, variant_seed=variant_seed), animated)


_UP = np.array([0.0, 0.0, 1.0])


def _add_head_and_eyes(
    rng: np.random.Generator, parts: list[Part], body: trimesh.Trimesh, head_texture: Texture, ear_texture: Texture
) -> None:
    """A head on top turning left and right (75 %), maybe ears; the eyes - the front marker - on the head or body."""
    if rng.random() < 0.75:
        head_dir = _unit([0.35, 0.0, 1.0] + rng.normal(scale=0.15, size=3) * [1, 1, 0])
        head_radius = rng.uniform(0.2, 0.28)
        head_center = _surface_point(body, head_dir) + head_dir * head_radius * 0.5
        turn = Motion("rotate", _UP, head_center, rng.uniform(0.25, 0.45), rng.uniform(0, 2 * np.pi))
        parts.append(Part("head", _sphere(head_center, head_radius), head_texture, 0, (turn,)))
        host = len(parts) - 1
        eye_centers = [head_center + _unit([1.0, side * 0.45, 0.3]) * head_radius * 0.92 for side in (-1, 1)]
        eye_radius = head_radius * 0.3
        if rng.random() < 0.5:
            for side in (-1, 1):
                base = head_center + _unit([0.0, side * 0.6, 1.0]) * head_radius * 0.8
                ear = _cone(base, _unit([0.0, side * 0.5, 1.0]), head_radius * 0.35, head_radius * 0.9)
                parts.append(Part("ear", ear, ear_texture, host))
    else:
        host = 0
        eye_centers = [_surface_point(body, [1.0, side * 0.35, 0.35]) for side in (-1, 1)]
        eye_radius = 0.085
    for center in eye_centers:
        parts.append(Part("eye", _sphere(center, eye_radius), solid_texture((0.97, 0.97, 0.95)), host))
        pupil = center + _unit([1.0, 0.0, 0.0]) * eye_radius * 0.75
        parts.append(Part("pupil", _sphere(pupil, eye_radius * 0.5), solid_texture((0.05, 0.05, 0.08)), host))


def _add_limbs(rng: np.random.Generator, parts: list[Part], body: trimesh.Trimesh, texture: Texture) -> float:
    """Two or four legs swinging fore and aft in opposite phase, maybe two arms flapping; returns the limb radius."""
    leg_length, leg_radius = rng.uniform(0.3, 0.5), rng.uniform(0.06, 0.1)
    fore_aft = [0.0] if rng.random() < 0.5 else [0.45, -0.45]
    swing = rng.uniform(0.3, 0.5)
    for k, x_offset in enumerate(fore_aft):
        for side in (-1, 1):
            attach = _surface_point(body, [x_offset, side * 0.55, -0.85])
            end = attach + _unit([0.0, side * 0.2, -1.0]) * leg_length
            phase = np.pi * ((side > 0) + k) % (2 * np.pi)
            motion = Motion("rotate", np.array([0.0, 1.0, 0.0]), attach, swing, phase)
            parts.append(Part("leg", _capsule(attach, end, leg_radius), texture, 0, (motion,)))
    if rng.random() < 0.6:
        arm_length, flap = rng.uniform(0.3, 0.45), rng.uniform(0.25, 0.45)
        for side in (-1, 1):
            attach = _surface_point(body, [0.15, side * 1.0, 0.15])
            end = attach + _unit([0.3, side * 1.0, -0.35]) * arm_length
            motion = Motion("rotate", np.array([-float(side), 0.0, 0.0]), attach, flap, 0.0, 2)
            parts.append(Part("arm", _capsule(attach, end, leg_radius * 0.8), texture, 0, (motion,)))
    return float(leg_radius)


def _add_back_parts(
    rng: np.random.Generator, parts: list[Part], body: trimesh.Trimesh, accent: Texture, handle_texture: Texture
) -> None:
    """One or two of: a wagging tail, a ridge of spikes, a spinning handle - all on the side the input never sees."""
    for extra in rng.choice(["tail", "spikes", "handle"], size=rng.integers(1, 3), replace=False):
        if extra == "tail":
            attach = _surface_point(body, [-1.0, 0.0, 0.2])
            end = attach + _unit([-1.0, 0.0, 0.6]) * rng.uniform(0.35, 0.55)
            wag = Motion("rotate", _UP, attach, rng.uniform(0.4, 0.6), rng.uniform(0, 2 * np.pi), 2)
            parts.append(Part("tail", _capsule(attach, end, 0.055), accent, 0, (wag,)))
        elif extra == "spikes":
            height, radius = rng.uniform(0.16, 0.28), rng.uniform(0.05, 0.08)
            for theta in np.linspace(0.15, 0.55, rng.integers(3, 6)) * np.pi:
                direction = np.array([-np.sin(theta), 0.0, np.cos(theta)])
                base = _surface_point(body, direction) - direction * 0.03
                parts.append(Part("spike", _cone(base, direction, radius, height), accent, 0))
        else:
            center = _surface_point(body, [-1.0, 0.0, 0.0]) + np.array([-0.1, 0.0, 0.0])
            ring = trimesh.creation.torus(0.2, 0.045, major_sections=32, minor_sections=12)
            ring.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
            spin = Motion("rotate", np.array([0.0, 1.0, 0.0]), center, rng.uniform(0.6, 1.0), 0.0)
            parts.append(Part("handle", ring.apply_translation(center), handle_texture, 0, (spin,)))


def _normalise(obj: SyntheticObject, animated: bool) -> SyntheticObject:
    """Centres and scales the object to its framing (see the module docstring)."""
    if animated:
        posed = np.concatenate([pose_object(obj, t).vertices for t in np.linspace(0.0, 1.0, 25)])
        low, high = posed.min(axis=0), posed.max(axis=0)
        center = (low + high) / 2
        radius = DYNAMIC_HALF_EXTENT
        scale = radius / np.abs(posed - center).max()
    else:
        rest = pose_object(obj).vertices
        center = (rest.min(axis=0) + rest.max(axis=0)) / 2
        radius = STATIC_RADIUS
        scale = radius / np.linalg.norm(rest - center, axis=1).max()

    def fit(part: Part) -> Part:
        mesh = part.mesh.copy().apply_translation(-center).apply_scale(scale)
        # Split vertices at edges sharper than ~35 deg so interpolated normals keep box and cap edges crisp.
        mesh = trimesh.graph.smooth_shade(mesh, angle=np.radians(35.0))
        return replace(part, mesh=mesh, motions=tuple(m.scaled(center, scale) for m in part.motions))

    return replace(
        obj,
        parts=tuple(fit(p) for p in obj.parts),
        phantom=fit(obj.phantom),
        radius=radius,
        canonical_scale=float(scale),
    )
