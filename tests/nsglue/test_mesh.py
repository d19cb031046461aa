"""Meshes of a model with known Gaussians: an opaque, single-coloured sphere of splats, meshed by depth fusion."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import trimesh
from nerfstudio.cameras.cameras import Cameras
from nerfstudio.data.scene_box import SceneBox

from datagen.cameras import c2w_gl_from_spherical
from nsglue.base_model import CpuSafeSplatfactoModelConfig
from nsglue.mesh import distinct_views, fuse_tsdf_mesh, write_mesh

RADIUS = 0.5
COLOUR = (0.8, 0.3, 0.2)
SIDE = 96


def sphere_model(num: int = 6000):
    """Gaussians on a Fibonacci sphere, opaque, overlapping (σ ≈ spacing), all of colour COLOUR."""
    i = torch.arange(num, dtype=torch.float64) + 0.5
    z = 1 - 2 * i / num
    phi = math.pi * (1 + 5**0.5) * i
    r_xy = torch.sqrt(1 - z**2)
    points = (RADIUS * torch.stack([r_xy * torch.cos(phi), r_xy * torch.sin(phi), z], -1)).float()
    rgb = torch.tensor(COLOUR).expand(num, 3) * 255
    config = CpuSafeSplatfactoModelConfig(sh_degree=0, background_color="white", eval_lpips_net="none")
    scene_box = SceneBox(aabb=torch.tensor([[-1.0] * 3, [1.0] * 3]))
    model = config.setup(scene_box=scene_box, num_train_data=1, seed_points=(points, rgb))
    spacing = math.sqrt(4 * math.pi * RADIUS**2 / num)
    with torch.no_grad():
        model.gauss_params["scales"].fill_(math.log(spacing))
        model.gauss_params["opacities"].fill_(6.0)  # σ ≈ 0.998
    return model.eval()


def orbit_cameras(elevations=(-35.0, 10.0, 55.0), per_ring: int = 5) -> Cameras:
    poses = [
        c2w_gl_from_spherical(az + 30.0 * k, el, 3.0)[:3]
        for k, el in enumerate(elevations)
        for az in np.linspace(0, 360, per_ring, endpoint=False)
    ]
    focal = 0.5 * SIDE / math.tan(math.radians(40.0) / 2)
    return Cameras(
        camera_to_worlds=torch.tensor(np.stack(poses), dtype=torch.float32),
        fx=focal, fy=focal, cx=SIDE / 2, cy=SIDE / 2, width=SIDE, height=SIDE,
    )  # fmt: skip


@pytest.fixture(scope="module")
def sphere_mesh():
    model = sphere_model()
    pipeline = SimpleNamespace(model=model, device=torch.device("cpu"))
    return fuse_tsdf_mesh(pipeline, orbit_cameras(), resolution=64)


def silhouette_radius(model) -> float:
    """Radius of the sphere whose outline matches the model's rendered outline (accumulation > 0.5), head-on."""
    camera = orbit_cameras(elevations=(0.0,), per_ring=1)
    alpha = model.get_outputs_for_camera(camera)["accumulation"]
    radius_px = math.sqrt(float((alpha > 0.5).sum()) / math.pi)
    return 3.0 * math.sin(math.atan(radius_px / float(camera.fx)))


def test_fused_mesh_lies_on_the_sphere_with_its_colour(sphere_mesh):
    mesh = sphere_mesh
    assert len(mesh.faces) > 500
    radii = np.linalg.norm(mesh.vertices, axis=1)
    # The splats have extent (σ ≈ spacing, plus the rasterizer's 0.3 px² blur), so the renders show a sphere a
    # little larger than the one their centres lie on; the fused surface must lie between the two (± a voxel).
    outline = silhouette_radius(sphere_model())
    assert RADIUS < outline < RADIUS + 0.08
    voxel = 2.0 / 64
    p1, median, p99 = np.percentile(radii, [1, 50, 99])
    assert RADIUS - voxel < p1 and p99 < outline + voxel, (p1, median, p99, outline)
    assert RADIUS - 0.5 * voxel < median < outline, (median, outline)
    print(f"radii p1 {p1:.3f} median {median:.3f} p99 {p99:.3f}, outline {outline:.3f}")
    colours = mesh.visual.vertex_colors[:, :3] / 255.0
    np.testing.assert_allclose(np.median(colours, axis=0), COLOUR, atol=0.03)
    assert np.mean(np.abs(colours - COLOUR).max(axis=1) < 0.08) > 0.9


def test_glb_and_obj_load_back_with_faces_and_colours(sphere_mesh, tmp_path):
    for suffix in ("glb", "obj"):
        path = write_mesh(sphere_mesh, tmp_path / f"mesh.{suffix}")
        back = trimesh.load(path, force="mesh")
        assert len(back.faces) == len(sphere_mesh.faces), suffix
        np.testing.assert_allclose(np.sort(back.bounds.ravel()), np.sort(sphere_mesh.bounds.ravel()), atol=1e-5)
        colours = back.visual.vertex_colors[:, :3] / 255.0
        np.testing.assert_allclose(np.median(colours, axis=0), COLOUR, atol=0.03, err_msg=suffix)


def test_an_empty_model_is_refused_with_the_box():
    model = sphere_model(num=50)
    with torch.no_grad():
        model.gauss_params["means"].add_(10.0)  # everything outside the volume
    pipeline = SimpleNamespace(model=model, device=torch.device("cpu"))
    with pytest.raises(ValueError, match="No surface to mesh"):
        fuse_tsdf_mesh(pipeline, orbit_cameras(elevations=(0.0,), per_ring=3), resolution=16)


def test_distinct_views_drops_repeated_poses():
    cameras = orbit_cameras(elevations=(0.0,), per_ring=3)
    repeated = cameras[torch.tensor([0, 1, 0, 2, 1])]
    kept = distinct_views(repeated)
    torch.testing.assert_close(kept.camera_to_worlds, cameras.camera_to_worlds)


@pytest.mark.parametrize("up, axis, sign", [("z", 2, 1.0), ("y", 1, 1.0), ("-y", 1, -1.0)])
def test_asset_export_turns_the_mesh_so_its_top_points_up(up, axis, sign, tmp_path):
    """A cone with its tip on +z (the training world's up) has the tip along the chosen axis once written."""
    from nsglue.asset_export import _homogeneous
    from splatcore.orient import up_rotation

    cone = trimesh.creation.cone(radius=0.3, height=1.0)  # base at z = 0, tip at z = +1
    cone.apply_transform(_homogeneous(up_rotation(up)))
    back = trimesh.load(write_mesh(cone, tmp_path / "cone.obj"), force="mesh")
    tip = back.vertices[np.argmax(sign * back.vertices[:, axis])]
    np.testing.assert_allclose(sign * tip[axis], 1.0, atol=1e-6)
    np.testing.assert_allclose(np.delete(tip, axis), 0.0, atol=1e-6)
