"""The tiled PyTorch renderer against a brute-force float64 reference, plus gradcheck, edge cases and validation.

The reference projects with gsplat's own pure-PyTorch projection (``gsplat.cuda._torch_impl``, runs on CPU) and
composites every Gaussian against every pixel in depth order with gsplat's classic rules: a Gaussian reaches a
pixel only if the pixel's 16x16 tile lies in its 3-sigma tile box, alpha = min(0.999, o exp(-sigma)), alphas below
1/255 are skipped, and a pixel stops before the Gaussian that would take T to 1e-4 or below.
"""

from __future__ import annotations

import math

import pytest
import torch
from gsplat.cuda._torch_impl import _fully_fused_projection, _quat_scale_to_covar_preci, _spherical_harmonics

from splatcore import rasterize
from splatcore.projection import covars_from_quat_scale, project_gaussians

TILE = 16


def look_at_w2c_cv(eye, target=(0.0, 0.0, 0.0), up=(0.0, 0.0, 1.0)) -> torch.Tensor:
    """OpenCV world-to-camera matrix (x right, y down, z forward) of a camera at ``eye`` looking at ``target``."""
    eye, target, up = (torch.tensor(v, dtype=torch.float64) for v in (eye, target, up))
    z = torch.nn.functional.normalize(target - eye, dim=0)
    x = torch.nn.functional.normalize(torch.linalg.cross(z, up), dim=0)
    y = torch.linalg.cross(z, x)
    rot = torch.stack([x, y, z])  # rows: camera axes in world coordinates
    w2c = torch.eye(4, dtype=torch.float64)
    w2c[:3, :3] = rot
    w2c[:3, 3] = -rot @ eye
    return w2c


def make_scene(n=200, width=40, height=28, n_cams=2, seed=0, sh_degree=None, dtype=torch.float64):
    """Gaussians around the origin seen by cameras at radius ~3; includes off-screen, behind-camera and opaque ones."""
    gen = torch.Generator().manual_seed(seed)
    means = torch.randn(n, 3, generator=gen, dtype=torch.float64) * 0.6
    special = torch.tensor([[0.0, 0.0, 3.5], [0.0, 0.0, 5.0], [4.0, 0.0, 0.0], [0.0, 9.0, 0.5], [3.0, 3.0, 3.0]])
    means[: min(n, 5)] = special[: min(n, 5)].to(torch.float64)
    quats = torch.randn(n, 4, generator=gen, dtype=torch.float64)
    scales = torch.exp(torch.randn(n, 3, generator=gen, dtype=torch.float64) * 0.4) * 0.08
    opacities = torch.rand(n, generator=gen, dtype=torch.float64) * 0.6 + 0.35
    opacities[5:15] = 0.99999  # above the 0.999 clamp near their centres
    scales[5:15] *= 4.0
    opacities[15:18] = 0.002  # below 1/255 everywhere
    # A dense opaque core, so that pixels reach the 1e-4 transmittance stop.
    means[20:60] *= 0.15
    scales[20:60] *= 2.5
    opacities[20:60] = 0.85 + 0.1 * torch.rand(40, generator=gen, dtype=torch.float64)[: max(0, min(n, 60) - 20)]
    if sh_degree is None:
        colors = torch.rand(n, 3, generator=gen, dtype=torch.float64)
    else:
        colors = torch.randn(n, (sh_degree + 1) ** 2, 3, generator=gen, dtype=torch.float64) * 0.3
    eyes = [(3.0, 0.0, 0.6), (0.5, 2.8, 1.2), (-2.0, -2.0, -1.0)][:n_cams]
    viewmats = torch.stack([look_at_w2c_cv(e) for e in eyes])
    focal = 0.5 * width / math.tan(math.radians(25.0))
    Ks = torch.tensor([[focal, 0.0, width / 2 + 1.3], [0.0, focal, height / 2 - 0.7], [0.0, 0.0, 1.0]])
    Ks = Ks.to(torch.float64).expand(n_cams, 3, 3).clone()
    backgrounds = torch.rand(n_cams, 3, generator=gen, dtype=torch.float64)
    scene = dict(means=means, quats=quats, scales=scales, opacities=opacities, colors=colors, viewmats=viewmats,
                 Ks=Ks, backgrounds=backgrounds)  # fmt: skip
    return {k: v.to(dtype) for k, v in scene.items()}, width, height


