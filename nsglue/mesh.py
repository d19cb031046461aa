"""A vertex-coloured triangle mesh of a trained Gaussian model, by depth fusion (TSDF) of its renders.

The same steps `ns-export tsdf` takes, from nerfstudio's own pieces (`render_trajectory`, `TSDF`): render colour and
depth from every distinct training view through the model's ray-bundle interface (`nsglue.ray_bundles`), fuse them
into a truncated signed distance volume, and take its zero level set with marching cubes; each vertex gets the fused
colour of its voxel. Meshes are written as GLB (vertex colours as COLOR_0) and OBJ (`v x y z r g b`) with trimesh.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import trimesh
from nerfstudio.cameras.cameras import Cameras
from nerfstudio.pipelines.base_pipeline import Pipeline

from splatcore.atomic import atomic_file


def distinct_views(cameras: Cameras, decimals: int = 4) -> Cameras:
    """`cameras` with repeated poses dropped (a 4D dataset repeats each view at every time), in first-seen order."""
    poses = torch.round(cameras.camera_to_worlds.reshape(len(cameras), -1) * 10**decimals)
    _, inverse = torch.unique(poses, dim=0, return_inverse=True)
    first = sorted({int(group): i for i, group in reversed(list(enumerate(inverse.tolist())))}.values())
    return cameras[torch.tensor(first)]


def fuse_tsdf_mesh(
    pipeline: Pipeline,
    cameras: Cameras,
    resolution: int = 128,
    downscale_factor: float = 1.0,
    bounding_box_min: Sequence[float] = (-1.0, -1.0, -1.0),
    bounding_box_max: Sequence[float] = (1.0, 1.0, 1.0),
    batch_size: int = 10,
) -> trimesh.Trimesh:
    """Fuse the model's colour and depth renders from `cameras` into a mesh with vertex colours.

    Args:
        pipeline: a loaded pipeline (`pipeline.model` renders, `pipeline.device` is where).
        cameras: the views to fuse; rescaled in place by 1 / downscale_factor.
        resolution: voxels per side of the volume.
        downscale_factor: render at the cameras' resolution divided by this.
        bounding_box_min: world-space corner of the volume.
        bounding_box_max: opposite corner.
        batch_size: views integrated at once (memory: batch_size × resolution³ × 4 floats).

    Raises:
        ValueError: the renders contain no surface inside the box (nothing to mesh).
    """
    from nerfstudio.exporter.exporter_utils import render_trajectory
    from nerfstudio.exporter.tsdf_utils import TSDF

    device = pipeline.device
    colours, depths = render_trajectory(
        pipeline,
        cameras,
        rgb_output_name="rgb",
        depth_output_name="depth",
        rendered_resolution_scaling_factor=1.0 / downscale_factor,
        disable_distortion=True,
        return_rgba_images=True,
    )
    aabb = torch.tensor([list(bounding_box_min), list(bounding_box_max)], dtype=torch.float32)
    tsdf = TSDF.from_aabb(aabb, volume_dims=torch.tensor([resolution] * 3)).to(device)
    c2w = cameras.camera_to_worlds.to(device)
    c2w = torch.cat([c2w, torch.tensor([0.0, 0.0, 0.0, 1.0], device=device).expand(len(c2w), 1, 4)], dim=1)
    K = cameras.get_intrinsics_matrices().to(device)
    colour_images = torch.from_numpy(np.stack(colours)[..., :3]).permute(0, 3, 1, 2).to(device)
    depth_images = torch.from_numpy(np.stack(depths)).permute(0, 3, 1, 2).to(device)
    for i in range(0, len(c2w), batch_size):
        s = slice(i, i + batch_size)
        tsdf.integrate_tsdf(c2w[s], K[s], depth_images[s], color_images=colour_images[s])
    values = tsdf.values.clamp(-1, 1)
    if not (bool((values < 0).any()) and bool((values > 0).any())):
        raise ValueError(
            "No surface to mesh: the renders show nothing inside the box "
            f"{tuple(bounding_box_min)}–{tuple(bounding_box_max)} (enlarge it, or check the run is trained)"
        )
    mesh = tsdf.get_mesh()
    return trimesh.Trimesh(
        vertices=mesh.vertices.cpu().numpy(),
        faces=mesh.faces.cpu().numpy().astype(np.int64),
        vertex_normals=mesh.normals.cpu().numpy(),
        vertex_colors=np.round(mesh.colors.clamp(0, 1).cpu().numpy() * 255).astype(np.uint8),
        process=False,
    )


def write_mesh(mesh: trimesh.Trimesh, path: Path) -> Path:
    """Write `mesh` atomically in the format its suffix names (.glb, .obj, .ply). Returns the path."""
    path = Path(path)
    with atomic_file(path) as tmp:
        mesh.export(tmp, file_type=path.suffix.lstrip(".").lower())
    return path
