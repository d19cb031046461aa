"""Checks of command-line option values, so that a bad value is reported by its option name, never as a traceback
from deep inside (OpenCV's ``inv_scale_x > 0``, JSON's "not JSON compliant", a silent default for 0).

Rules are keyed by field name: the commands give one name one meaning (``resolution`` is always a square image
size in pixels), so one table covers every command, nested subcommands included.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from datagen.user_errors import UserError

MIN_RESOLUTION_PX = 4
"""Smallest image side a dataset may have (training starts at 1/4 resolution)."""


class OptionError(UserError):
    """An option value that cannot work; the message names the option and what it accepts."""


def _optional(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: value is None or check(value)


RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "resolution": (_optional(lambda v: v >= MIN_RESOLUTION_PX), f"must be at least {MIN_RESOLUTION_PX} pixels"),
    "fov_deg": (_optional(lambda v: 0.0 < v < 180.0), "must be a field of view in (0, 180) degrees"),
    "radius": (_optional(lambda v: v > 0.0), "must be a positive distance"),
    "key_tolerance": (lambda v: v >= 0.0, "must be 0 or more"),
    "key_softness": (lambda v: v > 0.0, "must be more than 0"),
    "key_color": (lambda v: all(0 <= c <= 255 for c in v), "must be three values in 0..255"),
    "num_times": (lambda v: v >= 2, "must be at least 2 (a 4D dataset needs motion)"),
    "supersample": (lambda v: v >= 1, "must be at least 1 (1: off)"),
    "max_test_frames": (_optional(lambda v: v >= 0), "must be 0 or more"),
    "output_dir": (lambda v: Path(v).is_dir() or not Path(v).exists(), "is an existing file; pass a directory path"),
    # The diffusion generators' settings.
    "steps": (lambda v: v >= 1, "must be at least 1 sampling step"),
    "frames_per_orbit": (lambda v: v >= 2, "must be at least 2 (SV3D was trained on 21)"),
    "amplitudes_deg": (lambda v: len(v) >= 1, "give at least one orbit's elevation amplitude, e.g. 0 -20 40"),
    "decode_chunk_size": (lambda v: v >= 1, "must be at least 1 frame"),
    "pag_scale": (lambda v: v >= 0.0, "must be 0 (off) or more"),
    "eta": (lambda v: v >= 0.0, "must be 0 (deterministic DDIM) or more (1: the released sampler)"),
    "frames_per_batch": (lambda v: v >= 1, "must be at least 1 frame"),
    "views_per_batch": (lambda v: 1 <= v <= 16, "must be 1 to 16 views"),
}
"""Field name -> (accepts the value, what it must be)."""


def option_name(field_name: str) -> str:
    """The command-line spelling of a field (tyro: underscores become dashes)."""
    return "--" + field_name.replace("_", "-")


def _non_finite(value) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, (tuple, list)):
        return any(_non_finite(v) for v in value)
    return False


def check_options(command, rules: Optional[Mapping[str, tuple[Callable[[Any], bool], str]]] = None) -> None:
    """Raise :class:`OptionError` for the first bad option value of ``command`` and its nested dataclasses.

    Every float must be finite (NaN and infinity are never meant); fields named in :data:`RULES` must pass theirs.
    ``rules`` adds (or, for a command whose field means something else, replaces) entries of :data:`RULES`.
    """
    if not dataclasses.is_dataclass(command):
        return
    table = {**RULES, **(rules or {})}
    for field in dataclasses.fields(command):
        value = getattr(command, field.name)
        if dataclasses.is_dataclass(value):
            check_options(value, rules)
            continue
        if _non_finite(value):
            raise OptionError(f"{option_name(field.name)} {value!r}: must be a finite number")
        rule = table.get(field.name)
        if rule is not None and not rule[0](value):
            shown = str(value) if isinstance(value, Path) else repr(value)
            raise OptionError(f"{option_name(field.name)} {shown}: {rule[1]}")
