"""LPIPS loading: a missing backbone is a clear error, never a random network; the distance behaves."""

import pytest
import torch

from splatcore.lpips import (
    CorruptWeightsError,
    MissingWeightsError,
    backbone_weights_path,
    load_lpips,
    lpips_distance,
    random_lpips_for_tests,
)


def test_missing_backbone_raises_with_file_directory_and_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    expected = tmp_path / "hub" / "checkpoints" / "alexnet-owt-7be5be79.pth"
    assert backbone_weights_path("alex") == expected
    with pytest.raises(MissingWeightsError) as info:
        load_lpips("alex")
    message = str(info.value)
    assert "alexnet-owt-7be5be79.pth" in message
    assert str(expected.parent) in message
    assert "--pipeline.model.lpips-lambda 0" in message


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (lambda: b"", "it is empty"),
        (lambda: bytes(range(256)) * 40, "it is not a readable PyTorch checkpoint"),
        (
            lambda: _checkpoint_bytes({"features.0.weight": torch.zeros(2)})[:300],
            "it is not a readable PyTorch checkpoint",
        ),
        (lambda: _checkpoint_bytes({"features.0.weight": torch.zeros(2)}), "it is not the alex backbone's checkpoint"),
    ],
    ids=["zero-bytes", "random-bytes", "truncated", "other-weights"],
)
def test_corrupt_backbone_names_the_file_and_the_fix(tmp_path, monkeypatch, content, reason):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    path = backbone_weights_path("alex")
    path.parent.mkdir(parents=True)
    path.write_bytes(content())
    with pytest.raises(CorruptWeightsError) as info:
        load_lpips("alex")
    message = str(info.value)
    assert f"'{path}' cannot be used: {reason}" in message
    assert "delete it and copy" in message and "--pipeline.model.lpips-lambda 0" in message


def _checkpoint_bytes(state: dict) -> bytes:
    import io

    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def test_present_backbone_file_is_loaded_not_randomised(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    reference = random_lpips_for_tests("alex")
    # slice<k>.<i>.weight in lpips is features.<i>.weight in torchvision's checkpoint
    features = {f"features.{key.split('.', 1)[1]}": v for key, v in reference.net.state_dict().items()}
    import torchvision

    full = torchvision.models.alexnet(weights=None).state_dict()
    full.update(features)
    path = backbone_weights_path("alex")
    path.parent.mkdir(parents=True)
    torch.save(full, path)
    loaded = load_lpips("alex")
    torch.testing.assert_close(loaded.net.slice1[0].weight, reference.net.slice1[0].weight)
    assert not any(p.requires_grad for p in loaded.parameters())


def test_distance_zero_for_identical_positive_otherwise_and_differentiable_on_small_images():
    net = random_lpips_for_tests("alex")
    g = torch.Generator().manual_seed(0)
    a = torch.rand(16, 16, 3, generator=g)  # below the network's minimum side: upsampled internally
    b = torch.rand(16, 16, 3, generator=g).requires_grad_(True)
    assert lpips_distance(net, a, a).item() == pytest.approx(0.0, abs=1e-7)
    d = lpips_distance(net, b, a)
    assert d.item() > 0
    d.backward()
    assert b.grad is not None and torch.isfinite(b.grad).all() and b.grad.abs().sum() > 0


def test_bad_arguments_are_value_errors():
    with pytest.raises(ValueError, match="unknown LPIPS net"):
        backbone_weights_path("resnet")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"\[H, W, 3\]"):
        lpips_distance(random_lpips_for_tests(), torch.rand(8, 8, 4), torch.rand(8, 8, 4))
