"""Errors whose message is the whole story (file, field, fix), shown to the user without a traceback.

nerfstudio's commands (``ns-train``, ``ns-eval``, ``ns-export``) let exceptions reach the interpreter, which prints
a ~40-line traceback with the message as its last line. For the error classes registered here the interpreter's
hook prints only the message, framed by a blank line, so it is the first and the last thing on the screen; set
``DATAGEN_TRACEBACK=1`` to see the traceback as well. Everything else keeps Python's normal report.

Limit: the hook sees exceptions that end the main process. nerfstudio runs single-device training in that process;
with several devices it spawns workers whose exceptions torch re-raises in the parent as its own error type, and
those keep the full report.
"""

from __future__ import annotations

import os
import sys
import traceback

TRACEBACK_ENV = "DATAGEN_TRACEBACK"
"""Environment variable: set to 1 to print the traceback of a registered error too."""


class UserError(ValueError):
    """Input the user must change (a dataset, an option, a file); the message names it and the fix."""


_short_classes: tuple[type[BaseException], ...] = (UserError,)
_previous_hook = sys.excepthook


def _hook(kind: type[BaseException], error: BaseException, tb) -> None:
    if not isinstance(error, _short_classes):
        _previous_hook(kind, error, tb)
        return
    if os.environ.get(TRACEBACK_ENV, "") not in ("", "0"):
        traceback.print_exception(kind, error, tb, file=sys.stderr)
    print(f"\nerror: {error}\n(set {TRACEBACK_ENV}=1 to see where it was raised)", file=sys.stderr)


def show_without_traceback(*classes: type[BaseException]) -> None:
    """Report uncaught exceptions of ``classes`` (and subclasses) by their message alone (idempotent)."""
    global _short_classes, _previous_hook
    _short_classes = tuple(dict.fromkeys(_short_classes + classes))
    if sys.excepthook is not _hook:
        _previous_hook = sys.excepthook
        sys.excepthook = _hook
