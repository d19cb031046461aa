"""Dataset builders: a still object on the SV3D orbits (RIGI) and an animated one in the SyncDreamer layout
(Efficient4D), each with pseudo-labels for training and clean ground truth for testing.

Static (`make_static_dataset`): 63 train frames on the three SV3D orbits (orbit 0, 1, 2) carrying the seeded
inconsistencies, 36 clean evaluation views (`rigi_eval_views`) in the test split, the clean renders of the train
views under `ground_truth/images/`, the rest-pose mesh as `ground_truth/mesh.ply`.

Dynamic (`make_dynamic_dataset`): a time x view matrix of labels (16 SyncDreamer views x `num_times` times in
[0, 1]); test split = clean renders at held-out times (midpoints between training times, at 4 of the views) and at
held-out views (azimuths offset by 11.25 deg, elevations 15 and 45 deg, at 5 of the times); the clean train views
under `ground_truth/images/`; the front-view input video as `input/frames/NNN.png` and `input/video.mp4`.

Both write `preview/contact_sheet.png` (labels against ground truth) and record how they were made in `generator`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from tqdm import tqdm

from datagen.cameras import (
    SV3D_FOV_DEG,
    SV3D_RADIUS,
    SYNCDREAMER_FOV_DEG,
    SYNCDREAMER_RADIUS,
    c2w_gl_from_spherical,
    intrinsics_from_fov,
    rigi_eval_views,
    sv3d_orbits,
    syncdreamer_views,
)
from datagen.dataset import FrameRecord, encode_png, write_dataset
from datagen.synthetic.contact_sheet import contact_sheet, difference_tile, on_white
from datagen.synthetic.inconsistency import FramePerturbation, InconsistencyConfig, plan_perturbations
from datagen.synthetic.objects import SyntheticObject, make_object
from datagen.synthetic.raycast import to_uint8
from datagen.synthetic.views import ObjectRenderer

GENERATOR_VERSION = 1
"""Bumped whenever the same arguments would produce different images."""
PREVIEW_TILE_PX = 160
"""Largest tile size of the contact sheets (they are previews, not data)."""
HELD_OUT_VIEW_AZIMUTH_OFFSET_DEG = 11.25
"""Held-out 4D test views sit halfway between two SyncDreamer views."""
HELD_OUT_VIEW_ELEVATIONS_DEG = (15.0, 45.0)
"""Elevations of the held-out 4D test views (alternating), around SyncDreamer's 30 deg."""
HELD_OUT_TIME_VIEWS = (0, 4, 8, 12)
"""SyncDreamer views rendered at the held-out (midpoint) times."""


def _check_arguments(out_dir: Path, resolution: int, overwrite: bool, even: bool) -> None:
    if resolution < 16 or (even and resolution % 2):
        need = "an even number >= 16 (the input video is H.264)" if even else "at least 16"
        raise ValueError(f"resolution={resolution}: must be {need}")
    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise FileExistsError(f"{out_dir} exists and is not empty; choose another --output-dir or pass --overwrite")


def _perturbation_record(perturbation: FramePerturbation) -> dict:
    """What was done to a label, kept in its frame for analysis (e.g. uncertainty against phantom views)."""
    return {
        "phantom": perturbation.show_phantom,
        "unseen_texture_blend": round(perturbation.variant_blend, 6),
        "unseen_texture_draw": perturbation.variant_redraw,
        "gain": [round(g, 6) for g in perturbation.gain],
        "offset": [round(o, 6) for o in perturbation.offset],
        "hue_deg": round(perturbation.hue_deg, 6),
        "warp_px": round(perturbation.warp_px, 6),
    }


def _object_record(obj: SyntheticObject) -> dict:
    return {"parts": [part.name for part in obj.parts], "radius": obj.radius}


