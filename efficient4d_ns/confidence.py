"""Per-pixel confidence maps of generated frames (Efficient4D, eqs. 11–16), and their on-disk cache.

For the frame I_t of one view's time sequence, neighbours predict it by midpoint interpolation,
Î_t1 = Interp(I_{t−1}, I_{t+1}) and Î_t2 = Interp(I_{t−2}, I_{t+2}); where the generator was temporally inconsistent
the prediction disagrees with I_t and the confidence drops. Two definitions (`mode`):

- ``paper``: C_rgb = 1 − ½(|I_t − Î_t1| + |I_t − Î_t2|) (channel mean, so it lies in [0, 1]) and
  C_ssim = ½(SSIM(I_t, Î_t1) + SSIM(I_t, Î_t2)) from per-pixel SSIM maps, clamped to [0, 1]. Where a pair does not
  exist (near the ends) only the existing pairs are averaged; a frame with no pair gets confidence 1.
- ``released``: as the authors' `video_confidence.py`: error e_rgb = Σ_c |I_t − Î| and e_ssim = 1 − SSIM; interior
  frames average both pairs, frames 1 and T−2 use only the ±1 pair, frames 0 and T−1 get confidence 1; confidence =
  (max e − e) / max(max e − e), i.e. per-image min–max-normalised inverted error.

In both modes the neighbours are those of the sequence as given (a densified sequence if stage 1 interpolated it).
Everything above is pure numpy/torch; `load_or_compute_confidence` adds the cache beside the dataset.
"""

import hashlib
import io
import json
from collections import defaultdict
from pathlib import Path
from typing import Literal

import imageio.v2 as imageio
import numpy as np
import torch
from tqdm import tqdm

from datagen.images import read_image
from datagen.interpolate import Interpolator
from efficient4d_ns import losses
from splatcore.atomic import atomic_directory, atomic_file

ConfidenceMode = Literal["paper", "released"]
CACHE_VERSION = "1"


def ssim_map(image_a: np.ndarray, image_b: np.ndarray) -> np.ndarray:
    """Per-pixel SSIM (11×11 Gaussian window, σ 1.5), averaged over channels. [H, W, 3] x2 -> [H, W] float32."""
    a = torch.from_numpy(np.ascontiguousarray(image_a, np.float32)).permute(2, 0, 1)
    b = torch.from_numpy(np.ascontiguousarray(image_b, np.float32)).permute(2, 0, 1)
    with torch.no_grad():
        return losses.ssim_map(a, b).numpy()


def _pair_errors(frames: np.ndarray, t: int, k: int, interpolator: Interpolator) -> tuple[np.ndarray, np.ndarray]:
    """|I_t − Î| per pixel and channel [H, W, 3], and the SSIM map [H, W], for the ±k pair."""
    predicted = interpolator.midpoint(frames[t - k], frames[t + k])
    return np.abs(frames[t] - predicted), ssim_map(frames[t], predicted)


