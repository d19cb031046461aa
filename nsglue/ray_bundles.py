"""Serving nerfstudio's ray-bundle interface from a model that renders cameras.

nerfstudio's mesh exporter (`ns-export tsdf`) renders each training camera as a `RayBundle` through
`Model.get_outputs_for_camera_ray_bundle`, and reads `rgb`, `depth` and (via `get_rgba_image`) `accumulation`. A
Gaussian rasterizer renders cameras, so the bundle is turned back into the pinhole camera it came from
(`splatcore.pinhole_rays`), rendered, and its depth given in the ray-bundle convention of NeRF models: distance
along the ray, not camera z. Bundles that are not one pinhole camera are refused with the alternatives.
"""

from __future__ import annotations

from typing import Dict

import torch
from nerfstudio.cameras.cameras import Cameras, CameraType
from nerfstudio.cameras.rays import RayBundle
from torch import Tensor

from splatcore.pinhole_rays import NotPinholeError, pinhole_from_rays

NO_HIT_ACCUMULATION = 0.5
"""Pixels with less accumulated opacity than this count as seeing no surface (the threshold nerfstudio's point-cloud
export uses), so depth-fusion exporters carve the space along them instead of placing a surface."""
NO_HIT_DEPTH = 1.0e6
"""Depth reported along rays that see no surface when the bundle sets no far bound."""

MESH_HELP = (
    "Gaussian-splat models render pinhole cameras, not arbitrary rays. For a mesh use "
    "`asset-export --load-config CONFIG --output-dir DIR` (mesh.glb, mesh.obj with vertex colours), or "
    "`ns-export tsdf ... --texture-method tsdf` (tsdf_mesh.ply). `ns-export poisson`, `ns-export pointcloud` and "
    "`ns-export tsdf --texture-method nerf` sample individual rays and do not work with these models."
)


def camera_from_ray_bundle(bundle: RayBundle) -> Cameras:
    """The pinhole camera of an image-shaped bundle from `Cameras.generate_rays`, without its time.

    The time is dropped on purpose: an export is one time slice, the one the model exports (`export_time` for
    efficient4d), not each camera's own time.

    Raises:
        ValueError: the bundle is not one pinhole camera's pixel grid; the message names the alternatives.
    """
    norms = (bundle.metadata or {}).get("directions_norm")
    if norms is None:
        raise ValueError(f"The ray bundle has no `directions_norm`, so no camera can be recovered. {MESH_HELP}")
    try:
        fit = pinhole_from_rays(bundle.origins, bundle.directions, norms)
    except NotPinholeError as err:
        raise ValueError(f"Cannot render this ray bundle: {err}. {MESH_HELP}") from err
    return Cameras(
        camera_to_worlds=fit.c2w_gl[None],
        fx=fit.fx,
        fy=fit.fy,
        cx=fit.cx,
        cy=fit.cy,
        width=fit.width,
        height=fit.height,
        camera_type=CameraType.PERSPECTIVE,
    ).to(bundle.origins.device)


def depth_along_rays(outputs: Dict[str, Tensor], bundle: RayBundle) -> Dict[str, Tensor]:
    """`outputs` with every `depth*` map [H, W, 1] turned from camera z into distance along the bundle's rays.

    Rays whose `accumulation*` is below :data:`NO_HIT_ACCUMULATION` report the bundle's far bound (or
    :data:`NO_HIT_DEPTH`), as a NeRF's depth runs to the far end of an empty ray.
    """
    converted = dict(outputs)
    norms = bundle.metadata["directions_norm"]
    for name, depth in outputs.items():
        if not name.startswith("depth") or depth is None:
            continue
        distance = depth * norms.to(depth)  # z = −1 in camera axes for the unnormalised direction
        accumulation = outputs.get(name.replace("depth", "accumulation"))
        if accumulation is not None:
            far = bundle.fars.to(depth) if bundle.fars is not None else torch.full_like(depth, NO_HIT_DEPTH)
            distance = torch.where(accumulation < NO_HIT_ACCUMULATION, far.expand_as(distance), distance)
        converted[name] = distance
    return converted


def straight_rgba(rgb: Tensor, accumulation: Tensor, background: Tensor) -> Tensor:
    """Un-composite an image: colour of the Gaussians alone (not blended with the background) and alpha.

    Args:
        rgb: [H, W, 3] rendered colour composited over `background`.
        accumulation: [H, W, 1] accumulated opacity.
        background: [3] or [H, W, 3] background colour.

    Returns:
        [H, W, 4]; where nothing was rendered (alpha ≈ 0) the colour is the composited one.
    """
    alpha = accumulation.clamp(0.0, 1.0)
    colour = (rgb - (1.0 - alpha) * background) / alpha.clamp(min=1e-6)
    colour = torch.where(alpha > 1e-3, colour.clamp(0.0, 1.0), rgb)
    return torch.cat([colour, alpha], dim=-1)
