"""Running the installed commands as a user does: subprocesses, a free local port, a viewer and its websocket."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence

import numpy as np

BIN = Path(sys.executable).parent
# Generous: on a loaded 2-core machine start-up alone (imports) can take a minute of wall time.
TIMEOUT_S = 600


def environment(**extra: str) -> Dict[str, str]:
    """The test's environment, one thread per process (the suite runs on small shared CPUs)."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **extra}


def run(words: Sequence, cwd: Path, expect_success: bool = True, **env: str) -> subprocess.CompletedProcess:
    """Run an installed command (``words[0]`` from this interpreter's bin folder); fail with its output's tail."""
    argv = [str(BIN / str(words[0])), *map(str, words[1:])]
    result = subprocess.run(
        argv, cwd=cwd, env=environment(**env), capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    if expect_success:
        assert result.returncode == 0, f"{' '.join(argv)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-4000:]}"
    return result


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def viewer_flags(port: int) -> List[str]:
    """Bind the viewer to this machine only, on ``port``."""
    return ["--viewer.websocket-host", "127.0.0.1", "--viewer.websocket-port", str(port)]


@dataclass
class ServedViewer:
    """A running ``ns-viewer``: its URL, process and log file."""

    url: str
    process: subprocess.Popen
    log: Path

    def assert_alive(self) -> None:
        assert self.process.poll() is None, (
            f"ns-viewer exited ({self.process.returncode}):\n{self.log.read_text()[-4000:]}"
        )


@contextmanager
def serving_viewer(config: Path, cwd: Path) -> Iterator[ServedViewer]:
    """``ns-viewer --load-config config`` on a free local port, yielded once it serves HTTP; stopped afterwards."""
    from tests.usage.forms import VIEWER, command_line

    port = free_port()
    words = command_line(VIEWER, config=config) + viewer_flags(port)
    log = cwd / f"ns-viewer-{port}.log"
    with open(log, "w") as log_file:
        process = subprocess.Popen(
            [str(BIN / words[0]), *words[1:]], cwd=cwd, env=environment(), stdout=log_file, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            assert process.poll() is None, f"ns-viewer exited with {process.returncode}:\n{log.read_text()[-4000:]}"
            try:
                with urllib.request.urlopen(url + "/", timeout=2) as response:
                    page = response.read()
                break
            except OSError:
                assert time.monotonic() < deadline, "ns-viewer did not serve HTTP in time"
                time.sleep(0.5)
        assert b"<html" in page.lower() and b"<script" in page.lower(), "the viewer page is not viser's client"
        served = ServedViewer(url, process, log)
        yield served
        served.assert_alive()
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def viewer_messages(url: str, camera_position=(0.0, -40.0, 12.0), timeout_s: float = 180.0) -> List[dict]:
    """Every message the viewer sends a websocket client until its first rendered frame.

    Acts as a browser tab: after the initial burst of scene and GUI messages it reports a camera (viser's
    ``ViewerCameraMessage``, looking at the origin from ``camera_position`` in viser's units, 10 per scene unit), which makes nerfstudio
    render and send a ``BackgroundImageMessage``.
    """
    import msgspec
    from viser import _messages
    from websockets.sync.client import connect

    camera = _messages.ViewerCameraMessage(
        wxyz=_look_at_wxyz(np.asarray(camera_position, float)),
        position=tuple(float(x) for x in camera_position),
        fov=0.7,
        aspect=1.0,
        look_at=(0.0, 0.0, 0.0),
        up_direction=(0.0, 0.0, 1.0),
    )
    messages: List[dict] = []
    sent_camera = False
    frame_at: Optional[float] = None
    deadline = time.monotonic() + timeout_s
    with connect(url.replace("http", "ws", 1), max_size=None, open_timeout=60) as websocket:
        while time.monotonic() < deadline:
            try:
                raw = websocket.recv(timeout=1.0)
            except TimeoutError:  # the initial burst is over: report a camera, as the browser client does
                if frame_at is not None:
                    return messages
                if not sent_camera:
                    websocket.send(msgspec.msgpack.encode(camera.as_serializable_dict()))
                    sent_camera = True
                continue
            batch = msgspec.msgpack.decode(raw)
            messages.extend(batch if isinstance(batch, list) else [batch])
            if frame_at is None and any(m["type"] == "BackgroundImageMessage" for m in messages):
                frame_at = time.monotonic()  # the GUI updates that follow a first frame come within moments
            if frame_at is not None and time.monotonic() > frame_at + 2.0:
                return messages
    if frame_at is not None:
        return messages
    raise AssertionError(f"no rendered frame within {timeout_s} s; got {sorted({m['type'] for m in messages})}")


def decode_frame(message: dict) -> np.ndarray:
    """[H, W, 3] uint8 pixels of a ``BackgroundImageMessage`` (JPEG or PNG bytes)."""
    import imageio.v3 as iio

    return iio.imread(message["rgb_bytes"])[..., :3]


def _look_at_wxyz(position: np.ndarray) -> tuple:
    """Quaternion (w, x, y, z) of an OpenCV camera (+z forward, -y up) at ``position`` looking at the origin, +z up."""
    forward = -position / np.linalg.norm(position)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    rotation = np.stack([right, down, forward], axis=1)  # columns: camera x, y, z in world
    w = np.sqrt(max(1.0 + np.trace(rotation), 1e-12)) / 2
    x = (rotation[2, 1] - rotation[1, 2]) / (4 * w)
    y = (rotation[0, 2] - rotation[2, 0]) / (4 * w)
    z = (rotation[1, 0] - rotation[0, 1]) / (4 * w)
    return (float(w), float(x), float(y), float(z))


def gui_state(messages: List[dict], label: str) -> Optional[dict]:
    """The GUI element called ``label`` as the client would hold it: its add message with later updates applied."""
    added = [m for m in messages if m["type"].startswith("GuiAdd") and m.get("label") == label]
    if not added:
        return None
    state = dict(added[-1])
    for message in messages:
        if message["type"] == "GuiUpdateMessage" and message["id"] == state["id"]:
            state.update(message["updates"])
    return state