def make_static_dataset(
    out_dir: Path,
    seed: int = 3,
    resolution: int = 256,
    inconsistency: InconsistencyConfig | None = None,
    overwrite: bool = False,
    supersample: int = 2,
    progress: bool = True,
) -> Path:
    """Writes the 3D dataset of a seed (see the module docstring).

    Args:
        out_dir: dataset directory to create (written atomically).
        seed: object and inconsistency seed.
        resolution: square image size in pixels.
        inconsistency: label perturbations (default: the `medium` preset).
        overwrite: replace an existing dataset.
        supersample: anti-aliasing sub-samples per axis on edge pixels.
        progress: show a tqdm bar.

    Returns:
        The dataset directory.
    """
    out_dir = Path(out_dir)
    inconsistency = inconsistency or InconsistencyConfig()
    strengths = inconsistency.strengths()
    _check_arguments(out_dir, resolution, overwrite, even=False)
    obj = make_object(seed)
    renderer = ObjectRenderer(obj, supersample)
    intrinsics = intrinsics_from_fov(SV3D_FOV_DEG, resolution, resolution)
    orbit_views = sv3d_orbits(radius=SV3D_RADIUS)
    eval_views = rigi_eval_views(seed=seed, radius=SV3D_RADIUS)
    plan = plan_perturbations(strengths, np.array([v.azimuth_deg for v in orbit_views]), seed, resolution)[0]

    # Frames are handed over as PNG bytes (extra_files), so the renders are not all held in memory until writing.
    frames: list[FrameRecord] = []
    extra_files: dict[str, bytes] = {}
    sheet_pairs: dict[str, tuple[np.ndarray, np.ndarray, float]] = {}
    bar = tqdm(total=len(orbit_views) + len(eval_views), desc="synthetic 3D", unit="view", disable=not progress)
    for view, perturbation in zip(orbit_views, plan, strict=True):
        c2w_gl = c2w_gl_from_spherical(view.azimuth_deg, view.elevation_deg, view.radius)
        clean, label = (to_uint8(image) for image in renderer.clean_and_label(c2w_gl, intrinsics, perturbation))
        name = f"orbit{view.orbit}_{view.index:02d}.png"
        frames.append(
            FrameRecord(
                file_path=f"images/{name}",
                c2w_gl=c2w_gl,
                image=None,  # its PNG bytes go into extra_files below
                split="train",
                azimuth_deg=float(view.azimuth_deg),
                elevation_deg=float(view.elevation_deg),
                orbit=int(view.orbit),
                extra={"inconsistency": _perturbation_record(perturbation)},
            )
        )
        extra_files[f"images/{name}"] = encode_png(label)
        extra_files[f"ground_truth/images/{name}"] = encode_png(clean)
        if view.orbit == 0:
            sheet_pairs[name] = (label, clean, float(view.azimuth_deg))
        bar.update()
    for index, view in enumerate(eval_views):
        c2w_gl = c2w_gl_from_spherical(view.azimuth_deg, view.elevation_deg, view.radius)
        extra_files[f"images/eval_{index:02d}.png"] = encode_png(to_uint8(renderer.clean(c2w_gl, intrinsics)))
        frames.append(
            FrameRecord(
                file_path=f"images/eval_{index:02d}.png",
                c2w_gl=c2w_gl,
                image=None,
                split="test",
                azimuth_deg=float(view.azimuth_deg),
                elevation_deg=float(view.elevation_deg),
                orbit=int(view.orbit),
            )
        )
        bar.update()
    bar.close()

    mesh_ply = obj.rest_mesh().export(file_type="ply")
    assert isinstance(mesh_ply, bytes)  # binary PLY
    extra_files["ground_truth/mesh.ply"] = mesh_ply
    extra_files["preview/contact_sheet.png"] = encode_png(static_contact_sheet(sheet_pairs))
    generator = {
        "name": "synthetic",
        "version": GENERATOR_VERSION,
        "kind": "static",
        "seed": seed,
        "resolution": resolution,
        "supersample": supersample,
        "inconsistency": inconsistency.to_dict(),
        "object": _object_record(obj),
        "cameras": {"layout": "sv3d_orbits", "fov_deg": SV3D_FOV_DEG, "radius": SV3D_RADIUS},
        "ground_truth": {"train_views": "ground_truth/images/", "mesh": "ground_truth/mesh.ply"},
    }
    return write_dataset(out_dir, frames, intrinsics, generator, extra_files=extra_files, overwrite=overwrite)


