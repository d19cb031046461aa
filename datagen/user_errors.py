"""Errors whose message is the whole story (file, field, fix), shown to the user without a traceback.

nerfstudio's commands (``ns-train``, ``ns-eval``, ``ns-export``) let exceptions reach the interpreter, which prints
a ~40-line traceback with the message as its last line. For the error classes registered here the interpreter's
hook prints only the message (after a one-line note that the traceback is hidden), so it is the whole report; with
``DATAGEN_TRACEBACK=1`` the message comes first, then the traceback, then the message again. Everything else keeps Python's normal report.

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
        print(f"\nerror: {error}\n", file=sys.stderr)  # first, then the traceback, then the message again
        traceback.print_exception(kind, error, tb, file=sys.stderr)
    else:
        print(f"\n(the traceback is hidden; {TRACEBACK_ENV}=1 shows it)", file=sys.stderr)
    print(f"\nerror: {error}", file=sys.stderr)


def show_without_traceback(*classes: type[BaseException]) -> None:
    """Report uncaught exceptions of ``classes`` (and subclasses) by their message alone (idempotent)."""
    global _short_classes, _previous_hook
    _short_classes = tuple(dict.fromkeys(_short_classes + classes))
    if sys.excepthook is not _hook:
        _previous_hook = sys.excepthook
        sys.excepthook = _hook
