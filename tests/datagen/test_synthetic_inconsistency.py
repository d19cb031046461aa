"""Inconsistency presets, per-frame plans and the image operations (colour, warp) against hand-computed values."""

import numpy as np
import pytest

from datagen.synthetic.inconsistency import (
    KINDS,
    PRESETS,
    FramePerturbation,
    InconsistencyConfig,
    apply_color,
    apply_warp,
    displacement_field,
    plan_perturbations,
    unseen_ramp,
    view_ramp,
)

AZIMUTHS = np.arange(0.0, 360.0, 15.0)


def test_presets_overrides_and_validation():
    assert InconsistencyConfig.none().strengths() == dict.fromkeys(KINDS, 0.0)
    medium = InconsistencyConfig().strengths()
    assert medium == PRESETS["medium"]
    custom = InconsistencyConfig(level="low", phantom=0.9).strengths()
    assert custom["phantom"] == 0.9 and custom["warp"] == PRESETS["low"]["warp"]
    for low, high in zip(("none", "low", "medium"), ("low", "medium", "high"), strict=True):
        assert all(PRESETS[low][k] < PRESETS[high][k] for k in KINDS)
    with pytest.raises(ValueError, match="level"):
        InconsistencyConfig(level="extreme").strengths()
    with pytest.raises(ValueError, match="phantom"):
        InconsistencyConfig(phantom=1.5).strengths()
    with pytest.raises(ValueError, match="warp"):
        InconsistencyConfig(warp=-1.0).strengths()
    assert InconsistencyConfig(level="high").to_dict()["strengths"] == PRESETS["high"]


def test_ramps():
    np.testing.assert_allclose(view_ramp(np.array([0.0, 90.0, 180.0, 270.0, 360.0])), [0, 0.5, 1, 0.5, 0], atol=1e-12)
    np.testing.assert_allclose(unseen_ramp(np.array([0.0, 90.0, 135.0, 180.0, -135.0, 225.0, 300.0])),
                               [0, 0, 0.5, 1, 0.5, 0.5, 0], atol=1e-12)  # fmt: skip


def test_clean_config_plans_identity_and_the_input_view_is_always_clean():
    for row in plan_perturbations(InconsistencyConfig.none().strengths(), AZIMUTHS, 3, 64, num_times=3):
        assert all(p == FramePerturbation(warp_seed=p.warp_seed, variant_redraw=p.variant_redraw) for p in row)
    high = plan_perturbations(InconsistencyConfig(level="high").strengths(), AZIMUTHS, 3, 64, num_times=4)
    for row in high:
        assert row[0] == FramePerturbation(warp_seed=row[0].warp_seed, variant_redraw=row[0].variant_redraw)
        assert any(p.changes_color for p in row[1:]) and all(p.warp_px > 0 for p in row[1:])


def test_plans_are_seeded_and_scale_with_strength():
    strengths = InconsistencyConfig(level="medium").strengths()
    assert plan_perturbations(strengths, AZIMUTHS, 3, 64) == plan_perturbations(strengths, AZIMUTHS, 3, 64)
    assert plan_perturbations(strengths, AZIMUTHS, 3, 64) != plan_perturbations(strengths, AZIMUTHS, 4, 64)
    # The same draws at a higher strength: phantom views are a superset, drifts and warps are proportionally larger.
    shown = []
    for probability in (0.2, 0.5, 1.0):
        plan = plan_perturbations({**strengths, "phantom": probability}, AZIMUTHS, 3, 64)[0]
        shown.append({i for i, p in enumerate(plan) if p.show_phantom})
    assert shown[0] <= shown[1] <= shown[2] and len(shown[0]) < len(shown[2]) < len(AZIMUTHS)
    weak = plan_perturbations({**strengths, "color_drift": 0.1, "warp": 2.0}, AZIMUTHS, 3, 128)[0]
    strong = plan_perturbations({**strengths, "color_drift": 0.2, "warp": 4.0}, AZIMUTHS, 3, 128)[0]
    for a, b in zip(weak, strong, strict=True):
        assert b.hue_deg == pytest.approx(2 * a.hue_deg) and b.warp_px == pytest.approx(2 * a.warp_px)
    # warp is in pixels at 256 px: at 128 px it halves.
    assert strong[12].warp_px == pytest.approx(4.0 * 128 / 256 * view_ramp(np.array([180.0]))[0])