def dense_reference(means, covars, opacities, colors_cn, viewmats, Ks, width, height, backgrounds, depth_mode=None,
                    stats=None, antialiased=False):  # fmt: skip
    """Every Gaussian against every pixel (float64 autograd), gsplat classic rules; depth appended if asked.

    ``stats`` (a dict), if given, receives the number of pixels stopped by the 1e-4 rule and of clamped alphas.
    """
    n_stopped = n_clamped = 0
    radii, means2d, depths, conics, comp = _fully_fused_projection(means, covars, viewmats, Ks, width, height,
                                                                   calc_compensations=antialiased)  # fmt: skip
    opacities_cn = opacities * comp if antialiased else opacities.expand(viewmats.shape[0], -1)
    ys, xs = torch.meshgrid(torch.arange(height, dtype=means.dtype), torch.arange(width, dtype=means.dtype),
                            indexing="ij")  # fmt: skip
    px, py = xs.reshape(-1) + 0.5, ys.reshape(-1) + 0.5
    tile_x, tile_y = (xs.reshape(-1) // TILE), (ys.reshape(-1) // TILE)
    tiles_w, tiles_h = math.ceil(width / TILE), math.ceil(height / TILE)
    renders, alphas = [], []
    for cam in range(viewmats.shape[0]):
        feats = colors_cn[cam]
        bg = backgrounds[cam] if backgrounds is not None else None
        if depth_mode is not None:
            feats = torch.cat([feats, depths[cam, :, None]], dim=-1) if feats is not None else depths[cam, :, None]
            if bg is not None:
                bg = torch.cat([bg, torch.zeros(1, dtype=bg.dtype)]) if colors_cn[cam] is not None else bg[:0] * 0
        visible = torch.nonzero(radii[cam] > 0).squeeze(1).tolist()
        visible.sort(key=lambda g: (float(depths[cam, g].detach()), g))
        trans = torch.ones(px.shape[0], dtype=means.dtype)
        done = torch.zeros(px.shape[0], dtype=torch.bool)
        out = torch.zeros(px.shape[0], feats.shape[-1], dtype=means.dtype)
        for g in visible:
            mx, my = means2d[cam, g, 0], means2d[cam, g, 1]
            r, fx, fy = float(radii[cam, g]), float(mx.detach()), float(my.detach())
            x0 = min(max(math.floor((fx - r) / TILE), 0), tiles_w)
            x1 = min(max(math.ceil((fx + r) / TILE), 0), tiles_w)
            y0 = min(max(math.floor((fy - r) / TILE), 0), tiles_h)
            y1 = min(max(math.ceil((fy + r) / TILE), 0), tiles_h)
            in_box = (tile_x >= x0) & (tile_x < x1) & (tile_y >= y0) & (tile_y < y1)
            a, b, c = conics[cam, g]
            dx, dy = mx - px, my - py
            sigma = 0.5 * (a * dx * dx + c * dy * dy) + b * dx * dy
            alpha = torch.clamp(opacities_cn[cam, g] * torch.exp(-sigma), max=0.999)
            use = in_box & ~done & (alpha >= 1.0 / 255.0) & (sigma >= 0)
            next_t = trans * (1.0 - alpha)
            stop = use & (next_t <= 1e-4)
            comp = use & ~stop
            n_stopped += int(stop.sum())
            n_clamped += int((use & (opacities_cn[cam, g] * torch.exp(-sigma) > 0.999)).sum())
            out = out + torch.where(comp[:, None], feats[g] * (alpha * trans)[:, None], 0.0)
            trans = torch.where(comp, next_t, trans)
            done = done | stop
        if bg is not None and bg.numel():
            out = out + trans[:, None] * bg
        renders.append(out.reshape(height, width, -1))
        alphas.append((1.0 - trans).reshape(height, width, 1))
    render, alpha = torch.stack(renders), torch.stack(alphas)
    if stats is not None:
        stats.update(stopped=n_stopped, clamped=n_clamped)
    if depth_mode == "ED":
        render = torch.cat([render[..., :-1], render[..., -1:] / alpha.clamp(min=1e-10)], dim=-1)
    return render, alpha


def reference_colors(scene, sh_degree):
    """[C, N, 3] colours as gsplat's rasterization computes them (SH + 0.5, clamped at 0)."""
    n_cams = scene["viewmats"].shape[0]
    if sh_degree is None:
        return scene["colors"].expand(n_cams, -1, -1)
    cam_centres = torch.inverse(scene["viewmats"])[:, :3, 3]
    dirs = scene["means"][None] - cam_centres[:, None]
    shs = scene["colors"].expand(n_cams, -1, -1, -1)
    return torch.clamp_min(_spherical_harmonics(sh_degree, dirs, shs) + 0.5, 0.0)


def _leaves(scene, names):
    return {k: scene[k].clone().requires_grad_(True) for k in names}


def _compare(ours, ref, leaves_ours, leaves_ref, seed=1):
    """Images agree and so do gradients of a random linear loss on colour and alpha (max abs error < 1e-4)."""
    (r_o, a_o), (r_r, a_r) = ours, ref
    assert r_o.shape == r_r.shape and a_o.shape == a_r.shape
    assert (r_o - r_r).abs().max() < 1e-4
    assert (a_o - a_r).abs().max() < 1e-4
    gen = torch.Generator().manual_seed(seed)
    w_r = torch.randn(r_r.shape, generator=gen, dtype=r_r.dtype)
    w_a = torch.randn(a_r.shape, generator=gen, dtype=a_r.dtype)
    grads_o = torch.autograd.grad((r_o * w_r).sum() + (a_o * w_a).sum(), list(leaves_ours.values()))
    grads_r = torch.autograd.grad((r_r * w_r).sum() + (a_r * w_a).sum(), list(leaves_ref.values()))
    for name, g_o, g_r in zip(leaves_ours, grads_o, grads_r, strict=True):
        assert g_r.abs().max() > 0, f"reference gradient of {name} is zero: the scene does not test it"
        err = (g_o - g_r).abs().max()
        assert err < 1e-4, f"gradient of {name}: max abs error {err:.3g}"


def test_matches_dense_reference_quats_scales_background():
    scene, width, height = make_scene()
    names = ["means", "quats", "scales", "opacities", "colors", "backgrounds"]
    ours_l, ref_l = _leaves(scene, names), _leaves(scene, names)
    render, alpha, meta = rasterize(ours_l["means"], ours_l["quats"], ours_l["scales"], ours_l["opacities"],
                                    ours_l["colors"], scene["viewmats"], scene["Ks"], width, height,
                                    backgrounds=ours_l["backgrounds"])  # fmt: skip
    covars, _ = _quat_scale_to_covar_preci(ref_l["quats"], ref_l["scales"], compute_preci=False, triu=False)
    stats = {}
    ref = dense_reference(ref_l["means"], covars, ref_l["opacities"], ref_l["colors"].expand(2, -1, -1),
                          scene["viewmats"], scene["Ks"], width, height, ref_l["backgrounds"], stats=stats)  # fmt: skip
    assert (alpha < 1e-6).any()  # empty regions present
    assert stats["stopped"] > 20 and stats["clamped"] > 0  # the termination and clamp rules are exercised
    _compare((render, alpha), ref, ours_l, ref_l)
    assert meta["radii"].shape == (2, 200) and meta["radii"].dtype == torch.int32
    assert (meta["radii"][:, :2] == 0).all()  # the two Gaussians behind camera 0 / off-screen are culled there


def test_matches_dense_reference_covars():
    scene, width, height = make_scene(seed=4, n_cams=1)
    covars = covars_from_quat_scale(scene["quats"], scene["scales"])
    # gsplat reads the upper triangle only: garbage below the diagonal must not matter.
    covars = covars + torch.tril(torch.randn_like(covars), diagonal=-1)
    names = ["means", "opacities", "colors"]
    ours_l, ref_l = _leaves(scene, names), _leaves(scene, names)
    cov_o, cov_r = covars.clone().requires_grad_(True), covars.clone().requires_grad_(True)
    ours_l["covars"], ref_l["covars"] = cov_o, cov_r
    render, alpha, _ = rasterize(ours_l["means"], None, None, ours_l["opacities"], ours_l["colors"],
                                 scene["viewmats"], scene["Ks"], width, height, covars=cov_o)  # fmt: skip
    cov_sym = torch.triu(cov_r) + torch.triu(cov_r, diagonal=1).transpose(-1, -2)
    ref = dense_reference(ref_l["means"], cov_sym, ref_l["opacities"], ref_l["colors"][None], scene["viewmats"],
                          scene["Ks"], width, height, None)  # fmt: skip
    _compare((render, alpha), ref, ours_l, ref_l)


@pytest.mark.parametrize("sh_degree", [1, 2, 3])
def test_matches_dense_reference_sh(sh_degree):
    scene, width, height = make_scene(n=120, sh_degree=sh_degree, seed=sh_degree, n_cams=1)
    names = ["means", "colors", "opacities"]
    ours_l, ref_l = _leaves(scene, names), _leaves(scene, names)
    render, alpha, _ = rasterize(ours_l["means"], scene["quats"], scene["scales"], ours_l["opacities"],
                                 ours_l["colors"], scene["viewmats"], scene["Ks"], width, height,
                                 sh_degree=sh_degree)  # fmt: skip
    covars, _ = _quat_scale_to_covar_preci(scene["quats"], scene["scales"], compute_preci=False, triu=False)
    ref_scene = dict(scene, means=ref_l["means"], colors=ref_l["colors"])
    ref = dense_reference(ref_l["means"], covars, ref_l["opacities"], reference_colors(ref_scene, sh_degree),
                          scene["viewmats"], scene["Ks"], width, height, None)  # fmt: skip
    _compare((render, alpha), ref, ours_l, ref_l)


def test_antialiased_mode_matches_dense_reference():
    scene, width, height = make_scene(n=120, seed=6, n_cams=1)
    names = ["means", "scales", "opacities"]
    ours_l, ref_l = _leaves(scene, names), _leaves(scene, names)
    render, alpha, _ = rasterize(ours_l["means"], scene["quats"], ours_l["scales"], ours_l["opacities"],
                                 scene["colors"], scene["viewmats"], scene["Ks"], width, height,
                                 rasterize_mode="antialiased")  # fmt: skip
    covars, _ = _quat_scale_to_covar_preci(scene["quats"], ref_l["scales"], compute_preci=False, triu=False)
    ref = dense_reference(ref_l["means"], covars, ref_l["opacities"], scene["colors"][None], scene["viewmats"],
                          scene["Ks"], width, height, None, antialiased=True)  # fmt: skip
    _compare((render, alpha), ref, ours_l, ref_l)


@pytest.mark.parametrize("render_mode", ["D", "ED", "RGB+ED", "RGB+D"])
def test_depth_modes_match_dense_reference(render_mode):
    scene, width, height = make_scene(n=120, seed=7, n_cams=1)
    names = ["means", "scales", "opacities"]
    ours_l, ref_l = _leaves(scene, names), _leaves(scene, names)
    bg = scene["backgrounds"]
    render, alpha, _ = rasterize(ours_l["means"], scene["quats"], ours_l["scales"], ours_l["opacities"],
                                 scene["colors"], scene["viewmats"], scene["Ks"], width, height,
                                 backgrounds=bg, render_mode=render_mode)  # fmt: skip
    covars, _ = _quat_scale_to_covar_preci(scene["quats"], ref_l["scales"], compute_preci=False, triu=False)
    with_rgb = render_mode.startswith("RGB")
    colors = scene["colors"][None] if with_rgb else [None]
    ref = dense_reference(ref_l["means"], covars, ref_l["opacities"], colors, scene["viewmats"], scene["Ks"],
                          width, height, bg, depth_mode=render_mode[-2:].strip("+"))  # fmt: skip
    assert render.shape[-1] == (4 if with_rgb else 1)
    _compare((render, alpha), ref, ours_l, ref_l)


def test_float32_matches_float64_reference():
    scene64, width, height = make_scene(seed=11)
    scene32 = {k: v.float() for k, v in scene64.items()}
    render, alpha, _ = rasterize(scene32["means"], scene32["quats"], scene32["scales"], scene32["opacities"],
                                 scene32["colors"], scene32["viewmats"], scene32["Ks"], width, height,
                                 backgrounds=scene32["backgrounds"])  # fmt: skip
    covars, _ = _quat_scale_to_covar_preci(scene64["quats"], scene64["scales"], compute_preci=False, triu=False)
    ref_r, ref_a = dense_reference(scene64["means"], covars, scene64["opacities"], scene64["colors"][None].expand(2, -1, -1),
                                   scene64["viewmats"], scene64["Ks"], width, height, scene64["backgrounds"])  # fmt: skip
    err = (render.double() - ref_r).abs()
    # float32 rounding can flip a decision exactly at the 1/255 or 1e-4 thresholds for a rare pixel.
    assert err.median() < 1e-6 and (err < 1e-4).float().mean() > 0.995
    assert ((alpha.double() - ref_a).abs() < 1e-4).float().mean() > 0.995


def test_gradcheck_tiny_scene():
    scene, _, _ = make_scene(n=6, seed=3, n_cams=1)
    scene["means"] = scene["means"] * 0.3
    scene["scales"] = scene["scales"] * 3.0
    vm, Ks = scene["viewmats"], scene["Ks"] * 0.5
    Ks[:, 2, 2] = 1.0

    def render(means, quats, scales, opacities, colors, bg):
        out, alpha, _ = rasterize(means, quats, scales, opacities, colors, vm, Ks, 20, 14, backgrounds=bg[:1],
                                  render_mode="RGB+ED", tile_size=8, cpu_chunk_size=2)  # fmt: skip
        return out, alpha

    inputs = [scene[k].clone().requires_grad_(True) for k in
              ("means", "quats", "scales", "opacities", "colors", "backgrounds")]  # fmt: skip
    assert torch.autograd.gradcheck(render, inputs, eps=1e-6, atol=1e-5, rtol=1e-4, fast_mode=True)


def test_projection_matches_gsplat_reference():
    scene, width, height = make_scene(seed=5)
    covars = covars_from_quat_scale(scene["quats"], scene["scales"])
    ours = project_gaussians(scene["means"], covars, scene["viewmats"], scene["Ks"], width, height)
    radii, means2d, depths, conics, _ = _fully_fused_projection(scene["means"], covars, scene["viewmats"],
                                                                scene["Ks"], width, height)  # fmt: skip
    assert torch.equal(ours.radii, radii)
    vis = radii > 0
    assert vis.sum() > 100
    torch.testing.assert_close(ours.means2d[vis], means2d[vis])
    torch.testing.assert_close(ours.conics[vis], conics[vis])
    torch.testing.assert_close(ours.depths, depths)


def test_chunk_and_tile_sizes_do_not_change_the_result():
    scene, width, height = make_scene(seed=8)
    args = [scene[k] for k in ("means", "quats", "scales", "opacities", "colors", "viewmats", "Ks")]
    base, base_a, _ = rasterize(*args, width, height)
    for chunk, cpu_tile in [(5, 16), (7, 4), (64, 8), (32, 2)]:
        out, alpha, _ = rasterize(*args, width, height, cpu_chunk_size=chunk, cpu_tile_size=cpu_tile)
        torch.testing.assert_close(out, base, atol=1e-10, rtol=0)
        torch.testing.assert_close(alpha, base_a, atol=1e-10, rtol=0)


def test_zero_gaussians_give_background():
    scene, width, height = make_scene(n=1)
    empty = {k: scene[k][:0].clone().requires_grad_(True) for k in ("means", "quats", "scales", "opacities", "colors")}
    bg = scene["backgrounds"].clone().requires_grad_(True)
    render, alpha, meta = rasterize(empty["means"], empty["quats"], empty["scales"], empty["opacities"],
                                    empty["colors"], scene["viewmats"], scene["Ks"], width, height,
                                    backgrounds=bg)  # fmt: skip
    assert torch.equal(render, bg[:, None, None, :].expand(2, height, width, 3))
    assert torch.equal(alpha, torch.zeros(2, height, width, 1, dtype=alpha.dtype))
    assert meta["means2d"].shape == (2, 0, 2)
    render.sum().backward()
    assert torch.allclose(bg.grad, torch.full_like(bg, float(height * width)))


def test_all_gaussians_culled_behind_or_outside():
    scene, width, height = make_scene(n=5, n_cams=1)
    # camera 0 sits at (3, 0, 0.6) looking at the origin; these are behind it or far off to the side.
    means = torch.tensor([[6.0, 0.0, 0.0], [3.5, 0.1, 0.6], [0.0, 30.0, 0.0], [0.0, -30.0, 0.0], [3.0, 0.0, 0.6]],
                         dtype=torch.float64, requires_grad=True)  # fmt: skip
    render, alpha, meta = rasterize(means, scene["quats"], scene["scales"], scene["opacities"], scene["colors"],
                                    scene["viewmats"], scene["Ks"], width, height)  # fmt: skip
    assert (meta["radii"] == 0).all()
    assert alpha.abs().max() == 0 and render.abs().max() == 0
    render.sum().backward()
    assert torch.isfinite(means.grad).all() and means.grad.abs().max() == 0


def test_one_huge_gaussian_covers_the_image():
    scene, width, height = make_scene(n=1, n_cams=1)
    means = torch.zeros(1, 3, dtype=torch.float64, requires_grad=True)
    scales = torch.full((1, 3), 50.0, dtype=torch.float64)
    opac = torch.tensor([0.6], dtype=torch.float64)
    colors = torch.tensor([[0.2, 0.4, 0.8]], dtype=torch.float64)
    render, alpha, meta = rasterize(means, scene["quats"][:1], scales, opac, colors, scene["viewmats"], scene["Ks"],
                                    width, height)  # fmt: skip
    # The camera sits inside the Gaussian: sigma ~ 0 over the whole image, so alpha ~ 0.6 and colour ~ 0.6 c.
    torch.testing.assert_close(alpha, torch.full_like(alpha, 0.6), atol=2e-3, rtol=0)
    torch.testing.assert_close(render, (0.6 * colors).expand_as(render), atol=2e-3, rtol=0)
    covars, _ = _quat_scale_to_covar_preci(scene["quats"][:1], scales, compute_preci=False, triu=False)
    ref_r, ref_a = dense_reference(means.detach(), covars, opac, colors[None], scene["viewmats"], scene["Ks"], width,
                                   height, None)  # fmt: skip
    torch.testing.assert_close(render.detach(), ref_r, atol=1e-10, rtol=0)
    torch.testing.assert_close(alpha.detach(), ref_a, atol=1e-10, rtol=0)
    assert meta["radii"][0, 0] > width
    render.sum().backward()
    assert torch.isfinite(means.grad).all()


def test_multiple_cameras_render_independently():
    scene, width, height = make_scene(n_cams=3, seed=9)
    args = [scene[k] for k in ("means", "quats", "scales", "opacities", "colors")]
    all_r, all_a, meta = rasterize(*args, scene["viewmats"], scene["Ks"], width, height,
                                   backgrounds=scene["backgrounds"])  # fmt: skip
    assert meta["n_cameras"] == 3 and meta["means2d"].shape == (3, 200, 2)
    for cam in range(3):
        one_r, one_a, _ = rasterize(*args, scene["viewmats"][cam : cam + 1], scene["Ks"][cam : cam + 1], width,
                                    height, backgrounds=scene["backgrounds"][cam : cam + 1])  # fmt: skip
        torch.testing.assert_close(all_r[cam], one_r[0], atol=1e-12, rtol=0)
        torch.testing.assert_close(all_a[cam], one_a[0], atol=1e-12, rtol=0)


def test_absgrad_bounds_the_gradient_norm():
    scene, width, height = make_scene(seed=12, n_cams=1)
    _, _, meta = rasterize(*[scene[k] for k in ("means", "quats", "scales", "opacities", "colors")],
                           scene["viewmats"], scene["Ks"], width, height)  # fmt: skip
    means = scene["means"].clone().requires_grad_(True)
    render, _, meta = rasterize(means, scene["quats"], scene["scales"], scene["opacities"], scene["colors"],
                                scene["viewmats"], scene["Ks"], width, height, absgrad=True)  # fmt: skip
    meta["means2d"].retain_grad()
    (render * torch.randn_like(render)).sum().backward()
    grad, absgrad = meta["means2d"].grad, meta["means2d"].absgrad
    assert absgrad.shape == grad.shape
    assert (absgrad >= grad.abs() - 1e-9).all() and (absgrad > grad.abs() + 1e-6).any()


@pytest.mark.parametrize(
    ("override", "name"),
    [
        ({"means": torch.zeros(10, 2)}, "means"),
        ({"quats": torch.zeros(9, 4)}, "quats"),
        ({"scales": torch.full((10, 3), float("nan"))}, "scales"),
        ({"opacities": torch.zeros(10, 1)}, "opacities"),
        ({"colors": torch.zeros(3, 10, 3)}, "colors"),
        ({"viewmats": torch.eye(3)[None]}, "viewmats"),
        ({"Ks": torch.eye(3)[None].expand(2, 3, 3)}, "Ks"),
        ({"backgrounds": torch.zeros(1, 4)}, "backgrounds"),
        ({"means": torch.full((10, 3), float("inf"))}, "means"),
        ({"opacities": None}, "opacities"),
        ({"Ks": torch.full((1, 3, 3), float("nan"))}, "Ks"),
    ],
)
def test_bad_inputs_raise_value_error_naming_the_argument(override, name):
    args = dict(means=torch.zeros(10, 3), quats=torch.randn(10, 4), scales=torch.ones(10, 3),
                opacities=torch.ones(10), colors=torch.ones(10, 3), viewmats=torch.eye(4)[None],
                Ks=torch.eye(3)[None], backgrounds=None)  # fmt: skip
    args.update(override)
    with pytest.raises(ValueError, match=name):
        rasterize(width=8, height=8, **args)


def test_sh_colors_wrong_k_raises():
    with pytest.raises(ValueError, match="colors"):
        rasterize(torch.zeros(4, 3), torch.randn(4, 4), torch.ones(4, 3), torch.ones(4), torch.zeros(4, 3, 3),
                  torch.eye(4)[None], torch.eye(3)[None], 8, 8, sh_degree=2)  # fmt: skip