def static_contact_sheet(pairs: dict[str, tuple[np.ndarray, np.ndarray, float]], columns: int = 6) -> np.ndarray:
    """Label / ground truth / amplified difference for `columns` views spread around the first orbit."""
    targets = np.arange(columns) * 360.0 / columns
    names = list(pairs)
    azimuths = np.array([pairs[n][2] for n in names])
    chosen = []
    for target in targets:
        distance = np.abs((azimuths - target + 180.0) % 360.0 - 180.0)
        chosen.append(names[int(distance.argmin())])
    tiles = [
        [pairs[n][0] for n in chosen],
        [pairs[n][1] for n in chosen],
        [difference_tile(pairs[n][0], pairs[n][1]) for n in chosen],
    ]
    size = min(tiles[0][0].shape[0], PREVIEW_TILE_PX)
    return contact_sheet(tiles, ["label", "truth", "|diff| x4"], [f"az {pairs[n][2]:.0f}" for n in chosen], size)


def make_dynamic_dataset(
    out_dir: Path,
    seed: int = 3,
    resolution: int = 128,
    num_times: int = 17,
    inconsistency: InconsistencyConfig | None = None,
    overwrite: bool = False,
    supersample: int = 2,
    input_elevation_deg: float = 0.0,
    fps: float = 8.0,
    progress: bool = True,
) -> Path:
    """Writes the 4D dataset of a seed (see the module docstring).

    Args:
        out_dir: dataset directory to create (written atomically).
        seed: object and inconsistency seed.
        resolution: square image size in pixels (even; SyncDreamer's 280 px focal at 256 px is scaled to it).
        num_times: training times spread evenly over [0, 1] (the real pipeline has 4K - 3 after interpolation).
        inconsistency: label perturbations (default: the `medium` preset).
        overwrite: replace an existing dataset.
        supersample: anti-aliasing sub-samples per axis on edge pixels.
        input_elevation_deg: elevation of the front-view input video (azimuth 0).
        fps: frame rate of `input/video.mp4`.
        progress: show a tqdm bar.

    Returns:
        The dataset directory.
    """
    out_dir = Path(out_dir)
    inconsistency = inconsistency or InconsistencyConfig()
    strengths = inconsistency.strengths()
    if num_times < 2:
        raise ValueError(f"num_times={num_times}: need at least 2 times")
    _check_arguments(out_dir, resolution, overwrite, even=True)
    obj = make_object(seed, animated=True)
    renderer = ObjectRenderer(obj, supersample)
    intrinsics = intrinsics_from_fov(SYNCDREAMER_FOV_DEG, resolution, resolution)
    views = syncdreamer_views(radius=SYNCDREAMER_RADIUS)
    view_c2w = [c2w_gl_from_spherical(v.azimuth_deg, v.elevation_deg, v.radius) for v in views]
    times = np.linspace(0.0, 1.0, num_times)
    plan = plan_perturbations(strengths, np.array([v.azimuth_deg for v in views]), seed, resolution, num_times)
    held_out_times = (times[:-1] + times[1:]) / 2
    held_out_time_indices = sorted({int(round(i)) for i in np.linspace(0, num_times - 1, 5)})
    held_out_views = [
        (HELD_OUT_VIEW_AZIMUTH_OFFSET_DEG + 45.0 * k, HELD_OUT_VIEW_ELEVATIONS_DEG[k % 2]) for k in range(8)
    ]
    input_c2w = c2w_gl_from_spherical(0.0, input_elevation_deg, SYNCDREAMER_RADIUS)

    frames: list[FrameRecord] = []
    extra_files: dict[str, bytes] = {}
    input_frames: list[np.ndarray] = []
    sheet: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
    total = num_times * (len(views) + 1) + len(held_out_times) * len(HELD_OUT_TIME_VIEWS)
    total += len(held_out_time_indices) * len(held_out_views)
    bar = tqdm(total=total, desc="synthetic 4D", unit="view", disable=not progress)

    def add_frame(name, c2w_gl, image, split, azimuth, elevation, time, view=None, extra=None):
        # Frames are handed over as PNG bytes, so the renders are not all held in memory until writing.
        extra_files[f"images/{name}"] = encode_png(image)
        frames.append(
            FrameRecord(
                file_path=f"images/{name}",
                c2w_gl=c2w_gl,
                image=None,
                split=split,
                azimuth_deg=float(azimuth),
                elevation_deg=float(elevation),
                time=float(time),
                view=view,
                extra=extra or {},
            )
        )
        bar.update()

    for ti, time in enumerate(times):
        for vi, (view, c2w_gl) in enumerate(zip(views, view_c2w, strict=True)):
            clean, label = (to_uint8(im) for im in renderer.clean_and_label(c2w_gl, intrinsics, plan[ti][vi], time))
            name = f"t{ti:03d}_v{vi:02d}.png"
            record = {"inconsistency": _perturbation_record(plan[ti][vi])}
            add_frame(name, c2w_gl, label, "train", view.azimuth_deg, view.elevation_deg, time, vi, record)
            extra_files[f"ground_truth/images/{name}"] = encode_png(clean)
            sheet[(ti, vi)] = (label, clean)
        input_frame = to_uint8(renderer.clean(input_c2w, intrinsics, time))
        input_frames.append(input_frame)
        extra_files[f"input/frames/{ti:03d}.png"] = encode_png(input_frame)
        bar.update()
        if ti in held_out_time_indices:
            for k, (azimuth, elevation) in enumerate(held_out_views):
                c2w_gl = c2w_gl_from_spherical(azimuth, elevation, SYNCDREAMER_RADIUS)
                image = to_uint8(renderer.clean(c2w_gl, intrinsics, time))
                add_frame(f"test_view_t{ti:03d}_a{k:02d}.png", c2w_gl, image, "test", azimuth, elevation, time)
        renderer.release(time)
    for ti, time in enumerate(held_out_times):
        for vi in HELD_OUT_TIME_VIEWS:
            image = to_uint8(renderer.clean(view_c2w[vi], intrinsics, time))
            view = views[vi]
            name = f"test_time_t{ti:03d}_v{vi:02d}.png"
            add_frame(name, view_c2w[vi], image, "test", view.azimuth_deg, view.elevation_deg, time, vi)
        renderer.release(time)
    bar.close()

    extra_files["input/video.mp4"] = encode_mp4([on_white(f) for f in input_frames], fps)
    extra_files["preview/contact_sheet.png"] = encode_png(dynamic_contact_sheet(sheet, num_times, len(views)))
    generator = {
        "name": "synthetic",
        "version": GENERATOR_VERSION,
        "kind": "dynamic",
        "seed": seed,
        "resolution": resolution,
        "supersample": supersample,
        "num_times": num_times,
        "times": [float(t) for t in times],
        "inconsistency": inconsistency.to_dict(),
        "object": _object_record(obj),
        "cameras": {"layout": "syncdreamer", "fov_deg": SYNCDREAMER_FOV_DEG, "radius": SYNCDREAMER_RADIUS},
        "input": {
            "frames": "input/frames/",
            "video": "input/video.mp4",
            "fps": fps,
            "azimuth_deg": 0.0,
            "elevation_deg": input_elevation_deg,
        },  # fmt: skip
        "test": {
            "held_out_times": [float(t) for t in held_out_times],
            "held_out_time_views": list(HELD_OUT_TIME_VIEWS),
            "held_out_views": [{"azimuth_deg": a, "elevation_deg": e} for a, e in held_out_views],
            "held_out_view_times": [float(times[i]) for i in held_out_time_indices],
        },
        "ground_truth": {"train_views": "ground_truth/images/"},
    }
    return write_dataset(out_dir, frames, intrinsics, generator, extra_files=extra_files, overwrite=overwrite)


