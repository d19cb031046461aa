"""The `generated-data` dataparser, and loading our datasets with nerfstudio's stock `nerfstudio-data` parser."""

import math

import numpy as np
import pytest
import torch

from datagen.cameras import c2w_gl_from_spherical, intrinsics_from_fov
from datagen.dataparser import GeneratedDataParserConfig
from datagen.dataset import DatasetError, FrameRecord, write_dataset


def image(size=8):
    return np.full((size, size, 4), 128, np.uint8)


@pytest.fixture
def static_dir(tmp_path):
    """3D: 4 train frames on 2 orbits, off-centre poses (radius 4 at varying heights), 2 test frames."""
    frames = [
        FrameRecord(
            f"images/o{i}.png",
            c2w_gl_from_spherical(90.0 * i, 15.0 * i, 4.0),
            image(),
            "train",
            90.0 * i,
            15.0 * i,
            orbit=i // 2,
        )  # fmt: skip
        for i in range(4)
    ]
    frames += [
        FrameRecord(f"images/e{i}.png", c2w_gl_from_spherical(45.0 + 90 * i, -20.0, 4.0), image(), "test", orbit=-1)
        for i in range(2)
    ]
    return write_dataset(tmp_path / "static", frames, intrinsics_from_fov(33.8, 8, 8), {"name": "t"})


@pytest.fixture
def dynamic_dir(tmp_path):
    """4D: 3 times x 2 views in train, one held-out view in test; no recorded object extent."""
    frames = [
        FrameRecord(f"images/t{t}_v{v}.png", c2w_gl_from_spherical(180.0 * v, 30, 1.5), image(), time=t / 2, view=v)
        for t in range(3)
        for v in range(2)
    ]
    frames.append(FrameRecord("images/held.png", c2w_gl_from_spherical(90, 30, 1.5), image(), "test", time=0.25))
    return write_dataset(tmp_path / "dynamic", frames, intrinsics_from_fov(49.13, 8, 8), {"name": "t"})


def test_static_poses_splits_metadata(static_dir):
    parser = GeneratedDataParserConfig(data=static_dir).setup()
    assert parser.includes_time is False
    train = parser.get_dataparser_outputs("train")
    assert [p.name for p in train.image_filenames] == ["o0.png", "o1.png", "o2.png", "o3.png"]
    expected = c2w_gl_from_spherical(90.0 * np.arange(4), 15.0 * np.arange(4), 4.0)[:, :3, :4]
    torch.testing.assert_close(train.cameras.camera_to_worlds, torch.tensor(expected, dtype=torch.float32))
    assert train.cameras.times is None and train.alpha_color is None and train.dataparser_scale == 1.0
    assert train.cameras.fx[0, 0].item() == pytest.approx(intrinsics_from_fov(33.8, 8, 8).fl_x)
    assert train.cameras.width[0, 0].item() == 8 and train.cameras.cy[0, 0].item() == 4.0
    meta = train.metadata["frame_meta"]
    assert meta["orbit"].tolist() == [0, 0, 1, 1] and meta["view"].tolist() == [-1] * 4
    assert torch.isnan(meta["time"]).all() and meta["elevation_deg"].tolist() == [0, 15, 30, 45]
    assert train.scene_box.aabb.tolist() == [[-1.0] * 3, [1.0] * 3]
    for split in ("val", "test"):
        outputs = parser.get_dataparser_outputs(split)
        assert [p.name for p in outputs.image_filenames] == ["e0.png", "e1.png"]
        assert outputs.metadata["frame_meta"]["orbit"].tolist() == [-1, -1]


def test_dynamic_times(dynamic_dir):
    parser = GeneratedDataParserConfig(data=dynamic_dir / "transforms.json").setup()
    assert parser.includes_time is True
    train = parser.get_dataparser_outputs("train")
    assert train.cameras.times.shape == (6, 1)
    assert train.cameras.times[:, 0].tolist() == [0, 0, 0.5, 0.5, 1, 1]
    assert train.metadata["frame_meta"]["view"].tolist() == [0, 1, 0, 1, 0, 1]
    assert train.metadata["frame_meta"]["time"].tolist() == [0, 0, 0.5, 0.5, 1, 1]
    assert train.scene_box.aabb[1].tolist() == [0.5] * 3
    test = parser.get_dataparser_outputs("test")
    assert test.cameras.times[:, 0].tolist() == [0.25] and test.metadata["frame_meta"]["view"].tolist() == [-1]


