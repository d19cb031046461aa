"""Method specifications for `efficient4d` (placeholder until the model lands)."""

from nerfstudio.configs.base_config import MachineConfig
from nerfstudio.engine.trainer import TrainerConfig
from nerfstudio.plugins.types import MethodSpecification

efficient4d = MethodSpecification(
    config=TrainerConfig(method_name="efficient4d", machine=MachineConfig(device_type="cpu")),
    description="Efficient4D: 4D Gaussians with confidence-weighted losses (not implemented yet).",
)
efficient4d_cpu = MethodSpecification(
    config=TrainerConfig(method_name="efficient4d-cpu", machine=MachineConfig(device_type="cpu")),
    description="Efficient4D, CPU preset (not implemented yet).",
)
