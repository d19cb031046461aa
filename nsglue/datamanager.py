"""A `FullImageDatamanager` that never pins memory without a CUDA driver and reads every pixel format right."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Dict, List, Literal, Type

import cv2
import numpy as np
import torch
from jaxtyping import UInt8
from nerfstudio.data.datamanagers.full_images_datamanager import FullImageDatamanager, FullImageDatamanagerConfig
from nerfstudio.data.datasets.base_dataset import InputDataset
from nerfstudio.engine.callbacks import TrainingCallback, TrainingCallbackAttributes

from datagen.images import read_image
from datagen.options import OptionError


class DatasetImages(InputDataset):
    """nerfstudio's dataset, decoding images the way ``datagen validate`` judges them.

    nerfstudio's own loader takes a palette PNG's indices as grey, wraps 16-bit values mod 256, reads CMYK as RGBA
    and rejects grey+alpha; ``datagen.images.read_image`` converts each of those (and names the file when it
    cannot), so what validation accepts trains on the right pixels.
    """

    def get_numpy_image(self, image_idx: int) -> UInt8[np.ndarray, "H W C"]:
        """[H, W, 3|4] uint8 pixels of image ``image_idx``, scaled by the dataset's ``scale_factor``."""
        image = read_image(self._dataparser_outputs.image_filenames[image_idx])
        if self.scale_factor != 1.0:
            height, width = image.shape[:2]
            size = (int(width * self.scale_factor), int(height * self.scale_factor))
            image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
        return image


@dataclass
class CpuSafeFullImageDatamanagerConfig(FullImageDatamanagerConfig):
    """Full-image datamanager whose image cache works on machines without CUDA."""

    _target: Type = field(default_factory=lambda: CpuSafeFullImageDatamanager)
    cache_images: Literal["cpu", "gpu"] = "gpu"
    """Cache images on the training device ("gpu", which is the CPU on a CPU machine) or in pinned host memory
    ("cpu"). Without a CUDA driver "cpu" falls back to plain host memory, since pinning raises there."""


class CpuSafeFullImageDatamanager(FullImageDatamanager[DatasetImages]):
    """nerfstudio's datamanager; the "cpu" cache (forced above 500 images) skips pinning when CUDA is absent, and
    images are decoded by :class:`DatasetImages`."""

    config: CpuSafeFullImageDatamanagerConfig

    @cached_property
    def dataset_type(self) -> Type[DatasetImages]:
        """Subclasses read images the same way (nerfstudio looks the type up from the generic base)."""
        return DatasetImages

    def get_training_callbacks(
        self, training_callback_attributes: TrainingCallbackAttributes
    ) -> List[TrainingCallback]:
        """No callbacks; refuses a training length nerfstudio's trainer cannot finish (it ends in ``KeyError``)."""
        trainer = training_callback_attributes.trainer
        if trainer is not None and trainer.config.max_num_iterations < 1:
            raise OptionError(f"--max-num-iterations {trainer.config.max_num_iterations}: must be at least 1")
        return []

    def _load_images(self, split, cache_images_device) -> List[Dict[str, torch.Tensor]]:
        if cache_images_device == "cpu" and not torch.cuda.is_available():
            # "gpu" moves tensors to self.device, which is the CPU here: same place, no pin_memory().
            cache_images_device = "gpu"
        return super()._load_images(split, cache_images_device)