def sequence_confidence(
    frames: np.ndarray, interpolator: Interpolator, mode: ConfidenceMode = "paper"
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence maps of every frame of one view's time-ordered sequence.

    Args:
        frames: [T, H, W, 3] float32 in [0, 1], ordered by time.
        interpolator: midpoint interpolator (Interp in eq. 15).
        mode: "paper" or "released" (see the module docstring).

    Returns:
        conf_rgb, conf_ssim: [T, H, W] float32 in [0, 1].
    """
    if mode not in ("paper", "released"):
        raise ValueError(f"confidence mode must be 'paper' or 'released', got {mode!r}")
    frames = np.asarray(frames, np.float32)
    num, h, w = frames.shape[:3]
    conf_rgb = np.ones((num, h, w), np.float32)
    conf_ssim = np.ones((num, h, w), np.float32)
    for t in range(num):
        if mode == "paper":
            offsets = [k for k in (1, 2) if t - k >= 0 and t + k < num]
        else:  # released: ends get 1, their neighbours only ±1
            offsets = [] if t in (0, num - 1) else ([1] if t in (1, num - 2) else [1, 2])
        if not offsets:
            continue
        pairs = [_pair_errors(frames, t, k, interpolator) for k in offsets]
        abs_err = np.mean([p[0] for p in pairs], axis=0)  # [H, W, 3]
        ssim = np.mean([p[1] for p in pairs], axis=0)  # [H, W]
        if mode == "paper":
            conf_rgb[t] = 1.0 - abs_err.mean(-1)
            conf_ssim[t] = ssim
        else:
            conf_rgb[t] = _inverted_minmax(abs_err.sum(-1))
            conf_ssim[t] = _inverted_minmax(1.0 - ssim)
    return np.clip(conf_rgb, 0.0, 1.0), np.clip(conf_ssim, 0.0, 1.0)


def _inverted_minmax(error: np.ndarray) -> np.ndarray:
    """(max e − e) / max(max e − e); an error that is constant over the image gives confidence 1."""
    inverted = error.max() - error
    top = inverted.max()
    return (inverted / top).astype(np.float32) if top > 0 else np.ones_like(error, np.float32)


# ---- dataset-level computation and cache -------------------------------------------------------------------------


def load_rgb_white(path: Path) -> np.ndarray:
    """An image file as [H, W, 3] float32 in [0, 1]; RGBA is composited onto white (the generator's background)."""
    image = read_image(path).astype(np.float32) / 255.0  # the training reader: any pixel format, RGB(A) out
    if image.shape[-1] == 4:
        image = image[..., :3] * image[..., 3:] + (1.0 - image[..., 3:])
    return image[..., :3]


def confidence_cache_key(
    data_dir: Path,
    image_paths: list[Path],
    views: list[int],
    times: list[float],
    mode: ConfidenceMode,
    interpolator: Interpolator,
) -> str:
    """Hash of transforms.json, the image bytes, each frame's view and time, the mode and the interpolator: any
    change gives a new key.

    Args:
        data_dir: the dataset directory as the dataparser read it (never guessed from the image paths, which may
            lie at any depth).
    """
    digest = hashlib.sha1(f"v{CACHE_VERSION}|{mode}|{interpolator.cache_key()}".encode())
    transforms = Path(data_dir) / "transforms.json"
    if transforms.is_file():
        digest.update(transforms.read_bytes())
    # the grouping the maps were computed with, whatever file it came from
    digest.update(json.dumps([[int(v), float(t)] for v, t in zip(views, times, strict=True)]).encode())
    for path in image_paths:
        digest.update(str(Path(path).name).encode())
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:20]


def camera_groups(views: list[int], c2w: np.ndarray, decimals: int = 5) -> list[int]:
    """One group id per frame: its ``view`` where it has one (≥ 0), else one id per distinct camera pose.

    A confidence map compares a frame with its time neighbours from the same camera; frames that carry ``time`` but
    no ``view`` must not be pooled into one sequence across cameras, so identical poses (to ``decimals``) stand in
    for the view.

    Args:
        views: per-frame view index, -1 where the frame has none.
        c2w: [N, 3, 4] or [N, 4, 4] camera-to-world poses.
        decimals: rounding that decides "identical".

    Returns:
        group ids (views kept as they are; pose groups numbered after the largest view).
    """
    c2w = np.asarray(c2w, np.float64)
    if c2w.shape[0] != len(views):
        raise ValueError(f"camera_groups: {len(views)} views but {c2w.shape[0]} poses")
    next_id = max([int(v) for v in views] + [-1]) + 1
    by_pose: dict[bytes, int] = {}
    groups = []
    for view, pose in zip(views, c2w, strict=True):
        if view >= 0:
            groups.append(int(view))
            continue
        key = (np.round(pose[:3, :4], decimals) + 0.0).tobytes()  # + 0.0: -0.0 and 0.0 are one pose
        if key not in by_pose:
            by_pose[key] = next_id
            next_id += 1
        groups.append(by_pose[key])
    return groups


def compute_confidence_maps(
    image_paths: list[Path],
    views: list[int],
    times: list[float],
    interpolator: Interpolator,
    mode: ConfidenceMode = "paper",
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence maps of a time × view image matrix, in the order of `image_paths`.

    Frames are grouped by `views` (see `camera_groups` for frames without one) and ordered by `times` within a view;
    a frame without a time (nan) or alone in its view gets confidence 1.

    Returns:
        conf_rgb, conf_ssim: [N, H, W] float32 (all images must share one size).
    """
    if not (len(image_paths) == len(views) == len(times)):
        raise ValueError("compute_confidence_maps: image_paths, views and times must have equal lengths")
    columns: dict[int, list[int]] = defaultdict(list)
    for i, (view, time) in enumerate(zip(views, times, strict=True)):
        if not np.isnan(time):
            columns[int(view)].append(i)
    first = load_rgb_white(image_paths[0])
    conf_rgb = np.ones((len(image_paths), *first.shape[:2]), np.float32)
    conf_ssim = np.ones_like(conf_rgb)
    for indices in tqdm(list(columns.values()), desc="confidence maps", unit="view", leave=False):
        indices = sorted(indices, key=lambda i: times[i])
        frames = np.stack([load_rgb_white(image_paths[i]) for i in indices])
        rgb, ssim = sequence_confidence(frames, interpolator, mode)
        conf_rgb[indices], conf_ssim[indices] = rgb, ssim
    return conf_rgb, conf_ssim


def _write_atomic_npz(path: Path, **arrays: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    with atomic_file(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def _write_pngs(png_dir: Path, names: list[str], conf_rgb: np.ndarray, conf_ssim: np.ndarray) -> None:
    """One PNG per image, [C_rgb | C_ssim] side by side in grey levels, into `png_dir` (atomically, as a folder)."""
    if png_dir.exists():
        return
    with atomic_directory(png_dir) as tmp:
        for name, rgb, ssim in zip(names, conf_rgb, conf_ssim, strict=True):
            strip = np.concatenate([rgb, ssim], axis=1)
            imageio.imwrite(tmp / f"{Path(name).stem}.png", (np.clip(strip, 0, 1) * 255 + 0.5).astype(np.uint8))
        (tmp / "README.json").write_text(json.dumps({"layout": "left: C_rgb, right: C_ssim; white = 1"}))


def load_or_compute_confidence(
    data_dir: Path,
    image_paths: list[Path],
    views: list[int],
    times: list[float],
    interpolator: Interpolator,
    mode: ConfidenceMode = "paper",
    cache_dir: Path | None = None,
    write_pngs: bool = True,
) -> tuple[np.ndarray, np.ndarray, Path, bool]:
    """Confidence maps from `<cache_dir>/confidence-<key>.npz`, computing and caching them on a miss.

    Args:
        data_dir: the dataparser's dataset directory (its transforms.json enters the key).
        image_paths, views, times: the frames, as for `compute_confidence_maps` (views and times enter the key).
        interpolator, mode: how to compute them (both enter the key).
        cache_dir: where to cache; default `<data_dir>/.cache`.
        write_pngs: also write viewable PNGs into `<cache_dir>/confidence-<key>/` on a miss.

    Returns:
        conf_rgb [N, H, W], conf_ssim [N, H, W] (float32), the cache file, and whether it was a cache hit.
    """
    cache_dir = Path(cache_dir) if cache_dir is not None else Path(data_dir) / ".cache"
    key = confidence_cache_key(data_dir, image_paths, views, times, mode, interpolator)
    cache_file = cache_dir / f"confidence-{key}.npz"
    if cache_file.is_file():
        with np.load(cache_file) as cached:
            if list(cached["names"]) == [str(p) for p in image_paths]:
                rgb = cached["conf_rgb"].astype(np.float32) / 255.0
                return rgb, cached["conf_ssim"].astype(np.float32) / 255.0, cache_file, True
    conf_rgb, conf_ssim = compute_confidence_maps(image_paths, views, times, interpolator, mode)
    cache_dir.mkdir(parents=True, exist_ok=True)
    # uint8 keeps the cache small; 1/255 resolution is far below the maps' own noise.
    rgb_u8 = np.round(conf_rgb * 255).astype(np.uint8)
    ssim_u8 = np.round(conf_ssim * 255).astype(np.uint8)
    _write_atomic_npz(cache_file, conf_rgb=rgb_u8, conf_ssim=ssim_u8, names=np.array([str(p) for p in image_paths]))
    if write_pngs:
        _write_pngs(cache_dir / f"confidence-{key}", [str(p) for p in image_paths], conf_rgb, conf_ssim)
    return rgb_u8.astype(np.float32) / 255.0, ssim_u8.astype(np.float32) / 255.0, cache_file, False