def test_unseen_texture_is_redrawn_over_time_only_in_4d():
    strengths = InconsistencyConfig(level="high").strengths()
    plan = plan_perturbations(strengths, AZIMUTHS, 3, 64, num_times=30)
    redraws = [row[0].variant_redraw for row in plan]
    assert redraws[0] == 0 and np.all(np.diff(redraws) >= 0) and 0 < redraws[-1] < 30
    assert all(p.variant_redraw == row[0].variant_redraw for row in plan for p in row)
    blends = [p.variant_blend for p in plan[0]]
    np.testing.assert_allclose(blends, strengths["unseen_texture"] * unseen_ramp(AZIMUTHS))


def test_apply_color_gain_offset_hue():
    rgba = np.zeros((1, 3, 4))
    rgba[0, 0] = [0.25, 0.5, 0.1, 1.0]
    rgba[0, 1] = [1.0, 0.0, 0.0, 0.5]
    out = apply_color(rgba, FramePerturbation(gain=(2.0, 1.0, 1.0), offset=(0.0, 0.1, 0.0)))
    np.testing.assert_allclose(out[0, 0], [0.5, 0.6, 0.1, 1.0])
    np.testing.assert_allclose(out[0, 2], 0.0)  # empty pixels stay empty
    turned = apply_color(rgba, FramePerturbation(hue_deg=120.0))
    np.testing.assert_allclose(turned[0, 1], [0.0, 1.0, 0.0, 0.5], atol=1e-12)  # red -> green about the grey axis
    assert apply_color(rgba, FramePerturbation()) is rgba


def test_displacement_field_peak_and_smoothness():
    field = displacement_field(64, 64, 3.0, seed=1)
    assert np.linalg.norm(field, axis=-1).max() == pytest.approx(3.0)
    assert np.abs(np.diff(field, axis=0)).max() < 0.5 and np.abs(np.diff(field, axis=1)).max() < 0.5
    assert not np.allclose(field, displacement_field(64, 64, 3.0, seed=2))


def test_apply_warp_moves_content_by_the_field_and_keeps_colours():
    rgba = np.zeros((64, 64, 4))
    rgba[16:48, 16:48] = [0.2, 0.6, 0.9, 1.0]
    perturbation = FramePerturbation(warp_px=4.0, warp_seed=7)
    warped = apply_warp(rgba, perturbation)
    assert apply_warp(rgba, FramePerturbation()) is rgba
    assert np.abs(warped - rgba).max() > 0.5
    # Pull-back: the output at pixel p is the input at p + field(p).
    field = displacement_field(64, 64, 4.0, 7)
    ys, xs = np.mgrid[0:64, 0:64]
    inside = (np.abs(xs + field[..., 0] - 31.5) < 14) & (np.abs(ys + field[..., 1] - 31.5) < 14)
    outside = (np.abs(xs + field[..., 0] - 31.5) > 18) | (np.abs(ys + field[..., 1] - 31.5) > 18)
    assert (warped[..., 3][inside] == pytest.approx(1.0)) and (warped[..., 3][outside] == 0).all()
    np.testing.assert_allclose(warped[..., :3][warped[..., 3] > 0.05], np.broadcast_to([0.2, 0.6, 0.9], (1, 3)).repeat(
        (warped[..., 3] > 0.05).sum(), 0), atol=1e-5)  # fmt: skip
    assert warped[..., 3].sum() == pytest.approx(rgba[..., 3].sum(), rel=0.1)
