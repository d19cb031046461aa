"""Midpoint frame interpolation: I_{0.5} from I_0 and I_1.

Used twice: to densify a generated image matrix in time (stage 1) and to predict a frame from its neighbours for the
confidence maps (stage 2). The default `DisFlowInterpolator` needs no weights: OpenCV's DIS optical flow in both
directions, both frames backward-warped to the midpoint with the linear-motion flow approximation of Super-SloMo
(F_{½→0} = ¼(F_10 − F_01), F_{½→1} = ¼(F_01 − F_10)), blended with weights that drop where the forward–backward flow
check says a pixel is occluded. `RifeInterpolator` runs a learned model (RIFE) from a file the user supplies.
"""

import hashlib
from abc import ABC, abstractmethod
from pathlib import Path

import cv2
import numpy as np


class Interpolator(ABC):
    """Predicts the frame halfway between two frames."""

    @abstractmethod
    def midpoint(self, frame_a: np.ndarray, frame_b: np.ndarray) -> np.ndarray:
        """Args: frame_a, frame_b: [H, W, 3] float32 in [0, 1]. Returns: [H, W, 3] float32 in [0, 1]."""

    @abstractmethod
    def cache_key(self) -> str:
        """A string that changes whenever the output could change (used to key cached results)."""

    def midpoint_rgba(self, frame_a: np.ndarray, frame_b: np.ndarray) -> np.ndarray:
        """Midpoint of two [H, W, 3|4] float32 frames in [0, 1] (straight alpha).

        This default interpolates the colour and, for RGBA, the alpha as a grey image, each on its own; an
        interpolator that can move all channels along one flow overrides it.
        """
        _check_pair(frame_a, frame_b, channels=(3, 4))
        rgb = self.midpoint(frame_a[..., :3], frame_b[..., :3])
        if frame_a.shape[2] == 3:
            return rgb
        alpha = self.midpoint(*(np.repeat(f[..., 3:], 3, axis=2) for f in (frame_a, frame_b)))
        return np.concatenate([rgb, alpha[..., :1]], axis=2)


def _check_pair(frame_a: np.ndarray, frame_b: np.ndarray, channels: tuple[int, ...] = (3,)) -> None:
    if frame_a.shape != frame_b.shape or frame_a.ndim != 3 or frame_a.shape[2] not in channels:
        shape = "|".join(str(c) for c in channels)
        raise ValueError(
            f"interpolation needs two [H, W, {shape}] frames of equal size, got {frame_a.shape} and {frame_b.shape}"
        )


def _on_white(frame: np.ndarray) -> np.ndarray:
    """[H, W, 3] colour of an RGB or straight-alpha RGBA frame composited onto white (what flow is estimated on)."""
    if frame.shape[2] == 3:
        return frame
    alpha = frame[..., 3:]
    return frame[..., :3] * alpha + (1.0 - alpha)


