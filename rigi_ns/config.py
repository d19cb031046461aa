"""Method specifications for `rigi-splat` (placeholder until the model lands)."""

from nerfstudio.configs.base_config import MachineConfig
from nerfstudio.engine.trainer import TrainerConfig
from nerfstudio.plugins.types import MethodSpecification

rigi_splat = MethodSpecification(
    config=TrainerConfig(method_name="rigi-splat", machine=MachineConfig(device_type="cpu")),
    description="RIGI: two Gaussian models with uncertainty-weighted losses (not implemented yet).",
)
rigi_splat_cpu = MethodSpecification(
    config=TrainerConfig(method_name="rigi-splat-cpu", machine=MachineConfig(device_type="cpu")),
    description="RIGI, CPU preset (not implemented yet).",
)