def test_datamanager_sees_includes_time(dynamic_dir, static_dir):
    from nerfstudio.data.datamanagers.full_images_datamanager import FullImageDatamanagerConfig

    for data, expected in ((dynamic_dir, True), (static_dir, False)):
        config = FullImageDatamanagerConfig(dataparser=GeneratedDataParserConfig(), data=data, cache_images="gpu")
        datamanager = config.setup(device="cpu", test_mode="val")
        assert datamanager.includes_time is expected
        camera, batch = datamanager.next_train(0)
        assert batch["image"].shape == (8, 8, 4)  # RGBA kept
        assert (camera.times is not None) is expected


def test_empty_test_split_falls_back_to_train(tmp_path):
    frames = [FrameRecord(f"images/{i}.png", c2w_gl_from_spherical(10.0 * i, 0, 2), image()) for i in range(2)]
    data = write_dataset(tmp_path / "ds", frames, intrinsics_from_fov(40, 8, 8), {"object": {"radius": 0.7}})
    parser = GeneratedDataParserConfig(data=data).setup()
    assert len(parser.get_dataparser_outputs("val").image_filenames) == 2
    assert parser.get_dataparser_outputs("train").scene_box.aabb[0].tolist() == pytest.approx([-0.7] * 3)


def test_per_frame_intrinsics(tmp_path):
    pose = c2w_gl_from_spherical(0.0, 0.0, 2.0)  # looking at the object, as validation requires
    frames = [FrameRecord("images/a.png", pose, image(8)), FrameRecord("images/b.png", pose, image(8))]
    frames[1].extra = {"fl_x": 20.0, "fl_y": 21.0}
    data = write_dataset(tmp_path / "ds", frames, intrinsics_from_fov(40, 8, 8), {})
    cameras = GeneratedDataParserConfig(data=data).setup().get_dataparser_outputs("train").cameras
    assert cameras.fx[:, 0].tolist() == pytest.approx([intrinsics_from_fov(40, 8, 8).fl_x, 20.0])
    assert cameras.fy[1, 0].item() == 21.0


def test_bad_data_names_file_and_field(static_dir):
    (static_dir / "images/o2.png").unlink()
    parser = GeneratedDataParserConfig(data=static_dir).setup()
    with pytest.raises(DatasetError, match=r"images/o2.png: image missing"):
        parser.get_dataparser_outputs("train")


def test_registered_entry_point():
    from nerfstudio.plugins.registry_dataparser import discover_dataparsers

    configs, descriptions = discover_dataparsers()
    assert isinstance(configs["generated-data"], GeneratedDataParserConfig)
    assert "generated-data" in descriptions


def test_stock_nerfstudio_parser_loads_same_poses(static_dir):
    from nerfstudio.data.dataparsers.nerfstudio_dataparser import NerfstudioDataParserConfig

    ours = GeneratedDataParserConfig(data=static_dir).setup()
    stock = NerfstudioDataParserConfig(
        data=static_dir, orientation_method="none", center_method="none", auto_scale_poses=False, load_3D_points=True
    ).setup()  # load_3D_points as splatfacto sets it: no point cloud here, so random initialisation
    for split in ("train", "val", "test"):
        a, b = ours.get_dataparser_outputs(split), stock.get_dataparser_outputs(split)
        assert [p.name for p in a.image_filenames] == [p.name for p in b.image_filenames]
        torch.testing.assert_close(b.cameras.camera_to_worlds, a.cameras.camera_to_worlds, atol=1e-5, rtol=0)
        torch.testing.assert_close(b.cameras.fx, a.cameras.fx)
        assert b.dataparser_scale == 1.0
    assert math.isclose(float(stock.get_dataparser_outputs("train").cameras.cx[0]), 4.0)


@pytest.mark.parametrize(
    ("generator", "extent"),
    [
        ({"object": "cup"}, 1.0),  # free-form record: a string where others write a mapping is ignored
        ({"object": {"radius": "big"}, "object_extent": [1, 2]}, 1.0),
        ({"object": ["cup"], "object_extent": 0.6}, 0.6),
        ({"object": {"radius": 0.7}}, 0.7),
    ],
)
def test_free_form_generator_record_reads_only_typed_values(tmp_path, generator, extent):
    frames = [FrameRecord(f"images/{i}.png", c2w_gl_from_spherical(90.0 * i, 0, 4.0), image()) for i in range(2)]
    data = write_dataset(tmp_path / "ds", frames, intrinsics_from_fov(40, 8, 8), generator)
    outputs = GeneratedDataParserConfig(data=data).setup().get_dataparser_outputs("train")
    assert outputs.scene_box.aabb[1].tolist() == pytest.approx([extent] * 3)
    assert outputs.metadata["generator"] == generator
