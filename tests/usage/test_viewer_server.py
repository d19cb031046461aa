"""`ns-viewer --load-config` on a rigi-splat run and an efficient4d run: it serves viser's page, stays up, and a
websocket client gets the scene (training cameras, GUI) and, once it reports a camera, a rendered frame."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.usage.tools import decode_frame, gui_state, viewer_messages

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("usage")]


@pytest.mark.parametrize(
    "preset, outputs, has_time",
    [
        ("rigi-splat", {"rgb", "rgb_2", "uncertainty", "depth", "accumulation"}, False),
        ("efficient4d", {"rgb", "confidence", "depth", "accumulation"}, True),
    ],
)
def test_ns_viewer_serves_the_scene_and_renders(workspace, preset, outputs, has_time):
    viewer = workspace.viewer(preset)
    time.sleep(3.0)  # guards against a viewer that dies a moment after it starts serving
    viewer.assert_alive()
    messages = viewer_messages(viewer.url)
    viewer.assert_alive()
    kinds = [m["type"] for m in messages]
    num_train = len(list((workspace.dataset("static" if preset == "rigi-splat" else "dynamic") / "images").iterdir()))
    frustums = kinds.count("CameraFrustumMessage")
    assert 0 < frustums < num_train, "the training cameras are drawn (the ground-truth views are not training views)"
    output_type = gui_state(messages, "Output type")
    assert output_type is not None and outputs <= set(output_type["options"]), output_type
    time_slider = gui_state(messages, "Time")
    assert (time_slider is not None and time_slider["visible"]) == has_time
    frame = decode_frame(next(m for m in messages if m["type"] == "BackgroundImageMessage"))
    assert frame.ndim == 3 and min(frame.shape[:2]) >= 16
    # something is drawn: the frame is not one flat colour (a render of the Gaussians over the background)
    assert np.ptp(frame.reshape(-1, 3).astype(int), axis=0).max() > 20, "the rendered frame is flat"