def _gray_u8(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor((np.clip(frame, 0, 1) * 255 + 0.5).astype(np.uint8), cv2.COLOR_RGB2GRAY)


def _backward_warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Sample `image` at x + flow(x) (bilinear, border replicate). image [H, W, C], flow [H, W, 2] (dx, dy)."""
    h, w = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    map_x: np.ndarray = grid_x + flow[..., 0].astype(np.float32)
    map_y: np.ndarray = grid_y + flow[..., 1].astype(np.float32)
    return cv2.remap(image, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _occlusion(flow_ab: np.ndarray, flow_ba: np.ndarray, tolerance: float = 1.0) -> np.ndarray:
    """Soft occlusion of frame a's pixels: 1 where following a→b then b→a does not return near the start. [H, W]."""
    round_trip = flow_ab + _backward_warp(flow_ba, flow_ab)
    error = np.linalg.norm(round_trip, axis=-1)
    bound = tolerance + 0.05 * (np.linalg.norm(flow_ab, axis=-1) + np.linalg.norm(flow_ba, axis=-1))
    return np.clip(error / bound - 1.0, 0.0, 1.0).astype(np.float32)


def dis_flow(frame_a: np.ndarray, frame_b: np.ndarray, preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) -> np.ndarray:
    """Dense optical flow a→b in pixels, [H, W, 2] float32 (x, y), with OpenCV's DIS method."""
    dis = cv2.DISOpticalFlow_create(preset)  # type: ignore[attr-defined]  # missing from OpenCV's stubs
    return dis.calc(_gray_u8(frame_a), _gray_u8(frame_b), None)


def interpolate_midpoint(
    frame_a: np.ndarray, frame_b: np.ndarray, preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM
) -> np.ndarray:
    """The frame halfway between `frame_a` and `frame_b` from DIS optical flow (see the module docstring).

    Args:
        frame_a: [H, W, C] float32 in [0, 1], C = 3 (RGB) or 4 (RGBA, straight alpha: the flow is estimated on the
            colour over white and moves all four channels).
        frame_b: [H, W, C] float32 in [0, 1].
        preset: OpenCV DIS preset (ULTRAFAST, FAST, MEDIUM).

    Returns:
        [H, W, C] float32 in [0, 1].
    """
    _check_pair(frame_a, frame_b, channels=(3, 4))
    a = np.ascontiguousarray(frame_a, dtype=np.float32)
    b = np.ascontiguousarray(frame_b, dtype=np.float32)
    flow_ab = dis_flow(_on_white(a), _on_white(b), preset)
    flow_ba = dis_flow(_on_white(b), _on_white(a), preset)
    flow_mid_to_a = 0.25 * (flow_ba - flow_ab)
    flow_mid_to_b = 0.25 * (flow_ab - flow_ba)
    warped_a = _backward_warp(a, flow_mid_to_a)
    warped_b = _backward_warp(b, flow_mid_to_b)
    # A midpoint pixel takes less from a source whose sample there is occluded in the other frame.
    visible_a = 1.0 - _backward_warp(_occlusion(flow_ab, flow_ba), flow_mid_to_a)
    visible_b = 1.0 - _backward_warp(_occlusion(flow_ba, flow_ab), flow_mid_to_b)
    weight_a = (visible_a + 1e-3) / (visible_a + visible_b + 2e-3)
    return np.clip(weight_a[..., None] * warped_a + (1.0 - weight_a[..., None]) * warped_b, 0.0, 1.0)


class DisFlowInterpolator(Interpolator):
    """Weight-free midpoint interpolation with OpenCV DIS optical flow (the default)."""

    def __init__(self, preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) -> None:
        self.preset = preset

    def midpoint(self, frame_a: np.ndarray, frame_b: np.ndarray) -> np.ndarray:
        _check_pair(frame_a, frame_b)
        return interpolate_midpoint(frame_a, frame_b, self.preset)

    def midpoint_rgba(self, frame_a: np.ndarray, frame_b: np.ndarray) -> np.ndarray:
        return interpolate_midpoint(frame_a, frame_b, self.preset)

    def cache_key(self) -> str:
        return f"dis-v1-preset{self.preset}-opencv{cv2.__version__}"


class RifeInterpolator(Interpolator):
    """RIFE (IFNet HDv3) midpoint interpolation from a TorchScript file the user supplies.

    The model is called as `model(img0, img1)` on [1, 3, H, W] float tensors in [0, 1] (H, W padded to multiples of
    32, as RIFE requires) and must return the midpoint [1, 3, H, W]. Export one from the RIFE code with
    `torch.jit.trace(lambda a, b: model.inference(a, b), ...)`; the raw `flownet.pkl` state dict is not loadable here
    because it needs the IFNet module definition.
    """

    def __init__(self, weights_path: Path, device: str = "cpu") -> None:
        import torch

        self.weights_path = Path(weights_path)
        if not self.weights_path.is_file():
            raise FileNotFoundError(
                f"RIFE weights not found at {self.weights_path}. Provide a TorchScript export of RIFE's IFNet "
                "(see RifeInterpolator's docstring) or use the default DIS-flow interpolator (no weights needed)."
            )
        try:
            self.model = torch.jit.load(str(self.weights_path), map_location=device).eval()
        except RuntimeError as err:
            raise ValueError(
                f"{self.weights_path} is not a TorchScript module ({err.__class__.__name__}); a raw flownet.pkl state "
                "dict needs to be exported with torch.jit first (see RifeInterpolator's docstring)."
            ) from err
        self.device = device
        self._digest = hashlib.sha1(self.weights_path.read_bytes()).hexdigest()[:16]

    def midpoint(self, frame_a: np.ndarray, frame_b: np.ndarray) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        _check_pair(frame_a, frame_b)
        h, w = frame_a.shape[:2]
        pad_h, pad_w = (-h) % 32, (-w) % 32

        def to_tensor(frame: np.ndarray) -> torch.Tensor:
            x = torch.from_numpy(np.ascontiguousarray(frame, dtype=np.float32)).permute(2, 0, 1)[None].to(self.device)
            return F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")

        with torch.no_grad():
            mid = self.model(to_tensor(frame_a), to_tensor(frame_b))
        return mid[0, :, :h, :w].permute(1, 2, 0).clamp(0, 1).cpu().numpy().astype(np.float32)

    def cache_key(self) -> str:
        return f"rife-{self._digest}"
