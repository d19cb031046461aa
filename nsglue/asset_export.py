"""`asset-export`: a trained run (rigi-splat or efficient4d) as a vertex-coloured mesh and a web `.splat` file.

    asset-export --load-config outputs/.../config.yml --output-dir exports/

writes ``mesh.glb`` and ``mesh.obj`` (depth fusion of the model's renders from the training views, see
`nsglue.mesh`) and ``splat.splat`` (the Gaussians `ns-export gaussian-splat` writes, in the 32-byte format of
`splatcore.splat_format`). For rigi-splat the `.splat` holds the exported set (`--pipeline.model.export-model`) and
the mesh is fused from the `rgb`/`depth` renders, i.e. model 1; for efficient4d both are the slice at the model's
`export_time`, or at `--time`. ``--ply`` adds ``splat.ply`` (standard 3DGS layout) and ``--turntable`` a turntable
video, so that one command (and one model load) writes every file of an asset.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

import numpy as np
import torch
import tyro

from splatcore.orient import UpAxis, orient_splats, up_rotation
from splatcore.ply import SplatPly

MIN_OPACITY = 1.0 / 255.0
"""Gaussians fainter than this are left out of the `.splat` file, as `ns-export gaussian-splat` leaves them out."""


def model_splats(model) -> SplatPly:
    """The Gaussians a splatfacto-style model exports (its `means`, `scales`, `quats`, `opacities`, `shs_*`).

    Near-transparent (opacity < 1/255) and non-finite Gaussians are dropped, as `ns-export gaussian-splat` does.
    """
    with torch.no_grad():
        means, log_scales, quats = model.means, model.scales, model.quats
        opacity_logits, sh_dc = model.opacities.reshape(-1), model.shs_0
        n = means.shape[0]
        sh_rest = model.shs_rest if model.config.sh_degree > 0 else means.new_zeros(n, 0, 3)
        if sh_rest.shape[0] != n:
            raise ValueError(f"the model exports {n} Gaussians but {sh_rest.shape[0]} rows of SH coefficients")
        keep = torch.sigmoid(opacity_logits) >= MIN_OPACITY
        for tensor in (means, log_scales, quats, sh_dc, opacity_logits[:, None]):
            keep &= torch.isfinite(tensor).all(dim=-1)

    def np32(x: torch.Tensor) -> np.ndarray:
        return x[keep].detach().cpu().numpy().astype(np.float32)

    return SplatPly(np32(means), np32(sh_dc), np32(sh_rest), np32(opacity_logits), np32(log_scales), np32(quats))


@dataclass
class ExportAsset:
    """Export a trained rigi-splat or efficient4d run as mesh.glb, mesh.obj and splat.splat."""

    load_config: Path
    """The run's config.yml (outputs/<name>/<method>/<timestamp>/config.yml)."""
    output_dir: Path
    """Folder for the files."""
    mesh: bool = True
    """Write mesh.glb and mesh.obj (vertex colours)."""
    splat: bool = True
    """Write splat.splat (web splat viewers' format)."""
    resolution: int = 128
    """Voxels per side of the fusion volume (the mesh's detail; time and memory grow with its cube)."""
    downscale_factor: float = 1.0
    """Render the training views at their resolution divided by this for the fusion."""
    bounding_box_min: Tuple[float, float, float] = (-1.0, -1.0, -1.0)
    """Corner of the meshed volume (world units; generated datasets put the object at the origin, radius < 1)."""
    bounding_box_max: Tuple[float, float, float] = (1.0, 1.0, 1.0)
    """Opposite corner of the meshed volume."""
    splat_up: UpAxis = "-y"
    """Axis pointing up in splat.splat: -y as the INRIA/.splat viewers (gsplat.js, SuperSplat) expect; z keeps the
    training world (+z up)."""
    mesh_up: UpAxis = "y"
    """Axis pointing up in mesh.glb/mesh.obj: +y as glTF specifies and most mesh tools assume; z keeps the training
    world."""
    time: Optional[float] = None
    """efficient4d only: the time to export (default: the model's export_time)."""
    ply: bool = False
    """Also write splat.ply: the exported Gaussians in the standard 3DGS layout (training world, +z up), as
    `ns-export gaussian-splat` writes them."""
    turntable: bool = False
    """Also write turntable.gif and turntable.mp4 (set 1 on white, orbiting at 20 degrees elevation; SV3D's camera
    distance and field of view) and, for rigi-splat, uncertainty.png."""
    turntable_frames: int = 36
    """Frames of the turntable."""
    turntable_size: int = 256
    """Side of the turntable frames in pixels."""

    def main(self) -> None:
        """Load the run and write the files."""
        from nerfstudio.utils.eval_utils import eval_setup

        from nsglue.mesh import distinct_views, fuse_tsdf_mesh, write_mesh
        from splatcore.splat_format import write_splat

        if not self.load_config.is_file():
            raise FileNotFoundError(f"--load-config {self.load_config} does not exist")
        if self.resolution < 8:
            raise ValueError(f"--resolution must be ≥ 8 voxels, got {self.resolution}")
        _, pipeline, _, _ = eval_setup(self.load_config, test_mode="inference")
        model = pipeline.model
        if self.time is not None:
            if not hasattr(model.config, "export_time"):
                raise ValueError(f"--time is for efficient4d runs; {self.load_config} is a {type(model).__name__} run")
            model.config.export_time = float(self.time)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        if self.splat:
            splats = model_splats(model)
            path = write_splat(self.output_dir / "splat.splat", orient_splats(splats, self.splat_up))
            print(f"Wrote {path} ({splats.count} Gaussians)")
        if self.ply:
            from splatcore.ply import write_splat_ply

            splats = model_splats(model)
            path = write_splat_ply(self.output_dir / "splat.ply", splats, vertical_axis="z")
            print(f"Wrote {path} ({splats.count} Gaussians)")
        if self.mesh:
            assert pipeline.datamanager.train_dataset is not None  # set up by the loaded pipeline
            cameras = distinct_views(pipeline.datamanager.train_dataset.cameras)
            mesh = fuse_tsdf_mesh(
                pipeline,
                cameras,
                resolution=self.resolution,
                downscale_factor=self.downscale_factor,
                bounding_box_min=self.bounding_box_min,
                bounding_box_max=self.bounding_box_max,
            )
            mesh.apply_transform(_homogeneous(up_rotation(self.mesh_up)))
            for suffix in ("glb", "obj"):
                path = write_mesh(mesh, self.output_dir / f"mesh.{suffix}")
                print(f"Wrote {path} ({len(mesh.vertices)} vertices, {len(mesh.faces)} faces)")
        if self.turntable:  # last: it switches a twin model to rendering set 1 only
            from nsglue.turntable_video import write_turntable

            written = write_turntable(model, self.output_dir, self.turntable_frames, size=self.turntable_size)
            for path in written.values():
                print(f"Wrote {path}")


def _homogeneous(rotation: np.ndarray) -> np.ndarray:
    """[4, 4] transform of a [3, 3] rotation."""
    transform = np.eye(4)
    transform[:3, :3] = rotation
    return transform


def entrypoint() -> None:
    """Console script `asset-export`."""
    tyro.extras.set_accent_color("bright_yellow")
    tyro.cli(ExportAsset).main()


if __name__ == "__main__":
    entrypoint()