def dynamic_contact_sheet(
    pairs: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]], num_times: int, num_views: int
) -> np.ndarray:
    """Label and ground-truth rows for three times (first, middle, last) x four views a quarter-turn apart."""
    time_indices = [0, num_times // 2, num_times - 1]
    view_indices = [0, num_views // 4, num_views // 2, 3 * num_views // 4]
    tiles, captions = [], []
    for ti in time_indices:
        tiles.append([pairs[(ti, vi)][0] for vi in view_indices])
        tiles.append([pairs[(ti, vi)][1] for vi in view_indices])
        t = ti / (num_times - 1)
        captions += [f"t={t:.2f} label", f"t={t:.2f} truth"]
    size = min(tiles[0][0].shape[0], PREVIEW_TILE_PX)
    return contact_sheet(tiles, captions, [f"view {vi}" for vi in view_indices], size)


def encode_mp4(frames: list[np.ndarray], fps: float) -> bytes:
    """[T] x [H, W, 3] uint8 RGB -> H.264 MP4 bytes at the frames' own size (through a temporary file)."""
    from splatcore.video import write_video

    with tempfile.TemporaryDirectory() as tmp:
        path = write_video(Path(tmp) / "video.mp4", frames, fps, mp4_quality=8, mp4_block_size=1)
        return path.read_bytes()
