"""Stop training at the first non-finite loss term or parameter, naming the step, the term or parameter group, and
what usually causes it.

Without this check a NaN or infinity surfaces one step later inside the rasterizer (``ValueError: scales contains
NaN or inf values``) with no step, no group and no cause. The check costs one host synchronisation per step: every
loss term and parameter group is reduced to one finite/non-finite flag on the device and the flags are read once.
Details (how many values, which term) are computed only when something is wrong.

nerfstudio hands training callbacks no view of the loss, so :class:`FiniteGuard` wraps the model's
``get_loss_dict`` (on the instance) to keep a detached copy of the last training step's loss terms.
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Sequence

import torch
from nerfstudio.engine.callbacks import TrainingCallback, TrainingCallbackLocation
from nerfstudio.models.base_model import Model
from torch import Tensor

from datagen.user_errors import UserError, show_without_traceback

LOG_SCALE_MAX = 88.0
"""Log-scales above this overflow float32 when exponentiated for the rasterizer (exp(88.7) is float32's max)."""
DATA_HINT = "check the data with `datagen validate DATA` (extreme focal lengths, poses or scene extent)"


class NonFiniteTrainingError(UserError):
    """Training produced (or started from) a NaN or infinite loss term or parameter."""


def bad_values(name: str, values: Tensor) -> Tensor:
    """Mask of the values the renderer cannot use: NaN or infinite, and for log-scale groups (``scales``,
    ``scales_2``, ``scales_t``) also values whose exponential overflows."""
    values = values.detach()
    bad = ~torch.isfinite(values)
    if name.startswith("scales"):
        bad |= values > LOG_SCALE_MAX
    return bad


def all_usable(named: Sequence[tuple[str, Tensor]]) -> bool:
    """Whether no tensor holds a bad value (:func:`bad_values`), with one host synchronisation."""
    if not named:
        return True
    return not bool(torch.stack([bad_values(name, t).any() for name, t in named]).any())


def describe_non_finite(
    losses: Mapping[str, Tensor],
    groups: Mapping[str, Sequence[Tensor]],
    step: int,
    initial: bool = False,
    learning_rates: Optional[Mapping[str, float]] = None,
) -> Optional[str]:
    """The message for the first non-finite loss term (the cause, so reported first) or parameter group; None if
    all are finite.

    Args:
        losses: loss terms of the step (scalars).
        groups: parameter group name -> its tensors (nerfstudio's ``get_param_groups``).
        step: the training step just taken (or about to be taken when ``initial``).
        initial: the parameters are checked before the first step (so no update caused it).
        learning_rates: group name -> current learning rate, quoted in the hint.
    """
    for name, value in losses.items():
        if not torch.isfinite(value.detach()).all():
            shown = value.detach().float().reshape(-1)[0].item()
            return (
                f"training stopped at step {step}: the loss term '{name}' is {shown} (not finite). Hint: the "
                "learning rates may be too high (lower --optimizers.<group>.optimizer.lr), or the training images "
                f"hold values that are not pixels; {DATA_HINT}"
            )
    for group, tensors in groups.items():
        bad = sum(int(bad_values(group, t).sum()) for t in tensors)
        if bad == 0:
            continue
        total = sum(t.numel() for t in tensors)
        if initial:
            return (
                f"training cannot start (step {step}): parameter group '{group}' holds {bad} NaN or infinite "
                f"values of {total} at initialisation{_overflow_note(group)}. Hint: the initial Gaussians come from the scene box and the "
                f"cameras; {DATA_HINT}, or the checkpoint being resumed is damaged"
            )
        lr = (learning_rates or {}).get(group)
        lr_text = f", now {lr:g}" if lr is not None else ""
        return (
            f"training stopped at step {step}: parameter group '{group}' holds {bad} NaN or infinite values of "
            f"{total} after the update{_overflow_note(group)}. Hint: lower its learning rate (--optimizers.{group}.optimizer.lr{lr_text}), "
            f"or {DATA_HINT}"
        )
    return None


def _overflow_note(group: str) -> str:
    return (
        f" (log-scales above {LOG_SCALE_MAX:g} count: their exponential is infinite)"
        if group.startswith("scales")
        else ""
    )


class FiniteGuard:
    """Checks a model's loss terms and parameters every training step; raises :class:`NonFiniteTrainingError`.

    Args:
        model: a nerfstudio model with ``get_param_groups`` and ``get_loss_dict``.
    """

    def __init__(self, model: Model):
        show_without_traceback(NonFiniteTrainingError)
        self.model = model
        self.losses: Dict[str, Tensor] = {}
        self.started = False
        compute_losses = model.get_loss_dict

        def get_loss_dict(*args, **kwargs) -> Dict[str, Tensor]:
            loss_dict = compute_losses(*args, **kwargs)
            if model.training:
                self.losses = {k: v.detach() for k, v in loss_dict.items() if isinstance(v, Tensor)}
            return loss_dict

        model.get_loss_dict = get_loss_dict  # type: ignore[method-assign]

    def callbacks(self) -> List[TrainingCallback]:
        """Before the first step: the initial parameters; after every step: its losses and updated parameters."""
        return [
            TrainingCallback([TrainingCallbackLocation.BEFORE_TRAIN_ITERATION], self.check_start),
            TrainingCallback([TrainingCallbackLocation.AFTER_TRAIN_ITERATION], self.check_step),
        ]

    def check_start(self, step: int) -> None:
        """Check the parameters once, before the first step of this run (fresh or resumed)."""
        if not self.started:
            self.started = True
            self._check(step, {}, initial=True)

    def check_step(self, step: int) -> None:
        """Check the loss terms of ``step`` and the parameters after its update."""
        losses, self.losses = self.losses, {}
        self._check(step, losses, initial=False)

    def _check(self, step: int, losses: Mapping[str, Tensor], initial: bool) -> None:
        groups = self.model.get_param_groups()
        named = [*losses.items(), *((group, t) for group, tensors in groups.items() for t in tensors)]
        if all_usable(named):
            return
        message = describe_non_finite(losses, groups, step, initial, self._learning_rates())
        if message is not None:
            raise NonFiniteTrainingError(message)

    def _learning_rates(self) -> Dict[str, float]:
        optimizers = getattr(self.model, "optimizers", None) or {}
        rates: Dict[str, float] = {}
        for name, optimizer in getattr(optimizers, "optimizers", optimizers).items():
            groups = getattr(optimizer, "param_groups", None)
            if groups:
                rates[name] = float(groups[0]["lr"])
        return rates


def guard_callbacks(model: Model) -> List[TrainingCallback]:
    """Install a :class:`FiniteGuard` on ``model`` and return its training callbacks."""
    return FiniteGuard(model).callbacks()
