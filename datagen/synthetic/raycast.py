"""Ray casting a posed object (Intel Embree via embreex), shading the hits and compositing RGBA images.

Anti-aliasing is adaptive: one ray per pixel centre, then `supersample`^2 rays for the pixels whose 3x3
neighbourhood changes part (silhouettes, part boundaries). Edge pixels are what 2x2 supersampling fixes and they are
a few percent of the image, so this costs little more than one ray per pixel. Alpha is the covered fraction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh
from jaxtyping import Float, Int

from datagen.cameras import Intrinsics
from datagen.synthetic.objects import PosedMesh, SyntheticObject
from datagen.synthetic.textures import Texture, evaluate_texture

try:  # embreex ships x86-64 wheels; elsewhere trimesh's pure-numpy ray tracer is used (slow, same answers).
    from embreex import mesh_construction, rtcore_scene
except ImportError:
    mesh_construction = rtcore_scene = None

LIGHTS = ((np.array([0.75, 0.35, 0.56]), 0.6), (np.array([-0.6, -0.45, 0.66]), 0.25))
"""(direction towards the light, intensity): a key light from the front, above and to the right as seen from the
input view, and a fill light from behind, so the side the input view never sees is lit too. Fixed in world space: shading is view-independent (Lambert)."""
AMBIENT = 0.32
"""Ambient light intensity (key + fill + ambient peak at ~1.1 and clip to 1)."""


@dataclass(frozen=True)
class HitBuffer:
    """The samples of one view that hit the object.

    Attributes:
        width: image width in pixels.
        height: image height in pixels.
        pixel: [M] flat pixel index (row * width + column) of each hit sample.
        weight: [M] its share of the pixel (1 for a centre sample, 1/supersample^2 for an edge sub-sample).
        part: [M] index of the part hit (len(parts) for the phantom).
        points_rest: [M, 3] hit position in the rest pose (texture lookup).
        normals: [M, 3] unit shading normal in world space, facing the camera.
    """

    width: int
    height: int
    pixel: Int[np.ndarray, "M"]
    weight: Float[np.ndarray, "M"]
    part: Int[np.ndarray, "M"]
    points_rest: Float[np.ndarray, "M 3"]
    normals: Float[np.ndarray, "M 3"]


def camera_rays(
    c2w_gl: Float[np.ndarray, "4 4"], intrinsics: Intrinsics, pixel_xy: Float[np.ndarray, "R 2"]
) -> tuple[Float[np.ndarray, "R 3"], Float[np.ndarray, "R 3"]]:
    """World-space rays through image positions (pixel centres at +0.5, as nerfstudio).

    Args:
        c2w_gl: camera-to-world, OpenGL axes (x right, y up, z back).
        intrinsics: pinhole intrinsics.
        pixel_xy: [R, 2] image positions (x right, y down) in pixels.

    Returns:
        origins [R, 3] and unit directions [R, 3].
    """
    x_gl = (pixel_xy[:, 0] - intrinsics.cx) / intrinsics.fl_x
    y_gl = -(pixel_xy[:, 1] - intrinsics.cy) / intrinsics.fl_y
    directions_cam = np.stack([x_gl, y_gl, -np.ones_like(x_gl)], axis=1)
    directions = directions_cam @ np.asarray(c2w_gl)[:3, :3].T
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    origins = np.broadcast_to(np.asarray(c2w_gl)[:3, 3], directions.shape)
    return np.ascontiguousarray(origins), directions


def _changes_nearby(label: Int[np.ndarray, "H W"]) -> np.ndarray:
    """[H, W] bool: some pixel in the 3x3 neighbourhood has another label."""
    padded = np.pad(label, 1, mode="edge")
    height, width = label.shape
    out = np.zeros(label.shape, dtype=bool)
    for dy in range(3):
        for dx in range(3):
            out |= padded[dy : dy + height, dx : dx + width] != label
    return out


class Caster:
    """Casts rays against one posed mesh (the embree scene is built once and reused for many views)."""

    def __init__(self, posed: PosedMesh, use_embree: bool | None = None):
        """
        Args:
            posed: the posed mesh.
            use_embree: cast with Embree (default: when embreex is installed) or with trimesh's numpy tracer.
        """
        self.posed = posed
        self._centre_directions: dict[tuple, np.ndarray] = {}
        if use_embree is None:
            use_embree = rtcore_scene is not None
        if use_embree:
            # Embree directly rather than through trimesh's wrapper, which copies and re-normalises every ray
            # batch (3x slower at 256 x 256).
            self._scene = rtcore_scene.EmbreeScene()
            triangles = np.ascontiguousarray(posed.vertices[posed.faces], dtype=np.float32)
            mesh_construction.TriangleMesh(scene=self._scene, vertices=triangles)
        else:
            self._scene = None
            self._intersector = trimesh.Trimesh(posed.vertices, posed.faces, process=False).ray

    def first_hits(self, origin: Float[np.ndarray, "3"], directions: Float[np.ndarray, "R 3"]) -> Int[np.ndarray, "R"]:
        """Index of the first triangle hit by each ray from `origin` along unit `directions`, -1 for a miss."""
        if len(directions) == 0:
            return np.zeros(0, dtype=np.int64)
        directions = np.ascontiguousarray(directions, dtype=np.float32)
        origins = np.ascontiguousarray(np.broadcast_to(np.asarray(origin, dtype=np.float32), directions.shape))
        if self._scene is not None:
            return np.asarray(self._scene.run(origins, directions), dtype=np.int64)
        return np.asarray(self._intersector.intersects_first(origins, directions), dtype=np.int64)

    def centre_directions(self, intrinsics: Intrinsics) -> Float[np.ndarray, "HW 3"]:
        """Unit ray directions through the pixel centres in camera (OpenGL) axes, cached per intrinsics."""
        key = (intrinsics.fl_x, intrinsics.fl_y, intrinsics.cx, intrinsics.cy, int(intrinsics.w), int(intrinsics.h))
        if key not in self._centre_directions:
            columns, rows = np.meshgrid(np.arange(key[4]) + 0.5, np.arange(key[5]) + 0.5)
            centres = np.stack([columns.ravel(), rows.ravel()], axis=1)
            self._centre_directions[key] = camera_rays(np.eye(4), intrinsics, centres)[1]
        return self._centre_directions[key]

    def cast(self, c2w_gl: Float[np.ndarray, "4 4"], intrinsics: Intrinsics, supersample: int = 2) -> HitBuffer:
        """Renders the hit buffer of one camera with adaptive supersampling (see the module docstring)."""
        width, height = int(intrinsics.w), int(intrinsics.h)
        c2w_gl = np.asarray(c2w_gl, dtype=np.float64)
        origin = c2w_gl[:3, 3]
        directions = self.centre_directions(intrinsics) @ c2w_gl[:3, :3].T
        triangles = self.first_hits(origin, directions)
        part_map = np.where(triangles >= 0, self.posed.face_part[np.maximum(triangles, 0)], -1).reshape(height, width)
        edge = _changes_nearby(part_map).ravel() if supersample > 1 else np.zeros(width * height, dtype=bool)

        keep = ~edge & (triangles >= 0)
        pixel, weight = np.flatnonzero(keep), np.ones(int(keep.sum()))
        keep_triangles, keep_directions = triangles[keep], directions[keep]
        if edge.any():
            offsets = (np.arange(supersample) + 0.5) / supersample
            sub = np.stack(np.meshgrid(offsets, offsets), axis=-1).reshape(-1, 2)
            edge_pixels = np.flatnonzero(edge)
            corners = np.stack([edge_pixels % width, edge_pixels // width], axis=1).astype(np.float64)
            sub_directions = camera_rays(c2w_gl, intrinsics, (corners[:, None, :] + sub[None]).reshape(-1, 2))[1]
            sub_triangles = self.first_hits(origin, sub_directions)
            sub_hit = sub_triangles >= 0
            pixel = np.concatenate([pixel, np.repeat(edge_pixels, len(sub))[sub_hit]])
            weight = np.concatenate([weight, np.full(int(sub_hit.sum()), 1.0 / len(sub))])
            keep_triangles = np.concatenate([keep_triangles, sub_triangles[sub_hit]])
            keep_directions = np.concatenate([keep_directions, sub_directions[sub_hit]])
        return self._hit_buffer(width, height, pixel, weight, keep_triangles, origin, keep_directions)

    def _hit_buffer(self, width, height, pixel, weight, triangles, origin, directions) -> HitBuffer:
        """Barycentric coordinates of the hits (Moller-Trumbore), then rest positions and shading normals."""
        posed = self.posed
        corners = posed.faces[triangles]
        v0, v1, v2 = (posed.vertices[corners[:, k]] for k in range(3))
        edge1, edge2 = v1 - v0, v2 - v0
        p = np.cross(directions, edge2)
        inverse_det = 1.0 / np.einsum("ij,ij->i", edge1, p)
        offset = origin - v0
        u = np.einsum("ij,ij->i", offset, p) * inverse_det
        v = np.einsum("ij,ij->i", directions, np.cross(offset, edge1)) * inverse_det
        barycentric = np.clip(np.stack([1.0 - u - v, u, v], axis=1), 0.0, 1.0)
        barycentric /= barycentric.sum(axis=1, keepdims=True)
        points_rest = np.einsum("mk,mki->mi", barycentric, posed.rest_vertices[corners])
        normals = np.einsum("mk,mki->mi", barycentric, posed.vertex_normals[corners])
        normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
        # Inside of a thin part or a grazing back face: light the side the camera sees.
        normals *= np.where(np.einsum("ij,ij->i", normals, directions) > 0, -1.0, 1.0)[:, None]
        return HitBuffer(width, height, pixel, weight, posed.face_part[triangles], points_rest, normals)


def back_weight(obj: SyntheticObject, points_rest: Float[np.ndarray, "M 3"]) -> Float[np.ndarray, "M"]:
    """How much a rest-pose point belongs to the side the input view (+x) never saw: 0 for x >= 0, 1 beyond
    x < -0.3 radius, linear between."""
    return np.clip(-points_rest[:, 0] / (0.3 * obj.radius), 0.0, 1.0)


def shade(
    obj: SyntheticObject,
    hits: HitBuffer,
    variants: tuple[Texture, ...] | None = None,
    variant_blend: float = 0.0,
) -> Float[np.ndarray, "M 3"]:
    """Lit colour of every hit: procedural albedo times (ambient + Lambert key and fill lights).

    Args:
        obj: the object (its part textures; the phantom's texture has index len(parts)).
        hits: the view's hit buffer.
        variants: per part (phantom last), the texture invented for the unseen side; with `variant_blend` > 0 it is
            mixed into the albedo in proportion to `back_weight`.
        variant_blend: mixing strength in [0, 1] for this view.

    Returns:
        [M, 3] RGB in [0, 1].
    """
    textures = [part.texture for part in obj.parts] + [obj.phantom.texture]
    points = hits.points_rest / obj.canonical_scale
    albedo = np.zeros((len(hits.part), 3))
    blend = back_weight(obj, hits.points_rest) * variant_blend if variants is not None and variant_blend > 0 else None
    for index in np.unique(hits.part):
        mask = hits.part == index
        albedo[mask] = evaluate_texture(textures[index], points[mask])
        if blend is not None:
            assert variants is not None  # blend is only set with variants
            other = evaluate_texture(variants[index], points[mask])
            albedo[mask] += blend[mask, None] * (other - albedo[mask])
    light = np.full(len(hits.part), AMBIENT)
    for direction, intensity in LIGHTS:
        light += intensity * np.clip(hits.normals @ (direction / np.linalg.norm(direction)), 0.0, None)
    return np.clip(albedo * light[:, None], 0.0, 1.0)


def composite(hits: HitBuffer, colors: Float[np.ndarray, "M 3"]) -> Float[np.ndarray, "H W 4"]:
    """Averages the samples of each pixel into straight-alpha RGBA (alpha = covered fraction, RGB = mean colour of
    the covered samples, 0 where nothing is covered)."""
    size = hits.width * hits.height
    out = np.zeros((size, 4))
    alpha = np.bincount(hits.pixel, weights=hits.weight, minlength=size)
    for channel in range(3):
        out[:, channel] = np.bincount(hits.pixel, weights=hits.weight * colors[:, channel], minlength=size)
    covered = alpha > 0
    out[covered, :3] /= alpha[covered, None]
    out[:, 3] = np.minimum(alpha, 1.0)
    return out.reshape(hits.height, hits.width, 4)


def to_uint8(rgba: Float[np.ndarray, "H W 4"]) -> np.ndarray:
    """[H, W, 4] float in [0, 1] -> uint8 (rounded)."""
    return np.clip(np.round(rgba * 255.0), 0, 255).astype(np.uint8)
