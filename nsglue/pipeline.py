"""nerfstudio's pipeline, with the evaluation report saying why a metric is missing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional, Type, Union

from nerfstudio.pipelines.base_pipeline import VanillaPipeline, VanillaPipelineConfig


@dataclass
class ReportingPipelineConfig(VanillaPipelineConfig):
    """VanillaPipeline whose `ns-eval` report names a metric it could not compute."""

    _target: Type = field(default_factory=lambda: ReportingPipeline)


class ReportingPipeline(VanillaPipeline):
    """Adds ``lpips_unavailable`` (the reason, a string) to `ns-eval`'s results when the model has no LPIPS metric."""

    config: ReportingPipelineConfig

    def get_average_eval_image_metrics(
        self, step: Optional[int] = None, output_path: Optional[Path] = None, get_std: bool = False
    ) -> Dict[str, Union[float, str]]:
        metrics: Dict[str, Union[float, str]] = super().get_average_eval_image_metrics(step, output_path, get_std)
        reason = getattr(self.model, "lpips_unavailable", None)
        # Only without a step, i.e. from ns-eval, which writes the dict as JSON: the trainer always passes its step
        # and hands the dict to scalar writers (tensorboard), which take numbers only.
        if reason is not None and step is None:
            metrics["lpips_unavailable"] = reason
        return metrics
